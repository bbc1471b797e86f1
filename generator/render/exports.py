"""The runbook as data for tools: records.json, annotations.json (dashboards) and
single-record exports (`runbook list`).

records.json is the records as written; annotations show and tag each service, owner and
tag under its shown name (names.ShownNames), as the site does, so a dashboard filtered by a
service's tag finds every record of it, whatever its spelling or old name."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from ..models import ChangeRecord, SourcedRecord
from ..names import ShownNames
from .links import RECORD_PAGES, site_path


def record_export(entry: SourcedRecord) -> dict[str, Any]:
    """One record as plain JSON data, with its id, its source (an aggregate's source, or
    None) and its file."""
    source = entry.source.name if entry.source else None
    return {
        "id": entry.id,
        "source": source,
        "path": entry.path,
        **entry.record.model_dump(mode="json"),
    }


def records_json(records: list[SourcedRecord]) -> str:
    """Every validated record, newest first, as stable JSON for tools and scripts.

    Made of each record as pydantic-core wrote it (SourcedRecord.serialised, in the models'
    field order), which is ten times faster than json.dumps over model_dump at 5,000 records;
    each gets its id, source and path first (as record_export). Written into one buffer a
    record at a time: a list of every record's text joined, then bracketed, held three
    copies of the export at once (200 MB each at 100,000 records), at the build's peak.
    """
    export = io.StringIO()
    export.write("[")
    for position, entry in enumerate(records):
        export.write(
            f'{"," if position else ""}{{"id":{json.dumps(entry.id)},'
            f'"source":{json.dumps(entry.source.name if entry.source else None)},'
            f'"path":{json.dumps(entry.path, ensure_ascii=False)},'
        )
        export.write(entry.serialised[1:])  # past its "{"
    export.write("]\n")
    return export.getvalue()


DAY_MS = 86_400_000


def epoch_ms(moment: dt.datetime) -> int:
    """A time with its offset as epoch milliseconds (what Grafana's `time` and `timeEnd` are)."""
    return int(moment.timestamp() * 1000)


def day_start(day: dt.date) -> dt.datetime:
    """00:00 UTC of `day`: the time given for a record with its date only."""
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)


def record_url(record_id: str, site_url: str, directory_urls: bool) -> str:
    """The record page's URL: absolute under `site_url`, else relative to the site root."""
    path = site_path(f"{RECORD_PAGES}{record_id}.md", directory_urls)
    return f"{site_url.rstrip('/')}/{path}" if site_url else path


def annotation_span(record: ChangeRecord) -> dict[str, int]:
    """`time`, and `timeEnd` for a region, in epoch milliseconds.

    A rollout with `started_at` and `shipped_at` is the region between them; `shipped_at`
    alone is a point; a record with its day only spans that day (UTC), since its hour is
    unknown; `started_at` alone is a point at the start (its end is unknown)."""
    if record.started_at is not None and record.shipped_at is not None:
        return {"time": epoch_ms(record.started_at), "timeEnd": epoch_ms(record.shipped_at)}
    moment = record.shipped_at or record.started_at
    if moment is not None:
        return {"time": epoch_ms(moment)}
    start = epoch_ms(day_start(record.date))
    return {"time": start, "timeEnd": start + DAY_MS - 1}


def annotation(
    entry: SourcedRecord, site_url: str, directory_urls: bool, names: ShownNames
) -> dict[str, Any]:
    """One record as a Grafana annotation (the fields Grafana's annotation API and Infinity's
    annotation queries read), `time` and `timeEnd` as annotation_span says."""
    record = entry.record
    service = names.shown("service", record.service)
    tags = [service, record.environment, record.status]
    tags += [names.shown("tag", tag) for tag in record.tags]
    undo = "tested" if record.rollback.tested else "NOT tested"
    return {
        "id": entry.id,
        **annotation_span(record),
        "title": record.title,
        "text": f"{record.title} ({service}, {names.shown('owner', record.owner)}, "
        f"{record.status}; rollback {undo})",
        "tags": list(dict.fromkeys(tags)),
        "tagsText": ",".join(dict.fromkeys(tags)),
        "url": record_url(entry.id, site_url, directory_urls),
        "commit": record.commit,
    }


def annotations_json(
    records: list[SourcedRecord], site_url: str, directory_urls: bool, names: ShownNames
) -> str:
    """Every record as a Grafana annotation, newest first (docs/grafana-annotations.md)."""
    return (
        json.dumps(
            [annotation(entry, site_url, directory_urls, names) for entry in records],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
    )


def file_paths_json(files: dict[str, list[SourcedRecord]], history_url: Any) -> str:
    """Every touched file as [path, URL of its history, number of changes], by path: what the
    files index's finder searches (fetched on the first keystroke, never with the page)."""
    rows = [[path, history_url(path), len(records)] for path, records in files.items()]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")) + "\n"
