"""Every Diagnostic that check/ reports is made here, safe to print in any format.

Messages echo user text (keys, ids, values): never a credential in full, and never extra lines
or terminal escapes. The credential scan is check/'s (detect-secrets), so the masking happens
where problems are found, and diagnostics.py stays plain data that imports nothing.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Severity
from .secrets import mask_secrets


def problem(
    path: str, line: int, column: int, severity: Severity, code: str, message: str
) -> Diagnostic:
    """A Diagnostic whose message has its credentials masked, and whose path and message
    have their unprintable characters escaped."""
    message = mask_secrets(message)
    if not path.isprintable():
        path = _printable(path)
    if not message.isprintable():
        message = _printable(message)
    return Diagnostic(path, line, column, severity, code, message)


def _printable(text: str) -> str:
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
