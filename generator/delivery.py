"""The little of a record that delivery performance (DORA's keys) is counted from: one row per
record, made in one place from the validated record.

Rows are small and plain (named tuples of dates, times and ids), so that `runbook validate`'s
workers send them back with each record's summary and its cache keeps them: `runbook dora`
counts from the cache without reading whole records, the site counts from the records it
renders, and a store of records can keep the rows as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

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
