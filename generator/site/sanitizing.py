"""Generated pages' HTML, completed and sanitised after MkDocs converted their Markdown, and
parked compressed in a scratch file until MkDocs writes the page.

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

Parked on disk, not in memory: compressed, a page is still ~2.8 KiB, and every page is parked
at once when the conversion pass ends, the build's busiest moment (340 MB at 100,000 records).
The scratch file is in the build cache (on the repository's disk: a temporary folder may be
memory), has no name, and goes with the build; what stays in memory is where each page is.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from mkdocs.structure.pages import Page

from ..render.pages import HIDDEN_HTML
from ..render.sanitize import sanitize_html


def _unwrapped(hidden: re.Match[str]) -> str:
    return hidden[1]


def _sanitised_and_compressed(html: str) -> bytes:
    # Level 1: pages compress about 6 to 1 at 150 MB/s; higher levels gain little here.
    return zlib.compress(sanitize_html(html).encode("utf-8"), 1)


# Pages waiting for the worker at most: past it, conversion waits for the oldest. Their HTML
# is held uncompressed until sanitised, and a worker that falls behind would otherwise hold
# a backlog that grows with the runbook.
MOST_WAITING = 256


def _scratch_file(folder: Path | None) -> IO[bytes]:
    """A file with no name in `folder`, or in the system's temporary folder when `folder` is
    not writable; gone when closed (by the sanitiser's `close`)."""
    try:
        return tempfile.TemporaryFile(dir=folder)
    except OSError:
        return tempfile.TemporaryFile()


class PageSanitizer:
    """Sanitise the generated pages of one build on a worker thread, and park their HTML
    compressed in a scratch file in `folder` until each is written."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.pool: ThreadPoolExecutor | None = None
        # Where each page's compressed HTML is in the scratch file (offset, length) once
        # sanitised; before, the work that makes it.
        self.parked: dict[str, Future[bytes] | tuple[int, int]] = {}
        self.waiting: deque[tuple[str, Future[bytes]]] = deque()
        self.scratch: IO[bytes] | None = None  # written and read by the build's thread alone
        self.closing = contextlib.ExitStack()
        self.scratch_end = 0  # where the next page's HTML goes
        self.read_since_written = False

    def submit(self, page: Page, html: str) -> str:
        """Start sanitising the page's HTML; what MkDocs keeps as its content until then."""
        html = HIDDEN_HTML.sub(_unwrapped, html)
        if self.pool is None:
            workers = max(1, (os.cpu_count() or 2) - 1)
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="runbook-nh3")
        uri = page.file.src_uri
        work = self.pool.submit(_sanitised_and_compressed, html)
        self.parked[uri] = work
        self.waiting.append((uri, work))
        while len(self.waiting) > MOST_WAITING or (self.waiting and self.waiting[0][1].done()):
            # Where its bytes are, alone, is kept: a Future with its lock per page was 100 MB
            # at 100,000.
            done_uri, done = self.waiting.popleft()
            if self.parked.get(done_uri) is done:
                self.parked[done_uri] = self._park(done.result())
        page.markdown = ""  # converted: only its title and metadata are read from here on
        return ""

    def _park(self, compressed: bytes) -> tuple[int, int]:
        """Append a page's compressed HTML to the scratch file; where it is."""
        if self.scratch is None:
            self.scratch = self.closing.enter_context(_scratch_file(self.folder))
        if self.read_since_written:  # a seek flushes what is buffered: only when needed
            self.scratch.seek(self.scratch_end)
            self.read_since_written = False
        at = self.scratch_end
        self.scratch.write(compressed)
        self.scratch_end += len(compressed)
        return at, len(compressed)

    def hand_back(self, page: Page) -> None:
        """Put the page's sanitised HTML in place, for its template to render."""
        parked = self.parked.pop(page.file.src_uri, None)
        if parked is None:
            return
        if isinstance(parked, Future):
            compressed = parked.result()
        else:
            assert self.scratch is not None
            at, length = parked
            self.scratch.seek(at)
            compressed = self.scratch.read(length)
            self.read_since_written = True
        page.content = zlib.decompress(compressed).decode("utf-8")

    @staticmethod
    def let_go(page: Page) -> None:
        """The page is written: nothing reads its HTML again."""
        page.content = ""

    def close(self) -> None:
        """Stop the worker thread (every page has been handed back, or the build failed)."""
        self.parked = {}
        self.waiting.clear()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        self.closing.close()
        self.scratch, self.scratch_end, self.read_since_written = None, 0, False
