"""`runbook annotate`: every record as an annotation on Grafana's dashboards, through its HTTP
API (`GET` and `POST /api/annotations`, Bearer token).

CI runs it on every merge, so it must be idempotent: each annotation it posts carries the tag
`runbook-id:ID`, and it first asks Grafana which of those exist in the records' time range;
a record already posted is never posted again. Failures are one line for the terminal
(unreachable, refused, not Grafana), never a traceback, and never the token.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..models import SourcedRecord
from ..names import ShownNames
from ..render.exports import annotation
from ..render.index import shown_names

RUNBOOK_TAG = "runbook"
ID_TAG_PREFIX = "runbook-id:"
TIMEOUT_SECONDS = 20
# Grafana answers at most `limit` annotations per query; the records posted are asked for in
# pages of time so that a large runbook is never cut short.
QUERY_LIMIT = 5000


class GrafanaError(Exception):
    """What went wrong talking to Grafana, as one line (the token never appears in it)."""


@dataclass(frozen=True)
class Grafana:
    """A Grafana server: its base URL, the token to send, the dashboard to annotate."""

    url: str
    token: str
    dashboard_uid: str | None = None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise GrafanaError(
                f"Grafana at {self.url} refused {method} {path.split('?')[0]} "
                f"(HTTP {exc.code}{_reason(exc)})"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GrafanaError(f"cannot reach Grafana at {self.url}: {reason}") from None
        try:
            return json.loads(payload or b"null")
        except ValueError:
            raise GrafanaError(
                f"{self.url} did not answer {method} {path.split('?')[0]} with JSON: "
                "is it Grafana's URL?"
            ) from None

    def posted_ids(self, start: int, end: int) -> set[str]:
        """Ids of the records already annotated between `start` and `end` (epoch ms)."""
        found: set[str] = set()
        while True:
            query = [("tags", RUNBOOK_TAG), ("type", "annotation"), ("limit", str(QUERY_LIMIT))]
            query += [("from", str(start)), ("to", str(end))]
            if self.dashboard_uid:
                query.append(("dashboardUID", self.dashboard_uid))
            answer = self._request("GET", "/api/annotations?" + urllib.parse.urlencode(query))
            if not isinstance(answer, list):
                raise GrafanaError(f"{self.url}/api/annotations did not answer a list")
            for item in answer:
                tags = item.get("tags") if isinstance(item, dict) else None
                found.update(
                    tag[len(ID_TAG_PREFIX) :]
                    for tag in tags or []
                    if isinstance(tag, str) and tag.startswith(ID_TAG_PREFIX)
                )
            if len(answer) < QUERY_LIMIT:
                return found
            # A full page: ask again for the part of the range before its oldest annotation.
            times = [item.get("time") for item in answer if isinstance(item, dict)]
            oldest = min((t for t in times if isinstance(t, int)), default=start)
            if oldest <= start or oldest >= end:
                return found
            end = oldest

    def post(self, body: dict[str, Any]) -> None:
        self._request("POST", "/api/annotations", body)


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        message = json.loads(error.read() or b"{}").get("message")
    except (ValueError, AttributeError, OSError):
        message = None
    return f": {str(message)[:200]}" if message else ""


def annotation_body(
    entry: SourcedRecord,
    site_url: str,
    directory_urls: bool,
    dashboard_uid: str | None,
    names: ShownNames,
) -> dict[str, Any]:
    """What POST /api/annotations receives for a record (Grafana's documented fields)."""
    shown = annotation(entry, site_url, directory_urls, names)
    body: dict[str, Any] = {
        "time": shown["time"],
        "tags": [RUNBOOK_TAG, f"{ID_TAG_PREFIX}{entry.id}", *shown["tags"]],
        "text": f"{shown['text']}\n{shown['url']}",
    }
    if "timeEnd" in shown:
        body["timeEnd"] = shown["timeEnd"]
    if dashboard_uid:
        body["dashboardUID"] = dashboard_uid
    return body


@dataclass(frozen=True)
class AnnotateResult:
    """What `runbook annotate` did (or would do, on a dry run)."""

    posted: list[str]
    already: int


def annotate_records(
    grafana: Grafana,
    records: Iterable[SourcedRecord],
    *,
    site_url: str,
    directory_urls: bool,
    dry_run: bool = False,
    names: ShownNames | None = None,
) -> AnnotateResult:
    """Post every record not yet on Grafana, oldest first (so a run cut short resumes).

    `names` are the shown names of the whole runbook (`render.index.shown_names` of every
    valid record, with the `aliases` option), so that tags match annotations.json; without
    them, names are shown as these records alone spell them, with no aliases."""
    records = list(records)
    names = names or shown_names(records)
    bodies = {
        entry.id: annotation_body(entry, site_url, directory_urls, grafana.dashboard_uid, names)
        for entry in records
    }
    if not bodies:
        return AnnotateResult([], 0)
    start = min(body["time"] for body in bodies.values())
    end = max(body.get("timeEnd", body["time"]) for body in bodies.values())
    posted = grafana.posted_ids(start, end)
    todo = [record_id for record_id in reversed(bodies) if record_id not in posted]
    if not dry_run:
        for record_id in todo:
            grafana.post(bodies[record_id])
    return AnnotateResult(todo, len(bodies) - len(todo))
