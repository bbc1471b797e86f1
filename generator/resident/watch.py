"""The resident validator's watcher: Linux (inotify) reports every change under a records
folder, so that a run lists the folder and reads stamps only where something changed.

It vouches for a folder only where the reports are complete: the folder is on a local
filesystem (a network or host-shared mount is not told of edits made on the other side),
every subfolder is watched, and no report was lost (a full queue says so, and everything is
forgotten). A file that is a symlink is always stat-ed: its target may live anywhere.
Anything else means listing and stat-ing, as a run on its own does.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check.files import Stamp, discover, file_stamp

# Filesystems whose changes all pass through this kernel (bind mounts of them included).
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "f2fs", "jfs", "reiserfs", "zfs"}
    | {"tmpfs", "ramfs", "overlay"}
)


@dataclass
class _Folder:
    """A records folder being watched: its listing, until a report says it changed."""

    path: str
    files: list[str] | None = None
    watches: dict[int, str] = field(default_factory=dict)  # descriptor → directory


class FolderWatcher:
    """check.files.Watcher, told of changes by inotify."""

    def __init__(self, inotify: Any, flags: Any) -> None:
        self._inotify = inotify
        self._flags = flags
        self._mask = (
            flags.MODIFY
            | flags.ATTRIB
            | flags.CLOSE_WRITE
            | flags.CREATE
            | flags.DELETE
            | flags.MOVED_FROM
            | flags.MOVED_TO
            | flags.DELETE_SELF
            | flags.MOVE_SELF
            | flags.ONLYDIR
        )
        self._folders: dict[str, _Folder] = {}
        self._watched: dict[int, _Folder] = {}
        self._directories: set[str] = set()
        self._stamps: dict[str, Stamp | None] = {}

    @classmethod
    def start(cls) -> FolderWatcher | None:
        """A watcher, or None where inotify is missing or refused (no more instances)."""
        try:
            from inotify_simple import INotify, flags

            return cls(INotify(), flags)
        except (ImportError, OSError, AttributeError):
            return None

    def record_files(self, folder: Path) -> list[str] | None:
        self._take_reports()
        key = str(folder)
        watched = self._folders.get(key)
        if watched is None:
            if not on_local_filesystem(key):
                return None
            watched = self._folders[key] = _Folder(key)
        if watched.files is None:
            if not self._watch_tree(watched):
                self._forget(watched)
                return None
            watched.files = discover(folder, recursive=True)
        return list(watched.files)

    def stamp(self, path: str) -> Stamp | None:
        if path in self._stamps:
            return self._stamps[path]
        stamp = file_stamp(path)
        if os.path.dirname(path) in self._directories and not os.path.islink(path):
            self._stamps[path] = stamp
        return stamp

    def _watch_tree(self, watched: _Folder) -> bool:
        """Watch the folder and every subfolder the listing enters (before it is listed, so
        that a change made while listing is reported); False if one cannot be watched."""
        pending = [watched.path]
        while pending:
            directory = pending.pop()
            try:
                descriptor = self._inotify.add_watch(directory, self._mask)
                entries = list(os.scandir(directory))
            except OSError:  # gone meanwhile, or out of watches (fs.inotify.max_user_watches)
                return False
            watched.watches[descriptor] = directory
            self._watched[descriptor] = watched
            self._directories.add(directory)
            pending += [entry.path for entry in entries if entry.is_dir(follow_symlinks=False)]
        return True

    def _take_reports(self) -> None:
        flags = self._flags
        for event in self._inotify.read(timeout=0):
            if event.mask & flags.Q_OVERFLOW:  # reports were lost: vouch for nothing
                for watched in list(self._folders.values()):
                    self._forget(watched)
                continue
            watched = self._watched.get(event.wd)
            if watched is None:
                continue
            if event.mask & (flags.IGNORED | flags.DELETE_SELF | flags.MOVE_SELF):
                self._forget(watched)
                continue
            directory = watched.watches[event.wd]
            self._stamps.pop(os.path.join(directory, event.name), None)
            if event.mask & (flags.CREATE | flags.DELETE | flags.MOVED_FROM | flags.MOVED_TO):
                watched.files = None  # listed again (a new subfolder is watched then)

    def _forget(self, watched: _Folder) -> None:
        for descriptor, directory in watched.watches.items():
            with contextlib.suppress(OSError):
                self._inotify.rm_watch(descriptor)
            self._watched.pop(descriptor, None)
            self._directories.discard(directory)
        self._folders.pop(watched.path, None)
        self._stamps.clear()


def on_local_filesystem(path: str) -> bool:
    """Whether the filesystem holding `path` is one this kernel sees every change of (read
    from /proc/self/mountinfo: the longest mount point that contains the path)."""
    real = os.path.realpath(path)
    best, kind = "", ""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields, _, rest = line.partition(" - ")
                parts = fields.split()
                if len(parts) < 5 or not rest:
                    continue
                point = _unescaped(parts[4])
                inside = real == point or real.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, rest.split()[0]
    except OSError:
        return False
    return kind in LOCAL_FILESYSTEMS


def _unescaped(field: str) -> str:
    r"""mountinfo writes a space as \040, a tab as \011, a newline as \012, \ as \134."""
    return _OCTAL_ESCAPE.sub(lambda escape: chr(int(escape[1], 8)), field)


_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
