"""Helpers for the site tests: runbook repositories and the CLI, a small HTML tree, record
loading and the orders the site must show.

Built pages are read with the standard library's `html.parser` into a tree that is just rich
enough to follow links, find table rows and read an element's text. Records are read from
their YAML with PyYAML, independently of the generator, to compute what the site must show.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import cli_run
import yaml
from cli_run import CliRun

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
SITE_BASE = "http://site.invalid/"
# The search box has answered: its line above the results says how many changes and pages
# match (runbook-pages.js), or Material's "No matching documents".
SEARCH_ANSWERED = re.compile(
    r"^(at least )?\d+ (change|page)s?( and \d+ pages?)?$|matching document"
)


@dataclass(eq=False)
class Node:
    """One element of a parsed page."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The text content, like the DOM's textContent."""
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def iter(self) -> Iterator[Node]:
        for child in self.elements:
            yield child
            yield from child.iter()

    def find_all(
        self,
        tag: str | None = None,
        *,
        cls: str | None = None,
        id: str | None = None,
        where: Callable[[Node], bool] | None = None,
    ) -> list[Node]:
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes)
            and (id is None or node.attrs.get("id") == id)
            and (where is None or where(node))
        ]

    def find(self, tag: str | None = None, **kwargs: Any) -> Node | None:
        found = self.find_all(tag, **kwargs)
        return found[0] if found else None

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def next_element(self) -> Node | None:
        """The next sibling element (skipping text)."""
        assert self.parent is not None
        siblings = self.parent.elements
        position = siblings.index(self)
        return siblings[position + 1] if position + 1 < len(siblings) else None

    def section(self) -> list[Node]:
        """The sibling elements after this heading, up to the next heading of its level."""
        assert self.parent is not None
        siblings = self.parent.elements
        result = []
        for node in siblings[siblings.index(self) + 1 :]:
            if node.tag == self.tag:
                break
            result.append(node)
        return result


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID_ELEMENTS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def norm(text: str) -> str:
    """Whitespace collapsed and trimmed, as plain text shows on a page."""
    return re.sub(r"\s+", " ", text).strip()


# --- runbook repositories and the CLI ---

SITE_TESTS = Path(__file__).resolve().parent
REPO_ROOT = SITE_TESTS.parents[1]
# The one word of the hand-written page of the `guide_server` site.
GUIDE_WORD = "zanzibarwhistle"
DATA = SITE_TESTS / "data"
SOURCE_DATE_EPOCH = "1700000000"
MINIMAL_MKDOCS_YML = """\
site_name: Site test runbook
theme:
  name: material
plugins:
  - search
  - runbook
"""

# What a team that uses Material's extras would write: attr_list and friends widen what a
# Markdown field can express, so the hostile corpus is also built with them.
# Written to .env in hostile repositories: what an include of record text would publish.
SNIPPET_MARKER = "RUNBOOK_SNIPPET_LEAK_MARKER"
RICH_MKDOCS_YML = """\
site_name: Site test runbook (rich)
theme:
  name: material
  features:
    - navigation.instant
    - navigation.tabs
    - search.suggest
    - search.highlight
    - content.code.copy
    - content.code.annotate
plugins:
  - search
  - tags
  - runbook
markdown_extensions:
  - attr_list
  - md_in_html
  - admonition
  - tables
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.highlight
  - pymdownx.inlinehilite
  - pymdownx.tabbed
  - pymdownx.snippets
  - toc:
      permalink: true
"""


