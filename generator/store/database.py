"""The record store's SQLite file: opened safely, trusted only when it proves it is ours.

The file sits in the repository's cache folder, so it is input like any other: it may be a
link planted to a file elsewhere, come from a clone or another machine, be damaged, or be in
use by another runbook command. It is opened only as a regular file of its own inside the
repository (nor are SQLite's companion files, `-wal`, `-shm` and `-journal`, links), with
no trust in its schema (`trusted_schema=OFF`). Its `meta` table names the schema version,
runbook's code digest and the context digest (what results depend on), signed with this
user's key: when any of them differs, every object in the file is dropped and the schema made
again, so nothing planted there (a row, a view, a trigger) is ever read.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import sqlite3
import stat
from pathlib import Path

from ..repository_files import UnsafeWrite, make_folders
from .trust import code_digest, signature, signing_key

SCHEMA_VERSION = "6"
# How long a command waits for another one's writes before it runs without the store.
BUSY_SECONDS = 2.0
COMPANIONS = ("-wal", "-shm", "-journal")
# A database in memory attached to every connection, which workers' chunks of rows are
# loaded into before they are copied in (store/records.py; SQLite attaches only outside a
# transaction).
CHUNK = "chunk"

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- One row per record file of the last run, checked or not: its stamp (NULL when it could not
-- be read), the digest of its bytes, and its own diagnostics as JSON.
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    -- Paths are text, or os.fsencode's bytes for a name that is not UTF-8 (records.stored).
    path NOT NULL UNIQUE,        -- as the folder listing names it
    folder NOT NULL,             -- its group in `folders` (files.folder_of), text or bytes
    stem TEXT NOT NULL,          -- the id it gives (loader.file_stem), for [duplicate-id]
    shown NOT NULL,              -- as diagnostics name it
    size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER,
    digest TEXT,
    diagnostics TEXT NOT NULL,
    errors INTEGER NOT NULL,
    -- 0: a valid record whose validated data is not kept (a `validate` run needs none, the
    -- first `list` after it reads the file again).
    kept INTEGER NOT NULL
);
CREATE INDEX files_by_stem ON files (stem);
CREATE INDEX files_by_folder ON files (folder);
-- The few files with errors: a runbook's count of errors without a look at every row.
CREATE INDEX files_with_errors ON files (errors) WHERE errors > 0;
-- Each folder's digest of its rows' paths and stamps (files.folder_digest, NULL when a file
-- in it has none) and how many of its valid records' data is not kept: a run reads the rows
-- of the folders whose digest differs from the one it observes, and of no other.
CREATE TABLE folders (folder PRIMARY KEY, digest BLOB, unkept INTEGER NOT NULL);
-- What the cross-record rules need of each record that validated (check/summary.py).
CREATE TABLE summaries (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    record_id NOT NULL,          -- text, or bytes as for paths (records.stored)
    date TEXT NOT NULL,
    delivery TEXT NOT NULL,      -- what DORA's keys count (delivery.encoded)
    -- where a rolled-back record's status is when nothing says what undid it, else NULL
    unexplained_line INTEGER,
    unexplained_column INTEGER
);
-- Each id a record names in its `fixes`: the records that fix a given one, by query.
CREATE TABLE fixes (
    file_id INTEGER NOT NULL REFERENCES summaries(file_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    fixed_id TEXT NOT NULL,
    PRIMARY KEY (file_id, position)
) WITHOUT ROWID;
CREATE INDEX fixes_by_id ON fixes (fixed_id);
-- Each use of a service, owner or tag: its spelling, its name key, the key of its group
-- (after aliases), the name an alias shows it under, and whether an alias maps it.
CREATE TABLE names (
    file_id INTEGER NOT NULL REFERENCES summaries(file_id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    position INTEGER NOT NULL,
    spelling TEXT NOT NULL,
    name_key TEXT NOT NULL,
    group_key TEXT NOT NULL,
    canonical TEXT NOT NULL,
    aliased INTEGER NOT NULL,
    counts_as_use INTEGER NOT NULL,
    PRIMARY KEY (file_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX names_by_group ON names (kind, group_key, spelling);
CREATE TABLE record_checklists (
    file_id INTEGER NOT NULL REFERENCES summaries(file_id) ON DELETE CASCADE,
    checklist_id TEXT NOT NULL,
    PRIMARY KEY (file_id, checklist_id)
) WITHOUT ROWID;
CREATE INDEX record_checklists_by_id ON record_checklists (checklist_id);
CREATE TABLE unknown_items (
    file_id INTEGER NOT NULL REFERENCES summaries(file_id) ON DELETE CASCADE,
    checklist_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (file_id, checklist_id, item_id)
) WITHOUT ROWID;
-- Each record without errors of its own: the columns `runbook list` selects and orders by,
-- and the validated record as JSON (model_dump(mode="json")).
CREATE TABLE records (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    record_id NOT NULL,          -- text, or bytes as for paths (records.stored)
    date TEXT NOT NULL,
    shipped_us INTEGER,          -- shipped_at, microseconds since the epoch
    shipped_offset TEXT,         -- shipped_at's own offset, +HH:MM
    service TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    environment TEXT NOT NULL,
    title TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX records_by_date ON records (date);
-- Each folder the records folder's listing read, with the folder it is in ('' for the top)
-- and its stamp before it was read (NULL: it had changed too recently to vouch for what was
-- read). Kept only while `files` holds exactly that listing's files (no file named outside
-- it): a run on named files (`validate FILE`) reads again only the folders whose stamp
-- changed, and takes the others' files as their rows.
CREATE TABLE listings (
    folder PRIMARY KEY, parent NOT NULL,
    size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER
);
-- Figures a command derives from many rows (the runbook's count of errors the fixes rules
-- find), kept until the rows next change: every write of rows empties this table.
CREATE TABLE derived (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE files_touched (
    file_id INTEGER NOT NULL REFERENCES records(file_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    folded TEXT NOT NULL,
    PRIMARY KEY (file_id, position)
) WITHOUT ROWID;
"""


