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
"""

from __future__ import annotations

import contextlib
import json
import threading
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


class _Handler(BaseHTTPRequestHandler):
    grafana: FakeGrafana

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

    def do_GET(self) -> None:
        if not self._authorised():
            return
        parts = urlsplit(self.path)
        if parts.path != "/api/annotations":
            self._answer(404, {"message": "Not found"})
            return
        self._answer(200, self.grafana.find(parse_qs(parts.query)))

    def do_POST(self) -> None:
        if not self._authorised():
            return
        if urlsplit(self.path).path != "/api/annotations":
            self._answer(404, {"message": "Not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
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
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
