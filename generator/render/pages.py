"""Render the indexed runbook into pages: Markdown for every record and index, plus the feed
and the JSON export. Engine-independent: MkDocs, `runbook render --out` and any other
Markdown site engine get the same bytes at the same paths.

Which pages exist is registered in `site_pages`; each says what it shows (its template and
context). Incremental builds rest on one rule, applied here and nowhere else: a cached page's
key is the digest of its template, its context and what every page shares (settings,
templates, checklists, link slugs), so a page is reused exactly when nothing it shows changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from pydantic import BaseModel

from ..models import SourcedRecord
from .charts import TrendChart
from .environment import templates_fingerprint
from .exports import annotations_json, file_paths_json, records_json
from .index import ChecklistUse, Group, MetricUse, RunbookIndex
from .links import Links, RecordRows, relative_to, site_path
from .long_lists import Part
from .settings import RenderSettings
from .site_pages import PAGE_SOURCES, PageSpec, PageUnit
from .timeline import month_file, month_shows, timeline_months

# HTML hidden from Markdown in a comment (see _HtmlBlock), unwrapped after conversion.
HIDDEN_HTML = re.compile(r"<!-- runbook-html\n(.*?)\n-->", re.DOTALL)
# Whether a page rendered earlier from the same inputs is kept: (uri, key) -> bool.
RenderedBefore = Callable[[str, str], bool]
# The pages (uri, key) a unit of pages with this key made earlier, if each is kept; else None.
UnitBefore = Callable[[str], list[tuple[str, str]] | None]


@dataclass(frozen=True)
class Page:
    """One generated file: its path in the docs tree, its content and, for cached pages, the
    key of everything it shows. No content: the page is as the build that kept it rendered
    it (`rendered_before`), and its file there is current."""

    uri: str
    content: str | None
    key: str = ""
    in_nav: bool = False
    unit: str = ""  # the key of the PageUnit that made it, if one did


class _HtmlBlock:
    """`{% call deferred() %}...{% endcall %}` in a template: HTML that Markdown need not read.

    Index pages hold tables of thousands of rows, record pages their summaries, link lists and
    charts. Written as HTML they need no Markdown, yet Python-Markdown parses every tag of raw
    HTML in Python (html.parser): most of a build. For MkDocs (`hide`), the HTML goes inside a
    comment, which Markdown passes through whole after one search for its end (a 5,000-row
    table: 0.27 s -> 0.017 s), and the plugin unwraps it after conversion (HIDDEN_HTML); other
    engines get the HTML as it is. HTML that holds a comment's end itself stays as it is.
    """

    def __init__(self, hide: bool) -> None:
        self.hide = hide

    def __call__(self, caller: Callable[[], str]) -> Markup:
        html = caller()
        if not self.hide or "-->" in html or "--!>" in html:
            return Markup(html)
        return Markup(f"<!-- runbook-html\n{html}\n-->")


# A use of a checklist item or a metric shows what its record holds there: it is named by its
# record's digest (which list it is in says which item or metric).
_USES = (ChecklistUse, MetricUse)
_RECORD_DIGEST = operator.attrgetter("digest")
_USE_DIGEST = operator.attrgetter("entry.digest")


class _PageInputs:
    """Digests of what pages show: each record once, then any page context as JSON."""

    def __init__(self, index: RunbookIndex, shared: bytes) -> None:
        # Hashed once and copied for each key: the shared inputs are tens of kilobytes (every
        # page's slug), and hashing them again for each of thousands of pages showed.
        self.shared = hashlib.sha256(shared)
        # A record shown whole (a record page's `record`) is its record's digest too.
        self.models = {id(entry.record): entry.digest for entry in index.records}
        self.encoder = json.JSONEncoder(
            default=self._encode, check_circular=False, separators=(",", ":")
        )

    def key(self, spec: PageSpec) -> str:
        digest = self.shared.copy()
        digest.update(spec.template.encode("utf-8"))
        digest.update(self.encoder.encode(spec.context).encode("utf-8"))
        return digest.hexdigest()

    def unit_key(self, unit: PageUnit) -> str:
        """The key of a unit of pages: its function and its inputs, with what pages share."""
        digest = self.shared.copy()
        digest.update(f"unit\0{unit.make.__module__}.{unit.make.__qualname__}\0".encode())
        inputs = [self._listed(value) for value in unit.inputs]
        digest.update(self.encoder.encode(inputs).encode("utf-8"))
        return digest.hexdigest()

    def _listed(self, value: Any) -> Any:
        """A unit's input with its lists of records (or of what records hold) as one string
        of their digests each, as a page's Part has them."""
        if value.__class__ is list:
            return self._digests(value)
        if value.__class__ is dict:
            return {key: self._listed(item) for key, item in value.items()}
        if value.__class__ is Group:
            return {"name": value.name, "slug": value.slug, "records": self._digests(value.records)}
        return value

    def _digests(self, items: Sequence[Any]) -> Any:
        """A list of records, or of what records hold (a checklist item's statuses, a
        metric's values), as one string of their digests; any other list as it is."""
        kinds = set(map(type, items))  # mapped, not looped: lists of tens of thousands
        if len(kinds) != 1:
            return list(items)
        kind = kinds.pop()
        if kind is SourcedRecord:
            return ",".join(map(_RECORD_DIGEST, items))
        if kind in _USES:
            return ",".join(map(_USE_DIGEST, items))
        return list(items)

    def _encode(self, value: Any) -> Any:
        if value.__class__ is SourcedRecord:  # by far the most common: first, exactly
            return value.digest
        if value.__class__ is TrendChart:  # each metric of its chart is its record's
            return ",".join(map(_USE_DIGEST, value.uses))
        if value.__class__ is Part:
            # Long lists' parts hold most of what pages show: their records' digests are
            # joined here rather than encoded one call each.
            return {**vars(value), "items": self._digests(value.items)}
        if isinstance(value, BaseModel):
            return self.models.get(id(value)) or value.model_dump(mode="json")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, dt.date):
            return value.isoformat()
        raise TypeError(f"a cached page cannot show a {type(value).__name__}: mark it uncached")