def write_repo(
    root: Path,
    records: dict[str, str] | None = None,
    *,
    mkdocs_yml: str = MINIMAL_MKDOCS_YML,
    record_files: list[Path] | None = None,
    records_tree: Path | None = None,
    extra_checklists: list[Path] | None = None,
    docs: dict[str, str] | None = None,
) -> Path:
    """A runbook repository: mkdocs.yml, docs/ (maybe empty), checklists/ and records/.

    `records` maps a relative file name under records/ to its YAML text; `record_files` are
    copied into records/; `records_tree` is copied as a whole (keeping its sub-folders).
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text(mkdocs_yml, encoding="utf-8")
    (root / "docs").mkdir(exist_ok=True)
    for name, text in (docs or {}).items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    shutil.copytree(REPO_ROOT / "checklists", root / "checklists")
    for checklist in extra_checklists or []:
        shutil.copy(checklist, root / "checklists" / checklist.name)
    if records_tree is not None:
        shutil.copytree(records_tree, root / "records")
    records_dir = root / "records"
    records_dir.mkdir(exist_ok=True)
    for file in record_files or []:
        shutil.copy(file, records_dir / file.name)
    for name, text in (records or {}).items():
        (records_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (records_dir / name).write_text(text, encoding="utf-8")
    return root


def run_cli(repo: Path, *args: str) -> CliRun:
    """The real `runbook` CLI inside `repo`, with SOURCE_DATE_EPOCH fixed."""
    return cli_run.run_cli(repo, *args, epoch=SOURCE_DATE_EPOCH)


def build(repo: Path, *args: str) -> CliRun:
    """`runbook build` that must succeed."""
    result = run_cli(repo, "build", *args)
    assert result.exit_code == 0, f"runbook build failed in {repo}:\n{result.output}"
    return result


@dataclass(frozen=True)
class BuiltSite:
    """A runbook repository built into `site` once, with its records read from YAML."""

    repo: Path
    site: Site
    records: dict[str, RecordData]
    output: str

    @property
    def site_dir(self) -> Path:
        return self.site.root


# --- the browser ---


@dataclass
class Tab:
    """A browser page plus everything it reported: dialogs, console messages, page errors."""

    page: Any
    dialogs: list[str]
    console: list[tuple[str, str]]
    errors: list[str]
    requests: list[str]

    def reset(self) -> None:
        self.dialogs.clear()
        self.console.clear()
        self.errors.clear()
        self.requests.clear()


# --- the built site -----------------------------------------------------------------------


@dataclass
class Site:
    """A built site folder, read page by page (cached)."""

    root: Path
    _cache: dict[str, Node] = field(default_factory=dict)

    def file_for(self, url_path: str) -> Path:
        path = unquote(url_path).lstrip("/")
        if path == "" or path.endswith("/"):
            path += "index.html"
        return self.root / path

    def page(self, url_path: str) -> Node:
        """The parsed page at a site URL path like `changes/ID/`."""
        key = url_path.lstrip("/")
        if key not in self._cache:
            self._cache[key] = parse_html(self.file_for(key).read_text(encoding="utf-8"))
        return self._cache[key]

    def html_pages(self) -> list[str]:
        """URL paths of every HTML page of the site."""
        pages = []
        for file in sorted(self.root.rglob("*.html")):
            relative = file.relative_to(self.root).as_posix()
            pages.append(relative.removesuffix("index.html"))
        return pages


def resolve(page_url: str, href: str) -> tuple[str, str]:
    """A link on the page at `page_url` as (site URL path, fragment)."""
    absolute = urlsplit(urljoin(SITE_BASE + page_url.lstrip("/"), href))
    assert absolute.netloc == urlsplit(SITE_BASE).netloc, f"external link {href!r}"
    return absolute.path.lstrip("/"), unquote(absolute.fragment)


def record_url(record_id: str) -> str:
    return f"changes/{record_id}/"


RECORD_LINK = re.compile(r"(?:^|/)changes/([a-z0-9]+(?:-[a-z0-9]+)*)/(?:index\.html)?$")


def record_id_of(href: str) -> str | None:
    """The record id a link points to, if it points to a record page."""
    match = RECORD_LINK.search(urlsplit(href).path)
    return match.group(1) if match else None


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordData:
    """A record as its YAML says, read independently of the generator."""

    id: str
    path: str  # relative to the runbook repository
    data: dict[str, Any]

    @property
    def date(self) -> dt.date:
        value = self.data["date"]
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)

    def commands(self, *, rollback: bool = False) -> list[dict[str, Any]]:
        raw = self.data["rollback"].get("commands", []) if rollback else self.data["commands"]
        return [{"run": c} if isinstance(c, str) else dict(c) for c in raw or []]

    def checklist_statuses(self) -> dict[str, dict[str, dict[str, Any]]]:
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for checklist_id, items in (self.data.get("checklists") or {}).items():
            result[checklist_id] = {
                item: {"status": s} if isinstance(s, str) else dict(s) for item, s in items.items()
            }
        return result


def load_records(records_dir: Path) -> dict[str, RecordData]:
    """Every record file under a records folder, by id."""
    records = {}
    for file in sorted(records_dir.rglob("*.y*ml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        records[file.stem] = RecordData(
            file.stem, file.relative_to(records_dir.parent).as_posix(), data
        )
    return records


def newest_first(records: dict[str, RecordData]) -> list[str]:
    """Record ids in the site's order: newest date first, within a day by the time it
    shipped (records without one last), ties by id, descending."""

    def order(record: RecordData) -> tuple[dt.date, float, str]:
        shipped = record.data.get("shipped_at")
        if isinstance(shipped, str):
            shipped = dt.datetime.fromisoformat(shipped.replace("Z", "+00:00"))
        moment = shipped.timestamp() if isinstance(shipped, dt.datetime) else float("-inf")
        return record.date, moment, record.id

    return [r.id for r in sorted(records.values(), key=order, reverse=True)]


def folder_of(path: str) -> str | None:
    head, separator, _ = path.partition("/")
    return head if separator else None
