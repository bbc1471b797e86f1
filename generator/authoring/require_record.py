"""`runbook validate --changed REV --require-record PATTERN`: a pull request that changes
files matching a pattern must add or edit a record whose `files_touched` lists them.

Patterns are gitignore-style globs: `*` and `?` stay within a folder, `**` crosses folders,
a pattern without a slash (`*.tf`) matches a file name in any folder, a trailing slash
(`deploy/`) a folder and everything below it. A file is covered by a changed record whose
`files_touched` names it exactly, names a folder above it (`deploy/` or `deploy`), or holds a
glob (same syntax) matching it. A renamed file is covered under either name; a deleted one
needs its record like any other change.

Escape hatches, for changes that need no record: a commit trailer `Runbook-Record: none` or
`Skip-Runbook-Record: REASON` in any commit of the range, or the environment variable
RUNBOOK_SKIP_RECORD set to anything but empty (the scaffolded check sets it when the pull
request has the label `no-runbook-record`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..check.loader import load_yaml_file
from ..check.paths import location
from ..config import RunbookOptions
from .git import pull_request_since

SKIP_VARIABLE = "RUNBOOK_SKIP_RECORD"
_TRAILER = re.compile(
    r"^(?:runbook-record:[ \t]*none[ \t]*|skip-runbook-record:[ \t]*\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Coverage:
    """The verdict: files that need a record and have none, or why nothing is required."""

    uncovered: list[str]
    skipped: str = ""
    note: str = ""


@functools.cache
def glob_pattern(pattern: str) -> re.Pattern[str]:
    """A gitignore-style glob as a regular expression over a POSIX path."""
    folder = pattern.endswith("/")
    anchored = "/" in pattern.rstrip("/")  # a leading slash too, as in .gitignore
    pattern = pattern.strip("/")
    parts, position = [], 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            parts.append("(?:.*/)?")
            position += 3
        elif pattern.startswith("**", position):
            parts.append(".*")
            position += 2
        elif pattern[position] == "*":
            parts.append("[^/]*")
            position += 1
        elif pattern[position] == "?":
            parts.append("[^/]")
            position += 1
        else:
            parts.append(re.escape(pattern[position]))
            position += 1
    body = "".join(parts)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if folder else "(?:/.*)?"
    return re.compile(f"{prefix}{body}{suffix}", re.DOTALL)


def matches(pattern: str, path: str) -> bool:
    return glob_pattern(pattern).fullmatch(path) is not None


def _covers(entry: str, path: str) -> bool:
    """Whether a files_touched entry names `path`: exactly, as a folder above it, or as a
    glob matching it."""
    entry = entry.strip()
    if entry == path or (entry and path.startswith(entry.rstrip("/") + "/")):
        return True
    return any(c in entry for c in "*?") and matches(entry, path)


def check_coverage(options: RunbookOptions, revision: str, patterns: Iterable[str]) -> Coverage:
    """Which files matching `patterns` changed since REV with no changed record listing them."""
    if os.environ.get(SKIP_VARIABLE, "").strip():
        return Coverage([], skipped=f"{SKIP_VARIABLE} is set")
    change = pull_request_since(options.root, revision)
    if change.note:
        return Coverage([], note=change.note)
    if any(_TRAILER.search(message) for message in change.messages):
        return Coverage([], skipped="a commit says Runbook-Record: none")
    patterns = list(patterns)
    required = [
        names
        for names in change.touched
        if any(matches(pattern, name) for pattern in patterns for name in names)
    ]
    if not required:
        return Coverage([])
    paths = [name for names in change.touched for name in names]
    listed = [
        entry for path in _changed_records(options, change.root, paths)
        for entry in _files_touched(path, options)
    ]  # fmt: skip
    return Coverage(
        [
            " -> ".join(names)
            for names in required
            if not any(_covers(entry, name) for entry in listed for name in names)
        ]
    )


def _changed_records(options: RunbookOptions, root: Path, touched: list[str]) -> list[Path]:
    records = options.records_dir.resolve()
    paths = [Path(location(root / name)) for name in touched]
    return [
        p
        for p in paths
        if p.name.lower().endswith((".yaml", ".yml")) and p.is_file() and p.is_relative_to(records)
    ]


def _files_touched(path: Path, options: RunbookOptions) -> list[str]:
    loaded = load_yaml_file(str(path), str(path), max_bytes=options.max_file_bytes)
    data = loaded.data if isinstance(loaded.data, dict) else {}
    entries = data.get("files_touched")
    return [e for e in entries if isinstance(e, str)] if isinstance(entries, list) else []
