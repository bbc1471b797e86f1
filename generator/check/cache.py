"""Per-file validation results kept between incremental builds and `runbook serve` rebuilds
(`runbook validate` and `runbook list` keep theirs in the record store: store/).

Adding one record to a 5,000-record runbook should not parse the other 4,999 again. A file's
result (its diagnostics, and its validated record for builds) is reused while the file's
stamp (size, modification and change times, inode: see check/files.py) is unchanged and
everything else a result depends on (runbook's code, the checklists, the validation settings,
the reference day, the working folder that diagnostics' paths are relative to) has the same
digest. Full builds only refresh it. Builds keep one
file, and a delta beside it.

The results are pickled, and unpickling runs code: the file is signed (HMAC-SHA256) with a key
this user keeps outside the repository, and nothing is unpickled unless the signature holds.
A cache that came from anywhere else (a CI cache shared with pull requests, a folder committed
by mistake) is ignored like a damaged one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.trust import CACHE_FOLDER as CACHE_FOLDER
from ..store.trust import code_digest, read_signed, signing_key, write_signed
from .files import Stamp
from .gc_pause import collector_paused

# What `_check_record_file` returns for one file (validate.RecordResult).
Result = tuple[Any, list[Any], Any]


@dataclass
class ValidationCache:
    """Results by file path, valid for one context digest (see the module docstring).

    Stored as a base file and a small delta beside it (`NAME.delta`): a run that changed a
    few results (a pre-commit hook on one record of 10,000) writes only those, instead of
    pickling every result again, which cost more than the rest of such a run. The delta names
    the base it applies to (by its signature), so a base replaced, deleted or damaged leaves
    a delta that is ignored. The base is rewritten once the delta holds a twentieth of it.
    """

    path: Path
    context: str
    results: dict[str, tuple[Stamp, Result]] = field(default_factory=dict)
    base_signature: bytes | None = None
    base_size: int = 0
    delta: dict[str, tuple[Stamp, Result] | None] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, context_inputs: list[Any], *, load: bool = True) -> ValidationCache:
        """The stored results if they were made in the same context (and `load`), else none."""
        digest = hashlib.sha256(
            repr([code_digest(), os.getcwd(), *context_inputs]).encode()
        ).hexdigest()
        cache = cls(path, digest)
        key = signing_key() if load else None
        if key is None:
            return cache
        with collector_paused():
            base = _read_signed(path, key)
            if base is None:
                return cache
            signed, (stored_context, chunks) = base
            results = _entries(chunks) if stored_context == digest else None
            if results is None:
                return cache
            cache.results, cache.base_signature, cache.base_size = results, signed, len(results)
            delta = _read_signed(cache.delta_path, key)
            if delta is not None and delta[1][0] == signed:
                cache.delta = delta[1][1]
                for entry_path, entry in cache.delta.items():
                    if entry is None:
                        results.pop(entry_path, None)
                    else:
                        results[entry_path] = entry
        return cache

    @property
    def delta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".delta")

    def reusable(self, path: str, stamp: Stamp | None) -> Result | None:
        entry = self.results.get(path)
        return entry[1] if entry is not None and stamp is not None and entry[0] == stamp else None

    def save(
        self,
        results: dict[str, tuple[Stamp, Result]],
        *,
        changed: list[str],
        pickled: Sequence[bytes] = (),
    ) -> None:
        """Replace the stored results, of which only the `changed` paths' are new (each file
        written beside and renamed: never half a file); a cache that cannot be written or
        signed is no reason to fail a build.

        `pickled`, when workers checked the changed files: every one of them as the workers
        pickled it, a list of (path, stamp, result) per chunk. The base keeps those bytes as
        they are: pickling 10,000 fresh results again took most of a cold run's time after
        the workers finished."""
        key = signing_key()
        if key is None:
            return
        delta = None
        if self.base_signature is not None and len(changed) * 20 <= self.base_size:
            delta = dict(self.delta)  # it holds every changed path: else too large to be worth it
            delta.update((path, results.get(path)) for path in changed)
            delta.update((path, None) for path in self.results.keys() - results.keys())
        with contextlib.suppress(OSError):
            if delta is not None and len(delta) * 20 <= self.base_size:
                if delta != self.delta:
                    _write_signed(self.delta_path, key, (self.base_signature, delta))
                    self.delta = delta
            else:
                chunks = _chunks(results, changed, pickled)
                self.base_signature = _write_signed(self.path, key, (self.context, chunks))
                self.base_size, self.delta = len(results), {}
                self.delta_path.unlink(missing_ok=True)
            self.results = results


def _chunks(
    results: dict[str, tuple[Stamp, Result]], changed: list[str], pickled: Sequence[bytes]
) -> list[bytes]:
    """The base's content: the workers' chunks, and one chunk of the results they did not make."""
    made = set(changed) if pickled else set()
    rest = [(path, stamp, None, result) for path, (stamp, result) in results.items()]
    rest = [entry for entry in rest if entry[0] not in made]
    return [*pickled, pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL)]


def _entries(chunks: Any) -> dict[str, tuple[Stamp, Result]] | None:
    """The results the base's chunks hold (a file read without a stamp is not kept); None if
    they cannot be read."""
    results = {}
    try:
        for chunk in chunks:
            for path, stamp, _digest, result in pickle.loads(chunk):
                if stamp is not None:
                    results[path] = stamp, result
    except Exception:  # signed, so never foreign: only ever an outdated or damaged layout
        return None
    return results


def _read_signed(path: Path, key: bytes) -> tuple[bytes, Any] | None:
    """A file's signature and unpickled content; None if it is missing, damaged or was not
    signed with this user's key (then it is never unpickled)."""
    found = read_signed(path, key)
    if found is None:
        return None
    try:
        return found[0], pickle.loads(found[1])
    except Exception:  # a damaged or outdated cache only means validating every file
        return None


def _write_signed(path: Path, key: bytes, content: Any) -> bytes:
    """Write the file (whole or not at all, inside the repository: the cache folder's
    parent); its signature."""
    return write_signed(path, key, pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL))
