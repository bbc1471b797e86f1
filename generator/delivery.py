"""The little of a record that delivery performance (DORA's keys) is counted from: one row per
record, made in one place from the validated record.

Rows are small and plain (named tuples of dates, times and ids), so that validation's workers
send them back with each record's summary and the record store keeps them (as JSON text:
`encoded`, `decoded`): `runbook dora` and the fixes rules read them without reading whole
records, and the site counts from the records it renders.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .models import ChangeRecord


class IncidentTimes(NamedTuple):
    """When one incident the change caused opened and (if it has) resolved."""

    opened_at: dt.datetime
    resolved_at: dt.datetime | None


class DeliveryRow(NamedTuple):
    """One record as DORA's keys see it."""

    id: str
    service: str
    date: dt.date
    environment: str
    status: str
    shipped_at: dt.datetime | None
    committed_at: dt.datetime | None
    incidents: tuple[IncidentTimes, ...]
    # (id, other_service) of each entry of `fixes`.
    fixes: tuple[tuple[str, bool], ...]


def delivery_row(record_id: str, record: ChangeRecord) -> DeliveryRow:
    """The row of one valid record."""
    return DeliveryRow(
        record_id,
        record.service,
        record.date,
        record.environment,
        record.status,
        record.shipped_at,
        record.committed_at,
        tuple(IncidentTimes(i.opened_at, i.resolved_at) for i in record.incidents),
        tuple((fix.id, fix.other_service) for fix in record.fixes),
    )


def encoded(row: DeliveryRow) -> str:
    """The row as JSON text, each time in ISO 8601 with its own offset."""
    return json.dumps(
        [
            row.id,
            row.service,
            row.date.isoformat(),
            row.environment,
            row.status,
            _moment(row.shipped_at),
            _moment(row.committed_at),
            [[_moment(i.opened_at), _moment(i.resolved_at)] for i in row.incidents],
            [list(fix) for fix in row.fixes],
        ]
    )  # ASCII: an id from a file name that is not UTF-8 round-trips as its escapes


def decoded(text: str) -> DeliveryRow:
    """The row `encoded` wrote."""
    record_id, service, date, environment, status, shipped, committed, incidents, fixes = (
        json.loads(text)
    )
    return DeliveryRow(
        record_id,
        service,
        dt.date.fromisoformat(date),
        environment,
        status,
        _parsed(shipped),
        _parsed(committed),
        tuple(IncidentTimes(_parsed(opened), _parsed(resolved)) for opened, resolved in incidents),
        tuple((fixed, other) for fixed, other in fixes),
    )


def _moment(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parsed(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)
