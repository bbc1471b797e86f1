"""WHEN, the bound of a time window (`--since`, `--until` of `runbook list`, `dora`,
`annotate`, `notify`): a date, a timestamp with its offset or without one (read in the
reader's zone, and said so), or a time relative to now (`90m`, `3d`, `2 days ago`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc
WHEN_FORMATS = (
    "a date (2026-11-20), a date and time with its offset (2026-11-20T14:05Z) or without it "
    "(read in the local zone, TZ), or a time back from now: 90m, 2h, 3d, 1w, '2 days ago', "
    "yesterday, today, now"
)
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
        note = f"{text} read in {here.name} (UTC{offset(moment)})"
        if here.repeats(wall):
            note += "; that time happens twice there (clocks go back): the first is read"
        return WindowBound(moment, note)
    if len(text) == 10:
        try:
            return WindowBound(dt.date.fromisoformat(text))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not {WHEN_FORMATS}") from exc
    # A timestamp is read as a record's shipped_at is (the models are imported for it alone).
    from pydantic_core import PydanticCustomError

    from ..models import timestamp_with_offset

    try:
        return WindowBound(timestamp_with_offset(text))
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


def offset(moment: dt.datetime) -> str:
    """`+01:00`, `-05:00`, `+05:30`."""
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:5]}"
