"""The timeline: changes day by day, with their times, and "what changed in the 24 hours /
7 days before ..." for a time the reader enters.

The page itself lists the latest 7 days of the runbook (days of its records, never of the
clock, so builds stay deterministic): it opens at once whatever the size of the runbook.
Earlier windows are read by the page's script (templates/runbook-pages-main.js) from one small
JSON file per month (`timeline/YYYY-MM.json`), so a window loads one or two months, never
every record.

Services and owners are shown, and filtered, under their shown names (names.ShownNames), as
on their own pages; every list is in a total order, so the page and its JSON are the same
bytes whatever Python's hash seed.

Times are shown in one zone, said once above the list: the page is written in UTC (a build
cannot know its reader's zone), and its script rewrites the times and days into the reader's.
Days are written as the page writes every day: `Fri 20 Nov 2026`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..models import ChangeRecord, SourcedRecord
from .index import RunbookIndex
from .links import RECORD_PAGES, site_path

LATEST_DAYS = 7
AT_LEAST = 10  # changes listed when the latest days hold fewer (a quiet week says little)
MONTHS_FOLDER = "timeline"


def day_text(date: dt.date) -> str:
    """`Fri 20 Nov 2026`: the one way the timeline writes a day (its script too)."""
    return f"{date:%a} {date.day} {date:%b %Y}"


def utc_day(entry: SourcedRecord) -> dt.date:
    """The UTC day a change shipped on, or its record's date when its time is not known."""
    shipped = entry.record.shipped_at
    return entry.record.date if shipped is None else shipped.astimezone(dt.timezone.utc).date()


def utc_time_text(entry: SourcedRecord) -> str:
    """`14:05`, in UTC, or that the time was not recorded."""
    shipped = entry.record.shipped_at
    if shipped is None:
        return "time not recorded"
    return f"{shipped.astimezone(dt.timezone.utc):%H:%M}"


@dataclass(frozen=True)
class Day:
    """One day of the timeline (in UTC), its records newest first."""

    date: dt.date
    records: list[SourcedRecord]

    @property
    def title(self) -> str:
        return day_text(self.date)


def latest_days(records: list[SourcedRecord]) -> list[Day]:
    """The records (newest first) of the runbook's last LATEST_DAYS days, by UTC day; whole
    days of older ones until AT_LEAST are listed."""
    if not records:
        return []
    since = records[0].record.date - dt.timedelta(days=LATEST_DAYS - 1)
    latest: list[SourcedRecord] = []
    for count, entry in enumerate(records):
        day = entry.record.date
        if day < since and count >= AT_LEAST and day != latest[-1].record.date:
            break
        latest.append(entry)
    days: dict[dt.date, list[SourcedRecord]] = {}
    for entry in latest:
        days.setdefault(utc_day(entry), []).append(entry)

    def newest_first(entry: SourcedRecord) -> float:
        moment = epoch_ms(entry)
        return float("inf") if moment is None else -moment  # a time not recorded: last

    return [Day(date, sorted(days[date], key=newest_first)) for date in sorted(days, reverse=True)]


def epoch_ms(entry: SourcedRecord) -> int | None:
    shipped = entry.record.shipped_at
    return None if shipped is None else int(shipped.timestamp() * 1000)


def rollout_text(record: ChangeRecord) -> str:
    """`rolled out over 44 min` (`2 h 5 min`) from `started_at` to `shipped_at`, or ''."""
    if record.started_at is None or record.shipped_at is None:
        return ""
    hours, minutes = divmod(round((record.shipped_at - record.started_at).total_seconds() / 60), 60)
    return "rolled out over " + (f"{hours} h {minutes} min" if hours else f"{minutes} min")


def _row(entry: SourcedRecord, directory_urls: bool, index: RunbookIndex) -> dict[str, Any]:
    record, names = entry.record, index.names

    def linked(entries: list[SourcedRecord]) -> list[list[str]]:
        return [
            [other.record.title, site_path(f"{RECORD_PAGES}{other.id}.md", directory_urls)]
            for other in entries
        ]

    return {
        "id": entry.id,
        "title": record.title,
        "date": record.date.isoformat(),
        "time": epoch_ms(entry),
        "shown": record.shipped_text(),
        "service": names.shown("service", record.service),
        "environment": record.environment,
        "owner": names.shown("owner", record.owner),
        "status": record.status,
        "tested": record.rollback.tested,
        "url": site_path(f"{RECORD_PAGES}{entry.id}.md", directory_urls),
        "rollout": rollout_text(record),
        "incidents": [[incident.id, incident.url] for incident in record.incidents],
        "fixes": linked(index.fixes(entry)),
        "fixed_by": linked(index.fixed_by.get(entry.id, [])),
    }


def timeline_months(index: RunbookIndex) -> dict[str, list[SourcedRecord]]:
    """`timeline/YYYY-MM.json` → the month's records, newest first."""
    months: dict[str, list[SourcedRecord]] = {}
    for entry in index.records:
        uri = f"{MONTHS_FOLDER}/{entry.record.date.isoformat()[:7]}.json"
        months.setdefault(uri, []).append(entry)
    return months


def month_shows(entry: SourcedRecord, index: RunbookIndex) -> list[Any]:
    """What a month file's row says beyond its record: the records it fixes and is fixed by
    (their titles), its service's and owner's shown names (a month file's page key)."""
    record = entry.record
    return [
        index.fixes(entry),
        index.fixed_by.get(entry.id, []),
        index.names.shown("service", record.service),
        index.names.shown("owner", record.owner),
    ]


def month_file(entries: list[SourcedRecord], directory_urls: bool, index: RunbookIndex) -> str:
    """A month's records as the timeline's script reads them."""
    rows = [_row(entry, directory_urls, index) for entry in entries]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n"


def services_to_choose(names: Iterable[str]) -> list[str]:
    """The services the timeline offers, by name ignoring case, then exactly (`Edge` and
    `edge` may both be shown names under aliases; never left to the order of a set)."""
    return sorted(set(names), key=lambda name: (name.casefold(), name))
