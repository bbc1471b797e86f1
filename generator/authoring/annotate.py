"""`runbook annotate`: every record as an annotation on Grafana's dashboards, through its HTTP
API (`GET` and `POST /api/annotations`, Bearer token).

CI runs it on every merge, so it must be idempotent: each annotation it posts carries the tag
`runbook-id:ID`, and it first asks Grafana which of those exist in the records' time range;
a record already posted is never posted again. Grafana is not trusted to answer well: every
request has a total deadline and a size cap and is never redirected (http_exchange.py), and
failures are one line for the terminal, never a traceback, never the token, never a password,
with the server's own words escaped.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..models import SourcedRecord
from ..names import ShownNames
from ..render.exports import annotation
from .remote import DeliveryReport, Refused, RemoteError, Server, checked_url

RUNBOOK_TAG = "runbook"
ID_TAG_PREFIX = "runbook-id:"
DEADLINE_SECONDS = 20.0
# 5,000 of our annotations are ~2 MB of JSON; a page four times the worst case still fits.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
# Grafana answers at most `limit` annotations per query; a full page is asked again in halves
# of its time window, so a large runbook is never cut short.
QUERY_LIMIT = 5000
# Statuses that say something is wrong with one record's annotation, not with the URL, the
# token or the server: the other records are still posted. Any other 4xx stops the run.
RECORD_REFUSALS = frozenset({400, 409, 413, 422})


def grafana_base_url(text: str) -> str:
    """The base URL to send requests under: http(s), a host, no credentials, no query."""
    return checked_url(text, "--grafana-url", base=True, credential_option="--token-env")


@dataclass(frozen=True)
class Grafana:
    """A Grafana server: its base URL (checked by grafana_base_url), the token to send, the
    dashboard to annotate, and how long and how much a request may take."""

    url: str
    token: str
    dashboard_uid: str | None = None
    deadline_seconds: float = DEADLINE_SECONDS
    max_answer_bytes: int = MAX_ANSWER_BYTES

    @property
    def _server(self) -> Server:
        return Server(
            "Grafana", self.url, "--grafana-url", self.deadline_seconds, self.max_answer_bytes
        )

    def _request(
        self, method: str, path: str, query: list[tuple[str, str]] | None = None, body: Any = None
    ) -> Any:
        what = f"{method} {path}"
        answer = self._server.send(
            method,
            self.url + path + ("?" + urllib.parse.urlencode(query) if query else ""),
            what,
            {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            None if body is None else json.dumps(body).encode("utf-8"),
        )
        if answer.status >= 400:
            raise self._server.refusal(what, answer)
        try:
            return json.loads(answer.body or b"null")
        except (ValueError, RecursionError):
            raise RemoteError(
                f"Grafana at {self.url} did not answer {what} with JSON: is it Grafana's URL?"
            ) from None

    def _posted_in(self, start: int, end: int, tags: list[str]) -> tuple[set[str], bool]:
        """Record ids tagged on the annotations overlapping `start`..`end` (epoch ms) and
        carrying every tag of `tags`, and whether the page was full."""
        query = [("tags", tag) for tag in tags]
        query += [("type", "annotation"), ("limit", str(QUERY_LIMIT))]
        query += [("from", str(start)), ("to", str(end))]
        if self.dashboard_uid:
            query.append(("dashboardUID", self.dashboard_uid))
        answer = self._request("GET", "/api/annotations", query)
        if not isinstance(answer, list):
            raise RemoteError(
                f"Grafana at {self.url} answered GET /api/annotations with JSON that is not a "
                "list of annotations: is it Grafana's URL?"
            )
        found: set[str] = set()
        for item in answer:
            tags_found = item.get("tags") if isinstance(item, dict) else ()
            if not isinstance(item, dict) or not isinstance(tags_found, (list, type(None))):
                raise RemoteError(
                    f"Grafana at {self.url} answered GET /api/annotations with an annotation "
                    "that is not an object with a list of tags: is it Grafana's URL?"
                )
            found.update(
                tag[len(ID_TAG_PREFIX) :]
                for tag in tags_found or ()
                if isinstance(tag, str) and tag.startswith(ID_TAG_PREFIX)
            )
        return found, len(answer) >= QUERY_LIMIT

    def posted_ids(self, spans: dict[str, tuple[int, int]]) -> set[str]:
        """Which of the records (id → its annotation's time span, epoch ms) are on Grafana.

        The records' whole range is asked first; a full page is asked again as two halves of
        its window, until every page is short. Should that not end (more annotations than a
        page in one millisecond, or spanning a whole window, or a server ignoring `from` and
        `to`) within as many queries as there are records, the records in the windows still
        full are asked for one by one, by their id tag.
        """
        if not spans:
            return set()
        found: set[str] = set()
        windows = [(min(s for s, _ in spans.values()), max(e for _, e in spans.values()))]
        still_full: list[tuple[int, int]] = []
        budget = max(16, len(spans))
        while windows:
            start, end = windows.pop()
            ids, full = self._posted_in(start, end, [RUNBOOK_TAG])
            found |= ids
            budget -= 1
            if not full:
                continue
            if end > start and budget >= 2:
                middle = (start + end) // 2
                windows += [(start, middle), (middle + 1, end)]
            else:
                still_full.append((start, end))
        for record_id, (start, end) in spans.items():
            if record_id in found:
                continue
            if any(start <= w_end and end >= w_start for w_start, w_end in still_full):
                ids, _ = self._posted_in(start, end, [RUNBOOK_TAG, ID_TAG_PREFIX + record_id])
                found |= ids
        return found

    def post(self, body: dict[str, Any]) -> None:
        answer = self._request("POST", "/api/annotations", body=body)
        identifier = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(identifier, int) or isinstance(identifier, bool):
            raise RemoteError(
                f"Grafana at {self.url} answered POST /api/annotations without the new "
                "annotation's id: is it Grafana's URL?"
            )


def annotation_text(title_line: str, url: str) -> str:
    """The annotation's text as HTML: Grafana's tooltip renders `text` as sanitised HTML, so
    record text is escaped to show literally, and the record's page is a link on its own line."""
    link = html.escape(url)
    if urllib.parse.urlsplit(url).scheme in ("http", "https"):
        link = f'<a href="{link}">{link}</a>'
    return f"{html.escape(title_line)}<br>{link}"


def annotation_body(
    entry: SourcedRecord,
    site_url: str,
    directory_urls: bool,
    dashboard_uid: str | None,
    names: ShownNames,
) -> dict[str, Any]:
    """What POST /api/annotations receives for a record (Grafana's documented fields)."""
    shown_record = annotation(entry, site_url, directory_urls, names)
    body: dict[str, Any] = {
        "time": shown_record["time"],
        "tags": [RUNBOOK_TAG, f"{ID_TAG_PREFIX}{entry.id}", *shown_record["tags"]],
        "text": annotation_text(shown_record["text"], shown_record["url"]),
    }
    if "timeEnd" in shown_record:
        body["timeEnd"] = shown_record["timeEnd"]
    if dashboard_uid:
        body["dashboardUID"] = dashboard_uid
    return body


def planned_annotations(
    records: Iterable[SourcedRecord],
    *,
    site_url: str,
    directory_urls: bool,
    dashboard_uid: str | None,
    names: ShownNames,
) -> dict[str, dict[str, Any]]:
    """Each record's annotation body by id, oldest first (so a run cut short resumes).

    `names` are the shown names of the whole runbook (`render.index.shown_names` of every
    valid record, with the `aliases` option), so that tags match annotations.json."""
    bodies = {
        entry.id: annotation_body(entry, site_url, directory_urls, dashboard_uid, names)
        for entry in records
    }
    return {record_id: bodies[record_id] for record_id in reversed(bodies)}


def annotate_records(grafana: Grafana, bodies: dict[str, dict[str, Any]]) -> DeliveryReport:
    """Post every annotation of `bodies` (planned_annotations) not yet on Grafana, in order.
    A record Grafana refuses (RECORD_REFUSALS) is reported and the others still posted; any
    other failure stops the run."""
    result = DeliveryReport()
    spans = {i: (body["time"], body.get("timeEnd", body["time"])) for i, body in bodies.items()}
    try:
        posted = grafana.posted_ids(spans)
    except RemoteError as exc:
        result.stopped = str(exc)
        return result
    todo = [record_id for record_id in bodies if record_id not in posted]
    result.already = len(bodies) - len(todo)
    for done, record_id in enumerate(todo):
        try:
            grafana.post(bodies[record_id])
        except Refused as exc:
            if exc.status not in RECORD_REFUSALS:
                result.stopped, result.not_posted = str(exc), len(todo) - done
                break
            result.refused.append((record_id, str(exc)))
        except RemoteError as exc:
            result.stopped, result.not_posted = str(exc), len(todo) - done
            break
        else:
            result.posted.append(record_id)
    return result
