"""A small HTTP server speaking the part of Grafana's HTTP API that `runbook annotate` uses.

No Grafana server can be installed here, so this implements the documented request and
response shapes of https://grafana.com/docs/grafana/latest/developers/http_api/annotations/:

- `POST /api/annotations` with `{dashboardUID?, time, timeEnd?, tags, text}` (epoch ms) answers
  `{"message": "Annotation added", "id": N}`; `text` is required.
- `GET /api/annotations` filters by `from`, `to` (epoch ms: annotations overlapping the range),
  `tags` (repeated: an annotation must carry every one), `type=annotation`, `dashboardUID` and
  `limit` (default 100), newest first, as Grafana's store does.
- Every request needs `Authorization: Bearer TOKEN`; a wrong one gets 401
  `{"message": "Invalid API key"}`, as Grafana answers.

Hostile modes, set on the FakeGrafana before or during a run: a redirect for a method, raw bytes
answered for a method, an answer trickled a byte at a time (in the headers or the body), an
endless body, a declared length far past any cap, and refusals of the POSTs carrying a tag.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeGrafana:
    """What the server holds and saw: its annotations and every request's method and path."""

    token: str
    annotations: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""
    # method -> (status, Location) answered instead of the API
    redirect: dict[str, tuple[int, str]] = field(default_factory=dict)
    # method -> raw body answered with 200 instead of the API's
    raw_answer: dict[str, bytes] = field(default_factory=dict)
    trickle: str | None = None  # "headers" or "body": one byte every TRICKLE_SECONDS
    endless: bool = False  # GET answers 200 and an unending body
    huge_length: bool = False  # GET declares a Content-Length of a terabyte
    not_http: bool = False  # GET answers a line that is not HTTP, with an escape sequence
    refuse_tags: dict[str, int] = field(default_factory=dict)  # tag -> status for its POST
    refusal_message: str = "bad request data"
    written: int = 0  # bytes a trickle or an endless body got out before the client left
    stopping: threading.Event = field(default_factory=threading.Event)

    def find(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        start = int(query.get("from", ["0"])[0])
        end = int(query.get("to", [str(2**62)])[0])
        wanted = set(query.get("tags", []))
        dashboard = query.get("dashboardUID", [None])[0]
        limit = int(query.get("limit", ["100"])[0])
        found = [
            a
            for a in self.annotations
            if a["time"] <= end
            and a.get("timeEnd", a["time"]) >= start
            and wanted <= set(a["tags"])
            and (dashboard is None or a.get("dashboardUID") == dashboard)
        ]
        return sorted(found, key=lambda a: a["time"], reverse=True)[:limit]


TRICKLE_SECONDS = 0.2
_ENDLESS_CHUNK = b"[" + b" " * 65535


class _Handler(BaseHTTPRequestHandler):
    grafana: FakeGrafana
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read `requests` instead."""

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        self.grafana.requests.append((self.command, self.path, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {self.grafana.token}":
            self._answer(401, {"message": "Invalid API key"})
            return False
        return True

    def _hostile(self) -> bool:
        """Answer in the hostile mode set for this method, if any."""
        grafana = self.grafana
        if self.command in grafana.redirect:
            status, location = grafana.redirect[self.command]
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.command in grafana.raw_answer:
            data = grafana.raw_answer[self.command]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif grafana.trickle == "headers":
            self._keep_writing(lambda: b"H")  # never gets past its status line
        elif grafana.trickle == "body":
            self._start_unending_body()
            self._keep_writing(lambda: b" ")
        elif grafana.endless and self.command == "GET":
            self._start_unending_body()
            self._keep_writing(lambda: _ENDLESS_CHUNK, pause=0)
        elif grafana.huge_length and self.command == "GET":
            self.send_response(200)
            self.send_header("Content-Length", str(2**40))
            self.end_headers()
            self.wfile.write(b"[]")
        elif grafana.not_http and self.command == "GET":
            self.close_connection = True
            self.wfile.write(b"SSH-2.0-OpenSSH_9.6\x1b[2J\r\n")
        else:
            return False
        return True

    def _start_unending_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def _keep_writing(self, data: Any, pause: float = TRICKLE_SECONDS) -> None:
        """Write until the client leaves or the server stops (a minute at most)."""
        self.close_connection = True
        ends = time.monotonic() + 60
        with contextlib.suppress(OSError):
            while not self.grafana.stopping.is_set() and time.monotonic() < ends:
                chunk = data()
                self.wfile.write(chunk)
                self.wfile.flush()
                self.grafana.written += len(chunk)
                if pause:
                    self.grafana.stopping.wait(pause)

    def do_GET(self) -> None:
        if not self._authorised() or self._hostile():
            return
        parts = urlsplit(self.path)
        if parts.path != "/api/annotations":
            self._answer(404, {"message": "Not found"})
            return
        self._answer(200, self.grafana.find(parse_qs(parts.query)))

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self._authorised() or self._hostile():
            return
        if urlsplit(self.path).path != "/api/annotations":
            self._answer(404, {"message": "Not found"})
            return
        body = json.loads(data)
        refusals = [
            self.grafana.refuse_tags[t]
            for t in body.get("tags", [])
            if t in self.grafana.refuse_tags
        ]
        if refusals:
            self._answer(refusals[0], {"message": self.grafana.refusal_message})
            return
        if not isinstance(body.get("time"), int) or not body.get("text"):
            self._answer(400, {"message": "bad request data"})
            return
        annotation = {"id": len(self.grafana.annotations) + 1, **body}
        annotation.setdefault("tags", [])
        self.grafana.annotations.append(annotation)
        self._answer(200, {"message": "Annotation added", "id": annotation["id"]})


@contextlib.contextmanager
def running_grafana(token: str) -> Iterator[FakeGrafana]:
    """A FakeGrafana served on 127.0.0.1 (an ephemeral port) while the block runs."""
    grafana = FakeGrafana(token)
    handler = type("Handler", (_Handler,), {"grafana": grafana})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    grafana.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield grafana
    finally:
        grafana.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
