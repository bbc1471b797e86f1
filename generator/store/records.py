"""The record store: each record file's result kept under its stamp, brought up to date at the
start of every command that reads it.

A run lists the record files and stats each (the stamp: size, modification and change times,
inode); a file whose row has another stamp, or none, is checked again (on every core for
many files) and its rows replaced, and rows of files that are gone are deleted. Checking
happens outside any lock; the rows are then written in one write transaction, inside which
the stamps are compared again (another command may have written meanwhile), and the run's
queries answer inside that same transaction, so they see exactly the files this run saw.
When nothing changed, the run reads in one snapshot and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..check.cross_record_rules import counts_as_use
from ..check.file_check import CheckContext
from ..check.files import Stamp, file_stamp
from ..check.loader import file_stem
from ..check.paths import display_path
from ..check.problems import kept_problem
from ..check.workers import Checked
from ..diagnostics import Diagnostic
from ..names import Aliases, name_key
from . import database

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MICROSECOND = dt.timedelta(microseconds=1)


@dataclass
class FileRows:
    """The rows of one checked record file, ready to insert (its id is given on insert)."""

    path: str
    stamp: Stamp | None
    file: tuple
    summary: tuple | None = None
    names: list[tuple] = field(default_factory=list)
    checklists: list[tuple] = field(default_factory=list)
    unknown_items: list[tuple] = field(default_factory=list)
    record: tuple | None = None
    files_touched: list[tuple] = field(default_factory=list)


def checked_rows(checked: Checked, context: CheckContext) -> FileRows:
    """A file's rows, made where it was checked (a worker, given this function)."""
    return file_rows(checked, context.aliases, context.folder)


def file_rows(checked: Checked, aliases: Aliases, folder: str) -> FileRows:
    """A checked file as the store's rows: its diagnostics, its summary, its record."""
    path, stamp, digest, (sourced, diagnostics, summary) = checked
    size, mtime, ctime, inode = stamp if stamp is not None else (None,) * 4
    errors = sum(d.severity == "error" for d in diagnostics)
    problems = json.dumps([[getattr(d, f) for f in _DIAGNOSTIC_FIELDS] for d in diagnostics])
    shown = display_path(path, folder)
    rows = FileRows(
        path,
        stamp,
        (
            stored(path),
            stored(file_stem(path)),
            stored(shown),
            size,
            mtime,
            ctime,
            inode,
            digest,
            problems,
            errors,
        ),
    )
    if summary is not None:
        rows.summary = (summary.record_id, summary.date.isoformat())
        for kind, loc, spelling in summary.named():
            rows.names.append(
                (
                    kind,
                    loc[1] if len(loc) > 1 else 0,
                    spelling,
                    name_key(spelling),
                    aliases.key(kind, spelling),
                    aliases.canonical(kind, spelling),
                    aliases.target(kind, spelling) is not None,
                    counts_as_use(aliases, kind, spelling),
                )
            )
        rows.checklists = [(checklist_id,) for checklist_id in summary.checklists]
        rows.unknown_items = list(summary.unknown_items)
    if sourced is not None:
        record = sourced.record
        shipped = record.shipped_at
        rows.record = (
            sourced.id,
            record.date.isoformat(),
            (shipped - EPOCH) // MICROSECOND if shipped else None,
            _offset(shipped) if shipped else None,
            record.service,
            record.owner,
            record.status,
            record.environment,
            record.title,
            json.dumps(record.model_dump(mode="json"), ensure_ascii=False),
        )
        rows.files_touched = [
            (position, touched, touched.casefold())
            for position, touched in enumerate(record.files_touched)
        ]
    return rows


