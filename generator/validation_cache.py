"""Per-file validation results kept between incremental builds and `runbook serve` rebuilds.

Adding one record to a 5,000-record runbook should not parse the other 4,999 again. A file's
result (its validated record and diagnostics) is reused while the file's size, modification
time and inode are unchanged and everything else a result depends on (runbook's code, the
checklists, the validation settings, the reference day, the working folder that diagnostics'
paths are relative to) has the same digest. Full builds only refresh it; `runbook validate`
leaves it alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collector import collector_paused

Stamp = tuple[int, int, int]
# What `_check_record_file` returns for one file: the record (None if invalid) and diagnostics.
Result = tuple[Any, list[Any]]


def _code_digest() -> str:
    """The validator's own source: a changed rule (even uninstalled, in a checkout) must not
    be hidden by results cached before it."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def file_stamp(path: str) -> Stamp | None:
    """Size, modification time (ns) and inode: any edit, replacement or touch changes it."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns, status.st_ino)


@dataclass
class ValidationCache:
    """Results by file path, valid for one context digest (see the module docstring)."""

    path: Path
    context: str
    results: dict[str, tuple[Stamp, Result]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, context_inputs: list[Any], *, load: bool = True) -> ValidationCache:
        """The stored results if they were made in the same context (and `load`), else none."""
        digest = hashlib.sha256(
            repr([_code_digest(), os.getcwd(), *context_inputs]).encode()
        ).hexdigest()
        cache = cls(path, digest)
        if not load:
            return cache
        try:
            with open(path, "rb") as stream, collector_paused():
                stored_context, results = pickle.load(stream)
        except Exception:  # a damaged or foreign cache only means validating every file
            return cache
        if stored_context == digest and isinstance(results, dict):
            cache.results = results
        return cache

    def reusable(self, path: str, stamp: Stamp | None) -> Result | None:
        entry = self.results.get(path)
        return entry[1] if entry is not None and stamp is not None and entry[0] == stamp else None

    def save(self, results: dict[str, tuple[Stamp, Result]]) -> None:
        """Replace the stored results (written beside and renamed: never half a file); a
        cache that cannot be written is no reason to fail a build."""
        partial = self.path.with_suffix(".partial")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as stream:
                pickle.dump((self.context, results), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, self.path)
