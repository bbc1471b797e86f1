"""What the cross-record rules need of each valid record, small enough to send back from a
worker process for every record (`runbook validate` keeps no whole records): a named tuple,
which pickles as cheaply as a tuple."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

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
    # For the fixes rules: when it shipped, its status, the (id, other_service) of each entry
    # of `fixes`, and whether `rollback.undone_by` says what undid it.
    shipped_at: dt.datetime | None = None
    status: str = "shipped"
    fixes: tuple[tuple[str, bool], ...] = ()
    undone: bool = False

    def named(self) -> list[tuple[NameKind, tuple, str]]:
        """(kind, location in the file, spelling) of every name in the record."""
        return [
            ("service", ("service",), self.service),
            ("owner", ("owner",), self.owner),
            *(("tag", ("tags", i), tag) for i, tag in enumerate(self.tags)),
        ]
