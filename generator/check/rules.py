"""Rules a record must follow beyond its schema: checklists, policies, credentials, freshness.

Each rule reads one validated record (plus the checklists) and yields findings as (location,
severity, code, message); `validate` turns locations into lines only for files with findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import ChangeRecord, Checklist
from .schema_errors import did_you_mean
from .secrets import find_secrets, may_hold_tokens

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one place in a file, before it has a line number."""

    loc: Loc
    severity: str
    code: str
    message: str
    at_key: bool = False
    # Text to find within a multi-line value for the exact line (a secret: never printed).
    needle: str | None = field(default=None, repr=False)


def check_record(
    record: ChangeRecord,
    data: Mapping[str, Any],
    checklists: Mapping[str, Checklist],
    *,
    today: dt.date,
    review_max_age_days: int,
) -> Iterator[Finding]:
    """Every rule for one valid record but the credential scan (which runs on any data)."""
    yield from _checklist_findings(record, checklists)
    yield from _policy_findings(record, checklists)
    yield from _completeness_findings(record, data, today, review_max_age_days)


def _checklist_findings(
    record: ChangeRecord, checklists: Mapping[str, Checklist]
) -> Iterator[Finding]:
    for checklist_id, statuses in record.checklists.items():
        checklist = checklists.get(checklist_id)
        if checklist is None:
            hint = did_you_mean(checklist_id, checklists)
            yield Finding(
                ("checklists", checklist_id),
                "error",
                "unknown-checklist",
                f"checklists.{checklist_id}: no such checklist{hint}",
                at_key=True,
            )
            continue
        item_ids = [item.id for item in checklist.items]
        for item_id in statuses:
            if item_id not in item_ids:
                hint = did_you_mean(item_id, item_ids)
                yield Finding(
                    ("checklists", checklist_id, item_id),
                    "error",
                    "unknown-item",
                    f"checklists.{checklist_id}.{item_id}: no such item in '{checklist_id}'{hint}",
                    at_key=True,
                )
        missing = [item_id for item_id in item_ids if item_id not in statuses]
        if missing:
            yield Finding(
                ("checklists", checklist_id),
                "error",
                "missing-item",
                f"checklists.{checklist_id}: items not addressed: {', '.join(missing)} "
                "(mark each done, n/a or skipped with a note)",
                at_key=True,
            )


def _policy_findings(
    record: ChangeRecord, checklists: Mapping[str, Checklist]
) -> Iterator[Finding]:
    for checklist_id, checklist in checklists.items():
        if checklist_id in record.checklists:
            continue
        policy = checklist.required_for
        tag = next((t for t in record.tags if t in policy.tags), None)
        if tag is not None:
            yield Finding(
                ("tags", record.tags.index(tag)),
                "error",
                "required-checklist",
                f"tag '{tag}' requires checklist '{checklist_id}': add it under "
                "checklists with every item",
            )
        elif record.service in policy.services:
            yield Finding(
                ("service",),
                "error",
                "required-checklist",
                f"service '{record.service}' requires checklist '{checklist_id}': add it "
                "under checklists with every item",
            )


def _strings(value: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def _is_command(loc: Loc) -> bool:
    in_commands = loc[:1] == ("commands",) or loc[:2] == ("rollback", "commands")
    return in_commands and loc[-1] != "note"


def _command_strings(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    rollback = data.get("rollback")
    rollback_commands = rollback.get("commands") if isinstance(rollback, dict) else None
    for prefix, commands in (
        (("commands",), data.get("commands")),
        (
            ("rollback", "commands"),
            rollback_commands,
        ),
    ):
        for loc, text in _strings(commands, prefix):
            if _is_command(loc):
                yield loc, text


def secret_findings(data: Mapping[str, Any], text: str) -> Iterator[Finding]:
    """Credentials anywhere in the file (`text` is its source); keyword rules only in commands.

    The whole file is screened for token formats once; only on a hit is every value scanned.
    """
    tokens = "\\" in text or may_hold_tokens(text)  # an escape can spell a token
    strings = _strings(data) if tokens else _command_strings(data)
    for loc, value in strings:
        for hit in find_secrets(value, command=_is_command(loc), tokens=tokens):
            yield Finding(
                loc,
                "error",
                "secret",
                f"looks like a credential ({hit.kind}: {hit.masked}); remove it and "
                "rotate it; if it is not one, end its line with '# runbook: allow-secret'",
                needle=hit.value,
            )
            break


def check_checklist(checklist: Checklist) -> Iterator[Finding]:
    """Item ids are unique within a checklist (records address items by id)."""
    first_index: dict[str, int] = {}
    for index, item in enumerate(checklist.items):
        first = first_index.setdefault(item.id, index)
        if first != index:
            yield Finding(
                ("items", index, "id"),
                "error",
                "duplicate-item",
                f"items[{index}].id: '{item.id}' is already the id of items[{first}]",
            )


def _completeness_findings(
    record: ChangeRecord, data: Mapping[str, Any], today: dt.date, review_max_age_days: int
) -> Iterator[Finding]:
    # Warnings point at top-level keys: their positions come free from loading.
    if record.expected_result is None:
        yield Finding(
            (),
            "warning",
            "missing-expected-result",
            "no expected_result: say what should be observed after the change",
        )
    if not record.metrics:
        yield Finding(
            ("metrics",) if "metrics" in data else (),
            "warning",
            "no-metrics",
            "no metrics: record what moved (before, after) so the change can be judged",
        )
    if not record.rollback.tested:
        yield Finding(
            ("rollback",),
            "warning",
            "rollback-untested",
            "rollback is not marked tested",
            at_key=True,
        )
    if record.last_reviewed is not None:
        age = (today - record.last_reviewed).days
        if age > review_max_age_days:
            yield Finding(
                ("last_reviewed",),
                "warning",
                "stale-review",
                f"last reviewed {age} days ago (over {review_max_age_days}): check the "
                "record is still true and update last_reviewed",
            )
