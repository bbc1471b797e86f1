"""Where an aggregating runbook keeps its git sources, and what it knows about each.

    .runbook-cache/sources/NAME/repo.git        one partial, shallow repository per source
    .runbook-cache/sources/NAME/commits/SHA/    the files of one commit, checked out once
    .runbook-cache/sources/NAME/state.json      the commit last fetched, the last one that
                                                validated, and why the last fetch failed

A checkout is made under a temporary name and renamed to its commit when complete, so a
folder named by a commit always holds that whole commit: "is it cached" is one `stat`.
`runbook sources sync` (authoring/sources.py) writes the fetched commit; whatever validates a
source (check/sources.py) writes the good one. The record store will read the same folders.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .check.cache import CACHE_FOLDER
from .repository_files import read_regular_file, write_file

COMMIT = re.compile(r"[0-9a-f]{40}")
_USER_PART = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def redacted(text: str) -> str:
    """Text that may hold a URL (a git message, a source's location), every URL's user part
    left out: config refuses passwords, but a token can be a URL's user name, and a git
    message may quote a URL a credential helper rewrote."""
    return _USER_PART.sub(r"\1", text)


@dataclass(frozen=True)
class SourceState:
    """What the cache holds of one git source."""

    commit: str | None = None  # the commit the last successful sync checked out
    good: str | None = None  # the last commit that validated
    problem: str | None = None  # why the last sync failed (None: it did not)


def cache_root(root: Path) -> Path:
    """The aggregate's cache folder (beside its mkdocs.yml)."""
    return root / CACHE_FOLDER


def source_folder(root: Path, name: str) -> Path:
    return cache_root(root) / "sources" / name


def checkout_folder(root: Path, name: str, commit: str) -> Path:
    return source_folder(root, name) / "commits" / commit


def read_state(root: Path, name: str) -> SourceState:
    """The state of a source; empty when it was never synced (or the file is unreadable)."""
    with contextlib.suppress(OSError, ValueError, TypeError):
        data, _ = read_regular_file(source_folder(root, name) / "state.json", follow_links=False)
        fields = json.loads(data)
        state = SourceState(**{key: fields.get(key) for key in ("commit", "good", "problem")})
        if all(c is None or COMMIT.fullmatch(c) for c in (state.commit, state.good)):
            return state
    return SourceState()


def write_state(root: Path, name: str, state: SourceState) -> None:
    write_file(
        source_folder(root, name) / "state.json",
        json.dumps(asdict(state), indent=1) + "\n",
        inside=root,
    )
