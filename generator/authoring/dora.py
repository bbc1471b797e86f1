"""`runbook dora`: DORA's four keys per service and month in the terminal or as JSON.

It reads no whole record: the record store keeps each record's delivery row (store/listing.py
delivery_rows), so a run after another `runbook` command reads only the files that changed.
Invalid records are left out, as `runbook list` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from ..check.gc_pause import collector_paused
from ..config import RunbookOptions
from ..delivery import DeliveryRow
from ..names import ShownNames
from ..render.dora import (
    MonthFigures,
    Series,
    deployments,
    month_figures,
    month_number,
    monthly_series,
    quiet_month,
)
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
) -> list[Series]:
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

    with collector_paused():  # a deployment per row, none in a cycle
        found = deployments(rows, lambda name: names.shown("service", name), in_scope)
        return monthly_series(found, whole=service is None)


# The output is written series by series, and the quiet months of a series (nearly all of a
# long runbook's rows) are written by joining their month texts between the text the rows
# share: no row object, no call per quiet month.
_QUIET = quiet_month(None, "\0" * 7)  # a quiet row, its month a mark as wide as a month


def format_json(series: list[Series]) -> Iterator[str]:
    """json.dumps([f._asdict() for f in every row], ensure_ascii=False), in pieces: DESIGN.md's
    objects on one line (json writes a float as its repr, an int as its digits)."""
    template = "{" + ", ".join(f'"{key}": %s' for key in MonthFigures._fields) + "}"

    def row_text(name: str, f: MonthFigures) -> str:
        return template % (name, f'"{f.month}"', *["null" if v is None else repr(v) for v in f[2:]])

    yield "["
    separator = ""
    for one in series:
        name = json.dumps(one.service, ensure_ascii=False)
        rows = ((f.month, row_text(name, f)) for f in _deployed_rows(one))
        yield separator + _series_text(one, rows, row_text(name, _QUIET), ", ")
        separator = ", "
    yield "]"


def format_table(series: list[Series]) -> Iterator[str]:
    """Aligned columns; the whole runbook is `(all)`, an undefined figure `-`: the header,
    then a line per row."""
    shown = [("(all)" if one.service is None else one.service, one) for one in series]
    with collector_paused():  # a tuple of cells per month with deployments, none in a cycle
        cells = [[_cells(name, f) for f in _deployed_rows(one)] for name, one in shown]
    widths = [len(title) for title, _ in COLUMNS]
    for row in [_cells(name, _QUIET) for name, _ in shown] + [c for rows in cells for c in rows]:
        for at, cell in enumerate(row):
            widths[at] = max(widths[at], len(cell))

    def line(row: Iterable[str]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, (_, right) in zip(row, widths, COLUMNS, strict=True)
        ).rstrip()

    yield line(title for title, _ in COLUMNS)
    for (name, one), rows in zip(shown, cells, strict=True):
        texts = ((row[1], line(row)) for row in rows)
        yield "\n" + _series_text(one, texts, line(_cells(name, _QUIET)), "\n")


def _series_text(
    one: Series, rows: Iterable[tuple[str, str]], quiet_text: str, separator: str
) -> str:
    """The texts of every row of `one`, oldest first, joined by `separator`: `rows` holds
    (month, text) of each month with deployments, oldest first; a quiet month's text is
    `quiet_text` with the month in place of its mark."""
    head, tail = quiet_text.split(_QUIET.month)
    between = tail + separator + head
    months, first = one.months, month_number(one.months[0])
    pieces, start = [], 0
    for month, text in rows:
        at = month_number(month) - first
        if at > start:
            pieces.append(head + between.join(months[start:at]) + tail)
        pieces.append(text)
        start = at + 1
    return separator.join(pieces)


def _deployed_rows(one: Series) -> Iterator[MonthFigures]:
    """The figures of the months of `one` with deployments, oldest first."""
    return (month_figures(one.service, month, found) for month, found in one.deployed.items())


def _cells(name: str, f: MonthFigures) -> tuple[str, ...]:
    return (
        name,
        f.month,
        str(f.deployments),
        str(f.failed),
        _number(f.change_failure_rate),
        _number(f.lead_time_hours),
        _number(f.time_to_restore_hours),
        str(f.missing_lead_time),
        str(f.missing_time_to_restore),
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
