"""Search latency as a reader sees it: Material's search box on a large site, in Chromium."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


NO_RESULTS = """() => (document.querySelector(".md-search-result__meta") || {}).textContent
    ?.startsWith("No matching")"""
RESULTS = """() => document.querySelector(".md-search-result__item") !== null
    && !document.querySelector(".md-search-result__meta").textContent.startsWith("No")"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the benchmark's output to its results."""


def search_latency_ms(site: Path, query: str, repeats: int = 5) -> float:
    """Median milliseconds from typing `query` to the first rendered result, once the page's
    search worker has its index (a first query waits for that, and is not counted)."""
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
                box = page.locator("input.md-search__input")
                box.click(timeout=5000)
                box.press_sequentially("qqzzxxnothing")  # answered once the index is ready
                page.wait_for_function(NO_RESULTS, timeout=120000)
                start = page.evaluate("performance.now()")
                box.fill(query)  # the whole query at once, as when pasted
                box.press("End")  # Material searches on key events
                page.wait_for_function(RESULTS, timeout=30000)
                samples.append(page.evaluate("performance.now()") - start)
            browser.close()
    finally:
        server.shutdown()
    samples.sort()
    return samples[len(samples) // 2]
