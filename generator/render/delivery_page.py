"""What the delivery page shows: DORA's four keys of the last SHOWN_MONTHS calendar months for
the whole runbook and each service deploying in them, each figure's level, and the failed
changes behind them (what caused each, what fixed it), counted by render/dora.py from the
records the site shows.

The page is bounded: however long the runbook's history, it shows those months (up to the
month of the newest deployment: dates come from records, never from the clock); older ones
are `runbook dora --until`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from markupsafe import Markup

from ..delivery import delivery_row
from .dora import (
    BANDS,
    Deployment,
    MonthFigures,
    Series,
    deployments,
    levels,
    month_number,
    month_text,
    monthly_series,
)
from .index import RunbookIndex

SHOWN_MONTHS = 12
# Each level as the page shows it, escaped once here rather than in every cell.
LEVEL_MARKS = {
    name: Markup(f' <span class="rb-level rb-level-{name}">{name}</span>')
    for name in ("elite", "high", "medium", "low")
}


class ShownMonth(NamedTuple):
    """One month's figures and the mark of each figure's level ("" where it has none)."""

    figures: MonthFigures
    marks: dict[str, Markup | str]


def delivery_context(index: RunbookIndex) -> dict[str, Any]:
    """The page's context: only what it shows, so that the page is rebuilt only when a
    figure or a failed change changes (pages.render_site keys it by this)."""
    found = deployments(
        (delivery_row(entry.id, entry.record) for entry in index.records),
        lambda name: index.shown("service", name),
    )
    context: dict[str, Any] = {
        "whole": [],
        "services": {},
        "quiet_services": [],
        "failed": [],
        "months": None,
        "older_until": None,
        "bands": BANDS,
        "levels": LEVEL_MARKS,
    }
    if not found:
        return context
    series = monthly_series(found)
    whole, services = series[0], series[1:]
    newest = whole.months[-1]
    since = max(month_text(month_number(newest) - SHOWN_MONTHS + 1), whole.months[0])
    by_id = {entry.id: entry for entry in index.records}
    context.update(
        whole=_newest_first(whole, since),
        services={
            one.service: _newest_first(one, since) for one in services if one.months[-1] >= since
        },
        quiet_services=[
            (one.service, one.months[-1]) for one in services if one.months[-1] < since
        ],
        failed=_failed_by_month([d for d in found if d.month >= since], by_id),
        months=(since, newest),
        older_until=_day_before(since) if whole.months[0] < since else None,
    )
    return context


def _newest_first(one: Series, since: str) -> list[ShownMonth]:
    return [
        ShownMonth(f, {key: LEVEL_MARKS[name] if name else "" for key, name in levels(f).items()})
        for f in reversed(list(one.rows(since)))
    ]


def _day_before(month: str) -> str:
    """The last day before `month` began, as `runbook dora --until` takes it."""
    return (dt.date(int(month[:4]), int(month[5:7]), 1) - dt.timedelta(days=1)).isoformat()


def _failed_by_month(found: list[Deployment], by_id: dict[str, Any]) -> list[tuple[str, list]]:
    """(month, [(its record, the deployment, the records that fixed it)]), newest first."""
    months: dict[str, list] = {}
    for deployment in reversed(found):
        if deployment.failed:
            months.setdefault(deployment.month, []).append(
                (
                    by_id[deployment.row.id],
                    deployment,
                    [by_id[i] for i in deployment.fixed_by if i in by_id],
                )
            )
    return list(months.items())
