"""`runbook list` answered from the record store: its filters and time window are one SQL
query, and only the records it selects are read back (authoring/listing.py keeps the parsing
of WHEN and the output; its select_records is the same selection over records in memory).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..authoring.listing import Filters, ListedRow
from ..check.files import discover
from ..check.gc_pause import collector_paused
from ..check.paths import RecordFiles
from ..config import RunbookOptions
from ..delivery import DeliveryRow, decoded
from ..names import name_key
from .access import Order, with_store
from .context import store_context
from .records import EPOCH, MICROSECOND, RecordStore, restored

if TYPE_CHECKING:
    from ..models import SourcedRecord

# The runbook's order, newest first (check/validate.py _newest_first): by day, by the time it
# shipped (records without one after those with), by id.
Row = TypeVar("Row")
_NEWEST_FIRST = "r.date DESC, r.shipped_us IS NULL, r.shipped_us DESC, r.record_id DESC"


def listed_records(
    options: RunbookOptions, store_file: Path | None, filters: Filters
) -> tuple[list[SourcedRecord], int, list[str]]:
    """The valid records matching `filters`, newest first; how many errors the runbook has
    (invalid records are not listed); and the notes to show."""
    from ..models import ChangeRecord, SourcedRecord

    def records(connection: sqlite3.Connection, duplicated: set) -> list[SourcedRecord]:
        return [
            SourcedRecord(
                restored(record_id), restored(shown), ChangeRecord.model_validate_json(data)
            )
            for path, record_id, shown, data in _matching(connection, filters, "f.shown, r.data")
            if path not in duplicated
        ]

    return _valid(options, store_file, records, need_records=True)


def listed_rows(
    options: RunbookOptions, store_file: Path | None, filters: Filters
) -> tuple[list[ListedRow], int, list[str]]:
    """listed_records' records as the table shows them, read from the store's columns (no
    record is read back, and the record models are not imported)."""

    def rows(connection: sqlite3.Connection, duplicated: set) -> list[ListedRow]:
        columns = "r.date, r.shipped_us, r.shipped_offset, r.service, r.status, r.owner, r.title"
        return [
            ListedRow(
                restored(record_id),
                dt.date.fromisoformat(day),
                _moment(shipped, offset),
                service,
                status,
                owner,
                title,
            )
            for path, record_id, day, shipped, offset, service, status, owner, title in _matching(
                connection, filters, columns
            )
            if path not in duplicated
        ]

    return _valid(options, store_file, rows, need_records=True)


def _matching(connection: sqlite3.Connection, filters: Filters, columns: str) -> sqlite3.Cursor:
    """Each matching record's path, id and `columns`, newest first."""
    where, parameters = _conditions(filters)
    return connection.execute(
        f"SELECT f.path, r.record_id, {columns} FROM records r "
        f"JOIN files f ON f.id = r.file_id WHERE {where} ORDER BY {_NEWEST_FIRST}",
        parameters,
    )


def _moment(shipped: int | None, offset: str | None) -> dt.datetime | None:
    """shipped_at from its columns: microseconds since the epoch and its own offset."""
    if shipped is None or offset is None:
        return None
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    sign = -1 if offset.startswith("-") else 1
    zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return (EPOCH + shipped * MICROSECOND).astimezone(zone)


def delivery_rows(
    options: RunbookOptions, store_file: Path | None
) -> tuple[list[DeliveryRow], int, list[str]]:
    """What `runbook dora` counts of each record `runbook list` would list (no whole record
    is read), how many errors the runbook has, and the notes to show."""

    def rows(connection: sqlite3.Connection, duplicated: set) -> list[DeliveryRow]:
        found = connection.execute(
            "SELECT f.path, s.delivery FROM summaries s JOIN files f ON f.id = s.file_id "
            "WHERE f.errors = 0"
        )
        with collector_paused():  # 100,000 rows of tuples and times, none in a cycle
            return [decoded(delivery) for path, delivery in found if path not in duplicated]

    return _valid(options, store_file, rows, need_records=False)


