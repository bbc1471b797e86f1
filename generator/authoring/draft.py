"""`runbook new`: a record, prefilled from git and from whatever the author or a script gives.

A record is written in the minutes after a deploy or not at all, so `new` fills in what git
already knows (owner, files touched, commit and time) and writes a placeholder (`TODO: ` and
the field's description, check/placeholders.py) in every required field only the author can
fill. The draft is valid YAML as written; its only errors are those `[placeholder]`s, each at
its line, and optional fields are offered as comments that are valid YAML once uncommented.
A backfill script gives every field as an option instead; each given value is checked with
the record model's own types before anything is written, so a record `new` writes is never
one `validate` refuses for a value that was given. The options are the record fields with a
`NewOption` (models.py): a field added there is an option, checked, and written here without
more code.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..check.file_check import load_checklists
from ..check.files import discover, file_stem
from ..check.loader import CONTROL_CHARACTERS
from ..check.paths import location
from ..check.placeholders import draft_text, placeholders
from ..check.secrets import ALLOW_MARKER, find_secrets
from ..config import RunbookOptions
from ..diagnostics import printable
from ..models import ChangeRecord, Checklist, RelativePath, pattern_problem, placeholder_values
from ..render.slugs import slugify
from .editor import write_schemas
from .git import (
    ShippedCommit,
    author,
    changed_files,
    commit_subject,
    repository_root,
    shipped_commit,
)
from .schema import SCHEMA_FOLDER
from .writing import WriteReport, write_new

MAX_SLUG_LENGTH = 50


@cache
def _adapter(path: str) -> TypeAdapter[Any]:
    model: type[BaseModel] = ChangeRecord
    *parents, name = path.split(".")
    for parent in parents:
        model = model.model_fields[parent].annotation  # type: ignore[assignment]
    info = model.model_fields[name]
    if not info.metadata:
        return TypeAdapter(info.annotation)
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)])


def checked(path: str, value: Any) -> Any:
    """`value` as the record's field at `path` (`rollback.plan`) reads it (a date, a time), or
    ValueError with validate's own message."""
    try:
        return _adapter(path).validate_python(value)
    except ValidationError as exc:
        raise ValueError("; ".join(map(_message, exc.errors()))) from None


# Fields whose text is a shell command: the keyword rules of the credential scan apply there.
COMMAND_FIELDS = frozenset({"commands", "rollback.commands"})


def screened(path: str, value: Any) -> None:
    """ValueError with the reason when `value`, given for the record field at `path`, holds
    what validate refuses in a record file whatever the field: a character the loader
    refuses (control characters, Unicode noncharacters), text that is not UTF-8, or a
    credential. Its field's own type is checked apart (`checked`)."""
    for text in _texts(value):
        problem = text_problem(text, command=path in COMMAND_FIELDS)
        if problem is not None:
            raise ValueError(problem)
    *parents, name = path.split(".")
    nested: Any = {name: value}
    for parent in reversed(parents):
        nested = {parent: nested}
    for _, text in placeholders(nested):
        shown = printable(text.strip()) or "blank"
        raise ValueError(
            f"{shown!r} is a placeholder, which validate refuses: give the real value, or "
            "leave the option out and fill the field in later"
        )


def text_problem(text: str, *, command: bool) -> str | None:
    """Why validate would refuse `text` anywhere in a record (None if it would not); the
    reason shows a refused character escaped and a credential masked."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not UTF-8 text (at {printable(text[exc.start : exc.end])})"
    match = CONTROL_CHARACTERS.search(text)
    if match:
        character = match.group()
        return (
            f"contains U+{ord(character):04X} ({printable(character)}), a control character "
            "or noncharacter, which validate refuses"
        )
    hit = next(find_secrets(text, command=command), None)
    if hit is not None:
        return (
            f"looks like a credential ({hit.kind}: {hit.masked}), which validate refuses: "
            "leave it out (and rotate it), or if it is not one, end the value with "
            f"'# {ALLOW_MARKER}'"
        )
    return None


def _texts(value: Any) -> list[str]:
    """Every string in `value`, keys of mappings included (the credential scan reads them)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in (*_texts(key), *_texts(item))]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _texts(item)]
    return []


def _message(error: Any) -> str:
    """validate's words for a value that breaks one of our patterns (pydantic's own message
    quotes the pattern)."""
    if error["type"] == "string_pattern_mismatch":
        problem = pattern_problem(error["ctx"]["pattern"], error["input"])
        if problem is not None:
            return problem.message()
    return str(error["msg"])


