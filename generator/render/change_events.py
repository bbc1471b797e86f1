"""Change events: what the records tell the tools on call about services that changed, as
CDEvents v0.5 (`service.deployed`, `service.rolledback`) and as PagerDuty change events
(Events API v2). Pure data from the records; authoring/notify.py sends it.

Every record that is not `planned` was deployed: one `deployed` change at its `shipped_at`.
A `rolled-back` record was also rolled back: one `rolledback` change, at the time of the
earliest later record whose `fixes` names it (that record undid it), or, when none does, at
the record's own time (the records do not say when it was undone). A record with its date
only is taken at 00:00 UTC of that day; each event says which time it carries.

The artifact of a change is a package URL (purl, what CDEvents' `artifactId` takes):
`pkg:generic/SERVICE@COMMIT`. After a rollback the service runs what the undoing record
shipped, or, without one or its commit, what the previous deployment of that service in that
environment shipped; without a known commit the purl has no version.

The same record always yields the same events, byte for byte (ids, times and order come from
the records, never from the clock), so receivers can tell a repeat from a new change.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..models import SourcedRecord
from ..names import ShownNames
from .exports import day_start, record_url

# The v0.5 line's current release: its schemas fix v0.5.0's (context.specversion).
CDEVENTS_SPEC_VERSION = "0.5.1"
Predicate = Literal["deployed", "rolledback"]
CDEVENT_TYPES: dict[Predicate, str] = {
    "deployed": "dev.cdevents.service.deployed.0.3.0",
    "rolledback": "dev.cdevents.service.rolledback.0.3.0",
}
PAGERDUTY_SUMMARY_LIMIT = 1024
# custom_details lists this many touched files (and their count): enough to recognise the
# change on an incident page, far below PagerDuty's 512 KB event limit.
FILES_SHOWN = 20


@dataclass(frozen=True)
class ServiceChange:
    """One thing that happened to a service: the record, what happened, when (UTC), which
    record field that time comes from, the commit the service runs afterwards, and for a
    rollback the id of the record that undid it, if one says so."""

    entry: SourcedRecord
    predicate: Predicate
    at: dt.datetime
    time_from: str
    commit: str | None
    undone_by: str | None = None

    @property
    def event_id(self) -> str:
        """Stable per record and predicate, unique within the runbook: CDEvents' context id."""
        return f"{self.entry.id}.{self.predicate}"


def _moment(entry: SourcedRecord) -> tuple[dt.datetime, str]:
    record = entry.record
    if record.shipped_at is not None:
        return record.shipped_at.astimezone(dt.timezone.utc), "shipped_at"
    return day_start(record.date), "date"


def service_changes(records: Iterable[SourcedRecord], names: ShownNames) -> list[ServiceChange]:
    """Every deployment and rollback the records tell of, oldest first (then by id, deployed
    before rolled back). `records` are all the runbook's valid records, so that a rollback
    finds the record that undid it and the deployment it returned to."""
    entries = sorted(records, key=lambda e: (_moment(e)[0], e.id))
    deployed = [e for e in entries if e.record.status != "planned"]
    undone_by: dict[str, SourcedRecord] = {}
    for entry in deployed:  # oldest first: the earliest undoing record wins
        for fix in entry.record.fixes:
            undone_by.setdefault(fix.id, entry)
    changes = []
    for index, entry in enumerate(deployed):
        at, time_from = _moment(entry)
        changes.append(ServiceChange(entry, "deployed", at, time_from, entry.record.commit))
        if entry.record.status != "rolled-back":
            continue
        undoing = undone_by.get(entry.id)
        if undoing is not None:
            at, time_from = _moment(undoing)
            time_from = f"{time_from} of {undoing.id}"
        commit = (undoing.record.commit if undoing else None) or _previous_commit(
            deployed[:index], entry, names
        )
        changes.append(
            ServiceChange(
                entry, "rolledback", at, time_from, commit, undoing.id if undoing else None
            )
        )
    return sorted(changes, key=lambda c: (c.at, c.entry.id, c.predicate))


