"""Every problem runbook finds is a Diagnostic: plain data, printed once, in any format.

Keeping problems as data (never exceptions that stop the run) is what lets `runbook validate`
report everything at once and lets CI, editors and the MkDocs plugin share one output. How a
diagnostic is printed is formats.py's; how check/ makes one safe to print is check/problems.py's.
This module imports nothing else of runbook's.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """A diagnostic code: the stage that reports it and what it means."""

    stage: Literal["loading", "schema", "rules", "warnings"]
    summary: str
    # Raised by the models themselves (PydanticCustomError with this code as its type).
    from_models: bool = False


# Every code runbook reports, in one place: the README's list, the validator's mapping of
# model errors and any machine-readable format are derived from it.
CODES: dict[str, Code] = {
    "yaml-syntax": Code("loading", "the file is not valid YAML"),
    "duplicate-key": Code("loading", "a key appears twice in one mapping"),
    "anchor": Code("loading", "YAML anchors are not allowed"),
    "alias": Code("loading", "YAML aliases are not allowed"),
    "tag": Code("loading", "explicit YAML tags are not allowed"),
    "tab": Code("loading", "a tab in indentation"),
    "nul": Code("loading", "a NUL character"),
    "control-char": Code("loading", "a control character", from_models=True),
    "encoding": Code("loading", "the file is not UTF-8"),
    "empty": Code("loading", "the file is empty"),
    "not-mapping": Code("loading", "the top level is not a mapping"),
    "multi-document": Code("loading", "more than one YAML document"),
    "too-deep": Code("loading", "nesting too deep"),
    "too-large": Code("loading", "the file is over max_file_bytes"),
    "invalid-date": Code("loading", "an impossible date", from_models=True),
    "unreadable": Code("loading", "the file cannot be read"),
    "too-many-problems": Code("loading", "further problems of the file are not listed"),
    "schema": Code("schema", "a value of the wrong type or form", from_models=True),
    "missing": Code("schema", "a required key is missing"),
    "unknown-key": Code("schema", "a key the format does not have"),
    "one-line": Code("schema", "a one-line field spans lines", from_models=True),
    "bidi": Code("schema", "a bidirectional control character", from_models=True),
    "path": Code("schema", "not a relative POSIX path", from_models=True),
    "url": Code("schema", "not an http(s) URL", from_models=True),
    "date": Code("schema", "not a date", from_models=True),
    "id": Code("schema", "the file name is not a valid id", from_models=True),
    "time-order": Code("schema", "a time on the wrong side of another", from_models=True),
    "duplicate-id": Code("rules", "two files share an id"),
    "unknown-checklist": Code("rules", "a checklist that does not exist"),
    "unknown-item": Code("rules", "an item the checklist does not have"),
    "missing-item": Code("rules", "a checklist item left out"),
    "skipped-needs-note": Code("rules", "a skipped item without a note", from_models=True),
    "required-checklist": Code("rules", "a checklist required for the tags or service"),
    "duplicate-item": Code("rules", "two checklist items share an id", from_models=True),
    "secret": Code("rules", "a credential in the text"),
    "retired-item": Code("rules", "an item retired before the record's date"),
    "removed-item": Code("rules", "an item deleted from a checklist while records use it"),
    "status-consistency": Code("rules", "a status the record's other fields contradict"),
    "unknown-fix": Code("rules", "fixes names a record that does not exist"),
    "fix-order": Code("rules", "fixes names a record that is not older"),
    "fix-service": Code("rules", "fixes names a record of another service"),
    "placeholder": Code("rules", "a stand-in left where a value belongs (TODO, TBD, -, ...)"),
    "name-variant": Code("warnings", "another spelling of a service, owner or tag"),
    "alias-target": Code("warnings", "an alias points at a name no record uses"),
    "id-date": Code("warnings", "the date in the file name disagrees with date"),
    "missing-expected-result": Code("warnings", "no expected_result"),
    "no-metrics": Code("warnings", "no metrics"),
    "rollback-untested": Code("warnings", "the rollback is not marked tested"),
    "committed-after-shipped": Code("warnings", "committed_at is after shipped_at"),
    "rollback-unexplained": Code("warnings", "rolled back, with nothing saying what undid it"),
    "stale-review": Code("warnings", "last_reviewed is older than review_max_age_days"),
}


# The codes a gate may let pass: mkdocs.yml's `strict` names which of them fail.
WARNING_CODES = tuple(name for name, code in CODES.items() if code.stage == "warnings")


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at a 1-based line and column of a file."""

    path: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by path, then line and column, so output is stable and reads top to bottom.

    Each once, in the dataclass's own order (its fields in turn), compared as plain tuples:
    the dataclass's generated hash and comparisons made sorting 2,000 warnings take 13 ms."""
    unique = {_fields_in_order(d): d for d in diagnostics}
    return [unique[key] for key in sorted(unique)]


_fields_in_order = operator.attrgetter(*(f.name for f in fields(Diagnostic)))


def printable(text: str) -> str:
    """`text` with every character a terminal would not show as itself escaped: `\\t`,
    `\\x1b`, `\\u200d`, and a byte of a file name that is not UTF-8 (a lone surrogate to
    Python) as the byte, `\\xff`. Paths stay exact in diagnostics, so that they compare
    equal to the files they name; they are escaped only where they are printed."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(character: str) -> str:
    if "\udc80" <= character <= "\udcff":  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(character) - 0xDC00:02x}"
    return character.encode("unicode_escape").decode("ascii")


def has_errors(
    diagnostics: Iterable[Diagnostic], *, strict: bool | Collection[str] = False
) -> bool:
    """True when the run must fail: any error, or a warning that `strict` fails (True: every
    warning; a collection: the warnings of those codes)."""
    return any(fails(d, strict) for d in diagnostics)


def fails(diagnostic: Diagnostic, strict: bool | Collection[str]) -> bool:
    """Whether `diagnostic` fails a run whose failing warnings `strict` names."""
    if diagnostic.severity == "error" or strict is True:
        return True
    return not isinstance(strict, bool) and diagnostic.code in strict


def summary_line(diagnostics: list[Diagnostic], checked_files: int) -> str:
    """A one-line human summary for the end of a text report."""
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{checked_files} files checked: {errors} errors, {warnings} warnings"
