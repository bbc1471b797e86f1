"""Which record files exist, and whether each changed since the last run (its stamp)."""

from __future__ import annotations

import hashlib
import marshal
import operator
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")
Stamp = tuple[int, int, int, int]
# A path and its stamp's fields (size, mtime_ns, ctime_ns, inode), or the path alone when it
# could not be stat'ed.
StampedPath = tuple[str, int, int, int, int] | tuple[str]
# A folder a listing read: its path, the folder it is in ("" for the top one), and its stamp
# taken before it was read, or None when it changed too recently for the stamp to vouch for
# what was read (a file added in the same tick of the clock would leave the stamp as it was).
FolderStamp = tuple[str, str, Stamp | None]
SETTLED_NS = 2_000_000_000


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
    paths stay strings: building, hashing and pickling 10,000 Path objects cost more than the
    rest of a run outside the workers.
    """
    return list(_yaml_files(folder, recursive))


def listed(folder: Path, folders: list[FolderStamp]) -> list[str]:
    """discover(folder, recursive=True), adding to `folders` each folder read, with its
    stamp (the record store keeps them: a folder whose stamp is unchanged holds the same
    entries, since adding, removing or renaming one changes its folder's times)."""
    return list(_yaml_files(folder, True, folders))


def relisted(
    top: str, kept: dict[str, tuple[str, Stamp | None]]
) -> tuple[dict[str, list[str]], list[str], list[FolderStamp]]:
    """The listing under `top` read again only where a folder's stamp differs from the one
    `kept` (each folder of the last listing: the folder it is in, its stamp): the YAML files
    of each folder read (by folder, sorted), the folders whose entries are as kept (not read),
    and every folder with its stamp, as `listed` gives them."""
    children: defaultdict[str, list[str]] = defaultdict(list)
    for folder, (parent, _) in kept.items():
        children[parent].append(folder)
    files: dict[str, list[str]] = {}
    unchanged: list[str] = []
    folders: list[FolderStamp] = []
    pending = [(top, "")]
    while pending:
        folder, parent = pending.pop()
        known = kept.get(folder)
        vouched = known is not None and known[1] is not None and known[0] == parent
        if vouched and file_stamp(folder) == known[1]:  # its entries are those it had
            unchanged.append(folder)
            folders.append((folder, parent, known[1]))
            pending += [(child, folder) for child in children[folder]]
            continue
        found = files[folder] = []
        for entry in _sorted_entries(folder, parent, folders):
            if entry.name.lower().endswith(YAML_SUFFIXES) and not _is_dir(entry):
                found.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, folder))
    return files, unchanged, folders


def settled_stamp(folder: str) -> Stamp | None:
    """A folder's stamp, when it last changed long enough ago (SETTLED_NS) that any change
    from now on gives it another; else None."""
    before = time.time_ns()
    stamp = file_stamp(folder)
    if stamp is None or max(stamp[1], stamp[2]) >= before - SETTLED_NS:
        return None
    return stamp


def has_yaml_files(folder: Path, *, recursive: bool) -> bool:
    """Whether discover would find any file, read only as far as the first one."""
    return next(_yaml_files(folder, recursive), None) is not None


def _yaml_files(
    folder: str | Path, recursive: bool, folders: list[FolderStamp] | None = None
) -> Iterator[str]:
    """The YAML files under `folder`, sorted as Path sorts them (name by name, a folder's
    files where its name falls among its siblings'): each folder's names are sorted as they
    are read, which costs less than sorting every path of a large runbook by a key. A stack
    of folders being read, not recursion: a hostile tree may nest deeper than Python's stack."""
    top = os.fspath(folder)
    reading = [(top, iter(_sorted_entries(top, "", folders)))]
    while reading:
        current, entries = reading[-1]
        for entry in entries:
            if entry.name.lower().endswith(YAML_SUFFIXES) and not _is_dir(entry):
                yield entry.path  # the loader reports what is not a regular file
            elif recursive and entry.is_dir(follow_symlinks=False):
                reading.append((entry.path, iter(_sorted_entries(entry.path, current, folders))))
                break  # its files come before the rest of this folder's
        else:
            reading.pop()


def _sorted_entries(
    folder: str, parent: str = "", folders: list[FolderStamp] | None = None
) -> list[os.DirEntry[str]]:
    if folders is not None:  # stamped before it is read: a change while reading shows next run
        folders.append((folder, parent, settled_stamp(folder)))
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=_name)
    except OSError:
        return []


_name = operator.attrgetter("name")


def sort_key(path: str) -> str:
    """Where discover places a path: split at slashes (NUL, below every character a name can
    hold, stands in for them)."""
    return path.replace(os.sep, "\0")


@dataclass
class Observed:
    """The record files as a run finds them: by folder (folder_of), each file's path with its
    stamp (a row like the record store's), and the digest of the folder's rows
    (folder_digest). The store keeps each folder's digest too, so a run compares rows only
    in the folders whose digest differs from the one kept."""

    rows: dict[str, list[StampedPath]]
    digests: dict[str, bytes | None]


def stamped(paths: list[str]) -> Observed:
    """Each path with its stamp, by folder; a path that cannot be stat'ed is a row of its
    path alone, equal to no stored row, so the loader reads it and says why."""
    stat = os.stat
    rows: defaultdict[str, list[StampedPath]] = defaultdict(list)
    for path in paths:
        try:
            status = stat(path)
        except OSError:
            row: StampedPath = (path,)
        else:
            row = (path, status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
        rows[folder_of(path)].append(row)
    return Observed(rows, {folder: folder_digest(group) for folder, group in rows.items()})


def file_stem(path: str | Path) -> str:
    """The file name without its last suffix, as os.path.splitext reads it (`..yaml` keeps
    its dots), for paths kept as strings; by slicing, since a runbook's cross-record checks
    take the stem of every file on each run."""
    path = os.fspath(path)
    name = path[path.rfind(os.sep) + 1 :]
    stem = name[: name.rfind(".")]
    return stem if stem.strip(".") else name


def folder_of(path: str) -> str:
    """The folder a record file's row is kept under in the store (its digest's group): any
    grouping does, as long as the store's rows are grouped by this same function."""
    return path.rpartition(os.sep)[0]


def folder_digest(rows: list[StampedPath]) -> bytes | None:
    """One digest of a folder's files and their stamps, whatever their order; None when a
    file has no stamp (it could not be stat'ed or read), so the folder never looks unchanged
    and that file is read again, as a file without a stamp always is."""
    if any(len(row) == 1 for row in rows):
        return None
    # marshal's version 2 (no references between objects) writes each path and number as
    # typed, sized bytes: one serialisation per value, made in C. Paths are unique: sorted
    # by path.
    return hashlib.sha256(marshal.dumps(sorted(rows), 2)).digest()


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, through symlinks; a link loop or a dangling link is not one (the loader
    then reports it as unreadable, at its own path)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
