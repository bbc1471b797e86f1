"""Load and validate a whole runbook: every file, every rule, every problem at once.

Files are independent until the cross-record rules, so large runbooks are checked on every
core: each worker loads, validates and applies the per-record rules to a chunk of files and
sends back the models and diagnostics. Only duplicate ids need all records together.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import pickle
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import RunbookOptions
from ..diagnostics import Diagnostic, sort_diagnostics
from ..models import ID_PATTERN, ChangeRecord, Checklist, Runbook, SourcedChecklist, SourcedRecord
from ..names import NAME_KINDS, Aliases, name_key
from .cache import ValidationCache
from .checklist_effects import checklist_notes, removed_item_diagnostics
from .files import Stamp, discover, list_record_files, stamp_of
from .gc_pause import collector_paused
from .loader import LoadedFile, compose_nodes, file_stem, load_yaml_file, locate
from .problems import problem
from .rules import Finding, check_checklist, check_record, secret_findings
from .schema_errors import did_you_mean, schema_diagnostics
from .secrets import ALLOW_MARKER
from .summary import RecordSummary
from .variants import name_variants

# `changes/index` is the listing of changes when docs/index.md is the home page.
RESERVED_IDS = frozenset({"index"})
# What checking one record file gives: the record (None if invalid or not kept), its
# diagnostics, and the names it uses (None if it did not validate).
RecordResult = tuple["SourcedRecord | None", list[Diagnostic], "RecordSummary | None"]
# A checked record file: its path, its stamp when it was read (None: its result is not kept),
# and its result.
Checked = tuple[str, "Stamp | None", RecordResult]
PARALLEL_THRESHOLD = 400  # below this, starting workers costs more than it saves
MIN_CHUNK = 25  # files a worker takes at once, at least


@dataclass
class ValidationReport:
    """The outcome of one validation run."""

    runbook: Runbook
    diagnostics: list[Diagnostic]
    files_checked: int
    # What changes to the selected checklists mean for the records (not problems).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    """What every worker needs to check a record on its own."""

    checklists: dict[str, Checklist]
    aliases: Aliases
    max_file_bytes: int
    review_max_age_days: int
    today: dt.date
    keep_records: bool
    # The folder diagnostics' paths are relative to: read once, not once per record.
    folder: str = field(default_factory=os.getcwd)


def reference_date() -> dt.date:
    """Today, or the day of SOURCE_DATE_EPOCH so that reproducible builds agree."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date.today()


def display_path(path: str | Path, cwd: str | None = None) -> str:
    """The path as a person in the current folder (`cwd`, when the caller has read it) would
    type it: string work, no syscall but reading the current folder."""
    cwd = cwd or os.getcwd()
    inside = cwd.rstrip("/") + "/"
    # A record's path as the folder listing gives it (absolute, already normal, inside the
    # folder) needs no normalising, which was most of this function's cost, once per record.
    if (
        isinstance(path, str)
        and path.startswith(inside)
        and not ("/." in path or "//" in path or path.endswith("/"))
    ):
        return path[len(inside) :]
    return normalised_display_path(cwd, path)


def normalised_display_path(cwd: str, path: str | Path) -> str:
    """display_path for any path, by normalising it."""
    absolute = os.path.normpath(os.path.join(cwd, path))
    if absolute == cwd:
        return "."
    inside = cwd.rstrip("/") + "/"
    return absolute[len(inside) :] if absolute.startswith(inside) else absolute


def _newest_first(entry: SourcedRecord) -> tuple[dt.date, float, str]:
    """The runbook's order (reversed): by day, within a day by the time it shipped (records
    without one after those with), then by id, so every listing is stable."""
    shipped = entry.record.shipped_at
    return entry.record.date, shipped.timestamp() if shipped else float("-inf"), entry.id


