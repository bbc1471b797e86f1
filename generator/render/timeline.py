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
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..models import SourcedRecord
from ..names import ShownNames
from .links import RECORD_PAGES, site_path

LATEST_DAYS = 7
AT_LEAST = 10  # changes listed when the latest days hold fewer (a quiet week says little)
MONTHS_FOLDER = "timeline"


@dataclass(frozen=True)
class Day:
    """One day of the timeline, its records newest first."""

    date: dt.date
    records: list[SourcedRecord]


def latest_days(records: list[SourcedRecord]) -> list[Day]:
    """The records (newest first) of the runbook's last LATEST_DAYS days, by day; whole days
    of older ones until AT_LEAST are listed."""
    if not records:
        return []
    since = records[0].record.date - dt.timedelta(days=LATEST_DAYS - 1)
    days: dict[dt.date, list[SourcedRecord]] = {}
    for count, entry in enumerate(records):
        day = entry.record.date
        if day < since and count >= AT_LEAST and day not in days:
            break
        days.setdefault(day, []).append(entry)
    return [Day(date, entries) for date, entries in days.items()]


def epoch_ms(entry: SourcedRecord) -> int | None:
    shipped = entry.record.shipped_at
    return None if shipped is None else int(shipped.timestamp() * 1000)


def _row(entry: SourcedRecord, directory_urls: bool, names: ShownNames) -> dict[str, Any]:
    record = entry.record
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
    }


def month_files(
    records: Iterable[SourcedRecord], directory_urls: bool, names: ShownNames
) -> dict[str, str]:
    """`timeline/YYYY-MM.json` → the month's records (newest first) as the script reads them."""
    months: dict[str, list[dict[str, Any]]] = {}
    for entry in records:
        row = _row(entry, directory_urls, names)
        months.setdefault(entry.record.date.isoformat()[:7], []).append(row)
    return {
        f"{MONTHS_FOLDER}/{month}.json": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        + "\n"
        for month, rows in months.items()
    }


def services_to_choose(names: Iterable[str]) -> list[str]:
    """The services the timeline offers, by name ignoring case, then exactly (`Edge` and
    `edge` may both be shown names under aliases; never left to the order of a set)."""
    return sorted(set(names), key=lambda name: (name.casefold(), name))
