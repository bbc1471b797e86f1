"""runbook: validate YAML change records and render them into a searchable runbook site.

The names below are loaded when first used: `import generator` (as the console script does)
costs nothing until one is read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .check.validate import ValidationReport, validate_runbook
    from .config import RunbookOptions, read_options
    from .diagnostics import Diagnostic
    from .models import ChangeRecord, Checklist, Runbook

_HOMES = {
    "ChangeRecord": ".models",
    "Checklist": ".models",
    "Diagnostic": ".diagnostics",
    "Runbook": ".models",
    "RunbookOptions": ".config",
    "ValidationReport": ".check.validate",
    "read_options": ".config",
    "validate_runbook": ".check.validate",
}
__all__ = [
    "ChangeRecord",
    "Checklist",
    "Diagnostic",
    "Runbook",
    "RunbookOptions",
    "ValidationReport",
    "read_options",
    "validate_runbook",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
