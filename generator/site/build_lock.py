"""One build at a time in a repository: a lock on `.runbook-cache/build.lock`.

Builds share more than their output folder: the page caches, the search documents and the
Pagefind bundles in `.runbook-cache/`. Two at once (`runbook build` twice, `runbook serve`
beside `runbook build`, `mkdocs build` beside either) rewrote each other's caches, and the
first to finish deleted the other's Pagefind scratch folder, which at 5,000 records left the
other waiting forever. So every build (and every rebuild of `serve`) holds this lock from
the moment it reads the repository until its site is in place.

A second build waits for the first, saying so once on its console, and fails with one line
after `RUNBOOK_BUILD_LOCK_TIMEOUT` seconds (default 600; 0 fails at once). Waiting, not
failing at once: the second build starts from the first one's site and caches, so it costs
little, and two builds started together (a `make` target beside `serve`, two CI steps on one
checkout) both succeed instead of one failing for no fault of its own. Bounded, so nothing
ever waits forever.

The lock is an OS file lock (flock on POSIX, msvcrt.locking on Windows): the system releases
it when its process ends, however it ends, so a killed build never blocks the next one. The
file itself only says which process holds it. Only the build imports this module: `validate`
runs where fcntl does not exist.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..check.cache import CACHE_FOLDER
from ..repository_files import open_own_file

if os.name == "nt":
    import msvcrt

    _WINDOWS_LOCKED_BYTE = 1 << 20  # far past the pid, which waiting builds read

    def _try_lock(descriptor: int) -> bool:
        os.lseek(descriptor, _WINDOWS_LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, _WINDOWS_LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


LOCK_NAME = "build.lock"
TIMEOUT_VARIABLE = "RUNBOOK_BUILD_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 600.0
POLL_SECONDS = 0.1

log = logging.getLogger("mkdocs.plugins.runbook")


class BuildLocked(TimeoutError):
    """Another build held the repository's lock for longer than this one would wait. An
    OSError, so the build reports it like any other: one line, exit status 1."""


@dataclass
class _Held:
    descriptor: int
    depth: int


# `runbook build` takes the lock, then MkDocs runs the plugin, which takes it again: one
# process holds it once, counted (a second flock on another descriptor would wait for us).
_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_path(root: Path) -> Path:
    return Path(os.path.abspath(root)) / CACHE_FOLDER / LOCK_NAME


def timeout_from_environment() -> float:
    """Seconds to wait for another build: RUNBOOK_BUILD_LOCK_TIMEOUT, else DEFAULT_TIMEOUT."""
    given = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    try:
        return max(0.0, float(given)) if given else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def build_lock(
    root: Path, *, timeout: float | None = None, announce: Callable[[str], None] = log.info
) -> Iterator[None]:
    """Hold the build lock of the repository at `root` for the duration of the block."""
    acquire(root, timeout=timeout, announce=announce)
    try:
        yield
    finally:
        release(root)


def acquire(
    root: Path, *, timeout: float | None = None, announce: Callable[[str], None] = log.info
) -> None:
    """Take the repository's build lock (again, if this process holds it): wait for another
    build for up to `timeout` seconds (RUNBOOK_BUILD_LOCK_TIMEOUT by default), saying so once
    through `announce`, then raise BuildLocked."""
    path = lock_path(root)
    with _guard:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
            return
        descriptor = _lock(Path(os.path.abspath(root)), path, timeout, announce)
        _held[path] = _Held(descriptor, 1)


def release(root: Path) -> None:
    """Give back one hold of the lock; the last one unlocks it. Releasing a lock this process
    does not hold does nothing (a failed build may release it twice)."""
    path = lock_path(root)
    with _guard:
        held = _held.get(path)
        if held is None:
            return
        held.depth -= 1
        if held.depth > 0:
            return
        del _held[path]
        try:
            os.ftruncate(held.descriptor, 0)
            _unlock(held.descriptor)
        finally:
            os.close(held.descriptor)


def _lock(root: Path, path: Path, timeout: float | None, announce: Callable[[str], None]) -> int:
    wait = timeout_from_environment() if timeout is None else timeout
    deadline = time.monotonic() + wait
    announced = False
    while True:
        descriptor = open_own_file(path, inside=root)
        try:
            if _try_lock(descriptor):
                if _still_at(path, descriptor):
                    _write_pid(descriptor)
                    return descriptor
                os.close(descriptor)  # the file was removed or replaced: lock the new one
                continue
            holder = _holder(descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)
        if time.monotonic() >= deadline:
            waited = f" and did not finish within {wait:g} s" if wait else ""
            raise BuildLocked(
                f"another build is running in this repository ({holder}){waited} (set "
                f"{TIMEOUT_VARIABLE} to wait longer); run this build again when it has ended"
            )
        if not announced:
            announce(
                f"runbook: waiting for the build running in this repository ({holder}) "
                f"to finish, for up to {wait:g} s ..."
            )
            announced = True
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _still_at(path: Path, descriptor: int) -> bool:
    """Whether the locked file is still the one at `path` (a build that removed the cache
    in between would otherwise let two builds lock two different files)."""
    try:
        current = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    opened = os.fstat(descriptor)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


def _write_pid(descriptor: int) -> None:
    os.ftruncate(descriptor, 0)
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.write(descriptor, f"{os.getpid()}\n".encode("ascii"))


def _holder(descriptor: int) -> str:
    """ "pid N" of the build holding the lock, as it wrote it (or as much as is known)."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    text = os.read(descriptor, 32).decode("ascii", "replace").strip()
    return f"pid {text}" if text.isdigit() else "pid unknown"
