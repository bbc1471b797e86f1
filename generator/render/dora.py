"""DORA's four keys counted from records alone, per calendar month of `date`, per service and
for the whole runbook, exactly as DESIGN.md's "Delivery performance" defines them.

Pure: rows in (generator.delivery), figures out; `runbook dora` feeds it the rows kept with
validation's results, the delivery page the rows of the records it renders.

- a *deployment* is a record whose environment is production (any case) and whose status is
  not planned;
- it *failed* when it is rolled-back, named in another record's `fixes` (validation holds a
  fix to be later), or has an incident;
- *lead time* is `shipped_at - committed_at`, over deployments with both;
- *time to restore* of a failed deployment is, when it has incidents and all are resolved,
  the latest `resolved_at` - the earliest `opened_at`; else the earliest `shipped_at` of the
  records fixing it - its own `shipped_at`; else it is missing.

Every month from a series' first deployment to its last is a row, those without deployments
too (a quiet month is a fact about delivery, not a gap in the data).
"""

from __future__ import annotations

import calendar
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..delivery import DeliveryRow

HOUR = 3600.0


@dataclass(frozen=True)
class Deployment:
    """One deployment and what DORA counts of it."""

    row: DeliveryRow
    service: str  # the name it is shown under
    month: str  # YYYY-MM of its date
    failed_because: tuple[str, ...]  # "rolled back", "fixed by a later record", "incident"
    fixed_by: tuple[str, ...]  # ids of the records naming it in their fixes
    lead_time_hours: float | None
    time_to_restore_hours: float | None

    @property
    def failed(self) -> bool:
        return bool(self.failed_because)


class MonthFigures(NamedTuple):
    """The four keys of one service (None: the whole runbook) in one month; its fields are
    `runbook dora --format json`'s keys, in DESIGN.md's order (a named tuple: a runbook of
    years and hundreds of services has hundreds of thousands of them)."""

    service: str | None
    month: str
    deployments: int
    failed: int
    change_failure_rate: float | None
    lead_time_hours: float | None
    time_to_restore_hours: float | None
    missing_lead_time: int
    missing_time_to_restore: int


def deployments(
    rows: Iterable[DeliveryRow],
    service_of: Callable[[str], str] = str,
    in_scope: Callable[[DeliveryRow], bool] = lambda row: True,
) -> list[Deployment]:
    """The deployments among `rows` that are `in_scope`, oldest first, each with what made it
    fail and its times. Every row is read for fixes: a change fixed by a record outside the
    scope (after --until) still failed."""
    rows = list(rows)
    fixers: dict[str, list[DeliveryRow]] = defaultdict(list)
    for row in rows:
        for fixed_id, _ in row.fixes:
            fixers[fixed_id].append(row)
    found = [
        _deployment(row, service_of(row.service), fixers.get(row.id, []))
        for row in rows
        if row.environment.casefold() == "production" and row.status != "planned" and in_scope(row)
    ]
    found.sort(key=lambda d: (d.row.date, _timestamp(d.row), d.row.id))
    return found


def _deployment(row: DeliveryRow, service: str, fixers: list[DeliveryRow]) -> Deployment:
    because = []
    if row.status == "rolled-back":
        because.append("rolled back")
    if fixers:
        because.append("fixed by a later record")
    if row.incidents:
        because.append("incident")
    lead = None
    if row.committed_at is not None and row.shipped_at is not None:
        lead = (row.shipped_at - row.committed_at).total_seconds() / HOUR
    return Deployment(
        row,
        service,
        row.date.isoformat()[:7],
        tuple(because),
        tuple(sorted({fixer.id for fixer in fixers})),
        lead,
        _time_to_restore(row, fixers) if because else None,
    )


def _time_to_restore(row: DeliveryRow, fixers: list[DeliveryRow]) -> float | None:
    resolved = [incident.resolved_at for incident in row.incidents]
    if row.incidents and all(moment is not None for moment in resolved):
        opened = min(incident.opened_at for incident in row.incidents)
        return (max(m for m in resolved if m is not None) - opened).total_seconds() / HOUR
    fixed_at = [fixer.shipped_at for fixer in fixers if fixer.shipped_at is not None]
    if fixed_at and row.shipped_at is not None:
        return (min(fixed_at) - row.shipped_at).total_seconds() / HOUR
    return None


def _timestamp(row: DeliveryRow) -> float:
    return row.shipped_at.timestamp() if row.shipped_at else float("-inf")


