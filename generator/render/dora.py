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
import functools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..delivery import DeliveryRow

HOUR = 3600.0


class Deployment(NamedTuple):
    """One deployment and what DORA counts of it (a named tuple: a runbook of 100,000 records
    makes as many)."""

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
    shown_service = functools.cache(service_of)  # asked once per spelling
    found = [
        _deployment(row, shown_service(row.service), fixers.get(row.id, []))
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


class Series(NamedTuple):
    """One service's figures (service None: the whole runbook's), month by month from its
    first deployment to its last. Only the months with deployments are held; a quiet month's
    row is made when it is read, and each month's figures when they are read (a runbook of
    two centuries and 2,000 services has millions of rows, nearly all of them quiet)."""

    service: str | None
    months: list[str]  # every month from the first deployment to the last, oldest first
    deployed: dict[str, list[Deployment]]  # the months with deployments, oldest first

    def rows(self, since: str | None = None) -> Iterator[MonthFigures]:
        """Each month's figures, oldest first (from the month `since` on, when given)."""
        start = 0 if since is None else max(0, month_number(since) - month_number(self.months[0]))
        for month in self.months[start:]:
            found = self.deployed.get(month)
            yield (
                quiet_month(self.service, month)
                if found is None
                else month_figures(self.service, month, found)
            )


def monthly_series(
    found: list[Deployment], *, whole: bool = True, per_service: bool = True
) -> list[Series]:
    """The series of the whole runbook (service None) then of each service by name, of the
    deployments `found` (oldest first, as `deployments` gives them)."""
    if not found:
        return []
    by_service: dict[str | None, dict[str, list[Deployment]]] = {}
    if whole:
        by_service[None] = whole_months = {}
        for deployment in found:
            whole_months.setdefault(deployment.month, []).append(deployment)
    if per_service:
        for deployment in found:
            months = by_service.get(deployment.service)
            if months is None:
                by_service[deployment.service] = months = {}
            months.setdefault(deployment.month, []).append(deployment)
    every_month = months_between(found[0].month, max(d.month for d in found))
    first = month_number(every_month[0])
    series = []
    for service in sorted(by_service, key=lambda name: (name is not None, (name or "").casefold())):
        deployed = by_service[service]
        months = list(deployed)  # oldest first, as `found` is
        start, stop = month_number(months[0]) - first, month_number(months[-1]) - first
        series.append(Series(service, every_month[start : stop + 1], deployed))
    return series


def quiet_month(service: str | None, month: str) -> MonthFigures:
    """The figures of a month without deployments: no rate, no median."""
    return MonthFigures(service, month, 0, 0, None, None, None, 0, 0)


def month_number(month: str) -> int:
    """YYYY-MM as a count of months, so that months one apart are numbers one apart."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_text(number: int) -> str:
    """The YYYY-MM of a `month_number`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from `first` to `last`, both included."""
    return [month_text(number) for number in range(month_number(first), month_number(last) + 1)]


def month_figures(service: str | None, month: str, found: list[Deployment]) -> MonthFigures:
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
