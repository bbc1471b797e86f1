"""How diagnostics are printed: one formatter per `--format`, in one table.

A new output format is one function and one entry in FORMATS; the command line's `--format`
choices are the table's names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict

from .diagnostics import Diagnostic, printable
from .sarif import sarif_log

Formatter = Callable[[list[Diagnostic]], str]


def text_line(diagnostic: Diagnostic) -> str:
    """`PATH:LINE:COL: SEVERITY: MESSAGE [CODE]`, as compilers and linters print problems;
    the path's unprintable characters escaped (a tab, a no-break space, a byte not UTF-8)."""
    d = diagnostic
    return f"{printable(d.path)}:{d.line}:{d.column}: {d.severity}: {d.message} [{d.code}]"


def github_line(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, which annotates the file in the pull request."""
    d = diagnostic
    # Workflow commands end at a newline and treat % specially: escape them as documented.
    message = f"{d.message} [{d.code}]"
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    path = printable(d.path).replace("%", "%25").replace(",", "%2C").replace(":", "%3A")
    return (
        f"::{d.severity} file={path},line={d.line},col={d.column},title=runbook {d.code}::{message}"
    )


def text(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(map(text_line, diagnostics))


def json_array(diagnostics: list[Diagnostic]) -> str:
    """A JSON array of the diagnostics, paths escaped as in text."""
    rows = [asdict(d) | {"path": printable(d.path)} for d in diagnostics]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def github(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(map(github_line, diagnostics))


FORMATS: dict[str, Formatter] = {
    "text": text,
    "json": json_array,
    "github": github,
    "sarif": sarif_log,
}


def format_diagnostics(diagnostics: list[Diagnostic], output_format: str) -> str:
    """Render diagnostics in one of FORMATS (text lines, a JSON array, GitHub Actions
    workflow commands or a SARIF 2.1.0 log)."""
    return FORMATS[output_format](diagnostics)
