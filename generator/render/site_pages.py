"""Every generated page, registered in one list: what a new index page adds is a function here
(and its data in `index`, its template in templates/).

A page source yields PageSpecs: the page's path, its template and the context it is rendered
with. That context is everything the page shows: cached pages (the default) are reused when
their context, template and the shared inputs are unchanged (pages.render_site), so a cached
page's template may read only its context, never the whole index (it is not even given it).
Pages that summarise the whole runbook say `cached=False` and are rendered every build.
"""

from __future__ import annotations

import heapq
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Checklist, Runbook, SourcedRecord
from .charts import MetricChange, TrendChart, months_chart
from .delivery_page import delivery_context
from .environment import uses_by_status
from .index import ChecklistUse, Group, MetricUse, RunbookIndex, build_index
from .links import Links, published_url
from .long_lists import Part, older_uri, part_of, split_list
from .settings import RenderSettings
from .timeline import epoch_ms, latest_days, services_to_choose, utc_time_text

FEED_SIZE = 50
FOLDER_RECENT = 50  # the newest changes a big folder's own page lists
# A checklist item's statuses as parts of page addresses ("n/a" holds a slash).
STATUS_NAMES = {"done": "done", "n/a": "na", "skipped": "skipped"}
RECENT_ON_HOME = 50


@dataclass(frozen=True)
class PageSpec:
    """One page to render: where, with which template, showing what."""

    uri: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    cached: bool = True
    in_nav: bool = False  # a top-level index page: listed in the navigation


@dataclass(frozen=True)
class PageUnit:
    """The pages of one group, metric, checklist or folder, made together from a few
    `inputs`: `make(*given, *inputs)`. Their keys are a function of the unit's key (its
    function, its inputs and what every page shares), so a build whose unit has the key of
    one the last build made reuses those pages without making their specs again (most of an
    index page's cost is making its context and keying it: a tag's thousands of changes).
    `make` may read nothing but its arguments; `given` holds only what every page's key
    covers already (links, made of the shared slugs) or what the inputs decide (the
    runbook's order of their records). Its pages are never in the navigation (kept ones are
    given without their specs)."""

    make: Callable[..., Iterable[PageSpec]]
    inputs: tuple[Any, ...]
    given: tuple[Any, ...] = ()

    def specs(self) -> Iterable[PageSpec]:
        return self.make(*self.given, *self.inputs)


PageSource = Callable[[RunbookIndex, Links, RenderSettings], Iterable[PageSpec | PageUnit]]
PAGE_SOURCES: list[PageSource] = []


def page_source(source: PageSource) -> PageSource:
    """Register a page source; pages are rendered in registration order."""
    PAGE_SOURCES.append(source)
    return source


def navigation_uris(settings: RenderSettings) -> list[str]:
    """The top-level index pages, in order: what any runbook's navigation lists (the page
    sources of an empty runbook still yield every one of them)."""
    index = build_index(Runbook())
    links = Links(index)
    return [
        spec.uri
        for source in PAGE_SOURCES
        for spec in source(index, links, settings)
        if isinstance(spec, PageSpec) and spec.in_nav
    ]


def _itself(entry: SourcedRecord) -> SourcedRecord:
    return entry


def _newest(
    order: dict[str, int], lists: Iterable[list[SourcedRecord]], count: int
) -> list[SourcedRecord]:
    """The `count` newest records of several newest-first lists, each once (`order`: each
    record's position in the runbook)."""
    return heapq.nsmallest(
        count,
        {entry.id: entry for records in lists for entry in records[:count]}.values(),
        key=lambda entry: order[entry.id],
    )


def _verdict_counts(uses: list[MetricUse]) -> tuple[int, int, int]:
    """How many changes moved a metric, and how many of them improved and regressed it."""
    verdicts = Counter(MetricChange(use.metric).verdict for use in uses)
    return len(uses), verdicts["improved"], verdicts["regressed"]


# The record a checklist item's or a metric's use is about.
_use_entry = operator.attrgetter("entry")


