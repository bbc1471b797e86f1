"""`runbook notify SINK`: the records' deployments and rollbacks (render/change_events.py) sent
to the tools on call, one POST per event.

A sink is one entry of SINKS: what its requests look like and which answers mean "accepted".
- `cdevents`: each CDEvent as a CloudEvent over HTTP in binary content mode (the mode the
  CDEvents CloudEvents binding's examples use): the CloudEvents attributes in `ce-*` headers,
  made by the CloudEvents SDK, and the whole CDEvent as the JSON body. Any 2xx is accepted.
- `pagerduty`: each change event to Events API v2 (`/v2/change/enqueue`) with the routing key
  of its service; accepted is 202 with `{"status": "success"}`.

A request carries its credential only in the form sent; what the dry run prints and what the
ledger digests has `${VARIABLE}` in its place. Each accepted request goes into the ledger
(sent_ledger.py) at once, and a run never sends one the ledger holds. A server's refusal of
one event (400 and the like) is reported and the others still sent; anything else (429,
5xx, no answer, a redirect) stops the run, and what it did not send is sent by the next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudevents.core.bindings.http import to_binary_event
from cloudevents.core.v1.event import CloudEvent

from ..models import SourcedRecord
from ..names import Aliases
from ..render.change_events import EventSettings, ServiceChange, cdevent, pagerduty_event
from ..repository_files import write_file
from .http_exchange import Answer
from .remote import DeliveryReport, RemoteError, Server, shown
from .sent_ledger import Delivery, SentLedger, fingerprint

DEADLINE_SECONDS = 20.0
# Receivers answer a line of JSON; a megabyte is far past any honest answer.
MAX_ANSWER_BYTES = 1024 * 1024
PAGERDUTY_URL = "https://events.pagerduty.com/v2/change/enqueue"
# Statuses that refuse one event (its content), not the URL, the credential or the server.
EVENT_REFUSALS = frozenset({400, 409, 413, 422})


@dataclass(frozen=True)
class Credential:
    """A credential named by its environment variable; its value is None in a dry run
    without it."""

    variable: str
    value: str | None

    @property
    def placeholder(self) -> str:
        return "${" + self.variable + "}"


@dataclass(frozen=True)
class Request:
    """One POST a sink would send. `shown` is what the dry run prints (method, url, headers,
    body, with credentials as ${VARIABLE}); `headers` and `body` are what goes on the wire
    (None in a dry run without the credential). `destination` and `digest` key the ledger;
    `destination` is None when it depends on a credential the dry run does not have."""

    change: ServiceChange
    destination: str | None
    digest: str
    shown: dict[str, Any]
    headers: dict[str, str]
    body: bytes | None


def _digest(url: str, content: Any) -> str:
    """What was sent, without its credential, as one SHA-256."""
    data = json.dumps({"url": url, "content": content}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def cdevents_requests(
    changes: Iterable[ServiceChange],
    settings: EventSettings,
    url: str,
    credential: Credential | None,
) -> list[Request]:
    """Each change as a CloudEvent in HTTP binary content mode (a Bearer token when the
    receiver wants one)."""
    requests = []
    for change in changes:
        event = cdevent(change, settings)
        context = event["context"]
        message = to_binary_event(
            CloudEvent(
                attributes={
                    "id": context["id"],
                    "source": context["source"],
                    "type": context["type"],
                    "subject": event["subject"]["id"],
                    "time": change.at,
                    "datacontenttype": "application/json",
                },
                data=event,
            )
        )
        headers = dict(sorted(message.headers.items()))
        shown_headers = dict(headers)
        if credential is not None:
            shown_headers["Authorization"] = f"Bearer {credential.placeholder}"
            if credential.value is not None:
                headers["Authorization"] = f"Bearer {credential.value}"
        requests.append(
            Request(
                change,
                url,
                _digest(url, event),
                {"method": "POST", "url": url, "headers": shown_headers, "body": event},
                headers,
                message.body,
            )
        )
    return requests


def pagerduty_requests(
    changes: Iterable[ServiceChange],
    settings: EventSettings,
    url: str,
    credential_of: Callable[[ServiceChange], Credential],
) -> list[Request]:
    """Each change as a PagerDuty change event, with the routing key of its service."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    requests = []
    for change in changes:
        event = pagerduty_event(change, settings)
        credential = credential_of(change)
        key = credential.value
        requests.append(
            Request(
                change,
                f"{url} routing key {fingerprint(key)}" if key is not None else None,
                _digest(url, event),
                {
                    "method": "POST",
                    "url": url,
                    "headers": headers,
                    "body": {"routing_key": credential.placeholder, **event},
                },
                headers,
                None if key is None else json.dumps({"routing_key": key, **event}).encode(),
            )
        )
    return requests


