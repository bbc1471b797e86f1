"""Generated pages a rebuild leaves out of MkDocs' files: those whose published output is
already what this build would write.

MkDocs' dirty mode converts only the pages whose source is newer than their output, but it
still takes a File and a Page for every page of the site, compares two file times for each,
twice, and lists them all in several passes: at 100,000 records, about 15 s of every rebuild,
however little changed. A generated page whose key (everything it shows) is the one the site's
manifest says its output was built from needs none of that, so it is not handed to MkDocs at
all. Three things still see every page:

- the sitemap: the pages left out are listed in it by `SitemapEntry`, in the order MkDocs
  lists its own pages, with the addresses MkDocs gives a page;
- links: MkDocs resolves a `.md` link only to a page it was handed, so every generated page a
  page being converted links to (`linked_pages`) is handed too;
- hand-written pages: when one of them is converted (it changed), every page is handed, since
  it may link to any of them.

The navigation lists only index pages, which are always handed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from mkdocs.utils import is_markdown_file

# A Markdown link's target, as the templates write links between pages: `](path.md#anchor)`.
_MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+\.md)(?:#[^)\s]*)?\)")


def linked_pages(markdown: str, uri: str) -> Iterator[str]:
    """The docs paths of the pages the Markdown of page `uri` links to with `.md` links."""
    folder = posixpath.dirname(uri)
    for match in _MARKDOWN_LINK.finditer(markdown):
        target = match.group(1)
        if "://" not in target and not target.startswith("/"):
            yield posixpath.normpath(posixpath.join(folder, target))


@dataclass(frozen=True)
class SitemapEntry:
    """A page left out of MkDocs' files, as the sitemap template reads a page's file."""

    canonical_url: str
    abs_url: str
    update_date: str
    is_link: bool = False

    @property
    def page(self) -> SitemapEntry:
        return self


def sitemap_entries(
    withheld: dict[str, str], *, site_url: str, directory_urls: bool, date: str
) -> dict[str, SitemapEntry]:
    """The sitemap entries of the withheld pages (docs path: output), with the addresses
    MkDocs gives a page published there (File.url, Page.canonical_url and Page.abs_url)."""
    base = site_url if site_url.endswith("/") else site_url + "/"
    parts = urlsplit(base)
    # Joining a plain relative path to a base without query or fragment is appending it:
    # a hundred thousand urljoin calls were a second of every rebuild.
    plain_base = not parts.query and not parts.fragment
    entries = {}
    for uri, dest in withheld.items():
        if not is_markdown_file(uri):  # an export, not a page
            continue
        folder, name = posixpath.split(dest)
        url = quote(f"{folder or '.'}/" if directory_urls and name == "index.html" else dest)
        url = "" if url in (".", "./") else url
        segments = url.split("/")
        if plain_base and ":" not in url and not {"", ".", ".."} & set(segments[:-1]):
            entries[uri] = SitemapEntry(base + url, parts.path + url, date)
        else:
            canonical = urljoin(base, url)
            entries[uri] = SitemapEntry(canonical, urlsplit(canonical).path, date)
    return entries


def with_left_out(
    pages: Iterable[Any], positions: dict[str, int], left_out: list[tuple[int, Any]]
) -> list[Any]:
    """MkDocs' list of documentation pages (`pages`) with the entries of the pages left out
    (`left_out`: position, entry; in order) where each would have been: generated pages keep
    the order they were generated in (`positions`), after the hand-written ones and before
    any a later plugin added."""
    merged: list[Any] = []
    waiting = iter(left_out)
    following = next(waiting, None)
    generated_seen = False
    for file in pages:
        position = positions.get(file.src_uri)
        if position is None and generated_seen:
            position = len(positions)  # after every generated page
        while following is not None and position is not None and following[0] < position:
            merged.append(following[1])
            following = next(waiting, None)
        generated_seen = generated_seen or file.src_uri in positions
        merged.append(file)
    while following is not None:
        merged.append(following[1])
        following = next(waiting, None)
    return merged
