"""Every problem runbook finds is a Diagnostic: data first, printed once, in one of three formats.

Keeping problems as data (never exceptions that stop the run) is what lets `runbook validate`
report everything at once and lets CI, editors and the MkDocs plugin share one output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]
OUTPUT_FORMATS = ("text", "json", "github")


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at a 1-based line and column of a file."""

    path: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str

    def __post_init__(self) -> None:
        # Messages echo user text: never let it add lines or terminal escapes to the output.
        for name in ("path", "message"):
            value = getattr(self, name)
            if not value.isprintable():
                object.__setattr__(self, name, _printable(value))

    def as_text(self) -> str:
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message} [{self.code}]"
        )

    def as_github(self) -> str:
        # Workflow commands end at a newline and treat % specially: escape them as documented.
        message = f"{self.message} [{self.code}]"
        message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = self.path.replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
        return (
            f"::{self.severity} file={path},line={self.line},col={self.column},"
            f"title=runbook {self.code}::{message}"
        )


def _printable(text: str) -> str:
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by path, then line and column, so output is stable and reads top to bottom."""
    return sorted(set(diagnostics))


def has_errors(diagnostics: Iterable[Diagnostic], *, strict: bool = False) -> bool:
    """True when the run must fail: any error, or any warning under --strict."""
    return any(d.severity == "error" or strict for d in diagnostics)


def format_diagnostics(diagnostics: list[Diagnostic], output_format: str) -> str:
    """Render diagnostics as text lines, a JSON array, or GitHub Actions workflow commands."""
    if output_format == "json":
        return json.dumps([asdict(d) for d in diagnostics], indent=2, ensure_ascii=False)
    if output_format == "github":
        return "\n".join(d.as_github() for d in diagnostics)
    return "\n".join(d.as_text() for d in diagnostics)


def summary_line(diagnostics: list[Diagnostic], checked_files: int) -> str:
    """A one-line human summary for the end of a text report."""
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{checked_files} files checked: {errors} errors, {warnings} warnings"