def monthly_figures(
    found: list[Deployment], *, whole: bool = True, per_service: bool = True
) -> list[MonthFigures]:
    """The figures of the whole runbook (service None) then of each service by name, each
    month by month from its first deployment to its last."""
    series: dict[str | None, list[Deployment]] = {}
    if whole:
        series[None] = found
    if per_service:
        for deployment in found:
            series.setdefault(deployment.service, []).append(deployment)
    if not found:
        return []
    every_month = months_between(found[0].month, max(d.month for d in found))
    position = {month: at for at, month in enumerate(every_month)}
    figures = []
    for service in sorted(series, key=lambda name: (name is not None, (name or "").casefold())):
        by_month: dict[str, list[Deployment]] = defaultdict(list)
        for deployment in series[service]:
            by_month[deployment.month].append(deployment)
        first, last = position[min(by_month)], position[max(by_month)]
        figures += [
            _figures(service, month, by_month[month])
            if month in by_month
            else MonthFigures(service, month, 0, 0, None, None, None, 0, 0)
            for month in every_month[first : last + 1]
        ]
    return figures


def months_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from `first` to `last`, both included."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while (text := f"{year:04d}-{month:02d}") <= last:
        months.append(text)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _figures(service: str | None, month: str, found: list[Deployment]) -> MonthFigures:
    failed = [d for d in found if d.failed_because]
    leads = [d.lead_time_hours for d in found if d.lead_time_hours is not None]
    restores = [d.time_to_restore_hours for d in failed if d.time_to_restore_hours is not None]
    return MonthFigures(
        service,
        month,
        len(found),
        len(failed),
        round(len(failed) / len(found), 2) if found else None,
        round(statistics.median(leads), 2) if leads else None,
        round(statistics.median(restores), 2) if restores else None,
        len(found) - len(leads),
        len(failed) - len(restores),
    )


# DORA's performance levels. The 2023 and 2024 State of DevOps reports describe each level by
# the typical value of its cluster; these are the boundaries between them, per key.
@dataclass(frozen=True)
class Band:
    """One key's levels and what each takes, best first (the delivery page shows them)."""

    key: str
    title: str
    explained: tuple[tuple[str, str], ...]  # (level, what it takes), best first


BANDS = (
    Band(
        "deployments",
        "Deployments",
        (
            ("elite", "on demand: at least one a day on average"),
            ("high", "between once a week and once a day"),
            ("medium", "between once a month and once a week"),
            ("low", "none that month"),
        ),
    ),
    Band(
        "lead_time_hours",
        "Lead time",
        (
            ("elite", "less than one day"),
            ("high", "between one day and one week"),
            ("medium", "between one week and one month"),
            ("low", "more than one month"),
        ),
    ),
    Band(
        "change_failure_rate",
        "Change failure rate",
        (
            ("elite", "5 % or less"),
            ("high", "10 % or less"),
            ("medium", "15 % or less"),
            ("low", "more than 15 %"),
        ),
    ),
    Band(
        "time_to_restore_hours",
        "Time to restore",
        (
            ("elite", "less than one hour"),
            ("high", "less than one day"),
            ("medium", "between one day and one week"),
            ("low", "more than one week"),
        ),
    ),
)
_DAY, _WEEK, _MONTH = 24.0, 24.0 * 7, 24.0 * 30


def levels(figures: MonthFigures) -> dict[str, str | None]:
    """The DORA level of each key of one month (None where the figure is undefined)."""
    days = calendar.monthrange(int(figures.month[:4]), int(figures.month[5:7]))[1]
    # Fewer deployments is worse: the level of the negated count under negated limits.
    return {
        "deployments": _level(-figures.deployments, (-days, -4, -1), equal=True),
        "lead_time_hours": _level(figures.lead_time_hours, (_DAY, _WEEK, _MONTH)),
        "change_failure_rate": _level(figures.change_failure_rate, (0.05, 0.10, 0.15), equal=True),
        "time_to_restore_hours": _level(figures.time_to_restore_hours, (1.0, _DAY, _WEEK)),
    }


def _level(value: float | None, limits: tuple[float, float, float], *, equal: bool = False) -> Any:
    """elite, high or medium for the first limit `value` is under (or at, when `equal`)."""
    if value is None:
        return None
    for name, limit in zip(("elite", "high", "medium"), limits, strict=True):
        if value < limit or (equal and value == limit):
            return name
    return "low"
