"""The runbook as data for tools: records.json, annotations.json (dashboards) and
single-record exports (`runbook list`).

records.json is the records as written; annotations show and tag each service, owner and
tag under its shown name (names.ShownNames), as the site does, so a dashboard filtered by a
service's tag finds every record of it, whatever its spelling or old name."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..models import SourcedRecord
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


def records_json(records: list[SourcedRecord], serialised: dict[str, str]) -> str:
    """Every validated record, newest first, as stable JSON for tools and scripts.

    `serialised` is each record as pydantic-core wrote it (model_dump_json, in the models'
    field order), which is ten times faster than json.dumps over model_dump at 5,000 records;
    each gets its id, source and path first (as record_export).
    """
    export = [
        f'{{"id":{json.dumps(entry.id)},'
        f'"source":{json.dumps(entry.source.name if entry.source else None)},'
        f'"path":{json.dumps(entry.path, ensure_ascii=False)},' + serialised[entry.id][1:]
        for entry in records
    ]
    return "[" + ",".join(export) + "]\n"


DAY_MS = 86_400_000


def annotation(
    entry: SourcedRecord, site_url: str, directory_urls: bool, names: ShownNames
) -> dict[str, Any]:
    """One record as a Grafana annotation (the fields Grafana's annotation API and Infinity's
    annotation queries read). `time` is when it shipped, in epoch milliseconds; a record with
    its day only spans that day (UTC), `time` to `timeEnd`, since its hour is unknown."""
    record = entry.record
    if record.shipped_at is not None:
        span = {"time": int(record.shipped_at.timestamp() * 1000)}
    else:
        start = dt.datetime.combine(record.date, dt.time(), dt.timezone.utc)
        span = {"time": int(start.timestamp() * 1000)}
        span["timeEnd"] = span["time"] + DAY_MS - 1
    path = site_path(f"{RECORD_PAGES}{entry.id}.md", directory_urls)
    service = names.shown("service", record.service)
    tags = [service, record.environment, record.status]
    tags += [names.shown("tag", tag) for tag in record.tags]
    undo = "tested" if record.rollback.tested else "NOT tested"
    return {
        "id": entry.id,
        **span,
        "title": record.title,
        "text": f"{record.title} ({service}, {names.shown('owner', record.owner)}, "
        f"{record.status}; rollback {undo})",
        "tags": list(dict.fromkeys(tags)),
        "tagsText": ",".join(dict.fromkeys(tags)),
        "url": f"{site_url.rstrip('/')}/{path}" if site_url else path,
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
