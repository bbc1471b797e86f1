"""Where a rule's finding is in its file: the line and column a diagnostic shows.

The node tree is composed only for files with findings below the top level; a secret is placed
on its own line of a multi-line value, and the allow marker after it silences it.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from .loader import LoadedFile, compose_nodes, locate
from .problems import problem
from .rules import Finding
from .secrets import ALLOW_MARKER


def located(findings: list[Finding], loaded: LoadedFile) -> list[Diagnostic]:
    """Give findings their lines; the node tree is composed only when there are findings.

    A secret inside a multi-line value is placed on its own line, and is dropped when that
    line carries the allow marker (inside a quoted command or as a YAML comment after it).
    """
    if not findings:
        return []
    text = loaded.text or ""
    top_level_only = all(len(f.loc) == 0 or (len(f.loc) == 1 and f.at_key) for f in findings)
    root = None if top_level_only else compose_nodes(text)
    lines = text.split("\n")
    diagnostics = []
    document_start = min(loaded.key_positions.values(), default=(1, 1))
    for finding in findings:
        if top_level_only:
            key = finding.loc[0] if finding.loc else None
            line, column = loaded.key_positions.get(key, document_start)
        else:
            line, column = locate(root, finding.loc, at_key=finding.at_key)
        if finding.needle is not None:
            line, column = _line_of(lines, finding.needle, line, column)
            if _marker_follows(lines[line - 1], finding.needle):
                continue
        diagnostics.append(
            problem(
                loaded.display_path, line, column, finding.severity, finding.code, finding.message
            )
        )
    return diagnostics


def _marker_follows(line_text: str, needle: str) -> bool:
    """The allow marker as a YAML comment after this very value: later on its line, with no
    flow-list or flow-mapping separator between (a marker after the next command of
    `[a, b]` is about b, not a)."""
    first_line = needle.split("\n", 1)[0]
    at = line_text.find(first_line)
    if at < 0:
        return False
    end = at + len(first_line)
    marker = line_text.find(ALLOW_MARKER, end)
    return marker >= 0 and not any(separator in line_text[end:marker] for separator in ",]}")


def _line_of(lines: list[str], needle: str, line: int, column: int) -> tuple[int, int]:
    """Where `needle` is: the value's own position when it is on the value's first line,
    else the first later line (of a block scalar) that contains it."""
    first_line_of_needle = needle.split("\n", 1)[0]
    for number in range(line, len(lines) + 1):
        found = lines[number - 1].find(first_line_of_needle)
        if found >= 0:
            return (line, column) if number == line else (number, found + 1)
    return line, column
