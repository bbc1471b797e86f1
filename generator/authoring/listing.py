"""`runbook list`: query records from the terminal, newest first.

Filters are case-insensitive substrings, so a half-remembered name still matches (`--file
nginx` finds `deploy/nginx/edge.conf` and every file under `deploy/nginx/`). A time window
(`--since`, `--until`) takes a date or a timestamp with its offset: "what shipped in the two
hours before the pager went off" is `--since 2026-11-20T12:05+01:00 --until 2026-11-20T14:05+01:00`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from ..models import WHEN_FORMATS, SourcedRecord, timestamp_with_offset
from ..names import Aliases, NameKind, name_key
from ..render.exports import record_export


def parse_when(text: str) -> dt.date | dt.datetime:
    """A window bound: a date, or a timestamp with its offset. ValueError says what is wrong."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else timestamp_with_offset(text)
    except PydanticCustomError as exc:
        raise ValueError(f"{text!r} {exc.message()}") from exc
    except ValueError as exc:
        raise ValueError(f"{text!r} is not {WHEN_FORMATS}") from exc


@dataclass(frozen=True)
class Window:
    """A time window. A timestamp bound compares with a record's `shipped_at`; a record with
    a date only is in the window when its day is (its time is unknown), as is every record
    against a date bound."""

    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None

    def holds(self, entry: SourcedRecord) -> bool:
        record = entry.record
        return _after(self.since, record.date, record.shipped_at) and _after(
            self.until, record.date, record.shipped_at, before=True
        )


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


def format_table(records: list[SourcedRecord]) -> str:
    """Aligned columns: when, id, service, status, owner, title."""
    rows = [("SHIPPED", "ID", "SERVICE", "STATUS", "OWNER", "TITLE")] + [
        (
            entry.record.shipped_text(),
            entry.id,
            entry.record.service,
            entry.record.status,
            entry.record.owner,
            entry.record.title,
        )
        for entry in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
        + "  "
        + row[5]
        for row in rows
    )


def format_json(records: list[SourcedRecord]) -> str:
    """The same objects as the site's records.json."""
    return json.dumps([record_export(entry) for entry in records], indent=1, ensure_ascii=False)
