"""`runbook list`: query records from the terminal, newest first."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from ..models import SourcedRecord
from ..names import Aliases, NameKind, name_key
from ..render.exports import record_export


def matches_file(files_touched: Iterable[str], query: str) -> bool:
    """A record matches a path exactly, or a folder prefix (`deploy/nginx` or `deploy/nginx/`)."""
    folder = query.rstrip("/") + "/"
    return any(path == query or path.startswith(folder) for path in files_touched)


def matches_name(kind: NameKind, word: str, query: str, aliases: Aliases) -> bool:
    """A name filter matches every spelling: the query's key within the word's key, or
    within the key of the name an alias shows it under."""
    wanted = name_key(query)
    return wanted in name_key(word) or wanted in aliases.key(kind, word)


def select_records(
    records: Iterable[SourcedRecord],
    *,
    service: str | None = None,
    owner: str | None = None,
    file: str | None = None,
    since: dt.date | None = None,
    aliases: Aliases | None = None,
) -> list[SourcedRecord]:
    """Records matching every given filter, newest first (the runbook's order)."""
    aliases = aliases or Aliases()
    return [
        entry
        for entry in records
        if (service is None or matches_name("service", entry.record.service, service, aliases))
        and (owner is None or matches_name("owner", entry.record.owner, owner, aliases))
        and (file is None or matches_file(entry.record.files_touched, file))
        and (since is None or entry.record.date >= since)
    ]


def format_table(records: list[SourcedRecord]) -> str:
    """Aligned columns: date, id, service, owner, title."""
    rows = [("DATE", "ID", "SERVICE", "OWNER", "TITLE")] + [
        (
            entry.record.date.isoformat(),
            entry.id,
            entry.record.service,
            entry.record.owner,
            entry.record.title,
        )
        for entry in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    )


def format_json(records: list[SourcedRecord]) -> str:
    """The same objects as the site's records.json."""
    return json.dumps([record_export(entry) for entry in records], indent=1, ensure_ascii=False)
