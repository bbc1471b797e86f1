"""One file's check: load it, validate it against its model, apply the per-record rules, and
place every finding; never raises, never stops at the first problem.

A record with invalid fields is still held to the checklist and policy rules when the fields
those rules read are valid (_best_effort_record): one round of fixes, not four.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import RunbookOptions
from ..delivery import delivery_row
from ..diagnostics import Diagnostic
from ..models import (
    ID_PATTERN,
    ChangeRecord,
    Checklist,
    SourcedChecklist,
    SourcedRecord,
    placeholder_values,
)
from ..names import Aliases
from .files import Stamp
from .loader import LoadedFile, compose_nodes, load_yaml_file, locate
from .paths import display_path
from .positions import located
from .problems import problem
from .rules import Finding, check_checklist, check_record, secret_findings
from .schema_errors import schema_diagnostics
from .summary import RecordSummary

# `changes/index` is the listing of changes when docs/index.md is the home page.
RESERVED_IDS = frozenset({"index"})
# What checking one record file gives: the record (None if invalid or not kept), its
# diagnostics, and the names it uses (None if it did not validate).
RecordResult = tuple["SourcedRecord | None", list[Diagnostic], "RecordSummary | None"]


@dataclass(frozen=True)
class CheckContext:
    """What every worker needs to check a record on its own."""

    checklists: dict[str, Checklist]
    aliases: Aliases
    max_file_bytes: int
    review_max_age_days: int
    today: dt.date
    keep_records: bool
    # The folder diagnostics' paths are relative to: read once, not once per record.
    folder: str = field(default_factory=os.getcwd)


def check_record_file(
    path: str, context: CheckContext
) -> tuple[Stamp | None, str | None, RecordResult]:
    """Load, validate and apply every per-record rule to one file; the file's stamp and the
    digest of its bytes, as read."""
    shown = display_path(path, context.folder)
    loaded = load_yaml_file(path, shown, max_bytes=context.max_file_bytes)
    return loaded.stamp, loaded.digest, _check_loaded(loaded, context)


def _check_loaded(loaded: LoadedFile, context: CheckContext) -> RecordResult:
    diagnostics = loaded.diagnostics + _id_diagnostics(loaded)
    if loaded.data is None:
        return None, diagnostics, None
    findings = list(secret_findings(loaded.data, loaded.text or ""))
    record, error = _validated(loaded, ChangeRecord, diagnostics)
    if record is None:
        partial, set_aside = _best_effort_record(loaded, error)
        if partial is not None:
            findings += _rule_findings(loaded, partial, context, set_aside)
        diagnostics += located(findings, loaded)
        return None, diagnostics, None
    findings += _rule_findings(loaded, record, context)
    diagnostics += located(findings, loaded)
    names = RecordSummary(
        loaded.display_path,
        loaded.stem,
        record.date,
        record.service,
        record.owner,
        tuple(record.tags),
        unknown_items=tuple(
            (checklist_id, item_id)
            for checklist_id, statuses in record.checklists.items()
            if checklist_id in context.checklists
            for item_id in statuses
            if context.checklists[checklist_id].item_for(item_id) is None
        ),
        checklists=tuple(record.checklists),
        delivery=delivery_row(loaded.stem, record),
        unexplained_at=_unexplained_at(loaded, record),
    )
    if not context.keep_records or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics, names
    entry = SourcedRecord(loaded.stem, loaded.display_path, record)
    _ = entry.serialised  # made here, in the worker, and cached with the result
    return entry, diagnostics, names


def load_checklists(
    files: list[str], options: RunbookOptions, diagnostics: list[Diagnostic]
) -> dict[str, SourcedChecklist]:
    """Valid checklists by id; the problems of the others are added to `diagnostics`."""
    checklists = {}
    for path in files:
        loaded = load_yaml_file(path, display_path(path), max_bytes=options.max_file_bytes)
        diagnostics += loaded.diagnostics + _id_diagnostics(loaded)
        if loaded.data is None:
            continue
        findings = list(secret_findings(loaded.data, loaded.text or ""))
        checklist, _ = _validated(loaded, Checklist, diagnostics)
        if checklist is not None:
            findings += check_checklist(checklist)
        problems = located(findings, loaded)
        diagnostics += problems
        if checklist is not None and not any(d.severity == "error" for d in problems):
            checklists[loaded.stem] = SourcedChecklist(loaded.stem, loaded.display_path, checklist)
    return dict(sorted(checklists.items()))


def _validated(
    loaded: LoadedFile, model: type[BaseModel], diagnostics: list[Diagnostic]
) -> tuple[Any, ValidationError | None]:
    """The model of the file's data; or None and the error, after adding its schema
    problems (none at a place the loader already refused)."""
    if loaded.data is None:
        return None, None
    try:
        validated = model.model_validate(loaded.data), None
    except ValidationError as error:
        diagnostics += [
            diagnostic
            for diagnostic in schema_diagnostics(error, loaded, model)
            if (diagnostic.line, diagnostic.column) not in loaded.refused_at
        ]
        validated = None, error
    if loaded.yaml11_booleans:
        diagnostics += _yaml11_boolean_diagnostics(loaded, diagnostics)
    return validated


def _yaml11_boolean_diagnostics(
    loaded: LoadedFile, diagnostics: list[Diagnostic]
) -> list[Diagnostic]:
    """`tested: yes` passes the schema as a YAML 1.1 boolean, yet an editor reading YAML 1.2
    sees text and underlines it: one reading for both, so the word is refused (where the
    schema refused it already, as an item status, its own message says what to write)."""
    reported = {(d.line, d.column) for d in diagnostics if d.path == loaded.display_path}
    return [
        problem(
            loaded.display_path,
            line,
            column,
            "error",
            "schema",
            f"'{word}' means {str(meaning).lower()} in YAML 1.1 and is text to editors, which "
            f"read YAML 1.2: write {str(meaning).lower()}",
        )
        for (line, column), (word, meaning) in loaded.yaml11_booleans.items()
        if (line, column) not in reported
    ]


# What the per-record rules read: a record whose problems lie here gets no rule findings.
RULE_INPUTS = frozenset({"date", "service", "tags", "checklists"})
# Warnings about a field that is absent: wrong when the field was only set aside.
_ABSENCE_WARNINGS = {
    "metrics": "no-metrics",
    "expected_result": "missing-expected-result",
    "rollback": "rollback-untested",
    "last_reviewed": "stale-review",
}


def _best_effort_record(
    loaded: LoadedFile, error: ValidationError | None
) -> tuple[ChangeRecord | None, set[str]]:
    """The record with its invalid top-level fields set aside, so that the checklist and
    policy rules report in the same run as the schema errors (one round of fixes, not
    four); None when a field the rules read is among them. Also the fields set aside."""
    if error is None or loaded.data is None:
        return None, set()
    broken = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
    data = {key: value for key, value in loaded.data.items() if key not in broken}
    if "date" in broken:  # an impossible date: the file name's date says which checklists held
        try:
            data["date"] = dt.date.fromisoformat(loaded.stem[:10])
        except ValueError:
            return None, broken
    if broken & RULE_INPUTS - {"date"}:
        return None, broken
    for key in broken & _REQUIRED_FIELDS - {"date"}:
        data[key] = _PLACEHOLDERS[key]
    fields = ChangeRecord.model_fields
    meant = {  # `expected_reslt` set aside: no "no expected_result" warning either
        match for key in broken - set(fields) for match in difflib.get_close_matches(key, fields, 1)
    }
    try:
        return ChangeRecord.model_validate(data), broken | meant
    except ValidationError:
        return None, broken


_REQUIRED_FIELDS = frozenset(
    name for name, info in ChangeRecord.model_fields.items() if info.is_required()
)
# Valid stand-ins for required fields the rules never read (RULE_INPUTS are never replaced).
_PLACEHOLDERS = placeholder_values(ChangeRecord)


def _id_diagnostics(loaded: LoadedFile) -> list[Diagnostic]:
    if loaded.stem in RESERVED_IDS:
        return [
            problem(
                loaded.display_path,
                1,
                1,
                "error",
                "id",
                f"'{loaded.stem}' is reserved (it is the URL of a generated listing): "
                "rename the file",
            )
        ]
    if ID_PATTERN.fullmatch(loaded.stem):
        return []
    return [
        problem(
            loaded.display_path,
            1,
            1,
            "error",
            "id",
            f"file name '{loaded.stem}' is not a valid id: use lowercase a-z, 0-9 and single "
            "dashes, e.g. 2026-11-20-cap-upload-size",
        )
    ]


def _rule_findings(
    loaded: LoadedFile,
    record: ChangeRecord,
    context: CheckContext,
    set_aside: frozenset[str] | set[str] = frozenset(),
) -> list[Finding]:
    """The per-record rules' findings, but none about a field set aside (_best_effort_record)."""
    absence = {_ABSENCE_WARNINGS.get(key) for key in set_aside}
    return [
        finding
        for finding in check_record(
            loaded.stem,
            record,
            loaded.data or {},
            context.checklists,
            aliases=context.aliases,
            today=context.today,
            review_max_age_days=context.review_max_age_days,
        )
        if not (finding.loc and str(finding.loc[0]) in set_aside) and finding.code not in absence
    ]


def _unexplained_at(loaded: LoadedFile, record: ChangeRecord) -> tuple[int, int] | None:
    """Where a rolled-back record's status value is, when nothing says what undid it: after
    its key on the key's line (as almost always), found there without composing the file."""
    if record.status != "rolled-back" or record.rollback.undone_by is not None:
        return None
    text = loaded.text or ""
    line, column = loaded.key_positions.get("status", (1, 1))
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    end = text.find("\n", start)
    key_line = text[start : end if end >= 0 else len(text)]
    colon = key_line.find(":", column - 1)
    value = key_line[colon + 1 :] if colon >= 0 else ""
    if value.strip() and not value.lstrip().startswith("#"):
        return line, colon + 2 + len(value) - len(value.lstrip())
    return locate(compose_nodes(text), ("status",), at_key=False)
