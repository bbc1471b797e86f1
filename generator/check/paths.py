"""Paths as a person types them: what diagnostics show, and which files a run selects."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .files import discover

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
    listed = record_files + checklist_files
    known = set(listed)
    selected = as_listed(only, listed, known)
    extra = [p for p in selected if p not in known and os.path.isfile(p)]
    record_files += [p for p in extra if not is_inside(p, options.checklists_dir)]
    return checklist_files, record_files, selected