def _valid(
    options: RunbookOptions,
    store_file: Path | None,
    read: Callable[[sqlite3.Connection, set], list[Row]],
    *,
    need_records: bool,
) -> tuple[list[Row], int, list[str]]:
    """What `read` finds of the valid records (those without errors of their own, and not
    sharing their id with another file) in the store brought up to date; how many errors
    the runbook has; the notes to show. The check context is made (and the checklists and
    record models read) only when the store cannot answer without it."""
    checklist_files = discover(options.checklists_dir, recursive=False)
    files = RecordFiles(options, checklist_files, None)
    context = store_context(options, checklist_files, need_records)

    def answer(store: RecordStore, order: Order) -> tuple[list[Row], int]:
        connection = store.connection
        errors = connection.execute(
            "SELECT COALESCE(SUM(errors), 0) FROM files WHERE errors > 0"  # files_with_errors
        ).fetchone()[0]
        errors += store.derived("fix_errors", lambda: _fix_errors(store, options, order))
        duplicated = _duplicated(store, order)
        return read(connection, duplicated), errors + len(duplicated)

    (found, errors), notes = with_store(
        store_file, options.root, context, files, None, answer, need_records=need_records
    )
    return found, errors + context.checklist_errors(), notes


def _fix_errors(store: RecordStore, options: RunbookOptions, order: Order) -> int:
    from .fix_rules import fix_errors

    return fix_errors(store, options, order)


def _duplicated(store: RecordStore, order: Order) -> set:
    """The record files (as the store keeps their paths) whose id an earlier listed file
    has (duplicate_id_diagnostics): their records are not listed. Asked of the store's stem
    index, which holds exactly the files listed: no Python work per file."""
    rows = store.connection.execute(
        "SELECT stem, path FROM files WHERE stem IN "
        "(SELECT stem FROM files GROUP BY stem HAVING COUNT(*) > 1)"
    ).fetchall()
    by_stem: dict[object, list] = defaultdict(list)
    for stem, path in rows:
        by_stem[stem].append(path)
    return {
        path
        for paths in by_stem.values()
        for path in sorted(paths, key=lambda path: order(restored(path)))[1:]
    }


def _conditions(filters: Filters) -> tuple[str, list[object]]:
    """The WHERE clause of authoring/listing.py's Filters.match, and its parameters."""
    conditions, parameters = ["1"], []
    for kind, wanted in (("service", filters.service), ("owner", filters.owner)):
        if wanted is not None:
            conditions.append(_name_matches(kind))
            parameters += [kind, name_key(wanted), name_key(wanted)]
    if filters.tag is not None:
        conditions.append(_name_matches("tag"))
        parameters += ["tag", name_key(filters.tag), name_key(filters.tag)]
    if filters.file is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM files_touched t WHERE t.file_id = r.file_id "
            "AND instr(t.folded, ?) > 0)"
        )
        parameters.append(filters.file.casefold())
    if filters.status is not None:
        conditions.append("instr(r.status, ?) > 0")
        parameters.append(filters.status.casefold())
    for bound, before in ((filters.window.since, False), (filters.window.until, True)):
        if bound is not None:
            condition, values = _window_side(bound, before=before)
            conditions.append(condition)
            parameters += values
    return " AND ".join(conditions), parameters


def _name_matches(kind: str) -> str:
    """listing.matches_name: the query's key within the word's key, or within the key of the
    name an alias shows it under (any of a record's tags)."""
    del kind  # a parameter: the kind is bound, not written into the query
    return (
        "EXISTS (SELECT 1 FROM names n WHERE n.file_id = r.file_id AND n.kind = ? "
        "AND (instr(n.name_key, ?) > 0 OR instr(n.group_key, ?) > 0))"
    )


def _window_side(bound: dt.date | dt.datetime, *, before: bool) -> tuple[str, list[object]]:
    """listing._after: a timestamp bound against shipped_at when the record has one, else
    against its day (the bound's day in its own offset); a date bound against the day."""
    compare = "<=" if before else ">="
    if isinstance(bound, dt.datetime):
        moment = (bound - EPOCH) // MICROSECOND
        # A record's date is shipped_at's in its own offset, less than a day from UTC, as is
        # the bound's: two days around the bound's day hold every match (and use the index).
        try:
            around = bound.date() + dt.timedelta(days=2 if before else -2)
        except OverflowError:  # the first or last days a date can have
            around = bound.date()
        return (
            f"r.date {compare} ? AND (CASE WHEN r.shipped_us IS NULL THEN r.date {compare} ? "
            f"ELSE r.shipped_us {compare} ? END)",
            [around.isoformat(), bound.date().isoformat(), moment],
        )
    return f"r.date {compare} ?", [bound.isoformat()]
