"""How authoring commands write into a team's repository: never over an existing file
unless asked, never half-written, and reporting each file they wrote, updated or left."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class WriteReport:
    """What an authoring command wrote, updated, left as it was, and could not do itself."""

    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False  # something the user must finish by hand


def write_new(path: Path, content: str, report: WriteReport) -> None:
    """Create `path` with `content` unless it exists (exclusive create: no race, no overwrite)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as stream:
            stream.write(content)
    except FileExistsError:
        report.skipped.append(path)
        return
    report.written.append(path)


def replace_file(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path` and rename it over: never half-written."""
    temporary = path.with_name(f".{path.name}.runbook-tmp")
    temporary.write_text(text, encoding="utf-8")
    shutil.copymode(path, temporary)
    os.replace(temporary, path)