def validate_runbook(
    options: RunbookOptions,
    *,
    only: Sequence[Path] | None = None,
    jobs: int | None = None,
    keep_records: bool = True,
    cache_file: Path | None = None,
    reuse_cached: bool = True,
) -> ValidationReport:
    """Validate every checklist and record; report diagnostics for `only` (all when None).

    With keep_records=False the report's runbook has no records: workers send back only
    diagnostics, which is all `runbook validate` needs, and much less to pickle. With a
    cache_file, results of unchanged record files are reused (see check/cache.py) unless
    reuse_cached is False, and the file is updated with this run's results.
    """
    cache = None
    checklist_files = discover(options.checklists_dir, recursive=False)
    record_files = list_record_files(options.records_dir)
    only = [p.resolve() for p in only] if only is not None else None
    known = set(record_files + checklist_files)
    extra = [p for p in only or () if p.is_file() and str(p) not in known]
    record_files += [str(p) for p in extra if not _is_inside(p, options.checklists_dir)]

    diagnostics: list[Diagnostic] = []
    checklists = load_checklists(checklist_files, options, diagnostics)
    context = _Context(
        checklists={cid: sc.checklist for cid, sc in checklists.items()},
        aliases=options.aliases,
        max_file_bytes=options.max_file_bytes,
        review_max_age_days=options.review_max_age_days,
        today=reference_date(),
        keep_records=keep_records,
    )
    records = []
    name_uses = []
    if cache_file is not None:
        # The context's repr holds every valid checklist in full: it is what results depend on.
        cache = ValidationCache.open(cache_file, [repr(context)], load=reuse_cached)
    for record, record_diagnostics, names in _check_records(record_files, context, jobs, cache):
        diagnostics += record_diagnostics
        if record is not None:
            records.append(record)
        if names is not None:
            name_uses.append(names)
    diagnostics += _name_diagnostics(name_uses, options)
    diagnostics += _duplicate_id_diagnostics(records, checklist_files, record_files)
    records.sort(key=_newest_first, reverse=True)
    notes = []
    if only is not None:
        selected = {display_path(p) for p in _expand(only)}
        diagnostics = [d for d in diagnostics if d.path in selected]
        files_checked = len(selected)
        # A checklist being checked on its own (a path, or --changed) answers for its effect
        # on the records; a full run shows it at each record instead.
        chosen = {cid: sc for cid, sc in checklists.items() if sc.path in selected}
        diagnostics += removed_item_diagnostics(chosen, name_uses, options.max_file_bytes)
        for sourced in chosen.values():
            notes += checklist_notes(sourced, name_uses)
    else:
        files_checked = len(checklist_files) + len(record_files)
    return ValidationReport(
        Runbook(records, checklists), sort_diagnostics(diagnostics), files_checked, notes
    )


def _is_inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _expand(paths: Iterable[Path]) -> list[str | Path]:
    expanded: list[str | Path] = []
    for path in paths:
        expanded += discover(path, recursive=True) if path.is_dir() else [path]
    return expanded


def load_checklists(
    files: list[str], options: RunbookOptions, diagnostics: list[Diagnostic]
) -> dict[str, SourcedChecklist]:
    """Valid checklists by id; the problems of the others are added to `diagnostics`."""
    checklists = {}
    for path in files:
        loaded = load_yaml_file(path, display_path(path), max_bytes=options.max_file_bytes)
        diagnostics += loaded.diagnostics + _id_diagnostics(loaded)
        if loaded.data is None:
            continue
        findings = list(secret_findings(loaded.data, loaded.text or ""))
        checklist, _ = _validated(loaded, Checklist, diagnostics)
        if checklist is not None:
            findings += check_checklist(checklist)
        problems = _located(findings, loaded)
        diagnostics += problems
        if checklist is not None and not any(d.severity == "error" for d in problems):
            checklists[loaded.stem] = SourcedChecklist(loaded.stem, loaded.display_path, checklist)
    return dict(sorted(checklists.items()))


def _validated(
    loaded: LoadedFile, model: type[BaseModel], diagnostics: list[Diagnostic]
) -> tuple[Any, ValidationError | None]:
    """The model of the file's data; or None and the error, after adding its schema
    problems (none at a place the loader already refused)."""
    if loaded.data is None:
        return None, None
    try:
        validated = model.model_validate(loaded.data), None
    except ValidationError as error:
        diagnostics += [
            diagnostic
            for diagnostic in schema_diagnostics(error, loaded, model)
            if (diagnostic.line, diagnostic.column) not in loaded.refused_at
        ]
        validated = None, error
    if loaded.yaml11_booleans:
        diagnostics += _yaml11_boolean_diagnostics(loaded, diagnostics)
    return validated


