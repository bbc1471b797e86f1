"""Search latency as a reader sees it: Material's search box on a large site, in Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the benchmark's output to its results."""


def search_latency_ms(site: Path, query: str, repeats: int = 5) -> float:
    """Median milliseconds from typing `query` to the first rendered result."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    samples = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            for _ in range(repeats):
                page.goto(url, wait_until="networkidle")
                page.click("input.md-search__input", timeout=5000)
                page.wait_for_timeout(500)  # the index is fetched and built when search opens
                start = page.evaluate("performance.now()")
                page.locator("input.md-search__input").press_sequentially(query)
                page.wait_for_selector(".md-search-result__item", timeout=30000)
                samples.append(page.evaluate("performance.now()") - start)
            browser.close()
    finally:
        server.shutdown()
    samples.sort()
    return samples[len(samples) // 2]
