"""`runbook dora`: DORA's four keys per service and month in the terminal or as JSON.

It reads no whole record: validation's workers send back each record's delivery row with its
summary, and `runbook validate`'s cache keeps them, so a run after another `runbook` command
reads only the files that changed. Invalid records are left out, as `runbook list` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..check.validate import validate_runbook
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


def delivery_rows(
    options: RunbookOptions, cache_file: Path | None
) -> tuple[list[DeliveryRow], int]:
    """The rows of the runbook's valid records, and how many errors kept others out."""
    report = validate_runbook(options, keep_records=False, cache_file=cache_file)
    invalid = {d.path for d in report.diagnostics if d.severity == "error"}
    rows = [s.delivery for s in report.summaries if s.delivery and s.path not in invalid]
    return rows, sum(d.severity == "error" for d in report.diagnostics)


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
