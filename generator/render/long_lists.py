"""Long lists of changes split into pages of bounded size, whose older pages stay as they are
while the runbook grows.

A tag, a busy service, a checklist item or the rollback-readiness list gathers changes for
years: at 100,000 records one such page was 14 MB of HTML, unreadable on a phone, and every
new change of that tag rendered, converted and sanitised all of it again. A list is cut into
blocks of BLOCK changes counted from the oldest: each full block but the newest is a page of
its own (`split_list`), which keeps its content and address as later changes come; the
list's own page shows the rest, the newest BLOCK to 2 * BLOCK - 1 changes, and links to the
older pages. A change added touches the list's own page only, until the block it started
fills.

A top-level folder's files are spread over pages of about FILES_PER_PART files, each file
placed by a digest of its path (`folder_parts`, `part_of`): one files page of 18,000 files
was 43 MB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import SourcedRecord

BLOCK = 200


@dataclass(frozen=True)
class OlderPage:
    """A link to one older page: where it is, and which changes it holds (their positions
    counted from the oldest, and the dates of its oldest and newest)."""

    uri: str
    first: int
    last: int
    oldest: str
    newest: str


@dataclass(frozen=True)
class Part:
    """What one page shows of a long list (newest first): its items, their positions counted
    from the oldest (`first` to `last`), the list's own page and, on that page, the length of
    the list and every older page (newest first). An older page knows neither (they change
    with every change added) but its neighbours."""

    items: Sequence[Any]
    first: int
    last: int
    total: int
    list_uri: str
    older: tuple[OlderPage, ...] = ()
    oldest: str = ""  # the dates of its oldest and newest item
    newest: str = ""
    newer_uri: str = ""  # on an older page: the next newer one (or the list's own page)
    older_uri: str = ""  # on an older page but the oldest: the next older one

    @property
    def is_older_page(self) -> bool:
        return bool(self.newer_uri)


def split_list(
    items: Sequence[Any],
    list_uri: str,
    older_uri: Callable[[int], str],
    entry_of: Callable[[Any], SourcedRecord],
) -> tuple[Part, list[tuple[str, Part]]]:
    """The part of `items` (newest first) its own page at `list_uri` shows, and each older
    page as (uri, part), oldest first; `older_uri(n)` is the address of the n-th block
    counted from the oldest, `entry_of` the change an item is about (for its date)."""

    def date_of(item: Any) -> str:
        return entry_of(item).record.date.isoformat()

    total = len(items)
    full_blocks = total // BLOCK
    older_blocks = max(full_blocks - 1, 0)
    pages = []
    for number in range(1, older_blocks + 1):
        first, last = (number - 1) * BLOCK + 1, number * BLOCK
        block = items[total - last : total - first + 1]
        newer = older_uri(number + 1) if number < older_blocks else list_uri
        older = older_uri(number - 1) if number > 1 else ""
        dates = {"oldest": date_of(block[-1]), "newest": date_of(block[0])}
        part = Part(block, first, last, 0, list_uri, **dates, newer_uri=newer, older_uri=older)
        pages.append((older_uri(number), part))
    links = tuple(
        OlderPage(uri, part.first, part.last, part.oldest, part.newest)
        for uri, part in reversed(pages)
    )
    shown = older_blocks * BLOCK
    own = Part(items[: total - shown], shown + 1 if total else 0, total, total, list_uri, links)
    return own, pages


def older_uri(list_uri: str, name: str = "") -> Callable[[int], str]:
    """Addresses of a list's older pages, in a folder named after its own page:
    `tags/jobs.md` -> `tags/jobs/older-1.md` (`name` tells apart several lists of a page)."""
    folder = list_uri.removesuffix(".md")
    prefix = f"{name}-" if name else ""
    return lambda number: f"{folder}/{prefix}older-{number}.md"


FILES_PER_PART = 100


def folder_parts(file_count: int) -> int:
    """How many pages a top-level folder's files are spread over: one page up to
    2 * FILES_PER_PART files, else the power of two that leaves about FILES_PER_PART on each.
    A file stays on its page (`part_of`) as the folder grows, until the count doubles."""
    if file_count <= 2 * FILES_PER_PART:
        return 1
    parts = 2
    while file_count > parts * FILES_PER_PART:
        parts *= 2
    return parts


def part_of(path: str, parts: int) -> int:
    """The page (1 to `parts`) a file's history is on: chosen by a digest of its path, so
    that new files neither move the others nor all land on the last page."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % parts + 1