class StoreUnusable(Exception):
    """The store cannot be used this run (said in one note); the run goes on without it."""


def connect(path: Path, root: Path) -> sqlite3.Connection:
    """The store at `path` (made if missing), inside the repository `root`: never through a
    link, never a file with another name elsewhere. OSError or sqlite3.Error when it cannot
    be opened."""
    make_folders(path.parent, inside=root)  # refuses a folder that is a link out of `root`
    _own_file(path, create=True)
    for suffix in COMPANIONS:
        _own_file(path.with_name(path.name + suffix), create=False)
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        _own_file(path, create=False)  # still the file checked above
        _configure(connection, wal=True)
    except BaseException:
        connection.close()
        raise
    return connection


def connect_in_memory() -> sqlite3.Connection:
    """A store for one run, when the file cannot be used: every file is checked."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    _configure(connection, wal=False)
    return connection


def _configure(connection: sqlite3.Connection, *, wal: bool) -> None:
    connection.execute("PRAGMA trusted_schema = OFF")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"ATTACH DATABASE ':memory:' AS {CHUNK}")
    if wal:
        # Readers never wait for a writer; a commit needs no fsync of the database itself.
        if connection.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise sqlite3.OperationalError("cannot use write-ahead logging here")
        connection.execute("PRAGMA synchronous = NORMAL")


def _own_file(path: Path, *, create: bool) -> None:
    """Refuse what is at `path` unless it is missing or a regular file with one name; make it
    (readable by this user alone) when `create`, without following a link."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with contextlib.suppress(FileExistsError):  # another run made it a moment ago
            os.close(os.open(path, flags, 0o600))
        status = os.lstat(path)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
        raise UnsafeWrite(
            f"{path} is not a file runbook made (a link, a folder, a device, or a file with "
            "another name elsewhere): remove it"
        )


def kept_meta(connection: sqlite3.Connection, key: bytes) -> dict[str, str] | None:
    """The `meta` rows (schema version, code digest, context digest, what the context was
    made from), when this user's key signed them and they are this code's; else None."""
    try:
        stored = dict(connection.execute("SELECT name, value FROM meta"))
    except sqlite3.OperationalError:  # no meta table: new, or not ours
        return None
    signed = stored.pop("signature", "")
    if not hmac.compare_digest(signed, _signed(stored, key)):
        return None
    if stored.get("schema") != SCHEMA_VERSION or stored.get("code") != code_digest():
        return None
    return stored


def write_meta(connection: sqlite3.Connection, meta: dict[str, str], key: bytes | None) -> None:
    """`meta` (with this schema version and code digest), signed; inside the caller's write
    transaction."""
    meta = {"schema": SCHEMA_VERSION, "code": code_digest(), **meta}
    if key is not None:
        meta["signature"] = _signed(meta, key)
    connection.execute("DELETE FROM meta")
    connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())


def reset(connection: sqlite3.Connection, meta: dict[str, str], key: bytes | None) -> None:
    """Empty the store (every object in it dropped, whoever made it) and make the schema
    again, signed for this context (`meta`); inside the caller's write transaction."""
    objects = connection.execute(
        "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' "
        "AND type IN ('table', 'view', 'trigger') ORDER BY rowid DESC"
    ).fetchall()
    for kind, name in objects:  # the newest first: the tables that refer to others go first
        quoted = '"' + name.replace('"', '""') + '"'
        connection.execute(f"DROP {kind.upper()} IF EXISTS {quoted}")
    make_schema(connection)
    write_meta(connection, meta, key)


def make_schema(connection: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)


def _signed(meta: dict[str, str], key: bytes) -> str:
    payload = "\0".join(f"{name}={meta[name]}" for name in sorted(meta))
    return signature(key, payload.encode()).hex()


def store_key() -> bytes:
    """This user's key; StoreUnusable when there is none (a store that cannot be signed
    cannot be trusted next time)."""
    key = signing_key()
    if key is None:
        raise StoreUnusable("no private key to sign it with in the user's cache folder")
    return key
