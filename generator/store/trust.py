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
import json
import os
import secrets
from pathlib import Path
from typing import Any

from ..config import user_cache_folder
from ..repository_files import read_regular_file, write_file

CACHE_FOLDER = ".runbook-cache"  # beside mkdocs.yml; `runbook init` lists it in .gitignore
KEY_BYTES = 32
SIGNATURE_BYTES = hashlib.sha256().digest_size


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


def read_signed(path: Path, key: bytes) -> tuple[bytes, bytes] | None:
    """The signature and payload of a file `write_signed` kept, if `key` signed it; None if
    it is missing, unreadable, damaged or signed with another key (then nothing in it may
    be read)."""
    try:
        blob, _ = read_regular_file(path)
    except OSError:
        return None
    signed, payload = blob[:SIGNATURE_BYTES], blob[SIGNATURE_BYTES:]
    return (signed, payload) if hmac.compare_digest(signed, signature(key, payload)) else None


def write_signed(path: Path, key: bytes, payload: bytes) -> bytes:
    """Keep `payload` at `path` signed with `key` (whole or not at all, inside the cache
    folder's parent: the repository); its signature. Raises OSError when it cannot."""
    signed = signature(key, payload)
    write_file(path, signed + payload, inside=path.parent.parent, mode=0o600)
    return signed


def read_signed_json(path: Path) -> Any:
    """What `write_signed_json` kept at `path`, if this user's key signed it under this code;
    else None (missing, damaged, made elsewhere or by another version)."""
    key = signing_key()
    found = read_signed(path, key) if key is not None else None
    if found is None:
        return None
    try:
        kept = json.loads(found[1])
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("code") != code_digest():
        return None
    return kept.get("content")


def write_signed_json(path: Path, content: Any) -> None:
    """Keep `content` (JSON data) at `path`, signed with this user's key and marked with this
    code; nothing when it cannot be."""
    key = signing_key()
    if key is None:
        return
    payload = json.dumps({"code": code_digest(), "content": content}).encode("utf-8")
    with contextlib.suppress(OSError):
        write_signed(path, key, payload)
