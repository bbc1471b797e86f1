"""What the delivery page shows: DORA's four keys per month for the whole runbook and each
service, each figure's level, and the failed changes behind them (what caused each, what
fixed it), counted by render/dora.py from the records the site shows."""

from __future__ import annotations

from typing import Any

from ..delivery import delivery_row
from .dora import BANDS, Deployment, MonthFigures, deployments, levels, monthly_figures
from .index import RunbookIndex


def delivery_context(index: RunbookIndex) -> dict[str, Any]:
    """The page's context: only what it shows, so that the page is rebuilt only when a
    figure or a failed change changes (pages.render_site keys it by this)."""
    by_id = {entry.id: entry for entry in index.records}
    found = deployments(
        (delivery_row(entry.id, entry.record) for entry in index.records),
        lambda name: index.shown("service", name),
    )
    figures = monthly_figures(found)
    whole = [f for f in figures if f.service is None]
    services: dict[str, list[MonthFigures]] = {}
    for f in figures:
        if f.service is not None:
            services.setdefault(f.service, []).append(f)
    return {
        "whole": _newest_first(whole),
        "services": {name: _newest_first(rows) for name, rows in services.items()},
        "failed": _failed_by_month(found, by_id),
        "bands": BANDS,
    }


def _newest_first(figures: list[MonthFigures]) -> list[tuple[MonthFigures, dict[str, Any]]]:
    return [(f, levels(f)) for f in reversed(figures)]


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
