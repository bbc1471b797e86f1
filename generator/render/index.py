"""The runbook seen from every angle a reader asks from: service, owner, file, tag, metric,
checklist item, month, and "what else touched this".

Built once from the validated records in one pass plus a related-changes step that uses the
inverted indexes, so the cost grows with the records, not with records squared.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..models import ItemStatus, Metric, Runbook, SourcedRecord
from .slugs import assign_slugs

RELATED_LIMIT = 6
CANDIDATES_PER_KEY = 20  # on each side in time
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
    """Records sharing a name (a service, owner or tag), newest first, with a unique slug."""

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
    metrics: dict[str, Group]
    metric_uses: dict[str, list[MetricUse]]
    files: dict[str, list[SourcedRecord]]
    files_in_folder: dict[str, list[str]]
    folder_slugs: dict[str, str]
    checklist_uses: dict[str, dict[str, list[ChecklistUse]]]
    months: dict[str, int]
    untested_rollbacks: list[SourcedRecord]
    related: dict[str, list[SourcedRecord]]

    @property
    def records(self) -> list[SourcedRecord]:
        return self.runbook.records


def folder_of(path: str) -> str:
    """The top-level folder a touched file lives in; files pages are split by it."""
    head, separator, _ = path.partition("/")
    return head if separator else TOP_LEVEL_FOLDER


def build_index(runbook: Runbook) -> RunbookIndex:
    """Index the (newest-first) records of a runbook."""
    by_service: dict[str, list[SourcedRecord]] = defaultdict(list)
    by_owner: dict[str, list[SourcedRecord]] = defaultdict(list)
    by_tag: dict[str, list[SourcedRecord]] = defaultdict(list)
    by_file: dict[str, list[SourcedRecord]] = defaultdict(list)
    metric_uses: dict[str, list[MetricUse]] = defaultdict(list)
    checklist_uses: dict[str, dict[str, list[ChecklistUse]]] = {
        cid: {item.id: [] for item in sc.checklist.items} for cid, sc in runbook.checklists.items()
    }
    months: Counter[str] = Counter()
    for entry in runbook.records:
        record = entry.record
        by_service[record.service].append(entry)
        by_owner[record.owner].append(entry)
        months[record.date.strftime("%Y-%m")] += 1
        for tag in dict.fromkeys(record.tags):
            by_tag[tag].append(entry)
        for path in dict.fromkeys(record.files_touched):
            by_file[path].append(entry)
        for metric in record.metrics:
            metric_uses[metric.name].append(MetricUse(entry, metric))
        for checklist_id, statuses in record.checklists.items():
            for item_id, status in statuses.items():
                checklist_uses[checklist_id][item_id].append(ChecklistUse(entry, status))

    files_in_folder: dict[str, list[str]] = defaultdict(list)
    for path in sorted(by_file):
        files_in_folder[folder_of(path)].append(path)
    return RunbookIndex(
        runbook=runbook,
        services=_groups(by_service),
        owners=_groups(by_owner),
        tags=_groups(by_tag),
        metrics=_groups({name: [use.entry for use in uses] for name, uses in metric_uses.items()}),
        metric_uses=dict(sorted(metric_uses.items())),
        files=dict(sorted(by_file.items())),
        files_in_folder=dict(sorted(files_in_folder.items())),
        folder_slugs=assign_slugs(files_in_folder),
        checklist_uses=checklist_uses,
        months=dict(sorted(months.items())),
        untested_rollbacks=[r for r in runbook.records if not r.record.rollback.tested],
        related=_related(runbook.records, by_file, by_service, by_tag),
    )


def _groups(members: dict[str, list[SourcedRecord]]) -> dict[str, Group]:
    slugs = assign_slugs(members)
    return {name: Group(name, slugs[name], members[name]) for name in sorted(members)}


def _related(
    records: list[SourcedRecord],
    by_file: dict[str, list[SourcedRecord]],
    by_service: dict[str, list[SourcedRecord]],
    by_tag: dict[str, list[SourcedRecord]],
) -> dict[str, list[SourcedRecord]]:
    """Per record: shared files first (most shared first), then same service, then shared tags.

    Candidates are the records nearest in time within each file, service or tag, so a file
    touched by thousands of records costs a constant, and a new record changes the related
    list of its neighbours in time only (which keeps incremental rebuilds small).
    """
    order = {entry.id: position for position, entry in enumerate(records)}
    positions: dict[int, dict[str, int]] = {}

    def sides(pool: list[SourcedRecord], entry: SourcedRecord) -> tuple[list, list]:
        """The pool's records just newer and just older than `entry`, nearest first.

        Pools are newest first like `records`, so each side is already ordered by distance
        in time: no sorting is needed to walk outwards from `entry`.
        """
        index = positions.get(id(pool))
        if index is None:  # built once per pool
            index = positions[id(pool)] = {e.id: i for i, e in enumerate(pool)}
        here = index[entry.id]
        newer = pool[max(0, here - CANDIDATES_PER_KEY) : here][::-1]
        return newer, pool[here + 1 : here + 1 + CANDIDATES_PER_KEY]

    def nearest(pool: list[SourcedRecord], entry: SourcedRecord) -> Iterator[SourcedRecord]:
        """The pool's records nearest to `entry` in time, nearest first (ties by id)."""
        here = order[entry.id]
        return heapq.merge(
            *sides(pool, entry), key=lambda other: (abs(order[other.id] - here), other.id)
        )

    related = {}
    for entry in records:
        record = entry.record
        shared: Counter[str] = Counter()
        candidates: dict[str, SourcedRecord] = {}
        for path in set(record.files_touched):
            for side in sides(by_file[path], entry):
                for other in side:
                    shared[other.id] += 1
                    candidates[other.id] = other
        here = order[entry.id]
        ranked = sorted(shared, key=lambda i: (-shared[i], abs(order[i] - here), i))
        ranked = ranked[:RELATED_LIMIT]
        chosen = {other_id: candidates[other_id] for other_id in ranked}
        pools = [by_service[record.service]] + [by_tag[t] for t in sorted(set(record.tags))]
        for pool in pools:
            if len(chosen) >= RELATED_LIMIT:
                break
            for other in nearest(pool, entry):
                if len(chosen) >= RELATED_LIMIT:
                    break
                chosen.setdefault(other.id, other)
        related[entry.id] = list(chosen.values())
    return related
