"""What the client and the resident validator say to each other over their socket.

The validator greets each connection it takes (GREETING); only then does the client send its
request, so a client that gave up waiting (a validator busy with another run, or stuck) runs
the command itself and can never have it run twice. The request is a length-prefixed JSON
object (the client's arguments, folder, environment, umask and output encodings) with its
stdin, stdout and stderr attached as file descriptors. The validator answers ACCEPTED once
it has read a well-formed request, then EXITED and the exit status. While it waits, the
client sends the number of each signal it receives, as one byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct

GREETING = b"R"
GREETING_SECONDS = 1.0  # how long a client waits to be greeted before running the command
ACCEPTED = b"A"
EXITED = b"X"
_LENGTH = struct.Struct("!I")
_STATUS = struct.Struct("!i")
MAX_REQUEST_BYTES = 8 * 1024 * 1024  # an environment is a few KiB; this is only a bound
STANDARD_STREAMS = 3


def send_request(connection: socket.socket, request: dict[str, object], streams: list[int]) -> None:
    payload = json.dumps(request).encode()
    socket.send_fds(connection, [_LENGTH.pack(len(payload)) + payload], streams)


def receive_request(connection: socket.socket) -> tuple[dict[str, object], list[int]] | None:
    """The request and the descriptors that came with it; None (and any descriptor closed)
    for anything that is not a well-formed request."""
    data, descriptors, _, _ = socket.recv_fds(connection, 65536, STANDARD_STREAMS)
    request = None
    if len(data) >= _LENGTH.size and len(descriptors) == STANDARD_STREAMS:
        (length,) = _LENGTH.unpack_from(data)
        if length <= MAX_REQUEST_BYTES:
            payload = bytearray(data[_LENGTH.size :])
            with contextlib.suppress(OSError):  # a timeout: the request stays incomplete
                while len(payload) < length:
                    more = connection.recv(length - len(payload))
                    if not more:
                        break
                    payload += more
            request = _parsed(bytes(payload)) if len(payload) == length else None
    if request is None:
        for descriptor in descriptors:
            _close(descriptor)
        return None
    return request, descriptors


def _parsed(payload: bytes) -> dict[str, object] | None:
    try:
        request = json.loads(payload)
    except ValueError:
        return None
    fields = {"argv": list, "cwd": str, "env": dict, "umask": int, "encodings": list}
    if not isinstance(request, dict) or any(
        not isinstance(request.get(name), kind) for name, kind in fields.items()
    ):
        return None
    return request


def exit_message(status: int) -> bytes:
    return EXITED + _STATUS.pack(status)


def read_exit(connection: socket.socket) -> int | None:
    """The exit status the validator sent, or None if it closed the connection first."""
    data = b""
    while len(data) < 1 + _STATUS.size:
        more = connection.recv(1 + _STATUS.size - len(data))
        if not more:
            return None
        data += more
    if data[:1] != EXITED:
        return None
    return _STATUS.unpack(data[1:])[0]


def _close(descriptor: int) -> None:
    with contextlib.suppress(OSError):
        os.close(descriptor)
