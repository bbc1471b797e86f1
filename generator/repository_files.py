"""Every file runbook writes goes through here: inside the folder it belongs to, whole or not
at all, and never through a link that leads elsewhere. Files runbook keeps for itself are read
back through here too: only regular files, never blocking, never more than they hold.

A repository is input like any other: a `.vscode`, `schemas` or `.runbook-cache` folder, or a
file at the name runbook writes beside, may be a symbolic link someone planted to a file
outside it. So each folder on the way is checked (a link is followed only when it stays inside
the repository), the content goes to a temporary file created exclusively and without
following links, and that file is renamed over the target: a reader sees the old file or the
new one, never half of one, and nothing outside the repository is ever opened for writing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # Windows has no symlink-following open to refuse
_BINARY = getattr(os, "O_BINARY", 0)


class UnsafeWrite(OSError):
    """A write runbook refuses: it would leave the folder it belongs to. An OSError, so every
    command reports it the way it reports an unwritable folder: one line, no traceback."""


def write_file(
    path: Path, content: str | bytes, *, inside: Path, exclusive: bool = False, mode: int = 0o666
) -> Path:
    """Write `content` (text as UTF-8, line breaks as given) to `path`, which must lie inside
    the folder `inside`; return the path written.

    Missing folders are made. A `path` that is a link to a file inside `inside` is written
    through (the link stays); one that leads outside is refused. With `exclusive`, an existing
    file (or link) at `path` raises FileExistsError and is left alone. A new file gets `mode`
    (less the umask); a replaced one keeps its own.
    """
    return WritesInside(inside).write(path, content, exclusive=exclusive, mode=mode)


def make_folders(folder: Path, *, inside: Path) -> None:
    """Make `folder` (inside the folder `inside`) and the folders above it, refusing a link
    that leads out of `inside`."""
    writes = WritesInside(inside)
    writes.make_folders(writes.inside(Path(os.path.abspath(folder)), folder))


class WritesInside:
    """write_file's checks for the files one job writes inside one folder (a build's tens of
    thousands of cached pages): the folder's real path is found once, and each folder on
    the way is checked (or made) once, not once per file. Made for one job and let go: a
    folder checked stays trusted only as long as it. At 20,000 records a full build's page
    cache spent 3.8 s finding the same real path and 3.5 s checking the same folders."""

    def __init__(self, inside: Path) -> None:
        self.base = Path(os.path.abspath(inside))
        self.real_base = Path(os.path.realpath(self.base))
        self._checked: set[Path] = set()

    def write(
        self, path: Path, content: str | bytes, *, exclusive: bool = False, mode: int = 0o666
    ) -> Path:
        """write_file's write, inside this object's folder."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.inside(Path(os.path.abspath(path)), path)
        if not exclusive and os.path.islink(target):
            target = self.inside(Path(os.path.realpath(target)), path, link=True)
        self.make_folders(target.parent)
        with contextlib.suppress(OSError):
            if not exclusive:
                mode = stat.S_IMODE(os.stat(target, follow_symlinks=False).st_mode)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.runbook-tmp")
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW | _BINARY, mode
        )
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            if exclusive:
                os.link(temporary, target)  # fails on anything at `target`, a dangling link too
                os.unlink(temporary)
            else:
                os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return target

    def inside(self, target: Path, given: Path, *, link: bool = False) -> Path:
        """`target` as a path under this folder, or UnsafeWrite naming what leads out."""
        for folder in (self.base, self.real_base):
            if target.is_relative_to(folder) and target != folder:
                return self.base / target.relative_to(folder)
        what = f"is a link to {target}" if link else "is"
        raise UnsafeWrite(f"{given} {what} outside {self.base}: runbook writes only inside it")

    def make_folders(self, folder: Path) -> None:
        """Make `folder` (under this folder) and the folders above it, refusing a link to
        elsewhere; folders this object checked already are passed."""
        current = self.base
        for part in folder.relative_to(self.base).parts:
            current = current / part
            if current in self._checked:
                continue
            try:
                os.mkdir(current)
            except FileExistsError:
                self._check_folder(current)
            self._checked.add(current)

    def _check_folder(self, current: Path) -> None:
        if os.path.islink(current):
            real = Path(os.path.realpath(current))
            if not real.is_relative_to(self.real_base):
                raise UnsafeWrite(
                    f"{current} is a link to {real}, outside {self.base}: runbook does not "
                    "write through it (make it a folder, or remove the link)"
                )
        if not os.path.isdir(current):
            raise NotADirectoryError(f"{current} is not a folder")


def read_regular_file(path: Path, *, follow_links: bool = True) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and its status as read. A FIFO, a device (`/dev/zero`) or a
    folder at `path` raises OSError at once instead of blocking or reading without end, and
    with follow_links=False so does a link."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _BINARY
    descriptor = os.open(path, flags | (0 if follow_links else _NO_FOLLOW))
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a regular file")
        chunks, remaining = [], status.st_size
        while remaining > 0:
            chunk = os.read(descriptor, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks), status
    finally:
        os.close(descriptor)


def open_own_file(path: Path, *, inside: Path) -> int:
    """A descriptor (read and write) on the file at `path` inside the folder `inside`, made
    if missing, for a file runbook keeps open rather than replaces (a lock: a rename would
    give the next process another file to lock). A link at `path` is refused, not followed,
    as is anything but a regular file with no other name (a hard link planted to a file
    elsewhere would have runbook write into that file)."""
    writes = WritesInside(inside)
    target = writes.inside(Path(os.path.abspath(path)), path)
    writes.make_folders(target.parent)
    flags = os.O_RDWR | os.O_CREAT | _NO_FOLLOW | getattr(os, "O_NONBLOCK", 0) | _BINARY
    try:
        descriptor = os.open(target, flags, 0o644)
    except OSError as exc:
        if os.path.islink(target):
            raise UnsafeWrite(
                f"{target} is a link: runbook does not open its own files through one "
                "(remove the link)"
            ) from exc
        raise
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
        os.close(descriptor)
        raise UnsafeWrite(
            f"{target} is not a file runbook made (a folder, a device, or a file with another "
            "name elsewhere): remove it"
        )
    return descriptor