def _yaml11_boolean_diagnostics(
    loaded: LoadedFile, diagnostics: list[Diagnostic]
) -> list[Diagnostic]:
    """`tested: yes` passes the schema as a YAML 1.1 boolean, yet an editor reading YAML 1.2
    sees text and underlines it: one reading for both, so the word is refused (where the
    schema refused it already, as an item status, its own message says what to write)."""
    reported = {(d.line, d.column) for d in diagnostics if d.path == loaded.display_path}
    return [
        problem(
            loaded.display_path,
            line,
            column,
            "error",
            "schema",
            f"'{word}' means {str(meaning).lower()} in YAML 1.1 and is text to editors, which "
            f"read YAML 1.2: write {str(meaning).lower()}",
        )
        for (line, column), (word, meaning) in loaded.yaml11_booleans.items()
        if (line, column) not in reported
    ]


# What the per-record rules read: a record whose problems lie here gets no rule findings.
RULE_INPUTS = frozenset({"date", "service", "tags", "checklists"})
# Warnings about a field that is absent: wrong when the field was only set aside.
_ABSENCE_WARNINGS = {
    "metrics": "no-metrics",
    "expected_result": "missing-expected-result",
    "rollback": "rollback-untested",
    "last_reviewed": "stale-review",
}


def _best_effort_record(
    loaded: LoadedFile, error: ValidationError | None
) -> tuple[ChangeRecord | None, set[str]]:
    """The record with its invalid top-level fields set aside, so that the checklist and
    policy rules report in the same run as the schema errors (one round of fixes, not
    four); None when a field the rules read is among them. Also the fields set aside."""
    if error is None or loaded.data is None:
        return None, set()
    broken = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
    data = {key: value for key, value in loaded.data.items() if key not in broken}
    if "date" in broken:  # an impossible date: the file name's date says which checklists held
        try:
            data["date"] = dt.date.fromisoformat(loaded.stem[:10])
        except ValueError:
            return None, broken
    if broken & RULE_INPUTS - {"date"}:
        return None, broken
    for key in broken & _REQUIRED_FIELDS - {"date"}:
        data[key] = _PLACEHOLDERS[key]
    fields = ChangeRecord.model_fields
    meant = {  # `expected_reslt` set aside: no "no expected_result" warning either
        match for key in broken - set(fields) for match in difflib.get_close_matches(key, fields, 1)
    }
    try:
        return ChangeRecord.model_validate(data), broken | meant
    except ValidationError:
        return None, broken


_REQUIRED_FIELDS = frozenset(
    name for name, info in ChangeRecord.model_fields.items() if info.is_required()
)
# Valid stand-ins for required fields the rules never read (RULE_INPUTS are never replaced).
_PLACEHOLDERS: dict[str, Any] = {
    "title": "-",
    "owner": "-",
    "reason": "-",
    "environment": "-",
    "files_touched": ["-"],
    "commands": ["-"],
    "rollback": {"plan": "-", "tested": True},
}


def _id_diagnostics(loaded: LoadedFile) -> list[Diagnostic]:
    if loaded.stem in RESERVED_IDS:
        return [
            problem(
                loaded.display_path,
                1,
                1,
                "error",
                "id",
                f"'{loaded.stem}' is reserved (it is the URL of a generated listing): "
                "rename the file",
            )
        ]
    if ID_PATTERN.fullmatch(loaded.stem):
        return []
    return [
        problem(
            loaded.display_path,
            1,
            1,
            "error",
            "id",
            f"file name '{loaded.stem}' is not a valid id: use lowercase a-z, 0-9 and single "
            "dashes, e.g. 2026-11-20-cap-upload-size",
        )
    ]


_worker_context: _Context | None = None


_ENDING_SIGNALS = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}


def _init_worker(context: _Context) -> None:
    """A worker dies at once on SIGTERM or SIGHUP (the parent cleans up) and leaves Ctrl-C
    to the parent, which then stops it."""
    global _worker_context
    _worker_context = context
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING_SIGNALS)  # blocked while it was forked


def _check_chunk(paths: list[str]) -> bytes:
    """A worker's results, pickled here: the parent keeps these bytes in the cache as they are
    (check/cache.py) instead of pickling every result a second time."""
    assert _worker_context is not None
    with collector_paused():
        checked = [(path, *_check_record_file(path, _worker_context)) for path in paths]
    return pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL)


