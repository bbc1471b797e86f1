"""Generated pages' HTML, completed and sanitised after MkDocs converted their Markdown, and
parked compressed until MkDocs writes the page.

HTML hidden from Markdown (plain HTML blocks in a comment, see render/pages.py) is unwrapped
first; then every generated page goes through nh3. nh3 and zlib release the
GIL, so both run on another core while MkDocs converts the next pages.

MkDocs converts every page before it writes any, and keeps each page's Markdown and HTML to
the end of the build: for a runbook that is every record's page twice over, most of a full
build's memory (5,000 records: 250 MiB of a 590 MiB peak). A generated page's Markdown is
not read again once converted (its title and metadata are kept apart), so it is let go; its
HTML is parked here compressed and handed back in the page's own `on_page_context`, just
before its template renders, then let go again after `on_post_page`. No plugin reads a
generated page's HTML between those hooks (they are kept out of Material's search index,
which reads page.content in on_page_context, after ours).
"""

from __future__ import annotations

import os
import re
import zlib
from concurrent.futures import Future, ThreadPoolExecutor

from mkdocs.structure.pages import Page

from ..render.pages import HIDDEN_HTML
from ..render.sanitize import sanitize_html


def _unwrapped(hidden: re.Match[str]) -> str:
    return hidden[1]


def _sanitised_and_compressed(html: str) -> bytes:
    # Level 1: pages compress about 6 to 1 at 150 MB/s; higher levels gain little here.
    return zlib.compress(sanitize_html(html).encode("utf-8"), 1)


class PageSanitizer:
    """Sanitise the generated pages of one build on a worker thread, and hold their HTML
    compressed until each is written."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.parked: dict[str, Future[bytes]] = {}

    def submit(self, page: Page, html: str) -> str:
        """Start sanitising the page's HTML; what MkDocs keeps as its content until then."""
        html = HIDDEN_HTML.sub(_unwrapped, html)
        if self.pool is None:
            workers = max(1, (os.cpu_count() or 2) - 1)
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="runbook-nh3")
        self.parked[page.file.src_uri] = self.pool.submit(_sanitised_and_compressed, html)
        page.markdown = ""  # converted: only its title and metadata are read from here on
        return ""

    def hand_back(self, page: Page) -> None:
        """Put the page's sanitised HTML in place, for its template to render."""
        parked = self.parked.pop(page.file.src_uri, None)
        if parked is not None:
            page.content = zlib.decompress(parked.result()).decode("utf-8")

    @staticmethod
    def let_go(page: Page) -> None:
        """The page is written: nothing reads its HTML again."""
        page.content = ""

    def close(self) -> None:
        """Stop the worker thread (every page has been handed back, or the build failed)."""
        self.parked = {}
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
