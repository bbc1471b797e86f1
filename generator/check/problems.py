"""Every Diagnostic that check/ reports is made here, its message safe to print in any format.

Messages echo user text (keys, ids, values): never a credential in full, and never extra lines
or terminal escapes. The credential scan is check/'s (detect-secrets), so the masking happens
where problems are found, and diagnostics.py stays plain data that imports nothing.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Severity, printable
from .secrets import mask_secrets


def problem(
    path: str, line: int, column: int, severity: Severity, code: str, message: str
) -> Diagnostic:
    """A Diagnostic whose message has its credentials masked and its unprintable characters
    escaped. The path stays as the file is named (runs select diagnostics by it): formats.py
    escapes it where it is printed."""
    return Diagnostic(path, line, column, severity, code, printable(mask_secrets(message)))


def kept_problem(
    path: str, line: int, column: int, severity: Severity, code: str, message: str
) -> Diagnostic:
    """A Diagnostic that problem() made in an earlier run, read back from the record store.
    Its unprintable characters are escaped again (cheap, and a kept file is input like any
    other); its credentials were masked when it was made."""
    return Diagnostic(path, line, column, severity, code, printable(message))