def _check_records(
    paths: list[str], context: _Context, jobs: int | None, cache: ValidationCache | None
) -> list[RecordResult]:
    with collector_paused():
        kept: dict[str, tuple[Stamp, RecordResult]] = {}
        changed = paths
        # With nothing kept every file is checked, and stamped by the loader as it reads it.
        if cache is not None and cache.results:
            changed = []
            for path in paths:  # one pass: a pre-commit run on one record of 10,000 is mostly this
                stamp = stamp_of(path)
                result = cache.reusable(path, stamp)
                if result is None:
                    changed.append(path)
                else:
                    kept[path] = stamp, result
        checked, pickled = _check_records_now(changed, context, jobs)
        if cache is not None:
            kept.update((p, (stamp, result)) for p, stamp, result in checked if stamp is not None)
            cache.save(kept, changed=changed, pickled=pickled)
        if len(checked) == len(paths):  # every file was checked: no kept result to weave in
            return [result for _, _, result in checked]
        fresh = {path: result for path, _, result in checked}
        return [fresh[path] if path in fresh else kept[path][1] for path in paths]


def _check_records_now(
    paths: list[str], context: _Context, jobs: int | None
) -> tuple[list[Checked], list[bytes]]:
    """Each file checked, in order; and when workers checked them, the same as they pickled it."""
    workers = jobs or os.cpu_count() or 1
    if workers < 2 or len(paths) < PARALLEL_THRESHOLD:
        return [(path, *_check_record_file(path, context)) for path in paths], []
    chunks = _shrinking_chunks(paths, workers)
    checked: list[Checked] = []
    pickled: list[bytes] = []
    # A signal while the pool is being made would leave its workers unknown to _stop_now
    # (and holding the caller's output open): it waits until the pool exists.
    signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING_SIGNALS)
    # Imported here: a pre-commit run on a few records never starts workers, and the pool's
    # imports were a tenth of its start-up.
    from multiprocessing import get_context

    try:
        pool = get_context("fork").Pool(workers, initializer=_init_worker, initargs=(context,))
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING_SIGNALS)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING_SIGNALS)  # one that came is raised here
        for chunk in pool.imap(_check_chunk, chunks):
            pickled.append(chunk)
            checked += pickle.loads(chunk)  # from our own workers, as multiprocessing's are
    except BaseException:
        _stop_now(pool)
        raise
    pool.close()
    pool.join()
    return checked, pickled


