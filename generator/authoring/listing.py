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
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import PydanticCustomError

from ..models import WHEN_FORMATS, SourcedRecord, timestamp_with_offset
from ..names import Aliases, NameKind, name_key

UTC = dt.timezone.utc
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
_RELATIVE = re.compile(r"(?P<count>\d{1,6}) ?(?P<unit>[a-z]+)(?: ago)?")


def current_time() -> dt.datetime:
    """Now, from the real clock: relative bounds (`90m`, `yesterday`) are about the reader's
    present, not the records' (SOURCE_DATE_EPOCH does not apply). The one place tests replace."""
    return dt.datetime.now(UTC)


@dataclass(frozen=True)
class LocalZone:
    """The reader's time zone: the TZ environment variable, else the system's. `zone` is None
    when it has no IANA name Python can read (then the C library converts, as `date` does)."""

    name: str
    zone: dt.tzinfo | None

    @classmethod
    def of_this_system(cls) -> LocalZone:
        key = os.environ.get("TZ")
        if key is None:
            try:  # /etc/localtime -> /usr/share/zoneinfo/Europe/Berlin
                key = os.readlink("/etc/localtime").partition("zoneinfo/")[2] or None
            except OSError:
                key = None
        if key:
            try:
                return cls(key.removeprefix(":"), ZoneInfo(key.removeprefix(":")))
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return cls(time.tzname[0] or "the local zone", None)

    def convert(self, moment: dt.datetime) -> dt.datetime:
        """An aware time as it reads here."""
        return moment.astimezone(self.zone)

    def localize(self, wall: dt.datetime) -> dt.datetime:
        """A wall-clock time here, with its offset. ValueError when the clocks skipped it; of
        a time that happens twice (clocks going back), the first."""
        if self.zone is None:
            return wall.astimezone()
        first = wall.replace(tzinfo=self.zone, fold=0)
        if first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != wall:
            raise ValueError(
                f"does not exist in {self.name}: the clocks skipped it; give its offset"
            )
        return first

    def repeats(self, wall: dt.datetime) -> bool:
        """Whether a wall-clock time happens twice here (the hour the clocks go back)."""
        if self.zone is None:
            return False
        first, second = (wall.replace(tzinfo=self.zone, fold=fold) for fold in (0, 1))
        return first.utcoffset() != second.utcoffset()


@dataclass(frozen=True)
class WindowBound:
    """A parsed WHEN: the bound, and what the reader should be told about reading it."""

    value: dt.date | dt.datetime
    note: str = ""


def parse_when(
    text: str, *, now: dt.datetime | None = None, here: LocalZone | None = None
) -> WindowBound:
    """A window bound: a date; a timestamp with its offset, or without (read in the local zone,
    and a note says so); or relative to now: `90m`, `2h`, `3d`, `1w`, `2 days ago`,
    `yesterday`, `today`, `now`. Days and weeks are calendar days here (`1d` at 12:00 is 12:00
    yesterday, 23 hours back on the day clocks go forward). ValueError says what is wrong."""
    text = " ".join(text.split())
    here = here or LocalZone.of_this_system()
    words = text.lower()
    if words in ("now", "today", "yesterday") or _RELATIVE.fullmatch(words):
        return WindowBound(_relative(words, now or current_time(), here))
    if _NAIVE.fullmatch(text):
        try:
            wall = dt.datetime.fromisoformat(text.replace("t", "T").replace(" ", "T"))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a real date and time") from exc
        try:
            moment = here.localize(wall)
        except ValueError as exc:
            raise ValueError(f"{text!r} {exc}") from exc
        note = f"{text} read in {here.name} (UTC{_offset(moment)})"
        if here.repeats(wall):
            note += "; that time happens twice there (clocks go back): the first is read"
        return WindowBound(moment, note)
    try:
        return WindowBound(
            dt.date.fromisoformat(text) if len(text) == 10 else timestamp_with_offset(text)
        )
    except PydanticCustomError as exc:
        if not text[:4].isdigit():  # no attempt at a timestamp: say every form WHEN takes
            raise ValueError(f"{text!r} is not {WHEN_FORMATS}") from exc
        message = exc.message()
        raise ValueError(message if text in message else f"{text!r} {message}") from exc
    except ValueError as exc:
        raise ValueError(f"{text!r} is not {WHEN_FORMATS}") from exc


def _relative(words: str, now: dt.datetime, here: LocalZone) -> dt.date | dt.datetime:
    """`now`, a day (`today`, `yesterday`: whole days here) or a time before now."""
    local_now = here.convert(now)
    if words == "now":
        return local_now
    if words in ("today", "yesterday"):
        return local_now.date() - dt.timedelta(days=words == "yesterday")
    match = _RELATIVE.fullmatch(words)
    assert match is not None
    unit = _UNITS.get(match["unit"])
    if unit is None:
        raise ValueError(f"{words!r}: {match['unit']!r} is not a unit; use m, h, d or w")
    back = dt.timedelta(**{unit: int(match["count"])})
    if unit in ("minutes", "hours"):  # elapsed time
        return here.convert(now - back)
    # calendar days: the same time of day, read again in the zone on that day
    wall = local_now.replace(tzinfo=None) - back
    try:
        return here.localize(wall)
    except ValueError:  # that time of day was skipped there: the instant as many hours back
        return here.convert(now - back)


def _offset(moment: dt.datetime) -> str:
    """`+01:00`, `-05:00`, `+05:30`."""
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:5]}"


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


def format_table(records: list[SourcedRecord], here: LocalZone) -> str:
    """A line naming the zone the times are in (and its offset), then aligned columns: when,
    id, service, status, owner, title. Times are read in one zone, so rows compare at a
    glance; a record with its date only shows that date."""
    shown = [_shipped_here(entry, here) for entry in records]
    offsets = sorted({offset for _, offset in shown if offset}, key=_offset_minutes)
    rows = [("SHIPPED", "ID", "SERVICE", "STATUS", "OWNER", "TITLE")] + [
        (
            when,
            entry.id,
            entry.record.service,
            entry.record.status,
            entry.record.owner,
            entry.record.title,
        )
        for entry, (when, _) in zip(records, shown, strict=True)
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    offsets = offsets or [_offset(here.convert(current_time()))]
    header = f"times in {here.name}"
    if here.name != "UTC":
        header += f" ({' or '.join(f'UTC{offset}' for offset in offsets)})"
    return "\n".join(
        [header]
        + [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True))
            + "  "
            + row[5]
            for row in rows
        ]
    )


def _shipped_here(entry: SourcedRecord, here: LocalZone) -> tuple[str, str]:
    """`2026-11-20 14:05` in the reader's zone and its offset, or the record's date alone."""
    moment = entry.record.shipped_at
    if moment is None:
        return entry.record.date.isoformat(), ""
    local = here.convert(moment)
    return f"{local:%Y-%m-%d %H:%M}", _offset(local)


def _offset_minutes(offset: str) -> int:
    sign = -1 if offset.startswith("-") else 1
    return sign * (int(offset[1:3]) * 60 + int(offset[4:6]))


def format_json(records: list[SourcedRecord]) -> str:
    """The same objects as the site's records.json."""
    from ..render.exports import record_export  # records.json's shape; the table needs none

    return json.dumps([record_export(entry) for entry in records], indent=1, ensure_ascii=False)
