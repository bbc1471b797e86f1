"""Small HTTP servers speaking what `runbook notify` sends to: PagerDuty's Events API v2 change
endpoint and a CDEvents receiver taking CloudEvents over HTTP. Neither service can be
installed here, so each implements the documented request and response shapes:

- PagerDuty (https://developer.pagerduty.com/api-reference/ Events API v2, "Send Change
  Events to the PagerDuty Events API" and its response codes): `POST /v2/change/enqueue`,
  JSON `{routing_key, payload: {summary, timestamp?, source?, custom_details?}, links?}`.
  A valid event answers 202 `{"status": "success", "message": "Change event processed"}`;
  an invalid one (a summary missing or over 1,024 characters, an unparsable timestamp, a link
  without href, an unknown routing key) 400 `{"status": "invalid event", "message": "Event
  object is invalid", "errors": [...]}`; too many requests 429 `{"status": "throttle event",
  ...}`: retry later.
- A CDEvents receiver (CloudEvents HTTP protocol binding 1.0, binary content mode, as the
  CDEvents CloudEvents binding's examples use): `ce-specversion: 1.0`, `ce-id`, `ce-source`,
  `ce-type` (and `ce-subject`, `ce-time`) headers, `Content-Type: application/json`, the
  CDEvent as the body; a well-formed event answers 202 with no body (as Knative's broker
  does), a malformed one 400.

Hostile modes, set on the receiver before or during a run: a status answered to the POST of a
given event id (or to every POST after the first N accepted), a redirect, an answer trickled
a byte at a time, an endless body, and a 200 with a body that is not the service's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGERDUTY_PATH = "/v2/change/enqueue"
CDEVENTS_PATH = "/events"
TRICKLE_SECONDS = 0.2


@dataclass
class Receiver:
    """What the server accepted and saw. `kind` is "pagerduty" or "cdevents"."""

    kind: str
    routing_keys: set[str] = field(default_factory=set)  # pagerduty: the integrations' keys
    accepted: list[dict[str, Any]] = field(default_factory=list)  # {"headers", "body"}
    seen: list[dict[str, Any]] = field(default_factory=list)  # every request, raw body too
    url: str = ""
    answer_for: dict[str, int] = field(default_factory=dict)  # event id -> status answered
    accept_only: int | None = None  # then 429 (pagerduty) or 503 (cdevents) to every POST
    redirect: str | None = None  # Location answered with 307 to every POST
    trickle: bool = False
    endless: bool = False
    not_the_service: bool = False  # 200 with an HTML page
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        return self.url + (PAGERDUTY_PATH if self.kind == "pagerduty" else CDEVENTS_PATH)

    def bodies(self) -> list[dict[str, Any]]:
        return [request["body"] for request in self.accepted]


def _event_id(kind: str, headers: dict[str, str], body: Any) -> str:
    if kind == "cdevents":
        return headers.get("ce-id", "")
    payload = body.get("payload") if isinstance(body, dict) else None
    details = payload.get("custom_details") if isinstance(payload, dict) else None
    if not isinstance(details, dict):
        return ""
    return f"{details.get('record')}.{details.get('change')}"


def _timestamp_problem(text: Any) -> bool:
    try:
        dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return True
    return False


def pagerduty_errors(body: Any, keys: set[str]) -> list[str]:
    """What PagerDuty's change endpoint would list as invalid in `body`."""
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
        return ["'payload' is missing or not an object"]
    errors = []
    if body.get("routing_key") not in keys:
        errors.append("Invalid routing key")
    payload = body["payload"]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > 1024:
        errors.append("'payload.summary' must be at most 1024 characters")
    if "timestamp" in payload and _timestamp_problem(payload["timestamp"]):
        errors.append("'payload.timestamp' is not a valid ISO 8601 timestamp")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        errors.append("'payload.custom_details' must be an object")
    for link in body.get("links", []):
        if not isinstance(link, dict) or not isinstance(link.get("href"), str):
            errors.append("'links' entries need an href")
    return errors


def cloudevent_errors(headers: dict[str, str], body: Any) -> list[str]:
    """What a CloudEvents binary-mode receiver refuses."""
    errors = [
        f"missing {name}" for name in ("ce-id", "ce-source", "ce-type") if not headers.get(name)
    ]
    if headers.get("ce-specversion") != "1.0":
        errors.append("ce-specversion must be 1.0")
    if not headers.get("content-type", "").startswith("application/json"):
        errors.append("Content-Type must be application/json")
    if not isinstance(body, dict):
        errors.append("the data is not a JSON object")
    return errors


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read `seen` instead."""

    def _answer(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _keep_writing(self, chunk: bytes, pause: float) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        ends = time.monotonic() + 60
        with contextlib.suppress(OSError):
            while not self.receiver.stopping.is_set() and time.monotonic() < ends:
                self.wfile.write(chunk)
                self.wfile.flush()
                if pause:
                    self.receiver.stopping.wait(pause)

    def do_POST(self) -> None:
        receiver = self.receiver
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver.seen.append({"path": self.path, "headers": headers, "raw": raw})
        if receiver.redirect:
            self.send_response(307)
            self.send_header("Location", receiver.redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if receiver.trickle:
            self._keep_writing(b" ", TRICKLE_SECONDS)
            return
        if receiver.endless:
            self._keep_writing(b" " * 65536, 0)
            return
        if receiver.not_the_service:
            page = b"<html><body>Welcome</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        wanted = PAGERDUTY_PATH if receiver.kind == "pagerduty" else CDEVENTS_PATH
        if self.path != wanted:
            self._answer(404, {"message": "Not found"})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._answer(400, {"status": "invalid event", "message": "Malformed JSON"})
            return
        event = _event_id(receiver.kind, headers, body)
        if event in receiver.answer_for:
            status = receiver.answer_for[event]
            self._answer(status, {"status": "invalid event", "message": "Event object is invalid",
                                  "errors": [f"refused for the test ({status})"]})  # fmt: skip
            return
        if receiver.accept_only is not None and len(receiver.accepted) >= receiver.accept_only:
            if receiver.kind == "pagerduty":
                self._answer(429, {"status": "throttle event",
                                   "message": "Requests for this service are arriving too quickly. "
                                   "Please retry later."})  # fmt: skip
            else:
                self._answer(503, {"message": "try again later"})
            return
        if receiver.kind == "pagerduty":
            errors = pagerduty_errors(body, receiver.routing_keys)
            if errors:
                self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                   "errors": errors})  # fmt: skip
                return
            receiver.accepted.append({"headers": headers, "body": body})
            self._answer(202, {"status": "success", "message": "Change event processed"})
            return
        errors = cloudevent_errors(headers, body)
        if errors:
            self._answer(400, {"message": "; ".join(errors)})
            return
        receiver.accepted.append({"headers": headers, "body": body})
        self._answer(202)


@contextlib.contextmanager
def running_receiver(kind: str, routing_keys: set[str] | None = None) -> Iterator[Receiver]:
    """A Receiver served on 127.0.0.1 (an ephemeral port) while the block runs."""
    receiver = Receiver(kind, routing_keys or set())
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        receiver.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