def _shrinking_chunks(paths: list[str], workers: int) -> list[list[str]]:
    """Each chunk a share of the files still left ("guided" scheduling): few round trips while
    there is much to do, and small last chunks, so that no core idles long at the end while
    another finishes a large one."""
    chunks = []
    start = 0
    while start < len(paths):
        size = max(MIN_CHUNK, (len(paths) - start) // (workers * 4))
        chunks.append(paths[start : start + size])
        start += size
    return chunks


def _stop_now(pool: Any) -> None:
    """Interrupted (a signal, Ctrl-C): kill the workers, so that none is left blocked holding
    the caller's output open. Not the pool's orderly terminate(), now or at exit: a worker
    killed while reading its next task holds the task queue's lock forever, and terminate()
    waits for that lock (multiprocessing exposes no other way to the worker processes). The
    pool's handler thread is stopped first: it replaces dead workers, and a replacement forked
    after the kill would be left blocked, holding the caller's output open."""
    from multiprocessing.pool import TERMINATE

    pool._worker_handler._state = TERMINATE
    for process in pool._pool:
        process.kill()
    pool._terminate.cancel()


def _rule_findings(
    loaded: LoadedFile,
    record: ChangeRecord,
    context: _Context,
    set_aside: frozenset[str] | set[str] = frozenset(),
) -> list[Finding]:
    """The per-record rules' findings, but none about a field set aside (_best_effort_record)."""
    absence = {_ABSENCE_WARNINGS.get(key) for key in set_aside}
    return [
        finding
        for finding in check_record(
            loaded.stem,
            record,
            loaded.data or {},
            context.checklists,
            aliases=context.aliases,
            today=context.today,
            review_max_age_days=context.review_max_age_days,
        )
        if not (finding.loc and str(finding.loc[0]) in set_aside) and finding.code not in absence
    ]


def _check_record_file(path: str, context: _Context) -> tuple[Stamp | None, RecordResult]:
    """Load, validate and apply every per-record rule to one file; the file's stamp as read."""
    shown = display_path(path, context.folder)
    loaded = load_yaml_file(path, shown, max_bytes=context.max_file_bytes)
    return loaded.stamp, _check_loaded(loaded, context)


def _check_loaded(loaded: LoadedFile, context: _Context) -> RecordResult:
    diagnostics = loaded.diagnostics + _id_diagnostics(loaded)
    if loaded.data is None:
        return None, diagnostics, None
    findings = list(secret_findings(loaded.data, loaded.text or ""))
    record, error = _validated(loaded, ChangeRecord, diagnostics)
    if record is None:
        partial, set_aside = _best_effort_record(loaded, error)
        if partial is not None:
            findings += _rule_findings(loaded, partial, context, set_aside)
        diagnostics += _located(findings, loaded)
        return None, diagnostics, None
    findings += _rule_findings(loaded, record, context)
    diagnostics += _located(findings, loaded)
    names = RecordSummary(
        loaded.display_path,
        loaded.stem,
        record.date,
        record.service,
        record.owner,
        tuple(record.tags),
        unknown_items=tuple(
            (checklist_id, item_id)
            for checklist_id, statuses in record.checklists.items()
            if checklist_id in context.checklists
            for item_id in statuses
            if context.checklists[checklist_id].item_for(item_id) is None
        ),
        checklists=tuple(record.checklists),
    )
    if not context.keep_records or any(d.severity == "error" for d in diagnostics):
        return None, diagnostics, names
    return SourcedRecord(loaded.stem, loaded.display_path, record), diagnostics, names


def _located(findings: list[Finding], loaded: LoadedFile) -> list[Diagnostic]:
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


def _duplicate_id_diagnostics(
    records: list[SourcedRecord], checklist_files: list[str], record_files: list[str]
) -> list[Diagnostic]:
    """Ids are file stems and must be unique across folders (and .yaml/.yml twins)."""
    diagnostics = []
    for files, kind in ((record_files, "record"), (checklist_files, "checklist")):
        first_by_stem: dict[str, str] = {}
        for path in files:
            first = first_by_stem.setdefault(file_stem(path), path)
            if first is not path:
                diagnostics.append(
                    problem(
                        display_path(path),
                        1,
                        1,
                        "error",
                        "duplicate-id",
                        f"{kind} id '{file_stem(path)}' is already used by {display_path(first)}",
                    )
                )
    duplicated = {d.path for d in diagnostics}
    records[:] = [r for r in records if r.path not in duplicated]
    return diagnostics


def _name_diagnostics(uses: list[RecordSummary], options: RunbookOptions) -> list[Diagnostic]:
    """`[name-variant]` at each other spelling of a name, and `[alias-target]` when an alias
    points at a name no record uses (a typo in the alias would hide the records)."""
    by_path: dict[str, list[Finding]] = {}
    for variant in name_variants(uses, options.aliases):
        others = f"{variant.others} record{'s' if variant.others != 1 else ''}"
        by_path.setdefault(variant.use.path, []).append(
            Finding(
                variant.loc,
                "warning",
                "name-variant",
                f"{variant.kind} '{variant.spelling}' is spelled '{variant.shown_as}' in "
                f"{others}: did you mean '{variant.shown_as}'? (both are shown as "
                f"'{variant.shown_as}')",
            )
        )
    diagnostics = []
    for path, findings in by_path.items():
        loaded = load_yaml_file(path, path, max_bytes=options.max_file_bytes)
        diagnostics += _located(findings, loaded)
    return diagnostics + _alias_target_diagnostics(uses, options)


def _alias_target_diagnostics(
    uses: list[RecordSummary], options: RunbookOptions
) -> list[Diagnostic]:
    aliases = options.aliases
    if options.config_file is None or not aliases:
        return []
    used = {
        (kind, name_key(spelling))
        for use in uses
        for kind, _, spelling in use.named()
        if aliases.target(kind, spelling) is None
    }
    lines = _text_lines(options.config_file)
    diagnostics = []
    for kind in NAME_KINDS:
        for target in dict.fromkeys(aliases.table(kind).values()):
            if (kind, name_key(target)) in used or not uses:
                continue
            known = sorted({s for use in uses for k, _, s in use.named() if k == kind})
            line = next((n for n, text in enumerate(lines, 1) if target in text), 1)
            diagnostics.append(
                problem(
                    display_path(options.config_file),
                    line,
                    1,
                    "warning",
                    "alias-target",
                    f"aliases.{kind}s: no record uses the target '{target}'"
                    f"{did_you_mean(target, known)}",
                )
            )
    return diagnostics


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
