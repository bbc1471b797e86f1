"""Rules a record must follow beyond its schema: checklists, policies, credentials, freshness.

Each rule reads one validated record (plus the checklists) and yields findings as (location,
severity, code, message); `validate` turns locations into lines only for files with findings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import ChangeRecord, Checklist
from ..names import Aliases
from .placeholders import field_name, placeholders, wanted
from .schema_errors import did_you_mean
from .secrets import Hints, find_secrets, may_hold_credentials

Loc = tuple[Any, ...]
_DATED_ID = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-|$)")


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
    record_id: str,
    record: ChangeRecord,
    data: Mapping[str, Any],
    checklists: Mapping[str, Checklist],
    *,
    aliases: Aliases,
    today: dt.date,
    review_max_age_days: int,
) -> Iterator[Finding]:
    """Every rule for one valid record but the credential scan (which runs on any data)."""
    yield from _placeholder_findings(data)
    yield from _status_findings(record, data)
    yield from _commit_time_findings(record)
    yield from _checklist_findings(record, checklists)
    yield from _policy_findings(record, checklists, aliases)
    yield from _completeness_findings(record, data, today, review_max_age_days)
    yield from _id_date_findings(record_id, record)


def _placeholder_findings(data: Mapping[str, Any]) -> Iterator[Finding]:
    """A value still a stand-in (`TODO: ...` from `runbook new`, TBD, `-`, a blank command)
    is an error at its line: the record would publish saying nothing."""
    for loc, text in placeholders(data):
        shown = text.strip()
        shown = f"'{shown[:40]}...'" if len(shown) > 40 else f"'{shown}'" if shown else "blank"
        entry = ", or remove the entry" if any(isinstance(part, int) for part in loc) else ""
        yield Finding(
            loc,
            "error",
            "placeholder",
            f"{field_name(loc)}: {shown} is a placeholder: write {wanted(loc)}{entry}",
        )


def _status_findings(record: ChangeRecord, data: Mapping[str, Any]) -> Iterator[Finding]:
    """A planned change has not shipped: it has no `shipped_at` (a rolled-back one has, and
    keeps it). Said at `status`, where the fix usually is."""
    if record.status == "planned" and record.shipped_at is not None:
        yield Finding(
            ("status",) if "status" in data else ("shipped_at",),
            "error",
            "status-consistency",
            f"status is planned, but shipped_at says it reached {record.environment} at "
            f"{record.shipped_text()}: set status to shipped (or verified), or remove "
            "shipped_at if it has not shipped yet",
        )


def _commit_time_findings(record: ChangeRecord) -> Iterator[Finding]:
    """A commit made after the change shipped cannot be what shipped: lead time would be
    negative. A warning, as clocks and backfills drift."""
    committed, shipped = record.committed_at, record.shipped_at
    if committed is not None and shipped is not None and committed > shipped:
        yield Finding(
            ("committed_at",),
            "warning",
            "committed-after-shipped",
            f"committed_at {committed.isoformat()} is after shipped_at {shipped.isoformat()}: "
            "is it the commit that shipped? (its lead time is negative)",
        )


def _checklist_findings(
    record: ChangeRecord, checklists: Mapping[str, Checklist]
) -> Iterator[Finding]:
    """A record addresses the items in force on its date (through renamed ids too) and
    none that was retired before it."""
    day = record.date
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
        addressed: dict[str, str] = {}
        for item_id in statuses:
            where = ("checklists", checklist_id, item_id)
            item = checklist.item_for(item_id)
            if item is None:
                known = [i.id for i in checklist.items] + [
                    o for i in checklist.items for o in i.replaces
                ]
                hint = did_you_mean(item_id, known)
                yield Finding(
                    where,
                    "error",
                    "unknown-item",
                    f"checklists.{checklist_id}.{item_id}: no such item in '{checklist_id}'"
                    f"{hint} (if the checklist dropped or renamed it, keep it there with "
                    "'retired: DATE' or list the old id under the new item's 'replaces:')",
                    at_key=True,
                )
            elif item.retired is not None and day >= item.retired:
                yield Finding(
                    where,
                    "error",
                    "retired-item",
                    f"checklists.{checklist_id}.{item_id}: '{item.id}' was retired on "
                    f"{item.retired.isoformat()}; a record dated {day.isoformat()} does not "
                    "address it (remove it)",
                    at_key=True,
                )
            elif item.id in addressed:
                yield Finding(
                    where,
                    "error",
                    "duplicate-item",
                    f"checklists.{checklist_id}.{item_id}: addresses '{item.id}' again "
                    f"(already as '{addressed[item.id]}'); keep one",
                    at_key=True,
                )
            else:
                addressed[item.id] = item_id
        missing = [item for item in checklist.items_on(day) if item.id not in addressed]
        if missing:
            added = [item.id for item in missing if item.added is not None]
            hint = (
                " (each was added on or before this record's date)"
                if added and len(added) == len(missing)
                else " (if the checklist gained an item after this record shipped, give the "
                "item 'added: DATE')"
            )
            yield Finding(
                ("checklists", checklist_id),
                "error",
                "missing-item",
                f"checklists.{checklist_id}: items not addressed: "
                f"{', '.join(item.id for item in missing)} "
                f"(mark each done, n/a or skipped with a note){hint}",
                at_key=True,
            )


def _policy_findings(
    record: ChangeRecord, checklists: Mapping[str, Checklist], aliases: Aliases
) -> Iterator[Finding]:
    """Tags and services of `required_for` match a record's words under any spelling and
    through the aliases (a renamed service keeps its checklists). A checklist none of whose
    items was in force on the record's date (all added after it, or all retired before it)
    did not exist for that record: it requires nothing of it."""
    service_key = None
    tag_keys = None
    for checklist_id, checklist in checklists.items():
        policy = checklist.required_for
        if checklist_id in record.checklists or not (policy.tags or policy.services):
            continue
        if not checklist.items_on(record.date):
            continue
        if tag_keys is None:  # most checklists require nothing: keys only when one does
            service_key = aliases.key("service", record.service)
            tag_keys = [aliases.key("tag", tag) for tag in record.tags]
        required_tags = {aliases.key("tag", tag) for tag in policy.tags}
        position = next((i for i, key in enumerate(tag_keys) if key in required_tags), None)
        if position is not None:
            yield Finding(
                ("tags", position),
                "error",
                "required-checklist",
                f"tag '{record.tags[position]}' requires checklist '{checklist_id}': add it "
                "under checklists with every item",
            )
        elif service_key in {aliases.key("service", s) for s in policy.services}:
            yield Finding(
                ("service",),
                "error",
                "required-checklist",
                f"service '{record.service}' requires checklist '{checklist_id}': add it "
                "under checklists with every item",
            )


def _id_date_findings(record_id: str, record: ChangeRecord) -> Iterator[Finding]:
    """An id that starts with a date names the day it shipped: it must agree with `date`."""
    match = _DATED_ID.match(record_id)
    if match and match[1] != record.date.isoformat():
        yield Finding(
            ("date",),
            "warning",
            "id-date",
            f"the file name says {match[1]} but date is {record.date.isoformat()}: rename the "
            f"file to {record.date.isoformat()}{record_id[10:]}.yaml (or fix the date)",
        )


def _strings(value: Any, loc: Loc = (), *, keys: bool = False) -> Iterator[tuple[Loc, str, bool]]:
    """(location, text, is it a key) of every string in `value`; keys only when asked."""
    if isinstance(value, str):
        yield loc, value, False
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys and isinstance(key, str):
                yield (*loc, key), key, True
            yield from _strings(item, (*loc, key), keys=keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index), keys=keys)


def _is_command(loc: Loc) -> bool:
    in_commands = loc[:1] == ("commands",) or loc[:2] == ("rollback", "commands")
    return in_commands and loc[-1] != "note"


def _command_strings(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str, bool]]:
    rollback = data.get("rollback")
    rollback_commands = rollback.get("commands") if isinstance(rollback, dict) else None
    for prefix, commands in (
        (("commands",), data.get("commands")),
        (
            ("rollback", "commands"),
            rollback_commands,
        ),
    ):
        for loc, text, _ in _strings(commands, prefix):
            if _is_command(loc):
                yield loc, text, False


def secret_findings(data: Mapping[str, Any], text: str) -> Iterator[Finding]:
    """Credentials anywhere in the file (`text` is its source); keyword rules only in commands.

    The whole file is screened once for every rule's hint words; only when a token format
    or a URL query can match, or a backslash escape may spell one, is every value scanned, and
    commands only when a command's rule can (nearly every record: neither).
    """
    hints = Hints(text)
    # An escape can spell a token; a URL query can carry one.
    tokens = "\\" in text or bool(hints.token_detectors()) or hints.query_credential()
    if tokens:
        strings = _strings(data, keys=True)
    else:
        if not hints.command_credentials():
            return
        strings = list(_command_strings(data))
        if not may_hold_credentials("\n".join(value for _, value, _ in strings)):
            return
    for loc, value, is_key in strings:
        command = not is_key and _is_command(loc)
        for hit in find_secrets(value, command=command, tokens=tokens):
            where = "a key that" if is_key else "this"
            yield Finding(
                loc,
                "error",
                "secret",
                f"{where} looks like a credential ({hit.kind}: {hit.masked}); remove it and "
                "rotate it; if it is not one, end its line with '# runbook: allow-secret'",
                at_key=is_key,
                needle=None if is_key else hit.value,
            )
            break


def check_checklist(checklist: Checklist) -> Iterator[Finding]:
    """Item ids (current and replaced ones) are unique within a checklist, since records
    address items by id; an item is retired after it was added."""
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
    for index, item in enumerate(checklist.items):
        for position, old in enumerate(item.replaces):
            first = first_index.setdefault(old, index)
            if first != index or old == item.id:
                yield Finding(
                    ("items", index, "replaces", position),
                    "error",
                    "duplicate-item",
                    f"items[{index}].replaces: '{old}' already names items[{first}]",
                )
        if item.added and item.retired and item.retired <= item.added:
            yield Finding(
                ("items", index, "retired"),
                "error",
                "schema",
                f"items[{index}].retired: {item.retired.isoformat()} is not after added "
                f"({item.added.isoformat()})",
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