def _previous_commit(
    older: list[SourcedRecord], entry: SourcedRecord, names: ShownNames
) -> str | None:
    """The commit of the last deployment before `entry` of its service in its environment
    that stayed (not itself rolled back), or None."""
    key = names.aliases.key("service", entry.record.service)
    for previous in reversed(older):
        record = previous.record
        if (
            names.aliases.key("service", record.service) == key
            and record.environment == entry.record.environment
            and record.status != "rolled-back"
        ):
            return record.commit
    return None


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with `Z`, as CDEvents, CloudEvents and PagerDuty all read it."""
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def artifact_id(service_key: str, commit: str | None) -> str:
    """`pkg:generic/NAME@COMMIT` (purl: the name percent-encoded; no version when unknown)."""
    name = urllib.parse.quote(service_key, safe="")
    return f"pkg:generic/{name}@{commit}" if commit else f"pkg:generic/{name}"


@dataclass(frozen=True)
class EventSettings:
    """What every event of a run shares: where it comes from (CDEvents' context source and
    PagerDuty's payload source), the site the record pages are on, and the runbook's names."""

    source: str
    site_url: str
    directory_urls: bool
    names: ShownNames

    def url(self, change: ServiceChange) -> str:
        return record_url(change.entry.id, self.site_url, self.directory_urls)


def cdevent(change: ServiceChange, settings: EventSettings) -> dict[str, Any]:
    """The change as a CDEvent (context, subject, customData), as the v0.5 schemas of
    `service.deployed` and `service.rolledback` define them."""
    record = change.entry.record
    service_key = settings.names.aliases.key("service", record.service)
    return {
        "context": {
            "specversion": CDEVENTS_SPEC_VERSION,
            "id": change.event_id,
            "source": settings.source,
            "type": CDEVENT_TYPES[change.predicate],
            "timestamp": timestamp(change.at),
        },
        "subject": {
            "id": service_key,
            "content": {
                "environment": {"id": record.environment},
                "artifactId": artifact_id(service_key, change.commit),
            },
        },
        "customData": {"runbook": _details(change, settings)},
        "customDataContentType": "application/json",
    }


def _details(change: ServiceChange, settings: EventSettings) -> dict[str, Any]:
    """What a person on call wants next to the event: the record, its page, who and what."""
    record = change.entry.record
    names = settings.names
    details = {
        "record": change.entry.id,
        "change": change.predicate,
        "title": record.title,
        "url": settings.url(change),
        "service": names.shown("service", record.service),
        "environment": record.environment,
        "owner": names.shown("owner", record.owner),
        "status": record.status,
        "timestamp_from": change.time_from,
        "commit": record.commit,
        "started_at": record.started_at and timestamp(record.started_at),
        "shipped_at": record.shipped_at and timestamp(record.shipped_at),
        "rollback_tested": record.rollback.tested,
        "incidents": [incident.id for incident in record.incidents],
        "fixes": [fix.id for fix in record.fixes],
    }
    return {key: value for key, value in details.items() if value not in (None, [])}


def pagerduty_event(change: ServiceChange, settings: EventSettings) -> dict[str, Any]:
    """The change as a PagerDuty change event, all but its `routing_key`: `payload` with
    `summary` (at most 1,024 characters), `timestamp`, `source` and `custom_details`, and
    `links` (the record's page when the site has a `site_url`, then the record's links)."""
    record = change.entry.record
    service = settings.names.shown("service", record.service)
    what = "Rolled back: " if change.predicate == "rolledback" else ""
    summary = f"{what}{record.title} ({service}, {record.environment})"
    if len(summary) > PAGERDUTY_SUMMARY_LIMIT:
        summary = summary[: PAGERDUTY_SUMMARY_LIMIT - 1] + "…"
    details = _details(change, settings)
    details["files_touched"] = record.files_touched[:FILES_SHOWN]
    details["files_touched_count"] = len(record.files_touched)
    url = settings.url(change)
    links = [{"href": url, "text": "Runbook record"}] if url.startswith(("http:", "https:")) else []
    links += [{"href": str(link.url), "text": link.title} for link in record.links]
    return {
        "payload": {
            "summary": summary,
            "timestamp": timestamp(change.at),
            "source": settings.source,
            "custom_details": details,
        },
        "links": links,
    }
