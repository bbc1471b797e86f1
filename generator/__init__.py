"""runbook: validate YAML change records and render them into a searchable runbook site."""

from .check.validate import ValidationReport, validate_runbook
from .config import RunbookOptions, read_options
from .diagnostics import Diagnostic
from .models import ChangeRecord, Checklist, Runbook

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
