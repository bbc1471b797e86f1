"""Generated pages' HTML, completed and sanitised after MkDocs converted their Markdown.

Deferred blocks (the big HTML tables of index pages, see render/pages.py) are put in for
their markers first; then every generated page goes through nh3. nh3 releases the GIL, so
it runs on another core while MkDocs converts the next pages; nothing reads page.content
before on_env, where the results are put in place.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor

from mkdocs.structure.pages import Page

from ..render.pages import DEFERRED_MARKER
from ..render.sanitize import sanitize_html
from .incremental import IncrementalBuild


class PageSanitizer:
    """Sanitise the generated pages of one build on a worker thread."""

    def __init__(self, deferred_blocks: dict[str, str], incremental: IncrementalBuild) -> None:
        self.deferred_blocks = deferred_blocks
        self.incremental = incremental
        self.pool: ThreadPoolExecutor | None = None
        self.pending: list[tuple[Page, Future[str]]] = []

    def submit(self, page: Page, html: str) -> str:
        html = DEFERRED_MARKER.sub(self._deferred_block, html)
        if self.pool is None:
            workers = max(1, (os.cpu_count() or 2) - 1)
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="runbook-nh3")
        self.pending.append((page, self.pool.submit(sanitize_html, html)))
        return html

    def put_in_place(self) -> None:
        """Replace each submitted page's content with its sanitised HTML."""
        for page, sanitized in self.pending:
            page.content = sanitized.result()
        self.pending = []
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _deferred_block(self, marker: re.Match[str]) -> str:
        """The HTML a marker stands for: rendered in this build, or kept from the one that
        rendered the (unchanged, reused) page; a marker with neither is dropped."""
        digest = marker[1]
        block = self.deferred_blocks.get(digest) or self.incremental.deferred_block(digest)
        return block or ""
