"""The record store: each record file's result kept under its stamp, brought up to date at the
start of every command that reads it.

A run lists the record files and stats each (the stamp: size, modification and change times,
inode); a file whose row has another stamp, or none, is checked again (on every core for
many files) and its rows replaced, and rows of files that are gone are deleted. Rows are
compared only in the folders whose digest of their files' paths and stamps differs from the
one kept with them: a run on an unchanged runbook of 100,000 records reads a hundred digests,
not 100,000 rows. Checking happens outside any lock; the rows are then written in one write
transaction, inside which the stamps are compared again (another command may have written
meanwhile), and the run's queries answer inside that same transaction, so they see exactly
the files this run saw. When nothing changed, the run reads in one snapshot and writes
nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..check.files import (
    Observed,
    Stamp,
    StampedPath,
    file_stem,
    folder_digest,
    folder_of,
    stamped,
)
from ..check.paths import display_path
from ..delivery import encoded
from ..diagnostics import Diagnostic
from ..names import Aliases, NameKind, counts_as_use, name_key
from . import database

if TYPE_CHECKING:
    from ..check.file_check import CheckContext
    from ..check.paths import RecordFiles
    from ..check.workers import Checked
    from .context import StoreContext

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MICROSECOND = dt.timedelta(microseconds=1)


# The tables a checked file has rows in, parents first; the first column of each is the file's
# id (files.id, or file_id referring to it).
TABLES = (
    "files",
    "summaries",
    "fixes",
    "names",
    "record_checklists",
    "unknown_items",
    "records",
    "files_touched",
)
CHUNK = database.CHUNK
# Python 3.11+ with an SQLite that can: a worker sends its chunk's database as one bytes object.
SERIALISES = hasattr(sqlite3.Connection, "serialize")


@dataclass
class CheckedChunk:
    """The rows of a chunk of checked record files, made where they were checked (a worker):
    each file's path and stamp, and its rows with file ids from 1, as an SQLite database in
    memory serialised to one bytes object (nothing for the parent to unpickle row by row; it
    attaches the database and copies it in C), or, where sqlite3 cannot serialise, as rows."""

    stamps: list[tuple[str, Stamp | None]]
    database: bytes | None
    tables: dict[str, list[tuple]] | None


def checked_chunk(checked: list[Checked], context: CheckContext) -> CheckedChunk:
    """A chunk's rows (given to the workers as what they send back)."""
    tables: dict[str, list[tuple]] = {table: [] for table in TABLES}
    names = _NameColumns(context.aliases)
    for file_id, entry in enumerate(checked, 1):
        _add_rows(tables, file_id, entry, names, context.folder)
    stamps = [(path, stamp) for path, stamp, _, _ in checked]
    if not SERIALISES:
        return CheckedChunk(stamps, None, tables)
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        database.make_schema(connection)
        connection.execute("BEGIN")
        for table, rows in tables.items():
            _insert(connection, table, rows)
        connection.execute("COMMIT")
        return CheckedChunk(stamps, connection.serialize(), None)
    finally:
        connection.close()


