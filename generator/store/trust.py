"""What a kept result may be trusted under: runbook's own code, and this user's key.

Whatever runbook keeps between runs (the record store, the build's caches) is reused only when
it was made by the same code, in the same context, by this user: a kept file may come from a
clone, a CI cache shared with pull requests or a folder committed by mistake. Each such file
carries an HMAC made with a key this user keeps outside the repository; one that does not
verify is never trusted.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..config import user_cache_folder
from ..repository_files import read_regular_file

CACHE_FOLDER = ".runbook-cache"  # beside mkdocs.yml; `runbook init` lists it in .gitignore
KEY_BYTES = 32


@functools.cache
def code_digest() -> str:
    """The validator's own source: a changed rule (even uninstalled, in a checkout) must not
    be hidden by results kept before it. Read once per process: the code that runs is the
    code that was imported."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode() + b"\0")
        digest.update(module.read_bytes())
    return digest.hexdigest()


def signing_key_path() -> Path:
    """Where this user's key lives: the user's cache folder, never the repository."""
    return user_cache_folder() / "cache-key"


def signing_key() -> bytes | None:
    """This user's key, made (readable by the user alone) on first use; None when it can
    be neither read nor made, which only means keeping nothing. A key someone else could
    have read or planted (a link, another owner, readable by others) is never used: with it,
    a kept file could be forged."""
    path = signing_key_path()
    with contextlib.suppress(OSError):
        key, status = read_regular_file(path, follow_links=False)
        return key if len(key) == KEY_BYTES and private(status) else None
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # unwritable, or another run made it a moment ago: use it next time
        return None
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key)
    return key


def private(status: os.stat_result) -> bool:
    """This user's own, and no one else may read or write it (where the system says)."""
    owner = getattr(os, "getuid", None)
    return owner is None or (status.st_uid == owner() and not status.st_mode & 0o077)


def signature(key: bytes, payload: bytes) -> bytes:
    return hmac.digest(key, payload, "sha256")
