"""`runbook init` and `runbook new`: a runbook repository and a record, prefilled, never
overwriting anything that exists.

A record is written in the minutes after a deploy or not at all, so `new` fills in what git
already knows (owner, files touched) and leaves commented placeholders, which validation
then insists on, for what only the author knows (reason, commands, metrics, rollback).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..check.loader import file_stem
from ..check.validate import discover, load_checklists
from ..config import RunbookOptions
from ..models import Checklist, RelativePath
from ..render.slugs import slugify
from .git import ShippedCommit, author, changed_files, shipped_commit
from .schema import json_schema

PACKAGE_DATA = Path(str(resources.files("generator")))
STARTER = PACKAGE_DATA / "starter"
SCHEMA_FOLDER = "schemas"
MAX_SLUG_LENGTH = 50


@dataclass
class ScaffoldReport:
    """What a scaffold command wrote, skipped because it existed, and could not prefill."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _write_new(path: Path, content: str, report: ScaffoldReport) -> None:
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
            _write_new(target / relative, source.read_text(encoding="utf-8"), report)
    for checklist in map(Path, discover(PACKAGE_DATA / "checklists", recursive=False)):
        _write_new(target / "checklists" / checklist.name, checklist.read_text("utf-8"), report)
    example = (STARTER / "example-record.yaml").read_text(encoding="utf-8")
    owner = author(target) or "runbook maintainers"
    example = example.replace("{date}", today.isoformat()).replace("{owner}", json.dumps(owner))
    record_path = target / "records" / str(today.year) / f"{today.isoformat()}-start-a-runbook.yaml"
    _write_new(record_path, example, report)
    _write_schemas(target, report)
    return report


def _write_schemas(root: Path, report: ScaffoldReport) -> None:
    for kind in ("record", "checklist"):
        schema = json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
        _write_new(root / SCHEMA_FOLDER / f"{kind}.schema.json", schema, report)


def new_record(
    options: RunbookOptions,
    title: str,
    *,
    service: str | None = None,
    owner: str | None = None,
    revision: str | None = None,
    today: dt.date | None = None,
) -> tuple[Path, ScaffoldReport]:
    """Write records/YYYY/YYYY-MM-DD-slug.yaml prefilled from git; return its path. With a
    revision, its commit and commit time fill `commit` and `shipped_at` (and the date)."""
    report = ScaffoldReport()
    cwd = options.root
    shipped = shipped_commit(cwd, revision) if revision else None
    today = shipped.shipped_at.date() if shipped else today or dt.date.today()
    owner = owner or author(cwd)
    if owner is None:
        report.notes.append("owner: git config has no user.name or user.email; fill it in")
    changes = changed_files(cwd, revision)
    if changes.note:
        report.notes.append(changes.note)
    files = _usable_paths(changes.paths, options)
    path = _free_record_path(options, today, title)
    checklists = _required_checklists(options, service)
    schema_path = options.root / SCHEMA_FOLDER / "record.schema.json"
    _write_schemas(options.root, ScaffoldReport())
    content = _record_text(
        title=title,
        today=today,
        shipped=shipped,
        owner=owner,
        service=service,
        files=files,
        files_source=changes.source,
        checklists=checklists,
        schema=os.path.relpath(schema_path, path.parent),
    )
    _write_new(path, content, report)
    return path, report


def _usable_paths(paths: list[str], options: RunbookOptions) -> list[str]:
    """Changed files that are valid files_touched, minus the runbook's own records."""
    adapter = TypeAdapter(RelativePath)
    records = options.records_dir.resolve()
    usable = []
    for path in paths:
        if (options.root / path).resolve().is_relative_to(records):
            continue
        try:
            usable.append(adapter.validate_python(path))
        except ValidationError:
            continue
    return usable


def _free_record_path(options: RunbookOptions, today: dt.date, title: str) -> Path:
    """A path whose stem is used nowhere in the runbook: -2, -3... on the same day and slug."""
    slug = slugify(title)[:MAX_SLUG_LENGTH].strip("-") or "change"
    base = f"{today.isoformat()}-{slug}"
    taken = {file_stem(p) for p in discover(options.records_dir, recursive=True)}
    stem, counter = base, 2
    while stem in taken or (options.records_dir / str(today.year) / f"{stem}.yaml").exists():
        stem, counter = f"{base}-{counter}", counter + 1
    return options.records_dir / str(today.year) / f"{stem}.yaml"


def _required_checklists(options: RunbookOptions, service: str | None) -> dict[str, Checklist]:
    """Checklists whose required_for names this service under any spelling or alias (tags
    are not known yet)."""
    if service is None:
        return {}
    files = discover(options.checklists_dir, recursive=False)
    checklists = load_checklists(files, options, diagnostics=[])
    key = options.aliases.key("service", service)
    return {
        checklist_id: sourced.checklist
        for checklist_id, sourced in checklists.items()
        if key
        in {options.aliases.key("service", s) for s in sourced.checklist.required_for.services}
    }


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _record_text(
    *,
    title: str,
    today: dt.date,
    shipped: ShippedCommit | None,
    owner: str | None,
    service: str | None,
    files: list[str],
    files_source: str,
    checklists: dict[str, Checklist],
    schema: str,
) -> str:
    lines = [
        f"# yaml-language-server: $schema={schema}",
        "# Fill in every TODO, then run `runbook validate`.",
        f"title: {_quote(title)}",
        f"date: {today.isoformat()}",
        f"shipped_at: {shipped.shipped_at.isoformat()}  # when it was committed; when it "
        "reached production, if later"
        if shipped
        else "# shipped_at: 2026-11-20T14:05:00+01:00  when it reached the environment",
        f"commit: {_quote(shipped.commit)}" if shipped else "# commit: the git commit id",
        f"owner: {_quote(owner)}" if owner else "# owner: TODO who is accountable (required)",
        f"service: {_quote(service)}"
        if service
        else "# service: TODO the system it changed (required)",
        "status: shipped",
        "# reason: |  (required) why the change was made, in Markdown",
        "#   TODO",
        "# expected_result: |  what should be observed afterwards",
        "#   TODO",
    ]
    if files:
        lines.append(f"files_touched:  # from {files_source}")
        lines += [f"  - {_quote(path)}" for path in files]
    else:
        lines += ["# files_touched:  (required) relative paths", "#   - TODO/path/to/file"]
    lines += [
        "# commands:  (required) how it shipped; a bare string or {run: ..., note: ...}",
        "#   - TODO the deploy command",
        "# metrics:  what moved",
        "#   - {name: TODO, unit: ms, before: 0, after: 0, better: lower}",
        "# rollback:  (required)",
        "#   plan: |",
        "#     TODO how to undo it",
        "#   commands:",
        "#     - TODO",
        "#   tested: false",
    ]
    if checklists:
        lines.append("checklists:  # required for this service: mark each done, n/a or skipped")
        for checklist_id, checklist in checklists.items():
            lines.append(f"  {checklist_id}:")
            for item in checklist.items_on(today):
                lines.append(f"    # {item.text}")
                lines.append(f"    {item.id}: todo  # done | n/a | {{status: skipped, note: why}}")
    return "\n".join(lines) + "\n"