def title_from_git(git_dir: Path, revision: str) -> str:
    """The subject of REV's commit (of the newest, B, for A..B), as a title validate takes;
    ValueError saying why not (no such commit, or a subject validate would refuse)."""
    subject = commit_subject(git_dir, revision)
    if subject is None:
        raise ValueError(f"no commit subject for {revision!r} here: give a TITLE")
    try:
        screened("title", subject)
        return str(checked("title", subject))
    except ValueError as exc:
        raise ValueError(f"the subject of {revision!r} {exc}: give a TITLE") from None


@dataclass
class Draft:
    """What the author or a backfill script gave, by the path of its record field
    (`rollback.plan`); a field that is absent gets a placeholder in the file."""

    given: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.given["title"])

    def get(self, path: str, default: Any = None) -> Any:
        """The value given for the field at `path`, or `default`."""
        return self.given.get(path, default)

    def problem(self) -> str | None:
        """What `validate` would refuse in the given values taken together."""
        day, shipped_at = self.get("date"), self.get("shipped_at")
        if day and shipped_at and shipped_at.date() != day:
            return (
                f"--shipped-at is on {shipped_at.date().isoformat()} in its own offset, "
                f"but --date is {day.isoformat()}"
            )
        started_at = self.get("started_at")
        if started_at and shipped_at and started_at > shipped_at:
            return "--started-at is after --shipped-at (a rollout starts before it is done)"
        if shipped_at and self.get("status") == "planned":
            return "--shipped-at says it shipped, but --status is planned (it has not shipped)"
        if self.get("rollback.commands") and not self.get("rollback.plan"):
            return "--rollback-command needs --rollback (the plan)"
        return None


def new_record(
    options: RunbookOptions,
    draft: Draft,
    *,
    revision: str | None = None,
    git_dir: Path | None = None,
    today: dt.date | None = None,
) -> tuple[Path, WriteReport]:
    """Write records/YYYY/YYYY-MM-DD-slug.yaml and return its path. Git is read in `git_dir`
    (default: the runbook's folder); with a revision, its commit and commit time fill
    `commit`, `committed_at` and `shipped_at` unless given."""
    report = WriteReport()
    git_dir = git_dir or options.root
    shipped = shipped_commit(git_dir, revision) if revision else None
    planned = draft.get("status") == "planned"  # not shipped: no shipped_at from the commit
    shipped_at = draft.get("shipped_at") or (
        shipped.committed_at if shipped and not planned else None
    )
    day = draft.get("date") or (shipped_at.date() if shipped_at else today or dt.date.today())
    owner = draft.get("owner") or _git_author(git_dir, report)
    files, source = draft.get("files_touched", []), "--file"
    if not files:
        changes = changed_files(git_dir, revision)
        if changes.note:
            report.notes.append(changes.note)
        files, refused = _usable_paths(changes.paths, options, git_dir)
        source = changes.source
        if refused:
            shown = ", ".join(printable(path) for path in refused[:3])
            more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
            report.notes.append(
                f"{source} touched files whose names validate refuses in files_touched (not "
                f"UTF-8, control characters): {shown}{more}; add them by hand as they should read"
            )
        if changes.paths and not files:
            report.notes.append(
                f"{changes.source} touched only the runbook's own files, none outside it: "
                "list files_touched by hand, or name the code's commit or repository "
                "(--from-git REV, -C DIR)"
            )
    path = _free_record_path(options, day, draft.title)
    write_schemas(options.root, report)
    lines = [
        "# Replace every TODO, then run `runbook validate`: it names each one left.",
        *_header(draft, day, shipped_at, shipped, owner),
        *_markdown_field("reason", draft.get("reason")),
        *_optional_markdown_field("expected_result", draft.get("expected_result")),
        *_list_field("files_touched", files, f"from {source}" if source else ""),
        *_list_field(
            "commands", draft.get("commands", []), "a bare string or {run: ..., note: ...}"
        ),
        "# metrics:  # what moved; uncomment and fill in",
        "#   - {name: TODO, unit: ms, before: 0, after: 0, better: lower}",
        *_rollback(draft),
        *_checklists(_checklists_to_fill(options, draft, day), draft.get("checklists", {}), day),
    ]
    if draft.get("tags"):
        lines.append(f"tags: [{', '.join(map(_quote, draft.get('tags')))}]")
    lines += _other_fields(draft)
    write_new(path, "\n".join(lines) + "\n", report, root=options.root)
    return path, report


def _git_author(git_dir: Path, report: WriteReport) -> str | None:
    """The owner git config names, if validate would take it; else a note saying why not."""
    owner = author(git_dir)
    if owner is None:
        report.notes.append("owner: git config has no user.name or user.email; fill it in")
        return None
    try:
        screened("owner", owner)
        checked("owner", owner)
    except ValueError as exc:
        report.notes.append(f"owner: the name in git config {printable(str(exc))}; fill it in")
        return None
    return owner


