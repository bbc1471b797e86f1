"""What the cross-record rules need of each valid record, small enough to send back from a
worker process for every record (`runbook validate` keeps no whole records): a named tuple,
which pickles as cheaply as a tuple."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ..delivery import DeliveryRow
from ..names import NameKind


class RecordSummary(NamedTuple):
    """The names and checklist items one valid record uses, and where it is."""

    path: str
    record_id: str
    date: dt.date
    service: str
    owner: str
    tags: tuple[str, ...]
    # (checklist id, item id) pairs the record addresses that its checklist does not have.
    unknown_items: tuple[tuple[str, str], ...] = ()
    checklists: tuple[str, ...] = ()
    # What delivery performance counts (and the fixes rules read); and for a rolled-back
    # record whose `rollback.undone_by` is empty, where its status is (line, column), found
    # where the file was read: the warning when no later record fixes it needs no re-reading.
    delivery: DeliveryRow | None = None
    unexplained_at: tuple[int, int] | None = None

    def named(self) -> list[tuple[NameKind, tuple, str]]:
        """(kind, location in the file, spelling) of every name in the record."""
        return [
            ("service", ("service",), self.service),
            ("owner", ("owner",), self.owner),
            *(("tag", ("tags", i), tag) for i, tag in enumerate(self.tags)),
        ]
