"""Search at 1,000 / 10,000 / 30,000 records: first results on a freshly opened page, bytes
fetched for search, and the time Pagefind takes to index the records.

Building whole sites of 10,000 and 30,000 records would take most of an hour here, and the
page a reader opens does not grow with the runbook: only the search bundle does. So each
size is the 1,000-record site of the build benchmark with its `pagefind/` folder replaced by
the bundle of that many records, made the way the plugin makes it (the records validated,
their search documents rendered by render/search_documents.py, the same Pagefind run).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.corpus import write_corpus
from generator.check.validate import validate_runbook
from generator.config import read_options
from generator.render.environment import make_environment
from generator.render.index import shown_names
from generator.render.links import RECORD_PAGES
from generator.render.search_documents import search_document_html
from generator.site.search_index import PagefindIndex

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
# Responses that are not search: the page itself, its styles, fonts, images, the theme bundle.
NOT_SEARCH = (".css", ".woff", ".woff2", ".ttf", ".png", ".svg", ".ico", ".jpg")
# Timed in the page, so that no round trip to the browser is counted: from the search box's
# first input event (the query typed) to the frame that first shows a result.
TIME_FIRST_RESULT = """() => {
  window.runbookTiming = {}
  const box = document.querySelector("input.md-search__input")
  box.addEventListener("input", () => { runbookTiming.typed = performance.now() }, { once: true })
  new MutationObserver((_, observer) => {
    if (document.querySelector(".md-search-result__item") === null)
      return
    observer.disconnect()
    requestAnimationFrame(() => { runbookTiming.shown = performance.now() })
  }).observe(document.body, { subtree: true, childList: true })
}"""
FIRST_RESULT_SHOWN = "() => window.runbookTiming.shown !== undefined"
FIRST_RESULT_MS = "() => runbookTiming.shown - runbookTiming.typed"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any static host does
    disable_nagle_algorithm = True  # else headers and body wait on each other's ACK

    def log_message(self, format: str, *args: object) -> None:
        """Keep the benchmark's output to its results."""


def search_documents(root: Path, folder: Path) -> list[str]:
    """Write the search document of every record of the runbook at `root` into `folder`;
    their paths, newest first."""
    options = read_options(str(root / "mkdocs.yml"))
    runbook = validate_runbook(options).runbook
    environment = make_environment(options.templates_dir)
    names = shown_names(runbook.records, options.aliases)
    paths = []
    for entry in runbook.records:
        paths.append(f"{RECORD_PAGES}/{entry.id}/index.html")
        path = folder / paths[-1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(search_document_html(environment, entry, names), encoding="utf-8")
    return paths


def index_time(documents: Path, newest_first: list[str], site_dir: Path) -> float:
    """Seconds for Pagefind to index `documents` into `site_dir/pagefind` (as the plugin runs
    it, every shard, from start to the bundle in place)."""
    start = time.perf_counter()
    index = PagefindIndex(documents.parent, reuse=False)
    index.start(documents, dict.fromkeys(newest_first, ""))  # no keys: named by bytes
    index.finish(site_dir)
    return time.perf_counter() - start


def site_with_records(base_site: Path, target: Path, count: int) -> tuple[Path, float, dict]:
    """The base site with the search bundle of `count` synthetic records; the site, the
    index time, and one record to query."""
    root = write_corpus(target, count)
    site = target / "site"
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(base_site, site)
    with tempfile.TemporaryDirectory(dir=target) as scratch:
        documents = Path(scratch) / "documents"
        paths = search_documents(root, documents)
        seconds = index_time(documents, paths, site)
    return site, seconds, _sample_record(root)


def _sample_record(root: Path) -> dict[str, Any]:
    files = sorted((root / "records").rglob("*.yaml"))
    return yaml.safe_load(files[len(files) // 2].read_text(encoding="utf-8"))


def queries_for(record: dict[str, Any]) -> dict[str, str]:
    """What on-call people type, taken from one record of the runbook."""
    path = record["files_touched"][0]
    flagged = next(
        (c["run"] if isinstance(c, dict) else c for c in record["commands"] if " --" in str(c)),
        "kubectl rollout undo",
    )
    flag_at = flagged.index(" --") + 1 if " --" in flagged else 0
    return {
        "file path": path,
        "file name": path.rsplit("/", 1)[-1],
        "command with flags": " ".join(flagged[flag_at:].split()[:2]),
        "owner": record["owner"],
        "service": record["service"],
        "word on every record": record.get("environment", "production"),
    }


def first_results(site: Path, queries: dict[str, str], repeats: int = 3) -> dict[str, Any]:
    """Per query: median milliseconds from typing it into a freshly opened page (nothing
    cached) to the frame showing the first result, and the bytes fetched for search since
    navigation start."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    measured: dict[str, Any] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            for kind, query in queries.items():
                times, sizes = [], []
                for _ in range(repeats):
                    context = browser.new_context()
                    page = context.new_page()
                    fetched: list[int] = []
                    page.on("requestfinished", functools.partial(_count, fetched, url))
                    page.goto(url, wait_until="load")
                    box = page.locator("input.md-search__input")
                    box.click(timeout=5000)
                    page.evaluate(TIME_FIRST_RESULT)
                    box.fill(query)
                    box.press("End")  # Material searches on key events
                    page.wait_for_function(FIRST_RESULT_SHOWN, timeout=60000)
                    times.append(page.evaluate(FIRST_RESULT_MS))
                    page.wait_for_load_state("networkidle")
                    sizes.append(sum(fetched))
                    context.close()
                measured[kind] = {
                    "query": query,
                    "ms": statistics.median(times),
                    "bytes": max(sizes),
                }
            browser.close()
    finally:
        server.shutdown()
    return measured


def _count(fetched: list[int], page_url: str, request: Any) -> None:
    address = request.url.split("?", 1)[0]
    name = address.rsplit("/", 1)[-1]
    if address == page_url or address.endswith(NOT_SEARCH) or name.startswith("bundle."):
        return
    fetched.append(request.sizes()["responseBodySize"])


def measure_search_at_scale(base_site: Path, corpus: Path, sizes: tuple[int, ...]) -> list[dict]:
    """One row per size: index time, and first results and bytes over the queries."""
    rows = []
    for count in sizes:
        site, seconds, record = site_with_records(base_site, corpus / f"search-{count}", count)
        measured = first_results(site, queries_for(record))
        times = [m["ms"] for m in measured.values()]
        rows.append(
            {
                "records": count,
                "index_s": seconds,
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "max_bytes": max(m["bytes"] for m in measured.values()),
                "queries": measured,
            }
        )
        print(f"search {count}: {rows[-1]['median_ms']:.0f} ms median", flush=True)
    return rows