def _header(
    draft: Draft,
    day: dt.date,
    shipped_at: dt.datetime | None,
    shipped: ShippedCommit | None,
    owner: str | None,
) -> list[str]:
    return [
        f"title: {_quote(draft.title)}",
        f"date: {day.isoformat()}",
        f"shipped_at: {shipped_at.isoformat()}"
        + (
            ""
            if draft.get("shipped_at")
            else "  # when it was committed; when it reached production"
        )
        if shipped_at
        else f"# shipped_at: {day.isoformat()}T12:00:00Z  # when it reached the environment",
        f"commit: {_quote(shipped.commit)}"
        if shipped
        else "# commit: 0123abc  # the git commit that shipped it",
        *_committed_at(draft, shipped),
        f"owner: {_quote(owner or _placeholder('owner'))}",
        f"service: {_quote(draft.get('service') or _placeholder('service'))}",
        *([f"environment: {_quote(draft.get('environment'))}"] if draft.get("environment") else []),
        f"status: {draft.get('status') or 'shipped'}",
    ]


def _committed_at(draft: Draft, shipped: ShippedCommit | None) -> list[str]:
    """The commit's time for lead time: as given, else the committer's time of --from-git."""
    committed_at = draft.get("committed_at") or (shipped.committed_at if shipped else None)
    return [f"committed_at: {committed_at.isoformat()}"] if committed_at else []


def _placeholder(path: str) -> str:
    """The placeholder of the record field at `path` (`rollback.plan`): from its description."""
    model: type[BaseModel] = ChangeRecord
    *parents, name = path.split(".")
    for parent in parents:
        model = model.model_fields[parent].annotation  # type: ignore[assignment]
    return draft_text(model.model_fields[name].description or name)


def _markdown_field(name: str, text: str | None, indent: str = "", path: str = "") -> list[str]:
    """The field's Markdown, or its placeholder as the block the writer replaces."""
    if text is None:
        return [f"{indent}{name}: |", f"{indent}  {_placeholder(path or name)}"]
    return [f"{indent}{name}: {_block(text, indent + '  ')}"]


def _optional_markdown_field(name: str, text: str | None) -> list[str]:
    """An optional field: its text, or an offer as comments that are valid YAML uncommented."""
    if text is not None:
        return _markdown_field(name, text)
    return [f"# {name}: |  # optional, in Markdown", f"#   {_placeholder(name)}"]


def _list_field(name: str, values: list[str], source: str, path: str = "") -> list[str]:
    """The list, or one placeholder entry (list each value on its own `- ` line)."""
    head = f"{name}:  # {source}" if source else f"{name}:"
    if not values:
        return [f"{name}:  # one per line", f"  - {_quote(_placeholder(path or name))}"]
    return [head, *(f"  - {_quote(value)}" for value in values)]


# The fields the lines above write; any other is written by `_other_fields`.
_WRITTEN_ABOVE = frozenset(
    {"title", "date", "shipped_at", "commit", "committed_at", "owner", "service", "status"}
    | {"environment"}
    | {"reason", "expected_result", "files_touched", "commands", "metrics", "rollback"}
    | {"checklists", "tags"}
)


def _other_fields(draft: Draft) -> list[str]:
    """Every other field of the record: its value if given, else a placeholder comment when
    it is required (so that a field added to the model needs no code here)."""
    lines = []
    for name, info in ChangeRecord.model_fields.items():
        value = draft.get(name)
        if name in _WRITTEN_ABOVE or (value is None and not info.is_required()):
            continue
        if value is None:
            lines.append(_required_placeholder(name))
        elif isinstance(value, dt.date):
            lines.append(f"{name}: {value.isoformat()}")
        else:  # JSON text, lists and mappings are YAML too
            lines.append(f"{name}: {json.dumps(value, ensure_ascii=False)}")
    return lines


def _required_placeholder(name: str) -> str:
    """A required field no line above writes (one added to the model): its placeholder text
    when the field takes text, else the model's Placeholder value, marked TODO."""
    text = _placeholder(name)
    try:
        checked(name, text)
    except ValueError:
        value = _PLACEHOLDER_VALUES.get(name)
        shown = value.isoformat() if isinstance(value, dt.date) else json.dumps(value)
        return f"{name}: {shown}  # {text}"
    return f"{name}: {_quote(text)}"


_PLACEHOLDER_VALUES = placeholder_values(ChangeRecord)


def _rollback(draft: Draft) -> list[str]:
    plan = draft.get("rollback.plan")
    lines = ["rollback:", *_markdown_field("plan", plan, indent="  ", path="rollback.plan")]
    commands = draft.get("rollback.commands") or (
        [] if plan else [_placeholder("rollback.commands")]
    )
    if commands:
        lines += ["  commands:", *(f"    - {_quote(c)}" for c in commands)]
    return [*lines, f"  tested: {'true' if draft.get('rollback.tested') else 'false'}"]