def _insert(connection: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


class _NameColumns(dict):
    """A name's columns after its spelling (key, group key, shown name, aliased, counts as
    a use), worked out once per spelling in a chunk: the same few services, owners and tags
    recur in every record."""

    def __init__(self, aliases: Aliases):
        super().__init__()
        self.aliases = aliases

    def __missing__(self, named: tuple[NameKind, str]) -> tuple:
        kind, spelling = named
        aliases = self.aliases
        self[named] = columns = (
            name_key(spelling),
            aliases.key(kind, spelling),
            aliases.canonical(kind, spelling),
            aliases.target(kind, spelling) is not None,
            counts_as_use(aliases, kind, spelling),
        )
        return columns


def _add_rows(
    tables: dict[str, list[tuple]],
    file_id: int,
    checked: Checked,
    names: _NameColumns,
    folder: str,
) -> None:
    """A checked file's rows: its diagnostics, its summary, its record when it was kept."""
    path, stamp, digest, (sourced, diagnostics, summary) = checked
    size, mtime, ctime, inode = stamp if stamp is not None else (None,) * 4
    errors = sum(d.severity == "error" for d in diagnostics)
    problems = json.dumps([[getattr(d, f) for f in _DIAGNOSTIC_FIELDS] for d in diagnostics])
    kept = sourced is not None or errors > 0 or summary is None
    tables["files"].append(
        (
            file_id,
            stored(path),
            stored(folder_of(path)),
            stored(file_stem(path)),
            stored(display_path(path, folder)),
            size,
            mtime,
            ctime,
            inode,
            digest,
            problems,
            errors,
            kept,
        )
    )
    if summary is not None:
        tables["summaries"].append(
            (
                file_id,
                stored(summary.record_id),
                summary.date.isoformat(),
                encoded(summary.delivery),
                *(summary.unexplained_at or (None, None)),
            )
        )
        tables["fixes"] += [
            (file_id, position, fixed) for position, (fixed, _) in enumerate(summary.delivery.fixes)
        ]
        tables["names"] += [
            (file_id, kind, loc[1] if len(loc) > 1 else 0, spelling, *names[kind, spelling])
            for kind, loc, spelling in summary.named()
        ]
        tables["record_checklists"] += [(file_id, checklist) for checklist in summary.checklists]
        tables["unknown_items"] += [(file_id, *item) for item in summary.unknown_items]
    if sourced is not None:
        record = sourced.record
        shipped = record.shipped_at
        tables["records"].append(
            (
                file_id,
                stored(sourced.id),
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
        )
        tables["files_touched"] += [
            (file_id, position, touched, touched.casefold())
            for position, touched in enumerate(record.files_touched)
        ]


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
    context."""

    def __init__(self, connection: sqlite3.Connection, context: StoreContext, key: bytes | None):
        self.connection = connection
        self.context = context
        self.key = key
        self._made_here = False
        self._meta_outdated = False

    @classmethod
    def open(cls, path: Path, root: Path, context: StoreContext) -> RecordStore:
        """The store file; StoreUnusable, OSError or sqlite3.Error when it cannot be used."""
        key = database.store_key()
        return cls(database.connect(path, root), context, key)

    @classmethod
    def in_memory(cls, context: StoreContext) -> RecordStore:
        return cls(database.connect_in_memory(), context, None)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()

    def _trusted(self) -> bool:
        if self.key is None:  # in memory: trusted once this run made it
            return self._made_here
        kept = database.kept_meta(self.connection, self.key)
        if kept is None or not self.context.trusts(kept):
            return False
        # Trusted by the context's digest under other inputs: the next run's are these.
        self._meta_outdated = kept.get("inputs") != (self.context.inputs or "")
        return True

    def _changed_folders(self, observed: Observed, need_records: bool) -> list[str] | None:
        """The folders whose files may differ from their rows: a digest other than the one
        kept, or, when `need_records`, a valid record whose data is not kept. None when the
        store holds exactly the files observed, each as it is now."""
        kept = {
            restored(folder): (digest, unkept)
            for folder, digest, unkept in self.connection.execute(
                "SELECT folder, digest, unkept FROM folders"
            )
        }

        def as_kept(folder: str, digest: bytes | None) -> bool:
            found = kept.get(folder)
            if digest is None or found is None:  # a file without a stamp, or a new folder
                return False
            return digest == found[0] and not (need_records and found[1])

        changed = [
            folder for folder, digest in observed.digests.items() if not as_kept(folder, digest)
        ]
        if changed or len(kept) != len(observed.digests):
            return changed
        return None

    def _stamps(self, need_records: bool, folders: list[str]) -> set[tuple]:
        """The rows of path and stamp kept for the files in `folders` (files.stamped's
        shape): a file to read again has no size in it (unreadable last time, or, when
        `need_records`, a valid record whose data was not kept), so it equals no observed
        row."""
        rows = self.by_values(
            "SELECT path, CASE WHEN kept OR NOT ? THEN size END, mtime_ns, ctime_ns, inode "
            "FROM files WHERE folder IN ({})",
            [stored(folder) for folder in folders],
            leading=[need_records],
        )
        return {(restored(path), *stamp) for path, *stamp in rows}

    def _observed(self, files: RecordFiles, trusted: bool) -> Observed:
        """The record files listed and stat'ed: in full, or (a run on named files, the store
        trusted) only in the folders whose stamp changed and the named files; the other
        folders' rows are taken as they are (their digests as kept)."""
        if trusted and self.key is not None and files.only is not None:
            kept = {
                restored(folder): (restored(parent), None if size is None else (size, *stamp))
                for folder, parent, size, *stamp in self.connection.execute(
                    "SELECT folder, parent, size, mtime_ns, ctime_ns, inode FROM listings"
                )
            }
            if files.list_changed(kept):
                unchanged = set(files.unchanged)
                named = [
                    path for path in files.named_records() or [] if folder_of(path) in unchanged
                ]
                observed = stamped(files.paths + named)
                digests = dict(
                    self.by_values(
                        "SELECT folder, digest FROM folders WHERE folder IN ({})",
                        [stored(folder) for folder in unchanged],
                    )
                )
                for folder in unchanged:
                    if folder in observed.rows:
                        observed.digests[folder] = None  # its named files' rows are compared
                    elif stored(folder) in digests:
                        observed.digests[folder] = digests[stored(folder)]
                return observed
        files.list_all()
        return stamped(files.paths)

    @contextlib.contextmanager
    def refreshed(
        self,
        files: RecordFiles,
        check: Callable[[list[str]], list[CheckedChunk]],
        need_records: bool,
    ) -> Iterator[None]:
        """Inside: a transaction in which the store holds a row for each record file (and no
        other), each as the file is now or as this run read it, with every valid record's
        data when `need_records`. `check` makes the rows of files read again. Listed by
        `files`: for a run on named files, the folders whose stamps are as kept are not read
        again (StaleListing when another command wrote meanwhile: list in full then)."""
        connection = self.connection
        connection.execute("BEGIN")
        try:
            trusted = self._trusted()
            observed = self._observed(files, trusted)
            changed = (
                self._changed_folders(observed, need_records) if trusted else list(observed.rows)
            )
            if changed is None:
                if self._meta_outdated:
                    self._keep(database.write_meta, connection, self.context.meta(), self.key)
                if self._listings_differ(files):
                    self._keep(self._write_listings, files)
                yield
                connection.execute("COMMIT")
                return
            version = connection.execute("PRAGMA data_version").fetchone()[0]
            kept = self._stamps(need_records, changed) if trusted else set()
            connection.execute("COMMIT")  # checking happens outside any transaction
            fresh = check(_stale(observed, changed, kept))
            connection.execute("BEGIN IMMEDIATE")  # waits BUSY_SECONDS at most for another writer
            if trusted and connection.execute("PRAGMA data_version").fetchone()[0] == version:
                pass  # no other command wrote since this run read the stamps
            elif files.unchanged:
                raise StaleListing("another command wrote the store: list every folder")
            else:
                if self._trusted():
                    changed = self._changed_folders(observed, need_records) or []
                    kept = self._stamps(need_records, changed)
                else:
                    database.reset(connection, self.context.meta(), self.key)
                    self._made_here = True
                    self._meta_outdated = False
                    changed, kept = list(observed.rows), set()
                read = {path for chunk in fresh for path, _ in chunk.stamps}
                stale = _stale(observed, changed, kept)
                fresh += check([path for path in stale if path not in read])
            self._write(files, fresh)
            self._write_listings(files)
            connection.execute("DELETE FROM derived")
            if self._meta_outdated:
                database.write_meta(connection, self.context.meta(), self.key)
                self._meta_outdated = False
            written = {folder_of(path) for chunk in fresh for path, _ in chunk.stamps}
            self._write_digests(observed, written.union(changed))
            yield
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            raise

    def _write(self, files: RecordFiles, fresh: list[CheckedChunk]) -> None:
        """Replace the rows of the files read again by the chunks', and delete those of files
        gone (only when the store then holds more files than were listed does that take a
        look at every path; the rows of folders not read again stay)."""
        connection = self.connection
        paths = files.paths
        unchanged = [stored(folder) for folder in files.unchanged]
        connection.executemany(
            "DELETE FROM files WHERE path = ?",
            [(stored(path),) for chunk in fresh for path, _ in chunk.stamps],
        )
        offset = connection.execute("SELECT COALESCE(MAX(id), 0) FROM files").fetchone()[0]
        for chunk in fresh:
            self._copy(chunk, offset)
            offset += len(chunk.stamps)
        kept = sum(
            count
            for (count,) in self.by_values(
                "SELECT COUNT(*) FROM files WHERE folder IN ({})", unchanged
            )
        )
        if connection.execute("SELECT COUNT(*) FROM files").fetchone()[0] != len(paths) + kept:
            listed, taken = {stored(path) for path in paths}, set(unchanged)
            connection.executemany(
                "DELETE FROM files WHERE path = ?",
                [
                    (path,)
                    for path, folder in connection.execute("SELECT path, folder FROM files")
                    if path not in listed and folder not in taken
                ],
            )

    def _listings_differ(self, files: RecordFiles) -> bool:
        kept = set(self.connection.execute("SELECT * FROM listings"))
        return kept != set(_listing_rows(files))

    def _write_listings(self, files: RecordFiles) -> None:
        """The folders this run's listing read, with their stamps; none when a file named
        outside the records folder has a row (the rows are then not the listing's alone)."""
        connection = self.connection
        connection.execute("DELETE FROM listings")
        connection.executemany(
            "INSERT INTO listings VALUES (?, ?, ?, ?, ?, ?)", _listing_rows(files)
        )

    def _write_digests(self, observed: Observed, folders: set[str]) -> None:
        """Each of `folders`' digest and count of unkept records, made again from its rows as
        now written, and no row for a folder that was not listed."""
        connection = self.connection
        for folder in folders:
            rows = connection.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, kept FROM files WHERE folder = ?",
                (stored(folder),),
            ).fetchall()
            stamps: list[StampedPath] = [
                (restored(path),) if size is None else (restored(path), size, *stamp)
                for path, size, *stamp, _ in rows
            ]
            connection.execute(
                "INSERT OR REPLACE INTO folders VALUES (?, ?, ?)",
                (stored(folder), folder_digest(stamps), sum(not row[-1] for row in rows)),
            )
        connection.executemany(
            "DELETE FROM folders WHERE folder = ?",
            [
                (folder,)
                for (folder,) in connection.execute("SELECT folder FROM folders").fetchall()
                if restored(folder) not in observed.digests
            ],
        )

    def _copy(self, chunk: CheckedChunk, offset: int) -> None:
        """A chunk's rows into the store, its file ids moved past `offset`."""
        connection = self.connection
        if chunk.database is None:
            assert chunk.tables is not None
            for table, rows in chunk.tables.items():
                _insert(connection, table, [(row[0] + offset, *row[1:]) for row in rows])
            return
        connection.deserialize(chunk.database, name=CHUNK)
        for table in TABLES:
            columns = [row[1] for row in connection.execute(f"PRAGMA {CHUNK}.table_info({table})")]
            shown = ", ".join([f"{columns[0]} + ?", *columns[1:]])
            connection.execute(
                f"INSERT INTO main.{table} SELECT {shown} FROM {CHUNK}.{table}", (offset,)
            )

    def has_id(self, record_id: str) -> bool:
        """Whether a record file (valid or not) has this id (its stem)."""
        found = self.connection.execute(
            "SELECT 1 FROM files WHERE stem = ? LIMIT 1", (stored(record_id),)
        )
        return found.fetchone() is not None

    def derived(self, name: str, compute: Callable[[], int]) -> int:
        """A figure derived from many rows (`compute`), kept until the rows next change."""
        found = self.connection.execute("SELECT value FROM derived WHERE name = ?", (name,))
        row = found.fetchone()
        if row is not None:
            return row[0]
        value = compute()
        self._keep(
            lambda: self.connection.execute(
                "INSERT OR REPLACE INTO derived VALUES (?, ?)", (name, value)
            )
        )
        return value

    def _keep(self, write: Callable[..., object], *arguments: object) -> None:
        """A write that saves the next run work, made inside a run that only reads: it is
        left out when another command wrote since this run's snapshot, or holds the lock."""
        connection = self.connection
        try:
            connection.execute("SAVEPOINT keep")
        except sqlite3.OperationalError:
            return
        try:
            write(*arguments)
        except sqlite3.OperationalError:
            connection.execute("ROLLBACK TO keep")
        connection.execute("RELEASE keep")

    def diagnostics(self, paths: list[str] | None) -> list[Diagnostic]:
        """The files' own diagnostics: of `paths`, or of every file."""
        from ..check.problems import kept_problem

        if paths is None:
            rows = self.connection.execute(
                "SELECT diagnostics FROM files WHERE diagnostics != '[]'"
            )
        else:
            rows = self.by_path("SELECT diagnostics FROM files WHERE path IN ({})", paths)
        return [kept_problem(*item) for (problems,) in rows for item in json.loads(problems)]

    def by_path(self, query: str, paths: list[str]) -> list[tuple]:
        """`query` with `{}` standing for the paths' placeholders, in batches SQLite accepts."""
        return self.by_values(query, [stored(path) for path in paths])

    def by_values(self, query: str, values: list, leading: Sequence = ()) -> list[tuple]:
        """`query` with `{}` standing for the values' placeholders, in batches; `leading`
        are the parameters of the placeholders before it."""
        found = []
        for start in range(0, len(values), 500):
            batch = values[start : start + 500]
            found += self.connection.execute(
                query.format(", ".join("?" * len(batch))), [*leading, *batch]
            )
        return found


class StaleListing(Exception):
    """A run on named files found the store written by another command meanwhile: the
    folders it did not read again may no longer be as the store keeps them."""


def _listing_rows(files: RecordFiles) -> list[tuple]:
    if files.extras:
        return []
    return [
        (stored(folder), stored(parent), *(stamp or (None,) * 4))
        for folder, parent, stamp in files.folders
    ]


def _stale(observed: Observed, folders: list[str], kept: set[tuple]) -> list[str]:
    """The paths in `folders` whose row differs from the one kept, or has none."""
    return [row[0] for folder in folders for row in observed.rows[folder] if row not in kept]
