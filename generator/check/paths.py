"""Paths as a person types them: what diagnostics show, and which files a run selects."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .files import discover

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


def is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def expand(paths: Iterable[Path]) -> list[str | Path]:
    expanded: list[str | Path] = []
    for path in paths:
        expanded += discover(path, recursive=True) if path.is_dir() else [path]
    return expanded