def render_site(
    index: RunbookIndex,
    environment: Environment,
    settings: RenderSettings,
    *,
    rendered_before: RenderedBefore | None = None,
    unit_before: UnitBefore | None = None,
    hide_html: bool = False,
) -> Iterator[Page]:
    """Every generated page of the runbook, in a stable order, one at a time: the caller
    writes each and lets it go (the pages of 100,000 records are gigabytes of Markdown).

    With `rendered_before`, a cached page whose key is unchanged is not rendered again, nor
    read: it comes without content (incremental builds: one new record changes a few dozen
    pages, not the 5,000 others). With `unit_before`, the pages of a unit whose key is
    unchanged come so without their specs being made (site_pages.PageUnit). With
    `hide_html`, blocks of plain HTML are hidden from Markdown (see _HtmlBlock): for MkDocs,
    whose plugin unwraps them.
    """
    links = Links(index)
    inputs = _PageInputs(index, _shared_inputs(index, settings, environment))
    record_rows = RecordRows(environment, links, settings.directory_urls)
    shared_context = {
        "links": links,
        "settings": settings,
        "checklists": {cid: sc.checklist for cid, sc in index.runbook.checklists.items()},
        "deferred": _HtmlBlock(hide_html),
    }

    def page(spec: PageSpec, unit: str) -> Page:
        key = inputs.key(spec) if spec.cached else ""
        if key and rendered_before and rendered_before(spec.uri, key):
            return Page(spec.uri, None, key, spec.in_nav, unit)
        root = "../" * site_path(spec.uri, settings.directory_urls).count("/")
        context = {
            **shared_context,
            "to": relative_to(spec.uri),
            "url": record_rows.url_from(root),
            "record_rows": record_rows.for_page(root),
            **({} if spec.cached else {"index": index}),
            **spec.context,
        }
        content = environment.get_template(spec.template).render(context)
        return Page(spec.uri, content, key, spec.in_nav, unit)

    for source in PAGE_SOURCES:
        for made in source(index, links, settings):
            if isinstance(made, PageSpec):
                yield page(made, "")
                continue
            if unit_before is None:  # nothing kept to compare with (`runbook render`)
                yield from (page(spec, "") for spec in made.specs())
                continue
            unit = inputs.unit_key(made)
            kept = unit_before(unit)
            if kept is not None:
                yield from (Page(uri, None, key, unit=unit) for uri, key in kept)
                continue
            yield from (page(spec, unit) for spec in made.specs())
    yield Page("records.json", records_json(index.records))
    yield Page(
        "files/paths.json",
        file_paths_json(
            index.files, lambda path: site_path(links.file(path), settings.directory_urls)
        ),
    )
    # Month files are keyed like pages: one changed record rewrites its month's file alone.
    for uri, entries in timeline_months(index).items():
        rows = [[entry, *month_shows(entry, index)] for entry in entries]
        key = inputs.key(PageSpec(uri, "timeline month", {"rows": rows}))
        if rendered_before and rendered_before(uri, key):
            yield Page(uri, None, key)
        else:
            yield Page(uri, month_file(entries, settings.directory_urls, index), key)
    yield Page(
        "annotations.json",
        annotations_json(index.records, settings.site_url, settings.directory_urls, index.names),
    )


def _shared_inputs(
    index: RunbookIndex, settings: RenderSettings, environment: Environment
) -> bytes:
    """What the key of every page includes: settings, templates, checklists, and the slugs
    every link between pages is made of."""
    checklists = {
        checklist_id: sourced.checklist.model_dump(mode="json")
        for checklist_id, sourced in index.runbook.checklists.items()
    }
    slugs = {
        kind: {name: group.slug for name, group in groups.items()}
        for kind, groups in (
            ("services", index.services),
            ("owners", index.owners),
            ("tags", index.tags),
            ("metrics", index.metrics),
        )
    }
    inputs = {
        "settings": dataclasses.asdict(settings),
        "templates": templates_fingerprint(environment),
        "checklists": checklists,
        "slugs": {**slugs, "folders": index.folder_slugs, "folder_parts": index.folder_parts},
    }
    return json.dumps(inputs, sort_keys=True).encode("utf-8")


def write_pages(pages: Iterable[Page], folder: Path) -> int:
    """Write pages under `folder` as files (`runbook render --out`); how many."""
    written = 0
    for page in pages:
        assert page.content is not None  # rendered without `rendered_before`
        destination = folder / page.uri
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(page.content, encoding="utf-8")
        written += 1
    return written
