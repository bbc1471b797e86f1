"""`runbook dora`'s output, written series by series with its quiet months joined, against the
plain definition: every month's MonthFigures from the first deployment to the last, encoded by
json.dumps and aligned cell by cell, on runbooks hypothesis makes."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.authoring.dora import COLUMNS, format_json, format_table
from generator.delivery import DeliveryRow, IncidentTimes
from generator.render.dora import (
    MonthFigures,
    deployments,
    month_figures,
    monthly_series,
    months_between,
    quiet_month,
)

UTC = dt.timezone.utc
moments = st.datetimes(dt.datetime(1998, 1, 1), dt.datetime(2003, 12, 31), timezones=st.just(UTC))


@st.composite
def runbooks(draw: st.DrawFn) -> list[DeliveryRow]:
    count = draw(st.integers(0, 30))
    rows = []
    for at in range(count):
        shipped = draw(st.none() | moments)
        day = (
            shipped.date()
            if shipped
            else draw(st.dates(dt.date(1998, 1, 1), dt.date(2003, 12, 31)))
        )
        incidents = draw(st.lists(st.tuples(moments, st.none() | moments), max_size=2))
        fixes = draw(st.lists(st.integers(0, max(count - 1, 0)), max_size=2))
        rows.append(
            DeliveryRow(
                f"r{at}",
                draw(st.sampled_from(["checkout", "Café", "café", 'se"arch', "b"])),
                day,
                draw(st.sampled_from(["production", "Production", "staging"])),
                draw(st.sampled_from(["shipped", "planned", "rolled-back"])),
                shipped,
                draw(st.none() | moments),
                tuple(IncidentTimes(*times) for times in incidents),
                tuple((f"r{fixed}", False) for fixed in fixes),
            )
        )
    return rows


def every_row(found: list) -> list[MonthFigures]:
    """The rows as they were made before series: every month of each series expanded."""
    if not found:
        return []
    series: dict[str | None, list] = {None: found}
    for deployment in found:
        series.setdefault(deployment.service, []).append(deployment)
    rows = []
    for service in sorted(series, key=lambda name: (name is not None, (name or "").casefold())):
        by_month: dict[str, list] = {}
        for deployment in series[service]:
            by_month.setdefault(deployment.month, []).append(deployment)
        for month in months_between(min(by_month), max(by_month)):
            rows.append(
                month_figures(service, month, by_month[month])
                if month in by_month
                else quiet_month(service, month)
            )
    return rows


def table(rows: list[MonthFigures]) -> str:
    """The table as it was printed from every row."""

    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    cells = [tuple(name for name, _ in COLUMNS)] + [
        (f.service if f.service is not None else "(all)", f.month, str(f.deployments),
         str(f.failed), number(f.change_failure_rate), number(f.lead_time_hours),
         number(f.time_to_restore_hours), str(f.missing_lead_time),
         str(f.missing_time_to_restore))
        for f in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, (_, right) in zip(row, widths, COLUMNS, strict=True)
        ).rstrip()
        for row in cells
    )


@settings(max_examples=300, deadline=None)
@given(runbooks())
def test_the_written_output_is_every_row_encoded_and_aligned(rows: list[DeliveryRow]) -> None:
    found = deployments(rows)
    expected = every_row(found)
    assert [f for one in monthly_series(found) for f in one.rows()] == expected
    series = monthly_series(found)
    assert "".join(format_json(series)) == json.dumps(
        [f._asdict() for f in expected], ensure_ascii=False
    )
    if expected:
        assert "".join(format_table(series)) == table(expected)
