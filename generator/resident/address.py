"""Where the resident validator listens, and whether to use one: the client's side of this
package imports nothing heavy, since its whole point is a fast start."""

from __future__ import annotations

import hashlib
import os
import site
import stat
import sys
from collections.abc import Mapping

SETTING = "RUNBOOK_RESIDENT"
_ON, _OFF = ("1", "on", "yes", "true"), ("0", "off", "no", "false")
MAX_SOCKET_PATH = 108  # sun_path of a Unix socket address, with its closing NUL


def wanted(environ: Mapping[str, str]) -> bool:
    """RUNBOOK_RESIDENT=1 or 0 decides; otherwise on, except in CI, where every run is a
    fresh machine's first and a validator left behind would only cost."""
    setting = environ.get(SETTING, "").strip().lower()
    if setting in _ON or setting in _OFF:
        return setting in _ON
    return environ.get("CI", "").strip().lower() not in _ON


def address(environ: Mapping[str, str]) -> str | None:
    """The socket path (without suffix) for this user and this installation, in a folder
    only this user can enter; None when there is no such folder (then no validator)."""
    base = environ.get("XDG_RUNTIME_DIR") or environ.get("TMPDIR") or "/tmp"
    folder = os.path.join(base, f"runbook-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        status = os.lstat(folder)
    except OSError:
        return None
    private = stat.S_ISDIR(status.st_mode) and not status.st_mode & 0o077
    if not private or status.st_uid != os.getuid():
        return None
    try:
        where = os.path.join(folder, f"validate-{installation_digest()[:24]}")
    except OSError:  # the package cannot be read back: no validator to vouch for
        return None
    return where if len(os.fsencode(where + ".sock")) < MAX_SOCKET_PATH else None


def installation_digest() -> str:
    """What the validator's answers depend on besides the request: this interpreter, the
    runbook package's source files and the installed packages (installing, upgrading or
    removing one changes its site-packages folder). Other code gets another validator."""
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0".encode())
    for folder in site.getsitepackages():
        digest.update(f"{folder}\0{_modified(folder)}\0".encode())
    sources = []
    pending = [os.path.dirname(os.path.dirname(os.path.realpath(__file__)))]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    status = entry.stat()
                    sources.append(f"{entry.path}\0{status.st_size}\0{status.st_mtime_ns}\0")
    digest.update("".join(sorted(sources)).encode())
    return digest.hexdigest()


def _modified(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
