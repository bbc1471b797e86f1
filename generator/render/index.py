"""The runbook seen from every angle a reader asks from: service, owner, file, tag, metric,
checklist item, month, and "what else touched this".

Built once from the validated records in one pass plus a related-changes step that uses the
inverted indexes (related.py), so the cost grows with the records, not with records squared.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..models import Checklist, ChecklistItem, ItemStatus, Metric, Runbook, SourcedRecord
from ..names import (
    NAME_KINDS,
    Aliases,
    NameKind,
    ShownNames,
    name_key,
    preferred_spelling,
    stable_slug,
)
from .long_lists import folder_parts
from .related import RelatedLists, pool_row, related_changes

TOP_LEVEL_FOLDER = "(top level)"


@dataclass(frozen=True)
class ChecklistUse:
    """One record's status for one checklist item."""

    entry: SourcedRecord
    status: ItemStatus


@dataclass(frozen=True)
class MetricUse:
    """One record's before/after of one metric."""

    entry: SourcedRecord
    metric: Metric


@dataclass
class Group:
    """Records sharing a name (a service, owner, tag or metric) under any spelling, newest
    first: shown under its preferred spelling, at a slug made from its key alone."""

    name: str
    slug: str
    records: list[SourcedRecord] = field(default_factory=list)


@dataclass
class RunbookIndex:
    """Every listing the site shows; all lists are newest first, all dicts in sorted order."""

    runbook: Runbook
    services: dict[str, Group]
    owners: dict[str, Group]
    tags: dict[str, Group]
    metrics: dict[str, Group]  # by metric_key(): a metric is its service's own
    metric_uses: dict[str, list[MetricUse]]
    files: dict[str, list[SourcedRecord]]
    files_in_folder: dict[str, list[str]]
    folder_slugs: dict[str, str]
    folder_parts: dict[str, int]  # how many pages each folder's files are on (long_lists.py)
    checklist_uses: dict[str, dict[str, list[ChecklistUse]]]
    months: dict[str, int]
    untested_rollbacks: list[SourcedRecord]
    related: dict[str, list[SourcedRecord]]
    # The records naming each record in their `fixes`, oldest first.
    fixed_by: dict[str, list[SourcedRecord]] = field(default_factory=dict)
    related_lists: RelatedLists | None = None  # `related` as the next build compares it
    aliases: Aliases = field(default_factory=Aliases)
    names: ShownNames = field(default_factory=ShownNames)

    def shown(self, kind: NameKind, name: str) -> str:
        """The name a record's service, owner or tag is shown and filtered under: its
        group's name, as on the group's page."""
        return self.names.shown(kind, name)

    def metric_key(self, service: str, metric: str) -> str:
        """The key of a service's metric: "pool wait p99" of uploads and of billing-db are
        two metrics, each with its own page and trend."""
        return metric_key(self.aliases.key("service", service), metric)

    def metric_service(self, key: str) -> Group:
        """The service a metric group belongs to."""
        return self.services[key.split(METRIC_KEY_SEPARATOR, 1)[0]]

    def metrics_by_service(self) -> list[tuple[Group, list[tuple[str, Group]]]]:
        """Each service with metrics, by name, with its metrics (key, group) by name."""
        by_service: dict[str, list[tuple[str, Group]]] = defaultdict(list)
        for key, group in self.metrics.items():
            by_service[key.split(METRIC_KEY_SEPARATOR, 1)[0]].append((key, group))
        return sorted(
            (
                (self.services[service], sorted(metrics, key=lambda m: m[1].name))
                for service, metrics in by_service.items()
            ),
            key=lambda item: item[0].name,
        )

    def group_key(self, kind: NameKind, name: str) -> str:
        """The key of the group a record's word belongs to (services, owners, tags)."""
        return self.aliases.key(kind, name)

    @property
    def records(self) -> list[SourcedRecord]:
        return self.runbook.records

    @functools.cached_property
    def order(self) -> dict[str, int]:
        """Each record's position in the runbook, newest first."""
        return {entry.id: position for position, entry in enumerate(self.records)}

    @functools.cached_property
    def by_id(self) -> dict[str, SourcedRecord]:
        return {entry.id: entry for entry in self.records}

    def fixes(self, entry: SourcedRecord) -> list[SourcedRecord]:
        """The records `entry` fixes, as its `fixes` lists them (validation holds each to
        exist)."""
        return [self.by_id[fix.id] for fix in entry.record.fixes if fix.id in self.by_id]


# No name holds a NUL (the loader refuses it): the separator of a metric's two keys.
METRIC_KEY_SEPARATOR = "\0"


def metric_key(service_key: str, metric: str) -> str:
    return f"{service_key}{METRIC_KEY_SEPARATOR}{name_key(metric)}"


def folder_of(path: str) -> str:
    """The top-level folder a touched file lives in; files pages are split by it."""
    head, separator, _ = path.partition("/")
    return head if separator else TOP_LEVEL_FOLDER


