"""A command's use of the record store: where it lives, and the store brought up to date for
one run (or one in memory when the file cannot be used).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..check.paths import RecordFiles, display_path
from ..config import RunbookOptions
from .context import StoreContext
from .database import StoreUnusable
from .records import CheckedChunk, RecordStore, StaleListing
from .trust import CACHE_FOLDER

STORE_FILE = "store.sqlite"
Answer = TypeVar("Answer")
# Where a record file comes in the listing (check/paths.py RecordFiles.order).
Order = Callable[[str], tuple[int, int | str]]


def store_path(options: RunbookOptions) -> Path | None:
    """Where the runbook's record store lives: in the cache folder beside mkdocs.yml; none
    outside a runbook (a file checked on its own keeps nothing)."""
    return options.root / CACHE_FOLDER / STORE_FILE if options.config_file else None


def with_store(
    store_file: Path | None,
    root: Path,
    context: StoreContext,
    files: RecordFiles,
    jobs: int | None,
    answer: Callable[[RecordStore, Order], Answer],
    *,
    need_records: bool = False,
) -> tuple[Answer, list[str]]:
    """`answer` asked of the store brought up to date for the record files (`files` lists
    them), and the notes to show. A store that cannot be used (damaged, locked longer than
    a moment by another command, unwritable, a link) is said in one note and replaced by
    one in memory for this run: every file is checked, and the answer is the same.
    `need_records`: the answer reads records' data (`list`); `validate` reads only rows,
    and its workers make and send back no more than those."""
    notes: list[str] = []

    def check(stale: list[str]) -> list[CheckedChunk]:
        # Each chunk of files becomes its rows where it was checked: a small database comes
        # back from each worker, never records to unpickle.
        from ..check.workers import check_in_workers
        from .records import checked_chunk

        checking = dataclasses.replace(context.context, keep_records=need_records)
        return check_in_workers(stale, checking, jobs, pack=checked_chunk)[0]

    attempts: list[Path | None] = [None]
    if store_file is not None:
        attempts.insert(0, store_file)
    while attempts:
        attempt = attempts.pop(0)
        try:
            if attempt is None:
                store = RecordStore.in_memory(context)
            else:
                store = RecordStore.open(attempt, root, context)
        except (StoreUnusable, OSError, sqlite3.Error) as exc:
            notes.append(_unusable(attempt, exc))
            continue
        try:
            with store.refreshed(files, check, need_records):
                return answer(store, files.order), notes
        except StaleListing:
            files.whole = True
            attempts.insert(0, attempt)
        except (OSError, sqlite3.Error) as exc:
            if attempt is None:
                raise
            notes.append(_unusable(attempt, exc))
        finally:
            store.close()
    raise AssertionError("the store in memory always answers")  # pragma: no cover


def _unusable(store_file: Path | None, error: Exception) -> str:
    shown = display_path(store_file) if store_file else "in memory"
    reason = str(error) or type(error).__name__
    if isinstance(error, sqlite3.OperationalError) and "locked" in reason:
        reason = "another runbook command is writing it"
    return f"record store {shown} not used ({reason}): every record file checked without it"
