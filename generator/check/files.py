"""Which record files exist, and whether each changed since the last run.

A run on its own lists the records folder and reads every file's stamp, as it must: 10,000
records cost 10,000 stat calls, most of a pre-commit run once the rest is kept. A process
that keeps running (the resident validator) can install a watcher that the system tells of
every change in the folder (resident/watch.py); then only what changed is listed or stat-ed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

YAML_SUFFIXES = (".yaml", ".yml")
Stamp = tuple[int, int, int]


class Watcher(Protocol):
    """What a watcher answers in place of listing and stat-ing."""

    def record_files(self, folder: Path) -> list[str] | None:
        """discover(folder, recursive=True), or None when it cannot vouch for the folder."""

    def stamp(self, path: str) -> Stamp | None:
        """file_stamp(path), from what it was told when it can vouch for the file."""


_watcher: Watcher | None = None


def watch_with(watcher: Watcher | None) -> None:
    """Answer list_record_files and stamp_of through `watcher` from now on (None: never)."""
    global _watcher
    _watcher = watcher


def list_record_files(folder: Path) -> list[str]:
    """The YAML files under the records folder, in discover's order."""
    listed = _watcher.record_files(folder) if _watcher is not None else None
    return discover(folder, recursive=True) if listed is None else listed


def stamp_of(path: str) -> Stamp | None:
    return _watcher.stamp(path) if _watcher is not None else file_stamp(path)


def file_stamp(path: str) -> Stamp | None:
    """Size, modification time (ns) and inode: any edit, replacement or touch changes it."""
    try:
        return stamp_from(os.stat(path))
    except OSError:
        return None


def stamp_from(status: os.stat_result) -> Stamp:
    """The stamp of a file whose status was read already (the loader's fstat)."""
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def discover(folder: Path, *, recursive: bool) -> list[str]:
    """YAML files in a folder, in a stable order; none if the folder does not exist.

    scandir reads file types from the directory listing, so 10,000 records cost no stat. The
    paths stay strings (sorted as split at slashes, Path's order): building, hashing and
    pickling 10,000 Path objects cost more than the rest of a run outside the workers.
    """
    found: list[str] = []
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.name.lower().endswith(YAML_SUFFIXES) and not _is_dir(entry):
                found.append(entry.path)  # the loader reports what is not a regular file
            elif recursive and entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    # Sorted as split at slashes: NUL, below every character a name can hold, stands in.
    return sorted(found, key=lambda path: path.replace(os.sep, "\0"))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, through symlinks; a link loop or a dangling link is not one (the loader
    then reports it as unreadable, at its own path)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
