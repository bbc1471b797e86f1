"""One HTTP request to a server we do not trust, bounded in time and size, never redirected.

A server may answer slowly, endlessly, or by pointing elsewhere. So each request has a total
deadline (connecting, the TLS handshake, sending, the status line, the headers and the body
together), its answer is read in bounded chunks up to a size cap, and no redirect is followed:
a 3xx comes back to the caller as an answer like any other, so a POST is never turned into a
GET and a credential is never sent to a host the user did not name.

Why urllib and not httpx: httpx's timeouts, like a socket timeout, bound each wait for the next
bytes (its docs: "after 5 seconds of network inactivity"), so a server that trickles one byte
a second never trips them, and a total timeout is still an open httpcore pull request (#936).
The deadline would need the same watchdog either way; urllib already keeps the behaviour users
rely on (HTTP(S)_PROXY and NO_PROXY, the system's CA store) and adds no dependency.

The watchdog: a timer that, at the deadline, shuts down the connection's socket (through a
duplicate of its descriptor taken when it was created, so the shutdown reaches the TLS socket
that later takes it over and can never hit a descriptor reused by someone else). Any read or
write blocked on it then returns at once, and the exchange reports the deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """A server's answer, whatever its status: 3xx, 4xx and 5xx included."""

    status: int
    reason: str
    location: str | None
    body: bytes


class ExchangeError(Exception):
    """A request that got no usable answer; the message never holds the URL or a header."""


class Unreachable(ExchangeError):
    """No connection, or it broke before an answer."""


class TooSlow(ExchangeError):
    """The deadline passed before the whole answer arrived."""


class TooLarge(ExchangeError):
    """The answer is larger than the cap; `read` bytes were read before stopping."""

    def __init__(self, read: int) -> None:
        super().__init__(f"more than the cap after {read} bytes")
        self.read = read


class Broken(ExchangeError):
    """An answer that is not HTTP (a bad status line, too many or too long headers)."""


def exchange(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    deadline_seconds: float,
    max_answer_bytes: int,
) -> Answer:
    """Send one request to `url` (http or https, already checked) and read its answer."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    with _Watchdog(deadline_seconds) as watchdog:
        try:
            with _opener(watchdog).open(request, timeout=deadline_seconds) as response:
                answer = Answer(
                    response.status,
                    response.reason or "",
                    response.headers.get("Location"),
                    _read_capped(response, max_answer_bytes),
                )
        except TooLarge:
            if watchdog.expired:
                raise TooSlow() from None
            raise
        except urllib.error.URLError as exc:
            if watchdog.expired:
                raise TooSlow() from None
            raise Unreachable(str(exc.reason)) from None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            if watchdog.expired:
                raise TooSlow() from None
            if isinstance(exc, OSError):
                raise Unreachable(str(exc)) from None
            if isinstance(exc, http.client.HTTPException):
                raise Broken(f"{type(exc).__name__}: {exc}") from None
            # http.client's ValueErrors quote the header or URL they refuse: never shown.
            raise Broken("the request could not be sent (ValueError)") from None
        if watchdog.expired:
            # An answer without a length ends at the shutdown as if complete: never trust it.
            raise TooSlow()
    return answer


def _read_capped(response: http.client.HTTPResponse, limit: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(0)
    chunks: list[bytes] = []
    size = 0
    # read1 returns what has arrived (read(n) would wait for n bytes), so each turn of the loop
    # sees the watchdog's shutdown.
    while chunk := response.read1(_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise TooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


class _Watchdog:
    """Shuts down every socket of one exchange when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._over = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()

    def watch(self, connection: socket.socket) -> socket.socket:
        with self._lock:
            duplicate = connection.dup()
            if self.expired:
                _shut(duplicate)
            self._sockets.append(duplicate)
        return connection

    def _expire(self) -> None:
        with self._lock:
            if self._over:  # its sockets are closed
                return
            self.expired = True
            for duplicate in self._sockets:
                _shut(duplicate)


def _shut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        connection.shutdown(socket.SHUT_RDWR)


def _watched(connection_class: type[http.client.HTTPConnection], watchdog: _Watchdog) -> Any:
    def connection(host: str, **options: Any) -> http.client.HTTPConnection:
        made = connection_class(host, **options)
        # http.client opens its socket through this attribute (the hook its own tests use);
        # wrapping it hands the watchdog the socket before any byte is exchanged on it.
        create: Callable[..., socket.socket] = made._create_connection  # type: ignore[attr-defined]
        made._create_connection = lambda *a, **k: watchdog.watch(create(*a, **k))  # type: ignore[attr-defined]
        return made

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self._watchdog), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _watched(http.client.HTTPSConnection, self._watchdog),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """Proxies from the environment, http and https; deliberately no redirect handler and no
    error processor, so every status comes back as an answer."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), _HTTPHandler(watchdog), _HTTPSHandler(watchdog)):
        opener.add_handler(handler)
    return opener
