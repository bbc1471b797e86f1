"""Paths as a person types them: what diagnostics show, and which files a run selects."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .files import YAML_SUFFIXES, FolderStamp, Stamp, discover, listed, relisted, sort_key

if TYPE_CHECKING:
    from ..config import RunbookOptions

# What makes a path not normal: `/.`, `//`, and on Windows (separator `\\`) a `/` anywhere.
_SEP_DOT, _SEP_SEP, _ALTSEP = os.sep + ".", os.sep * 2, os.altsep


def display_path(path: str | Path, cwd: str | None = None) -> str:
    """The path as a person in the current folder (`cwd`, when the caller has read it) would
    type it: string work, no syscall but reading the current folder."""
    cwd = cwd or os.getcwd()
    inside = cwd.rstrip(os.sep) + os.sep
    # A record's path as the folder listing gives it (absolute, already normal, inside the
    # folder) needs no normalising, which was most of this function's cost, once per record.
    if (
        isinstance(path, str)
        and path.startswith(inside)
        and not (_SEP_DOT in path or _SEP_SEP in path or path.endswith(os.sep))
        and not (_ALTSEP and _ALTSEP in path)
    ):
        return path[len(inside) :]
    return normalised_display_path(cwd, path)


def normalised_display_path(cwd: str, path: str | Path) -> str:
    """display_path for any path, by normalising it."""
    absolute = os.path.normpath(os.path.join(cwd, path))
    if absolute == cwd:
        return "."
    inside = cwd.rstrip(os.sep) + os.sep
    return absolute[len(inside) :] if absolute.startswith(inside) else absolute


def location(path: str | Path) -> str:
    """Where a file sits, one absolute string however it is named: its folder resolved
    (symlinks, `..`), its own name kept as it is. A record that is a link is where the link
    is, not where it points: that is where a full run finds it and reports it."""
    absolute = os.path.join(os.getcwd(), path)
    folder, name = os.path.split(absolute)
    if name in ("", ".", ".."):
        return os.path.realpath(absolute)
    return os.path.join(os.path.realpath(folder), name)


def is_inside(path: str | Path, folder: Path) -> bool:
    """True when the file at `path` (a link where it sits) is in `folder` or below it."""
    return Path(location(path)).is_relative_to(folder.resolve())


def as_listed(paths: Iterable[Path], listed: list[str], known: set[str]) -> list[str]:
    """The files that `paths` name (a folder: the YAML files in it and below), each as
    `listed` (the folder listings' paths, `known` as a set) names the same file, else at its
    location().

    A run's selection and the diagnostics it selects then name a file by one string, however
    it was typed: relative or not, through a linked folder or not, in any characters."""
    by_location: dict[str, str] | None = None  # made once a path is typed otherwise
    chosen: list[str] = []
    for path in paths:
        for found in discover(path, recursive=True) if path.is_dir() else [path]:
            place = location(found)
            if place not in known:
                by_location = by_location or _by_location(listed)
                place = by_location.get(place, place)
            chosen.append(place)
    return list(dict.fromkeys(chosen))


def _by_location(listed: list[str]) -> dict[str, str]:
    folders: dict[str, str] = {}  # realpath once per folder: a few folders hold every record
    by_location = {}
    for path in listed:
        folder, name = os.path.split(path)
        if folder not in folders:
            folders[folder] = os.path.realpath(folder)
        by_location[os.path.join(folders[folder], name)] = path
    return by_location


def runbook_files(
    options: RunbookOptions, only: Sequence[Path] | None
) -> tuple[list[str], list[str], list[str] | None]:
    """The checklist files, the record files and the selected files (None: all of them),
    each named as the folder listing names it; a selected file that is in neither folder is
    checked as a record."""
    checklist_files = discover(options.checklists_dir, recursive=False)
    record_files = discover(options.records_dir, recursive=True)
    if only is None:
        return checklist_files, record_files, None
    selected, extras = _named(only, record_files + checklist_files, options)
    return checklist_files, record_files + extras, selected


def _named(
    only: Sequence[Path], listed: list[str], options: RunbookOptions
) -> tuple[list[str], list[str]]:
    """The named files as the listing names them, and those of them it does not hold that
    are checked as records (files outside both folders)."""
    known = set(listed)
    selected = as_listed(only, listed, known)
    extra = [p for p in selected if p not in known and os.path.isfile(p)]
    return selected, [p for p in extra if not is_inside(p, options.checklists_dir)]


class RecordFiles:
    """The record files a run reads and the files it selects (runbook_files' answers), found
    by listing the records folder in full (`list_all`), or, for a run on named files given the
    folders and stamps of the last listing, by reading again only the folders whose stamp
    changed (`list_changed`): the others hold the entries they had."""

    def __init__(
        self, options: RunbookOptions, checklist_files: list[str], only: Sequence[Path] | None
    ):
        self.options = options
        self.checklist_files = checklist_files
        self.only = only
        # The record files this run listed itself (every one, when listed in full), and the
        # files named outside the records folder (checked as records; listed in full only).
        self.paths: list[str] = []
        self.extras: list[str] = []
        # The folders not read again: their files are the store's rows there.
        self.unchanged: list[str] = []
        self.folders: list[FolderStamp] = []
        self.selected: list[str] | None = None
        self.partial = False
        self.whole = False  # list every folder (set after a run on named files was refused)

    def list_all(self) -> None:
        folders: list[FolderStamp] = []
        record_files = listed(self.options.records_dir, folders)
        self.folders, self.unchanged, self.extras, self.partial = folders, [], [], False
        if self.only is not None:
            every = record_files + self.checklist_files
            self.selected, self.extras = _named(self.only, every, self.options)
        self.paths = record_files + self.extras

    def list_changed(self, kept: dict[str, tuple[str, Stamp | None]]) -> bool:
        """List again the folders whose stamp differs from the one `kept`; False (nothing
        done) unless every named path is a checklist or a record file of the listing."""
        if self.whole or self.only is None or not kept or any(p.is_dir() for p in self.only):
            return False
        files, unchanged, folders = relisted(os.fspath(self.options.records_dir), kept)
        checklists = set(self.checklist_files)
        spelled: dict[str, str] | None = None
        selected = []
        for path in self.only:
            (place,) = as_listed([path], self.checklist_files, checklists)
            if place in checklists:
                selected.append(place)
                continue
            folder, name = os.path.split(place)
            if folder not in files and folder not in unchanged:
                if spelled is None:
                    spelled = {os.path.realpath(f): f for f, _, _ in folders}
                folder = spelled.get(folder, "")
            listing = files.get(folder)
            place = os.path.join(folder, name)
            if listing is not None and place in listing:
                selected.append(place)
            elif folder in unchanged and name.lower().endswith(YAML_SUFFIXES):
                if not os.path.isfile(place):
                    return False
                selected.append(place)
            else:
                return False
        self.paths = [path for found in files.values() for path in found]
        self.extras, self.unchanged, self.folders, self.partial = [], unchanged, folders, True
        self.selected = list(dict.fromkeys(selected))
        return True

    def order(self, path: str) -> tuple[int, int | str]:
        """Where a record file comes in the listing (sort_key: as discover lists them), the
        files named outside it after them, in the order named."""
        if path in self.extras:
            return 1, self.extras.index(path)
        return 0, sort_key(path)

    def named_records(self) -> list[str] | None:
        """The selected record files (None: every file)."""
        if self.selected is None:
            return None
        if self.partial:  # every named file is a checklist or a listed record file
            checklists = set(self.checklist_files)
            return [path for path in self.selected if path not in checklists]
        records = set(self.paths)
        return [path for path in self.selected if path in records]
