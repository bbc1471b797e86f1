"""The plugin's sanitiser (site/sanitizing.py): every generated page gets back exactly its
sanitised HTML, hidden blocks unwrapped, whenever it is asked for; between conversion and
writing, the pages' HTML is parked outside the build's memory."""

from __future__ import annotations

import secrets
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from generator.render.sanitize import sanitize_html
from generator.site.sanitizing import MOST_WAITING, PageSanitizer


def converted_page(uri: str) -> Any:
    """What the sanitiser reads of a MkDocs page: its file's URI, its Markdown and HTML."""
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri), markdown="# converted", content=None)


def html_of(number: int) -> str:
    text = secrets.token_hex(2048)  # compresses about 2 to 1 only: a page's worth
    hidden = f"<!-- runbook-html\n<table><tr><td>{number}</td></tr></table>\n-->"
    return f"<h1>Page {number}</h1>\n<p>{text}</p>\n<script>alert({number})</script>\n{hidden}"


def test_every_page_gets_its_sanitised_html_back_in_any_order(tmp_path: Path) -> None:
    """Pages handed back in another order than they came, some (`mkdocs serve` rebuilds one
    page while others wait) before the last are converted."""
    sanitizer = PageSanitizer(tmp_path)
    pages = [converted_page(f"changes/{n}.md") for n in range(2 * MOST_WAITING + 10)]
    sources = [html_of(n) for n in range(len(pages))]

    def handed_back(number: int) -> None:
        page = pages[number]
        sanitizer.hand_back(page)
        unwrapped = sources[number].replace("<!-- runbook-html\n", "").replace("\n-->", "")
        assert page.content == sanitize_html(unwrapped)
        assert f"<td>{number}</td>" in page.content and "<script>" not in page.content
        PageSanitizer.let_go(page)
        assert page.content == ""

    half = len(pages) // 2
    try:
        for number in range(len(pages)):
            assert sanitizer.submit(pages[number], sources[number]) == ""
            assert pages[number].markdown == ""
            if number == half:
                assert sanitizer.pool is not None
                sanitizer.pool.submit(lambda: None).result()  # the worker has done those
            elif half < number < half + 5:
                handed_back(number - half)  # read back between two pages parked
        for number in [*range(7, len(pages), 2), *range(6, len(pages), 2), 0, 5]:
            handed_back(number)
    finally:
        sanitizer.close()
    assert list(tmp_path.iterdir()) == []  # the scratch file has no name, and is gone


def test_the_pages_waiting_to_be_written_are_not_held_in_memory(tmp_path: Path) -> None:
    """Every page is converted before any is written: its HTML, even compressed, must not stay
    in memory meanwhile (2.8 KiB a page was 340 MB at 100,000 records)."""
    sanitizer = PageSanitizer(tmp_path)
    count = 3000
    pages = [converted_page(f"changes/{n}.md") for n in range(count)]
    sources = [html_of(n) for n in range(count)]
    tracemalloc.start()
    try:
        for page, html in zip(pages, sources, strict=True):
            sanitizer.submit(page, html)
        assert sanitizer.pool is not None
        sanitizer.pool.submit(lambda: None).result()  # the worker is done with every page
        sanitizer.submit(converted_page("last.md"), html_of(count))  # and each is parked
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        sanitizer.close()
    compressed = 2048  # at least, for each page: its 4 KiB of hex text compress 2 to 1
    assert held < count * compressed // 4
