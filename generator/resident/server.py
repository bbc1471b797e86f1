"""The resident validator: `python -m generator.resident.server ADDRESS`, started by a client.

One request at a time, each run as the command would run in-process, in the client's folder,
with its environment, umask and streams, by the same code (cli.run). Between requests the
process holds what made a run slow to start: the imported modules and built models, and the
validation results it last read or wrote (check/cache.py keeps them while the file on disk is
unchanged). It leaves after IDLE_SECONDS without a request; a second one for the same address
leaves at once (the lock file says which is alive).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import os
import signal
import socket
import struct
import sys
import threading
import traceback
from typing import Any, TextIO

# As __main__ does, for the same reason: this process builds the models.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from . import protocol
from .client import FORWARDED_SIGNALS, LOCK_SUFFIX, SOCKET_SUFFIX

IDLE_SECONDS = 15 * 60
REQUEST_SECONDS = 10  # a greeted client sends its request at once; one that does not is dropped
_PEER_CREDENTIALS = struct.Struct("3i")  # pid, uid, gid


def serve(where: str) -> None:
    with open(where + LOCK_SUFFIX, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another validator holds this address
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        socket_path = where + SOCKET_SUFFIX
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)  # left by a validator that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(socket_path)
            os.chmod(socket_path, 0o600)
            listener.listen(16)
            _warm_up()
            listener.settimeout(IDLE_SECONDS)
            while True:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    return
                with connection:
                    connection.settimeout(None)
                    if _same_user(connection):
                        _serve_one(connection)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(socket_path)
            listener.close()


def _warm_up() -> None:
    """Import what `runbook validate` imports, then freeze it: the cycle collector never
    walks the modules and models again, in this process or in a validation's workers. From
    here on, records folders are watched rather than listed and stat-ed on every run."""
    from .. import cli  # noqa: F401
    from ..check import validate  # noqa: F401
    from ..check.files import watch_with
    from .watch import FolderWatcher

    watch_with(FolderWatcher.start())

    # Ctrl-C forwarded by a client is KeyboardInterrupt, as in a command of its own, even if
    # the process that started this one ignored SIGINT (a job in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    gc.collect()
    gc.freeze()


def _same_user(connection: socket.socket) -> bool:
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size
    )
    return _PEER_CREDENTIALS.unpack(credentials)[1] == os.getuid()


def _serve_one(connection: socket.socket) -> None:
    try:
        connection.sendall(protocol.GREETING)
        connection.settimeout(REQUEST_SECONDS)
        received = protocol.receive_request(connection)
        connection.settimeout(None)
    except OSError:  # the client stopped waiting, or never sent its request
        return
    if received is None:
        return
    request, streams = received
    try:
        connection.sendall(protocol.ACCEPTED)
    except OSError:
        for descriptor in streams:
            os.close(descriptor)
        return
    status = _run_in_clients_place(request, streams, connection)
    with contextlib.suppress(OSError):
        connection.sendall(protocol.exit_message(status))


def _run_in_clients_place(
    request: dict[str, Any], streams: list[int], connection: socket.socket
) -> int:
    """Run the command as the client would have: its folder, environment, umask and
    streams (on descriptors 0-2, so that a validation's workers share them too); everything
    is put back afterwards, and the client's streams released, so that nothing it started
    waits on this process."""
    saved_environment = dict(os.environ)
    saved_umask = os.umask(request["umask"])
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    for number, descriptor in enumerate(streams):
        os.dup2(descriptor, number)
        os.close(descriptor)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = _text_stream(0, "r", ["utf-8", "strict"])
    sys.stdout = _text_stream(1, "w", request["encodings"][0])
    sys.stderr = _text_stream(2, "w", request["encodings"][1])
    try:
        os.chdir(request["cwd"])
    except OSError as exc:
        print(f"runbook: cannot work in {request['cwd']}: {exc.strerror}", file=sys.stderr)
        status = 2
    else:
        with _signals_from(connection):
            status = _run_command([str(arg) for arg in request["argv"]])
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        null = os.open(os.devnull, os.O_RDWR)
        for number in range(protocol.STANDARD_STREAMS):
            os.dup2(null, number)
        os.close(null)
        os.chdir("/")
        os.environ.clear()
        os.environ.update(saved_environment)
        os.umask(saved_umask)
    return status


def _text_stream(descriptor: int, mode: str, encoding: list[str]) -> TextIO:
    try:
        name, errors = str(encoding[0]), str(encoding[1])
        "".encode(name)
    except (IndexError, LookupError, TypeError):
        name, errors = "utf-8", "strict"
    raw = io.FileIO(descriptor, mode, closefd=False)
    return io.TextIOWrapper(
        raw, encoding=name, errors=errors, line_buffering=raw.isatty(), write_through=True
    )


def _run_command(argv: list[str]) -> int:
    """The command's exit status, as the interpreter would turn its exit into one."""
    from ..cli import run

    try:
        run(argv)
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            return exit.code or 0
        print(exit.code, file=sys.stderr)
        return 1
    except BaseException:  # what in-process would print as a traceback, with status 1
        traceback.print_exc()
        return 1
    return 0


@contextlib.contextmanager
def _signals_from(connection: socket.socket):  # type: ignore[no-untyped-def]
    """Each signal the client forwards is raised in this (the main) thread, through the
    handlers the command installs; a client that disconnects counts as SIGHUP (its terminal
    closed). Nothing is raised once the command has finished."""
    main = threading.get_ident()
    finished = threading.Event()
    lock = threading.Lock()

    def listen() -> None:
        while True:
            try:
                data = connection.recv(64)
            except OSError:
                data = b""
            with lock:
                if finished.is_set():
                    return
                for number in data or bytes([signal.SIGHUP]):
                    if number in FORWARDED_SIGNALS:
                        signal.pthread_kill(main, number)
                if not data:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        yield
    finally:
        with lock:
            finished.set()
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RD)
        listener.join()


if __name__ == "__main__":
    if len(sys.argv) == 2:
        serve(sys.argv[1])