def build_index(
    runbook: Runbook, aliases: Aliases | None = None, *, related_before: RelatedLists | None = None
) -> RunbookIndex:
    """Index the (newest-first) records of a runbook; names are grouped by their key.
    `related_before`: the related lists of the last build, for what it can keep of them."""
    aliases = aliases or Aliases()
    shown = ShownNames(aliases)
    names: dict[NameKind, dict[str, list[SourcedRecord]]] = {
        kind: defaultdict(list) for kind in NAME_KINDS
    }
    metric_spellings: dict[str, list[tuple[str, dt.date, str]]] = defaultdict(list)
    by_file: dict[str, list[SourcedRecord]] = defaultdict(list)
    metric_uses: dict[str, list[MetricUse]] = defaultdict(list)
    checklists = {cid: sc.checklist for cid, sc in runbook.checklists.items()}
    checklist_uses: dict[str, dict[str, list[ChecklistUse]]] = {
        cid: {item.id: [] for item in checklist.items} for cid, checklist in checklists.items()
    }
    months: Counter[str] = Counter()
    fixed_by: dict[str, list[SourcedRecord]] = defaultdict(list)
    for entry in reversed(runbook.records):
        for fix in entry.record.fixes:
            fixed_by[fix.id].append(entry)
    pool_rows = []
    for entry in runbook.records:
        record = entry.record
        months[record.date.strftime("%Y-%m")] += 1
        named = record_names(entry)
        keys = [shown.add(kind, word, record.date, entry.id) for kind, word in named]
        for (kind, _), key in zip(named, keys, strict=True):
            if not names[kind][key] or names[kind][key][-1] is not entry:
                names[kind][key].append(entry)
        service_key, tag_keys = keys[0], keys[2:]  # record_names' order
        pool_rows.append(pool_row(record.files_touched, service_key, tag_keys))
        for path in dict.fromkeys(record.files_touched):
            by_file[path].append(entry)
        for metric in record.metrics:
            key = metric_key(service_key, metric.name)
            metric_uses[key].append(MetricUse(entry, metric))
            metric_spellings[key].append((metric.name, record.date, entry.id))
        for checklist_id, statuses in record.checklists.items():
            for item_id, status in statuses.items():
                item = checklists[checklist_id].item_for(item_id)
                if item is not None:
                    checklist_uses[checklist_id][item.id].append(ChecklistUse(entry, status))

    pools = {"file": by_file, "service": names["service"], "tag": names["tag"]}
    related, related_lists = related_changes(
        runbook.records, pool_rows, pools, repr(aliases), before=related_before
    )
    files_in_folder: dict[str, list[str]] = defaultdict(list)
    for path in sorted(by_file):
        files_in_folder[folder_of(path)].append(path)
    metric_records = {
        key: list({use.entry.id: use.entry for use in uses}.values())
        for key, uses in metric_uses.items()
    }
    return RunbookIndex(
        runbook=runbook,
        services=_groups(names["service"], functools.partial(shown.by_key, "service")),
        owners=_groups(names["owner"], functools.partial(shown.by_key, "owner")),
        tags=_groups(names["tag"], functools.partial(shown.by_key, "tag")),
        metrics=_groups(metric_records, lambda key: preferred_spelling(metric_spellings[key])),
        metric_uses=dict(sorted(metric_uses.items())),
        files=dict(sorted(by_file.items())),
        files_in_folder=dict(sorted(files_in_folder.items())),
        folder_slugs={folder: stable_slug(folder) for folder in files_in_folder},
        folder_parts={
            folder: folder_parts(len(paths)) for folder, paths in files_in_folder.items()
        },
        checklist_uses=checklist_uses,
        months=dict(sorted(months.items())),
        untested_rollbacks=[r for r in runbook.records if not r.record.rollback.tested],
        related=related,
        related_lists=related_lists,
        fixed_by=dict(fixed_by),
        aliases=aliases,
        names=shown,
    )


def record_names(entry: SourcedRecord) -> list[tuple[NameKind, str]]:
    """The names a record says: its service, its owner and its tags, in this order."""
    record = entry.record
    return [("service", record.service), ("owner", record.owner)] + [
        ("tag", tag) for tag in record.tags
    ]


def shown_names(records: Iterable[SourcedRecord], aliases: Aliases | None = None) -> ShownNames:
    """The shown names of these records' services, owners and tags (what `build_index`
    groups them under), for a command that needs them without the whole index: give it
    every record, not only those it shows."""
    shown = ShownNames(aliases)
    for entry in records:
        for kind, word in record_names(entry):
            shown.add(kind, word, entry.record.date, entry.id)
    return shown


def _groups(
    members: dict[str, list[SourcedRecord]], name_of: Callable[[str], str]
) -> dict[str, Group]:
    """Groups by key, in the order of their shown names."""
    groups = {
        key: Group(name_of(key), stable_slug(key), records) for key, records in members.items()
    }
    return dict(sorted(groups.items(), key=lambda item: (item[1].name, item[0])))


def checklist_as_it_was(
    checklist: Checklist, statuses: dict[str, ItemStatus], day: dt.date
) -> list[tuple[ChecklistItem, ItemStatus | None]]:
    """A record's checklist as it was on its date: the items then in force and any other it
    addressed, each with the record's status (found through renamed ids too)."""
    by_item = {}
    for item_id, status in statuses.items():
        item = checklist.item_for(item_id)
        if item is not None:
            by_item[item.id] = status
    return [
        (item, by_item.get(item.id))
        for item in checklist.items
        if item.in_force(day) or item.id in by_item
    ]
