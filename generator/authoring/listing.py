"""`runbook list`: query records from the terminal, newest first.

Filters are case-insensitive substrings, so a half-remembered name still matches (`--file
nginx` finds `deploy/nginx/edge.conf` and every file under `deploy/nginx/`). A time window
(`--since`, `--until`) takes a date, a timestamp with its offset or without one (read in the
reader's zone, and said so), or a time relative to now: "what shipped in the two hours before
the pager went off" is `--since 2026-11-20T12:05+01:00 --until 2026-11-20T14:05+01:00`, and
"since the pager went off 90 minutes ago" is `--since 90m`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ..names import Aliases, NameKind, name_key
from . import when
from .when import LocalZone

if TYPE_CHECKING:
    from ..models import SourcedRecord


@dataclass(frozen=True)
class Window:
    """A time window. A timestamp bound compares with a record's `shipped_at`; a record with
    a date only is in the window when its day is (its time is unknown), as is every record
    against a date bound."""

    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None

    def holds(self, entry: SourcedRecord) -> bool:
        return self.holds_at(entry.record.date, entry.record.shipped_at)

    def holds_at(self, day: dt.date, moment: dt.datetime | None) -> bool:
        """Whether a record of this day (shipped at this moment, if known) is in the window."""
        return _after(self.since, day, moment) and _after(self.until, day, moment, before=True)


def _after(
    bound: dt.date | dt.datetime | None,
    day: dt.date,
    moment: dt.datetime | None,
    *,
    before: bool = False,
) -> bool:
    """Whether a record (its day, its moment if known) is on the right side of `bound`."""
    if bound is None:
        return True
    if isinstance(bound, dt.datetime):
        if moment is not None:
            return moment <= bound if before else moment >= bound
        bound = bound.date()  # the day in the bound's own offset
    return day <= bound if before else day >= bound


def matches_file(files_touched: Iterable[str], query: str) -> bool:
    """Any part of a path: a file, a folder (`deploy/nginx/`), a name, any case."""
    wanted = query.casefold()
    return any(wanted in path.casefold() for path in files_touched)


def matches_name(kind: NameKind, word: str, query: str, aliases: Aliases) -> bool:
    """A name filter matches every spelling: the query's key within the word's key, or
    within the key of the name an alias shows it under."""
    wanted = name_key(query)
    return wanted in name_key(word) or wanted in aliases.key(kind, word)


@dataclass(frozen=True)
class Filters:
    """What `runbook list` was asked for; None means any."""

    service: str | None = None
    owner: str | None = None
    file: str | None = None
    tag: str | None = None
    status: str | None = None
    window: Window = Window()

    def match(self, entry: SourcedRecord, aliases: Aliases) -> bool:
        record = entry.record
        return (
            (self.service is None or matches_name("service", record.service, self.service, aliases))
            and (self.owner is None or matches_name("owner", record.owner, self.owner, aliases))
            and (self.file is None or matches_file(record.files_touched, self.file))
            and (
                self.tag is None
                or any(matches_name("tag", tag, self.tag, aliases) for tag in record.tags)
            )
            and (self.status is None or self.status.casefold() in record.status)
            and self.window.holds(entry)
        )


def select_records(
    records: Iterable[SourcedRecord], filters: Filters, aliases: Aliases | None = None
) -> list[SourcedRecord]:
    """Records matching every given filter, newest first (the runbook's order)."""
    aliases = aliases or Aliases()
    return [entry for entry in records if filters.match(entry, aliases)]


class ListedRow(NamedTuple):
    """What the table shows of a record: made from the record (listed_row), or read from the
    record store's columns (store/listing.py), which keep these fields to filter and sort on."""

    id: str
    date: dt.date
    shipped_at: dt.datetime | None
    service: str
    status: str
    owner: str
    title: str


def listed_row(entry: SourcedRecord) -> ListedRow:
    record = entry.record
    return ListedRow(
        entry.id,
        record.date,
        record.shipped_at,
        record.service,
        record.status,
        record.owner,
        record.title,
    )


def format_table(rows: list[ListedRow], here: LocalZone) -> str:
    """A line naming the zone the times are in (and its offset), then aligned columns: when,
    id, service, status, owner, title. Times are read in one zone, so rows compare at a
    glance; a record with its date only shows that date."""
    shown = [_shipped_here(row, here) for row in rows]
    offsets = sorted({offset for _, offset in shown if offset}, key=_offset_minutes)
    lines = [("SHIPPED", "ID", "SERVICE", "STATUS", "OWNER", "TITLE")] + [
        (when, row.id, row.service, row.status, row.owner, row.title)
        for row, (when, _) in zip(rows, shown, strict=True)
    ]
    widths = [max(len(line[column]) for line in lines) for column in range(5)]
    offsets = offsets or [when.offset(here.convert(when.current_time()))]
    header = f"times in {here.name}"
    if here.name != "UTC":
        header += f" ({' or '.join(f'UTC{offset}' for offset in offsets)})"
    return "\n".join(
        [header]
        + [
            "  ".join(cell.ljust(width) for cell, width in zip(line[:5], widths, strict=True))
            + "  "
            + line[5]
            for line in lines
        ]
    )


def _shipped_here(row: ListedRow, here: LocalZone) -> tuple[str, str]:
    """`2026-11-20 14:05` in the reader's zone and its offset, or the record's date alone."""
    moment = row.shipped_at
    if moment is None:
        return row.date.isoformat(), ""
    local = here.convert(moment)
    return f"{local:%Y-%m-%d %H:%M}", when.offset(local)


def _offset_minutes(offset: str) -> int:
    sign = -1 if offset.startswith("-") else 1
    return sign * (int(offset[1:3]) * 60 + int(offset[4:6]))


def format_json(records: list[SourcedRecord]) -> str:
    """The same objects as the site's records.json."""
    from ..render.exports import record_export  # records.json's shape; the table needs none

    return json.dumps([record_export(entry) for entry in records], indent=1, ensure_ascii=False)
