"""`runbook dora`: DORA's four keys per service and month in the terminal or as JSON.

It reads no whole record: the record store keeps each record's delivery row (store/listing.py
delivery_rows), so a run after another `runbook` command reads only the files that changed.
Invalid records are left out, as `runbook list` does.
"""

from __future__ import annotations

import json

from ..config import RunbookOptions
from ..delivery import DeliveryRow
from ..names import ShownNames
from ..render.dora import MonthFigures, deployments, monthly_figures
from .listing import Window, matches_name

COLUMNS = (
    ("SERVICE", 0),
    ("MONTH", 0),
    ("DEPLOYS", 1),
    ("FAILED", 1),
    ("CFR", 1),
    ("LEAD TIME H", 1),
    ("RESTORE H", 1),
    ("NO LEAD TIME", 1),
    ("NO RESTORE", 1),
)


def dora_figures(
    rows: list[DeliveryRow], options: RunbookOptions, service: str | None, window: Window
) -> list[MonthFigures]:
    """The figures `runbook dora` prints: per service (those matching `service`, any part of
    its name, as `runbook list` matches) and, without --service, for the whole runbook;
    deployments in the window only, their failures seen through every record."""
    names = ShownNames(options.aliases)
    for row in rows:
        names.add("service", row.service, row.date, row.id)

    def in_scope(row: DeliveryRow) -> bool:
        return window.holds_at(row.date, row.shipped_at) and (
            service is None or matches_name("service", row.service, service, options.aliases)
        )

    found = deployments(rows, lambda name: names.shown("service", name), in_scope)
    return monthly_figures(found, whole=service is None)


def format_json(figures: list[MonthFigures]) -> str:
    """A JSON array of DESIGN.md's objects, on one line: one call of json's C encoder (a
    runbook of years and hundreds of services has hundreds of thousands of them)."""
    return json.dumps([f._asdict() for f in figures], ensure_ascii=False)


def format_table(figures: list[MonthFigures]) -> str:
    """Aligned columns; the whole runbook is `(all)`, an undefined figure `-`."""
    rows = [tuple(name for name, _ in COLUMNS)] + [
        (
            f.service if f.service is not None else "(all)",
            f.month,
            str(f.deployments),
            str(f.failed),
            _number(f.change_failure_rate),
            _number(f.lead_time_hours),
            _number(f.time_to_restore_hours),
            str(f.missing_lead_time),
            str(f.missing_time_to_restore),
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, (_, right) in zip(row, widths, COLUMNS, strict=True)
        ).rstrip()
        for row in rows
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