def _parts(
    items: Sequence[Any],
    list_uri: str,
    entry_of: Callable[[Any], SourcedRecord],
    name: str = "",
) -> Iterator[tuple[str, Part]]:
    """A long list's own page (first) and its older pages, each with its part of the list
    (long_lists.py)."""
    own, older = split_list(items, list_uri, older_uri(list_uri, name), entry_of)
    yield list_uri, own
    yield from older


@page_source
def home_page(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    yield PageSpec(
        settings.home_uri,
        "home.md.j2",
        {"months_chart": months_chart(index.months), "recent": index.records[:RECENT_ON_HOME]},
        cached=False,
        in_nav=True,
    )


@page_source
def timeline_page(
    index: RunbookIndex, links: Links, settings: RenderSettings
) -> Iterable[PageSpec]:
    yield PageSpec(
        "timeline.md",
        "timeline.md.j2",
        {
            "days": latest_days(index.records),
            "months": sorted({e.record.date.isoformat()[:7] for e in index.records}),
            "services": services_to_choose(group.name for group in index.services.values()),
            "environments": sorted({e.record.environment for e in index.records}),
            "shown": index.shown,
            "fixes": index.fixes,
            "fixed_by": index.fixed_by,
            "epoch_ms": epoch_ms,
            "utc_time_text": utc_time_text,
        },
        cached=False,
        in_nav=True,
    )


@page_source
def record_pages(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    for entry in index.records:
        yield PageSpec(
            links.record(entry.id),
            "record.md.j2",
            {
                "entry": entry,
                "record": entry.record,
                "related": index.related[entry.id],
                "fixes": index.fixes(entry),
                "fixed_by": index.fixed_by.get(entry.id, []),
            },
        )


@page_source
def group_pages(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    for kind, groups in (("service", index.services), ("owner", index.owners), ("tag", index.tags)):
        # Each group's name, slug, count and latest date: a key of every record would
        # make this page's key cost as much as the runbook.
        rows = [
            (group.name, group.slug, len(group.records), group.records[0].record.date)
            for group in groups.values()
        ]
        yield PageSpec(
            f"{kind}s/index.md", "groups.md.j2", {"kind": kind, "rows": rows}, in_nav=True
        )
        for group in groups.values():
            yield PageUnit(_group_pages, (kind, group))


def _group_pages(kind: str, group: Group) -> Iterator[PageSpec]:
    uri = f"{kind}s/{group.slug}.md"
    for page_uri, part in _parts(group.records, uri, _itself):
        yield PageSpec(page_uri, "group.md.j2", {"kind": kind, "name": group.name, "part": part})


@page_source
def file_pages(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    folder_changes = {
        folder: len({entry.id for path in paths for entry in index.files[path]})
        for folder, paths in index.files_in_folder.items()
    }
    yield PageSpec(
        "files/index.md",
        "folders.md.j2",
        {"folder_changes": folder_changes},
        cached=False,
        in_nav=True,
    )
    for folder, paths in index.files_in_folder.items():
        files = {path: index.files[path] for path in paths}
        inputs = (folder, files, index.folder_parts[folder])
        yield PageUnit(_folder_pages, inputs, given=(links, index.order))


def _folder_pages(
    links: Links,
    order: dict[str, int],
    folder: str,
    files: dict[str, list[SourcedRecord]],
    parts: int,
) -> Iterator[PageSpec]:
    """A folder's files page, or its own page and the pages its files are spread over."""
    if parts == 1:
        yield PageSpec(
            links.folder(folder), "files.md.j2", {"folder": folder, "files": files, "part": None}
        )
        return
    by_part: list[list[str]] = [[] for _ in range(parts)]
    for path in files:
        by_part[part_of(path, parts) - 1].append(path)
    yield PageSpec(
        links.folder(folder),
        "folder.md.j2",
        {
            "folder": folder,
            "file_count": len(files),
            "parts": [len(part) for part in by_part],
            "recent": _newest(order, files.values(), FOLDER_RECENT),
        },
    )
    for number, part in enumerate(by_part, start=1):
        yield PageSpec(
            links.folder_part(folder, number),
            "files.md.j2",
            {
                "folder": folder,
                "files": {path: files[path] for path in part},
                "part": (number, parts),
            },
        )


@page_source
def checklist_pages(
    index: RunbookIndex, links: Links, settings: RenderSettings
) -> Iterable[PageSpec]:
    yield PageSpec("checklists/index.md", "checklists.md.j2", cached=False, in_nav=True)
    for checklist_id, sourced in index.runbook.checklists.items():
        inputs = (checklist_id, sourced.checklist, index.checklist_uses[checklist_id])
        yield PageUnit(_checklist_pages, inputs, given=(links,))


def _checklist_pages(
    links: Links,
    checklist_id: str,
    checklist: Checklist,
    uses_by_item: dict[str, list[ChecklistUse]],
) -> Iterator[PageSpec]:
    """A checklist's page, with each item's newest uses by status, and its items' older ones."""
    uri = links.checklist(checklist_id)
    parts: dict[str, dict[str, Part]] = {}
    older_pages = []
    for item in checklist.items:
        parts[item.id] = {}
        for status, uses in uses_by_status(uses_by_item[item.id]).items():
            name = f"{item.id}-{STATUS_NAMES[status]}"
            own, older = split_list(uses, uri, older_uri(uri, name), _use_entry)
            parts[item.id][status] = own
            older_pages.extend((page_uri, item, status, part) for page_uri, part in older)
    context = {"checklist_id": checklist_id, "checklist": checklist}
    yield PageSpec(uri, "checklist.md.j2", {**context, "parts": parts})
    for page_uri, item, status, part in older_pages:
        yield PageSpec(
            page_uri,
            "checklist-item.md.j2",
            {**context, "item": item, "status": status, "part": part},
        )


@page_source
def metric_pages(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    rows = [
        (
            service.name,
            [
                (group.slug, group.name, *_verdict_counts(index.metric_uses[key]))
                for key, group in metrics
            ],
        )
        for service, metrics in index.metrics_by_service()
    ]
    yield PageSpec("metrics/index.md", "metrics.md.j2", {"services": rows}, in_nav=True)
    for key, group in index.metrics.items():
        inputs = (group.name, group.slug, index.metric_service(key).name, index.metric_uses[key])
        yield PageUnit(_metric_pages, inputs)


def _metric_pages(name: str, slug: str, service: str, uses: list[MetricUse]) -> Iterator[PageSpec]:
    parts = _parts(uses, f"metrics/{slug}.md", _use_entry)
    own_uri, own = next(parts)
    context = {"name": name, "service": service}
    trend = {"trend": TrendChart(uses)}  # over every change: the own page only
    yield PageSpec(own_uri, "metric.md.j2", {**context, **trend, "part": own})
    for uri, part in parts:
        yield PageSpec(uri, "metric.md.j2", {**context, "part": part})


@page_source
def rollback_readiness_page(
    index: RunbookIndex, links: Links, settings: RenderSettings
) -> Iterable[PageSpec]:
    for uri, part in _parts(index.untested_rollbacks, "rollback-readiness.md", _itself):
        yield PageSpec(
            uri, "rollback-readiness.md.j2", {"part": part}, in_nav=uri == "rollback-readiness.md"
        )


@page_source
def delivery_page(
    index: RunbookIndex, links: Links, settings: RenderSettings
) -> Iterable[PageSpec]:
    yield PageSpec("delivery.md", "delivery.md.j2", delivery_context(index), in_nav=True)


@page_source
def sources_page(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    """An aggregating runbook's sources: where each comes from, at which commit, and why
    one is stale (a plain runbook has no such page)."""
    if index.runbook.sources:
        yield PageSpec(
            links.sources(), "sources.md.j2", {"sources": index.runbook.sources}, in_nav=True
        )


@page_source
def feed(index: RunbookIndex, links: Links, settings: RenderSettings) -> Iterable[PageSpec]:
    def page_url(entry: Any) -> str:
        return published_url(
            links.record(entry.id),
            site_url=settings.site_url,
            directory_urls=settings.directory_urls,
        )

    yield PageSpec(
        "feed.xml",
        "feed.xml.j2",
        {"entries": index.records[:FEED_SIZE], "page_url": page_url},
        cached=False,
    )
