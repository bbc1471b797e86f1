"""Which record files exist, and whether each changed since the last run (its stamp)."""

from __future__ import annotations

import os
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")
Stamp = tuple[int, int, int, int]


def file_stamp(path: str) -> Stamp | None:
    """Size, modification and change times (ns) and inode: any edit, replacement or touch
    changes it. The change time is there because the others can all be kept by an edit
    (`cp -p`, `rsync --inplace -t`, `touch -r` restore the modification time of a file
    rewritten at the same size in place), while no user can set it: every write moves it."""
    try:
        return stamp_from(os.stat(path))
    except OSError:
        return None


def stamp_from(status: os.stat_result) -> Stamp:
    """The stamp of a file whose status was read already (the loader's fstat)."""
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


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
