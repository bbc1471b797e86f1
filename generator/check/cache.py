"""Per-file validation results kept between incremental builds, `runbook serve` rebuilds and
`runbook validate` runs.

Adding one record to a 5,000-record runbook should not parse the other 4,999 again, and
neither should a pre-commit hook checking the one record a commit changed (its cross-record
checks read every other record). A file's result (its diagnostics, and its validated record
for builds) is reused while the file's size, modification time and inode are unchanged and
everything else a result depends on (runbook's code, the checklists, the validation settings,
the reference day, the working folder that diagnostics' paths are relative to) has the same
digest. Full builds only refresh it. Builds and `runbook validate` keep one file each
(`validate` keeps no records, so its results are small to load).

The results are pickled, and unpickling runs code: the file is signed (HMAC-SHA256) with a key
this user keeps outside the repository, and nothing is unpickled unless the signature holds.
A cache that came from anywhere else (a CI cache shared with pull requests, a folder committed
by mistake) is ignored like a damaged one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .gc_pause import collector_paused

CACHE_FOLDER = ".runbook-cache"  # beside mkdocs.yml; `runbook init` lists it in .gitignore
KEY_BYTES = 32
SIGNATURE_BYTES = hashlib.sha256().digest_size
Stamp = tuple[int, int, int]
# What `_check_record_file` returns for one file (validate.RecordResult).
Result = tuple[Any, list[Any], Any]


def _code_digest() -> str:
    """The validator's own source: a changed rule (even uninstalled, in a checkout) must not
    be hidden by results cached before it."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0")
        digest.update(module.read_bytes())
    return digest.hexdigest()


def signing_key_path() -> Path:
    """Where this user's cache key lives: the user's cache folder, never the repository."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "runbook" / "cache-key"


def _signing_key() -> bytes | None:
    """This user's key, made (readable by the user alone) on first use; None when it can
    be neither read nor made, which only means validating every file."""
    path = signing_key_path()
    with contextlib.suppress(OSError):
        key = path.read_bytes()
        return key if len(key) == KEY_BYTES else None
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # unwritable, or another build made it a moment ago: use it next time
        return None
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key)
    return key


def _signature(key: bytes, payload: bytes) -> bytes:
    return hmac.digest(key, payload, "sha256")


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
        key = _signing_key() if load else None
        if key is None:
            return cache
        try:
            with open(path, "rb") as stream:
                blob = stream.read()
            signature, payload = blob[:SIGNATURE_BYTES], blob[SIGNATURE_BYTES:]
            if not hmac.compare_digest(signature, _signature(key, payload)):
                return cache  # not made by this user's builds: never unpickled
            with collector_paused():
                stored_context, results = pickle.loads(payload)
        except Exception:  # a damaged or outdated cache only means validating every file
            return cache
        if stored_context == digest and isinstance(results, dict):
            cache.results = results
        return cache

    def reusable(self, path: str, stamp: Stamp | None) -> Result | None:
        entry = self.results.get(path)
        return entry[1] if entry is not None and stamp is not None and entry[0] == stamp else None

    def save(self, results: dict[str, tuple[Stamp, Result]]) -> None:
        """Replace the stored results (written beside and renamed: never half a file); a
        cache that cannot be written or signed is no reason to fail a build."""
        key = _signing_key()
        if key is None:
            return
        payload = pickle.dumps((self.context, results), protocol=pickle.HIGHEST_PROTOCOL)
        partial = self.path.with_suffix(".partial")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as stream:
                stream.write(_signature(key, payload))
                stream.write(payload)
            os.replace(partial, self.path)
