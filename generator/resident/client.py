"""`runbook validate` as a client: hand the command to the resident validator, or start one
after running it here."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator

from . import protocol
from .address import address, wanted

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SOCKET_SUFFIX, LOCK_SUFFIX = ".sock", ".lock"


def run_resident(argv: list[str]) -> int | None:
    """The exit status of `runbook ARGV` as the resident validator ran it, with this
    process's streams; None when none took the request (then nothing has run)."""
    if not wanted(os.environ):
        return None
    where = address(os.environ)
    if where is None:
        return None
    try:
        request = {
            "argv": argv,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "umask": _umask(),
            "encodings": [_encoding(sys.stdout), _encoding(sys.stderr)],
        }
    except OSError:  # the current folder is gone: let the command say so itself
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with connection, _standard_streams() as streams:
        try:
            connection.settimeout(protocol.GREETING_SECONDS)
            connection.connect(where + SOCKET_SUFFIX)
            if connection.recv(1) != protocol.GREETING:
                return None
            connection.settimeout(None)
        except OSError:  # none listening, or busy (a timeout): nothing was sent
            return None
        received: list[int] = []  # from here on, a signal is the command's to handle
        with _forwarding_signals(connection, received):
            try:
                protocol.send_request(connection, request, streams)
                accepted = connection.recv(1) == protocol.ACCEPTED
                status = protocol.read_exit(connection) if accepted else None
            except OSError:
                accepted, status = False, None
    if status is not None:
        return status
    if received:  # stopped before the command ran, or while it ran
        return 128 + received[-1]
    if not accepted:  # refused before it ran: run it here
        return None
    print(
        "runbook: the resident validator stopped; run again with RUNBOOK_RESIDENT=0 "
        "if it keeps happening",
        file=sys.stderr,
    )
    return 2


def start_resident() -> None:
    """Leave a validator behind for the next run (when wanted): a detached process in its
    own session, holding none of this process's streams, so that nothing waits for it."""
    if not wanted(os.environ):
        return
    where = address(os.environ)
    if where is None or _alive(where):
        return  # a busy validator is left to finish, not doubled
    import subprocess

    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "generator.resident.server", where],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,
        )


def _alive(where: str) -> bool:
    """Whether a validator holds this address's lock (it does while it runs)."""
    import fcntl

    try:
        with open(where + LOCK_SUFFIX, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _encoding(stream: object) -> list[str]:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return [encoding, getattr(stream, "errors", None) or "strict"]


@contextlib.contextmanager
def _standard_streams() -> Iterator[list[int]]:
    """Descriptors 0, 1 and 2, with /dev/null standing in for any that is closed."""
    opened = []
    streams = []
    for number in range(protocol.STANDARD_STREAMS):
        try:
            os.fstat(number)
            streams.append(number)
        except OSError:
            opened.append(os.open(os.devnull, os.O_RDWR))
            streams.append(opened[-1])
    try:
        yield streams
    finally:
        for descriptor in opened:
            os.close(descriptor)


@contextlib.contextmanager
def _forwarding_signals(connection: socket.socket, received: list[int]) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP reach the command as they would in-process: the validator
    raises each in the command, which cleans up and exits 128 + the signal (or 1 on Ctrl-C,
    as click does)."""

    def forward(number: int, frame: object) -> None:
        received.append(number)
        with contextlib.suppress(OSError):
            connection.sendall(bytes([number]))

    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
