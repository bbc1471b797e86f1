"""Links between generated pages, for Markdown (`.md` paths every engine resolves) and for the
HTML tables of index pages (published paths, which engines do not rewrite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from markupsafe import Markup

from ..models import SourcedRecord
from .index import RunbookIndex, folder_of
from .long_lists import part_of
from .slugs import anchor_for_path

if TYPE_CHECKING:  # Jinja itself only where pages are rendered: `runbook list` starts without it
    from jinja2 import Environment

RECORD_PAGES = "changes/"


class Links:
    """The docs-root path of the page of every record, name, file and checklist; a name
    links to its group's page whatever its spelling."""

    def __init__(self, index: RunbookIndex) -> None:
        self.index = index

    def record(self, record_id: str) -> str:
        return f"{RECORD_PAGES}{record_id}.md"

    def service(self, name: str) -> str:
        return f"services/{self.index.services[self.index.group_key('service', name)].slug}.md"

    def owner(self, name: str) -> str:
        return f"owners/{self.index.owners[self.index.group_key('owner', name)].slug}.md"

    def tag(self, name: str) -> str:
        return f"tags/{self.index.tags[self.index.group_key('tag', name)].slug}.md"

    def metric(self, service: str, name: str) -> str:
        return f"metrics/{self.index.metrics[self.index.metric_key(service, name)].slug}.md"

    def sources(self) -> str:
        return "sources/index.md"

    def checklist(self, checklist_id: str) -> str:
        return f"checklists/{checklist_id}.md"

    def file(self, path: str) -> str:
        folder = folder_of(path)
        parts = self.index.folder_parts[folder]
        page = self.folder(folder) if parts == 1 else self.folder_part(folder, part_of(path, parts))
        return f"{page}#{anchor_for_path(path)}"

    def folder(self, folder: str) -> str:
        return f"files/{self.index.folder_slugs[folder]}.md"

    def folder_part(self, folder: str, part: int) -> str:
        """One of the pages a big folder's files are on (long_lists.folder_parts)."""
        return f"files/{self.index.folder_slugs[folder]}/part-{part}.md"


def relative_to(page_uri: str) -> Callable[[str], str]:
    """A function turning a docs-root path into a link relative to `page_uri`."""
    prefix = "../" * page_uri.count("/")
    return lambda target: prefix + target


def site_path(uri: str, directory_urls: bool) -> str:
    """Where the engine publishes docs page `uri` (anchor kept), relative to the site root.

    Raw HTML is not rewritten by Markdown engines, so the big tables of index pages, written
    as HTML, link to published paths: `changes/x.md` is `changes/x/` or `changes/x.html`.
    """
    path, hash_mark, anchor = uri.partition("#")
    stem = path.removesuffix(".md")
    if not directory_urls:
        published = f"{stem}.html"
    elif stem == "index":
        published = ""
    else:
        published = stem.removesuffix("index") if stem.endswith("/index") else f"{stem}/"
    return published + hash_mark + anchor


def published_url(uri: str, *, site_url: str, directory_urls: bool) -> str:
    """The published URL of a generated page, absolute when site_url is known."""
    path = site_path(uri, directory_urls)
    return site_url.rstrip("/") + "/" + path if site_url else path


class RecordRows:
    """The HTML table rows of records, each rendered once per depth of the page it is on.

    A record is listed on a dozen index pages (its service, owner, tags, files, checklists,
    rollback readiness...); rendering its row once and joining rows makes those pages cost
    little more than their size.
    """

    def __init__(self, environment: Environment, links: Links, directory_urls: bool) -> None:
        self.template = environment.get_template("_record_row.html.j2")
        self.links = links
        self.directory_urls = directory_urls
        self.rendered: dict[tuple[str, str], str] = {}

    def for_page(self, root: str) -> Callable[[list[SourcedRecord]], Markup]:
        """The row-joining function for a page `root` ("../..") away from the site root."""
        url = self.url_from(root)

        def rows(records: list[SourcedRecord]) -> Markup:
            joined = []
            for entry in records:
                row = self.rendered.get((entry.id, root))
                if row is None:
                    row = self.template.render(
                        entry=entry, record=entry.record, links=self.links, url=url
                    ).strip()
                    self.rendered[(entry.id, root)] = row
                joined.append(row)
            return Markup("\n".join(joined))

        return rows

    def url_from(self, root: str) -> Callable[[str], str]:
        """A function turning a docs-root path into a published URL relative to the page."""
        directory_urls = self.directory_urls
        return lambda target: root + site_path(target, directory_urls)
