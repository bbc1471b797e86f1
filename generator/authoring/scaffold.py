"""`runbook init`: a runbook repository that validates, builds and publishes, never
overwriting anything that exists."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..check.validate import discover
from .git import author
from .schema import SCHEMA_FOLDER, json_schema

PACKAGE_DATA = Path(str(resources.files("generator")))
STARTER = PACKAGE_DATA / "starter"


@dataclass
class ScaffoldReport:
    """What a scaffold command wrote, skipped because it existed, and could not prefill."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_new(path: Path, content: str, report: ScaffoldReport) -> None:
    """Create `path` with `content` unless it exists (exclusive create: no race, no overwrite)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as stream:
            stream.write(content)
    except FileExistsError:
        report.skipped.append(path)
        return
    report.written.append(path)


def init_repository(target: Path, *, today: dt.date | None = None) -> ScaffoldReport:
    """Scaffold mkdocs.yml, docs/, records/ (one example), checklists/, templates/, CI files."""
    report = ScaffoldReport()
    today = today or dt.date.today()
    for source in sorted(STARTER.rglob("*")):
        relative = source.relative_to(STARTER)
        if source.is_file() and relative.name != "example-record.yaml":
            write_new(target / relative, source.read_text(encoding="utf-8"), report)
    for checklist in map(Path, discover(PACKAGE_DATA / "checklists", recursive=False)):
        write_new(target / "checklists" / checklist.name, checklist.read_text("utf-8"), report)
    example = (STARTER / "example-record.yaml").read_text(encoding="utf-8")
    owner = author(target) or "runbook maintainers"
    example = example.replace("{date}", today.isoformat()).replace("{owner}", json.dumps(owner))
    record_path = target / "records" / str(today.year) / f"{today.isoformat()}-start-a-runbook.yaml"
    write_new(record_path, example, report)
    write_schemas(target, report)
    return report


def write_schemas(root: Path, report: ScaffoldReport) -> None:
    for kind in ("record", "checklist"):
        schema = json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
        write_new(root / SCHEMA_FOLDER / f"{kind}.schema.json", schema, report)