def stored(path: str) -> str | bytes:
    """A path as the store keeps it: as text, unless a name in it is not UTF-8 (os.fsdecode's
    stand-ins cannot be stored as text): then as the bytes it names."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def restored(path: str | bytes) -> str:
    return path if isinstance(path, str) else os.fsdecode(path)


_DIAGNOSTIC_FIELDS = ("path", "line", "column", "severity", "code", "message")


def _offset(moment: dt.datetime) -> str:
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:5]}"


class RecordStore:
    """A connection to the store (the file, or one in memory for this run), valid for one
    context digest."""

    def __init__(self, connection: sqlite3.Connection, context_digest: str, key: bytes | None):
        self.connection = connection
        self.context_digest = context_digest
        self.key = key
        self._made_here = False

    @classmethod
    def open(cls, path: Path, root: Path, context_digest: str) -> RecordStore:
        """The store file; StoreUnusable, OSError or sqlite3.Error when it cannot be used."""
        key = database.store_key()
        return cls(database.connect(path, root), context_digest, key)

    @classmethod
    def in_memory(cls, context_digest: str) -> RecordStore:
        return cls(database.connect_in_memory(), context_digest, None)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()

    def _trusted(self) -> bool:
        if self.key is None:  # in memory: trusted once this run made it
            return self._made_here
        return database.trusted(self.connection, self.context_digest, self.key)

    def _stamps(self) -> dict[str, Stamp | None]:
        rows = self.connection.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files")
        return {
            path if path.__class__ is str else os.fsdecode(path): None
            if size is None
            else (size, mtime, ctime, inode)
            for path, size, mtime, ctime, inode in rows
        }

    @contextlib.contextmanager
    def refreshed(
        self,
        paths: list[str],
        check: Callable[[list[str]], list[FileRows]],
        fresh: dict[str, FileRows],
    ) -> Iterator[None]:
        """Inside: a transaction in which the store holds a row for each of `paths` (and no
        other), each as the file is now or as this run read it. `check` makes the rows of
        files read again; `fresh` holds those of this run (kept across a second attempt)."""
        connection = self.connection
        connection.execute("BEGIN")
        try:
            stored = self._stamps() if self._trusted() else None
            version = connection.execute("PRAGMA data_version").fetchone()[0]
            observed = {path: file_stamp(path) for path in paths}
            if stored is not None and _all_current(stored, observed):
                yield
                connection.execute("COMMIT")
                return
            connection.execute("COMMIT")  # checking happens outside any transaction
            stored = stored or {}
            stale = [
                path
                for path, stamp in observed.items()
                if stamp is None
                or (
                    stored.get(path) != stamp and not (path in fresh and fresh[path].stamp == stamp)
                )
            ]
            fresh.update((rows.path, rows) for rows in check(stale))
            connection.execute("BEGIN IMMEDIATE")  # waits BUSY_SECONDS at most for another writer
            if stored and connection.execute("PRAGMA data_version").fetchone()[0] == version:
                pass  # no other command wrote since this run read the stamps
            elif self._trusted():
                stored = self._stamps()
            else:
                database.reset(connection, self.context_digest, self.key)
                self._made_here = True
                stored = {}
            late = [p for p in paths if p not in fresh and not _current(stored, observed, p)]
            fresh.update((rows.path, rows) for rows in check(late))
            self._write(stored, paths, fresh)
            yield
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            raise

    def _write(self, kept: dict[str, Stamp | None], paths: list[str], fresh: dict) -> None:
        """Delete the rows of files gone, and replace those this run read again."""
        listed = set(paths)
        gone = [path for path in kept if path not in listed]
        new = [
            fresh[path]
            for path in paths
            if path in fresh and (fresh[path].stamp is None or kept.get(path) != fresh[path].stamp)
        ]
        connection = self.connection
        connection.executemany(
            "DELETE FROM files WHERE path = ?",
            [(stored(path),) for path in gone + [rows.path for rows in new if rows.path in kept]],
        )
        start = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM files").fetchone()[0]
        files, summaries, names, checklists, unknown, records, touched = ([] for _ in range(7))
        for file_id, rows in enumerate(new, start):
            files.append((file_id, *rows.file))
            if rows.summary is not None:
                summaries.append((file_id, *rows.summary))
                names += [(file_id, *name) for name in rows.names]
                checklists += [(file_id, *item) for item in rows.checklists]
                unknown += [(file_id, *item) for item in rows.unknown_items]
            if rows.record is not None:
                records.append((file_id, *rows.record))
                touched += [(file_id, *item) for item in rows.files_touched]
        for table, rows_of_table in (
            ("files", files),
            ("summaries", summaries),
            ("names", names),
            ("record_checklists", checklists),
            ("unknown_items", unknown),
            ("records", records),
            ("files_touched", touched),
        ):
            if rows_of_table:
                marks = ", ".join("?" * len(rows_of_table[0]))
                connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows_of_table)

    def diagnostics(self, paths: list[str] | None) -> list[Diagnostic]:
        """The files' own diagnostics: of `paths`, or of every file."""
        if paths is None:
            rows = self.connection.execute(
                "SELECT diagnostics FROM files WHERE diagnostics != '[]'"
            )
        else:
            rows = self._by_path("SELECT diagnostics FROM files WHERE path IN ({})", paths)
        return [kept_problem(*item) for (problems,) in rows for item in json.loads(problems)]

    def _by_path(self, query: str, paths: list[str]) -> list[tuple]:
        """`query` with `{}` standing for the paths' placeholders, in batches SQLite accepts."""
        found = []
        for start in range(0, len(paths), 500):
            batch = [stored(path) for path in paths[start : start + 500]]
            found += self.connection.execute(query.format(", ".join("?" * len(batch))), batch)
        return found


def _current(stored: dict[str, Stamp | None], observed: dict[str, Stamp | None], path: str) -> bool:
    stamp = observed[path]
    return stamp is not None and stored.get(path) == stamp


def _all_current(stored: dict[str, Stamp | None], observed: dict[str, Stamp | None]) -> bool:
    return len(stored) == len(observed) and all(
        stamp is not None and stored.get(path) == stamp for path, stamp in observed.items()
    )