def write_cdevents(
    changes: Iterable[ServiceChange], settings: EventSettings, folder: Path
) -> list[Path]:
    """Each change's CDEvent as FOLDER/ID.PREDICATE.json (the same bytes for the same
    record); the paths written. FOLDER is made if missing (the user named it); nothing is
    written outside it."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_file(
            folder / f"{change.event_id}.json",
            json.dumps(cdevent(change, settings), ensure_ascii=False, indent=2) + "\n",
            inside=folder,
        )
        for change in changes
    ]


def _any_success(answer: Answer) -> bool:
    return 200 <= answer.status < 300


def _pagerduty_success(answer: Answer) -> bool:
    """Events API v2 accepts with 202 and `{"status": "success", ...}`."""
    if not 200 <= answer.status < 300:
        return False
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        return False
    return isinstance(body, dict) and body.get("status") == "success"


@dataclass(frozen=True)
class Sink:
    """A kind of receiver: its name in messages and the ledger, and what answer accepts."""

    name: str
    server_name: str
    url_option: str
    accepted: Callable[[Answer], bool]


SINKS = {
    "cdevents": Sink("cdevents", "the CDEvents receiver", "--url", _any_success),
    "pagerduty": Sink("pagerduty", "PagerDuty", "--url", _pagerduty_success),
}


def unsent(sink: Sink, requests: list[Request], ledger: SentLedger) -> tuple[list[Request], int]:
    """The requests the ledger does not hold (those whose destination a dry run cannot tell
    included), and how many it holds."""
    todo = [
        request
        for request in requests
        if request.destination is None
        or not ledger.holds(sink.name, request.destination, request.digest)
    ]
    return todo, len(requests) - len(todo)


def deliver(
    sink: Sink, url: str, requests: list[Request], ledger: SentLedger, deadline_seconds: float
) -> DeliveryReport:
    """Send every request the ledger does not hold, in order, noting each accepted one."""
    server = Server(sink.server_name, url, sink.url_option, deadline_seconds, MAX_ANSWER_BYTES)
    todo, already = unsent(sink, requests, ledger)
    report = DeliveryReport(already=already)
    for done, request in enumerate(todo):
        event = request.change.event_id
        what = f"POST of {event}"
        if request.destination is None or request.body is None:
            raise ValueError("a dry run's request cannot be sent (its credential is unknown)")
        try:
            answer = server.send("POST", url, what, request.headers, request.body)
            if answer.status >= 400:
                raise server.refusal(what, answer)
            if not sink.accepted(answer):
                raise RemoteError(
                    f"{server.name} at {url} answered {what} with HTTP {answer.status} but not "
                    f"as {server.name} accepts an event "
                    f"({shown(answer.body[:80].decode('utf-8', 'replace'))}): "
                    f"is {sink.url_option} its URL?"
                )
        except RemoteError as exc:
            status = getattr(exc, "status", None)
            if status in EVENT_REFUSALS:
                report.refused.append((event, str(exc)))
                continue
            report.stopped, report.not_posted = _stop_line(exc, status), len(todo) - done
            break
        ledger.add(Delivery(sink.name, request.destination, event, request.digest))
        report.posted.append(event)
    return report


@dataclass(frozen=True)
class Routes:
    """Which environment variable holds the routing key for each service's events: the one
    `--service-key-env SERVICE=VAR` names for it (any spelling or alias of SERVICE), else
    the default (`--routing-key-env`)."""

    default: str
    by_service: dict[str, str]
    aliases: Aliases

    @classmethod
    def read(cls, default: str, pairs: Iterable[str], aliases: Aliases) -> Routes:
        """From `SERVICE=VAR` texts; ValueError naming one that is not."""
        by_service = {}
        for pair in pairs:
            service, _, variable = pair.partition("=")
            if not service.strip() or not variable.strip():
                raise ValueError(f"--service-key-env takes SERVICE=VAR, got {pair!r}")
            by_service[aliases.key("service", service.strip())] = variable.strip()
        return cls(default, by_service, aliases)

    def variable(self, change: ServiceChange) -> str:
        key = self.aliases.key("service", change.entry.record.service)
        return self.by_service.get(key, self.default)

    def unused(self, changes: Iterable[ServiceChange]) -> list[str]:
        """The services named in by_service (their keys) that no change is of."""
        used = {self.aliases.key("service", change.entry.record.service) for change in changes}
        return sorted(set(self.by_service) - used)


def select_changes(
    changes: Iterable[ServiceChange], wanted: Callable[[SourcedRecord], bool]
) -> list[ServiceChange]:
    """The changes of the records `wanted` picks (--since, --changed), and the rollbacks a
    picked record undid: a new record that rolls back an old one sends the old one's
    `rolledback`."""
    changes = list(changes)
    picked = {change.entry.id for change in changes if wanted(change.entry)}
    return [c for c in changes if c.entry.id in picked or c.undone_by in picked]


def _stop_line(error: RemoteError, status: int | None) -> str:
    if status == 429:
        return f"{error}: rate limited, so the rest is left for the next run"
    return f"{error}; what was not sent is sent by the next run"
