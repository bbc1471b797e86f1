"""How authoring commands write into a team's repository: never over an existing file
unless asked, never half-written, never outside the repository (generator/writes.py), keeping
each file's line endings, and reporting each file they wrote, updated or left."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..repository_files import UnsafeWrite, write_file


@dataclass
class WriteReport:
    """What an authoring command wrote, updated, left as it was, and could not do itself."""

    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False  # something the user must finish by hand


def write_new(path: Path, content: str, report: WriteReport, *, root: Path) -> None:
    """Create `path` (inside `root`) with `content` unless something is there already; one
    that would be written outside `root` (through a link) is refused, and the command goes on
    with its other files."""
    try:
        write_file(path, content, inside=root, exclusive=True)
    except FileExistsError:
        report.skipped.append(path)
        return
    except UnsafeWrite as refused:
        report.notes.append(f"not written: {refused}")
        report.failed = True
        return
    report.written.append(path)


@dataclass(frozen=True)
class TextFile:
    """A text file as read for an edit: its text with `\\n` line breaks, and the line break
    it used, so that the edited file keeps it (a Windows checkout's CRLF stays CRLF)."""

    text: str
    newline: str = "\n"

    @classmethod
    def read(cls, path: Path) -> TextFile:
        """The file's text; UnicodeDecodeError (a ValueError) when it is not UTF-8."""
        text = path.read_bytes().decode("utf-8-sig")
        newline = "\r\n" if "\r\n" in text else "\n"
        return cls(text.replace("\r\n", "\n"), newline)

    def replace(self, path: Path, text: str, *, root: Path) -> None:
        """Write `text` (with `\\n` breaks) over `path` in this file's line endings."""
        write_file(path, text.replace("\n", self.newline), inside=root)