def _checklists(
    checklists: dict[str, Checklist], checks: dict[str, dict[str, str]], day: dt.date
) -> list[str]:
    """Each item in force on the record's day: its status from --check, else a todo."""
    if not checklists:
        return []
    lines = ["checklists:  # mark each item done, n/a or {status: skipped, note: why}"]
    for checklist_id, checklist in checklists.items():
        given = checks.get(checklist_id, {})
        in_force = checklist.items_on(day)
        lines.append(f"  {checklist_id}:" if in_force else f"  {checklist_id}: {{}}  # no items")
        for item in in_force:
            status = given.get(item.id) or given.get("*")
            lines.append(f"    # {item.text}")
            lines.append(f"    {item.id}: {_quote(status)}" if status else f"    {item.id}: todo")
    return lines


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _block(text: str, indent: str) -> str:
    """Markdown as a literal block when YAML keeps it byte for byte, else a quoted scalar."""
    lines = text.splitlines()
    literal = (
        len(lines) > 1
        and text.endswith("\n")
        and not text.endswith("\n\n")
        and not lines[0].startswith(" ")
        and all(line == line.rstrip() and line.isprintable() for line in lines)
    )
    if not literal:
        return _quote(text)
    return "|\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)


def _usable_paths(
    paths: list[str], options: RunbookOptions, git_dir: Path
) -> tuple[list[str], list[str]]:
    """Changed files that are valid files_touched, minus the runbook's own files (records,
    checklists, templates, docs pages, schemas, mkdocs.yml): a record is about the code.
    Also the changed files validate would refuse there, to be said, not dropped silently."""
    adapter = TypeAdapter(RelativePath)
    own = [
        folder.resolve()
        for folder in (
            options.records_dir,
            options.checklists_dir,
            options.templates_dir,
            options.docs_dir,
            options.root / SCHEMA_FOLDER,
            options.config_file,
        )
        if folder is not None
    ]
    top = repository_root(git_dir) or git_dir
    usable, refused = [], []
    for path in paths:
        if any(Path(location(top / path)).is_relative_to(folder) for folder in own):
            continue
        try:
            valid = adapter.validate_python(path)
        except ValidationError:
            valid = None
        if valid is None or text_problem(path, command=False) is not None:
            refused.append(path)
        else:
            usable.append(valid)
    return usable, refused


def _free_record_path(options: RunbookOptions, day: dt.date, title: str) -> Path:
    """A path whose stem is used nowhere in the runbook: -2, -3... on the same day and slug."""
    slug = slugify(title)[:MAX_SLUG_LENGTH].strip("-") or "change"
    base = f"{day.isoformat()}-{slug}"
    taken = {file_stem(p) for p in discover(options.records_dir, recursive=True)}
    stem, counter = base, 2
    while stem in taken or (options.records_dir / str(day.year) / f"{stem}.yaml").exists():
        stem, counter = f"{base}-{counter}", counter + 1
    return options.records_dir / str(day.year) / f"{stem}.yaml"


def _checklists_to_fill(
    options: RunbookOptions, draft: Draft, day: dt.date
) -> dict[str, Checklist]:
    """The checklists the service or a tag requires on `day`, under any spelling or alias (the
    same matching as validation's), and those named by --check; ValueError for an unknown
    name."""
    given_service, given_tags = draft.get("service"), draft.get("tags", [])
    marks = draft.get("checklists", {})
    if given_service is None and not given_tags and not marks:
        return {}
    files = discover(options.checklists_dir, recursive=False)
    known = {name: s.checklist for name, s in load_checklists(files, options, []).items()}
    aliases = options.aliases
    service = aliases.key("service", given_service) if given_service else None
    tags = {aliases.key("tag", tag) for tag in given_tags}

    def required(checklist: Checklist) -> bool:
        if not checklist.items_on(day):  # with no item in force that day, it requires nothing
            return False
        policy = checklist.required_for
        return service in {aliases.key("service", s) for s in policy.services} or bool(
            tags & {aliases.key("tag", t) for t in policy.tags}
        )

    chosen = {
        checklist_id: checklist
        for checklist_id, checklist in known.items()
        if checklist_id in marks or required(checklist)
    }
    for checklist_id, items in marks.items():
        if checklist_id not in known:
            folder = options.checklists_dir.name
            raise ValueError(f"--check: no checklist {checklist_id!r} in {folder}/")
        ids = {item.id for item in known[checklist_id].items_on(day)}
        unknown = sorted(set(items) - ids - {"*"})
        if unknown:
            raise ValueError(f"--check: checklist {checklist_id!r} has no item {unknown[0]!r}")
    return chosen
