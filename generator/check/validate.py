"""Validate a whole runbook: every file, every rule, every problem at once.

validate_runbook reads top to bottom: the files, the checklists, each record file (file_check,
on every core for large runbooks: workers; unchanged files from the cache), the cross-record
rules, then the selection the caller asked about.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RunbookOptions, reference_date
from ..diagnostics import Diagnostic, sort_diagnostics
from ..models import Runbook, SourcedChecklist, SourcedRecord
from .cache import ValidationCache
from .checklist_effects import checklist_notes, removed_item_diagnostics
from .cross_record_rules import duplicate_id_diagnostics, fix_diagnostics, name_diagnostics
from .file_check import CheckContext, RecordResult, load_checklists
from .files import Stamp, file_stamp, file_stem
from .gc_pause import collector_paused
from .paths import display_path, runbook_files
from .summary import RecordSummary
from .workers import check_in_workers


@dataclass
class ValidationReport:
    """The outcome of one validation run."""

    runbook: Runbook
    diagnostics: list[Diagnostic]
    files_checked: int
    # What changes to the selected checklists mean for the records (not problems).
    notes: list[str] = field(default_factory=list)


def newest_first(entry: SourcedRecord) -> tuple[dt.date, float, str]:
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
    checklist_files, record_files, selected = runbook_files(options, only)
    diagnostics: list[Diagnostic] = []
    checklists = load_checklists(checklist_files, options, diagnostics)
    context = check_context(checklists, options, keep_records)
    # The context's repr holds every valid checklist in full: it is what results depend on.
    cache = None
    if cache_file is not None:
        cache = ValidationCache.open(cache_file, [repr(context)], load=reuse_cached)
    records, name_uses = [], []
    for record, record_diagnostics, names in _check_records(record_files, context, jobs, cache):
        diagnostics += record_diagnostics
        if record is not None:
            records.append(record)
        if names is not None:
            name_uses.append(names)
    diagnostics += name_diagnostics(name_uses, options)
    record_ids = functools.cache(lambda: {file_stem(path) for path in record_files})
    diagnostics += fix_diagnostics(name_uses, lambda found: found in record_ids(), options)
    diagnostics += duplicate_id_diagnostics(records, checklist_files, record_files)
    records.sort(key=newest_first, reverse=True)
    notes: list[str] = []
    if selected is None:
        files_checked = len(checklist_files) + len(record_files)
    else:
        diagnostics, files_checked, notes = _selected(
            selected, diagnostics, checklists, name_uses, options
        )
    return ValidationReport(
        Runbook(records, checklists), sort_diagnostics(diagnostics), files_checked, notes
    )


def check_context(
    checklists: dict[str, SourcedChecklist], options: RunbookOptions, keep_records: bool
) -> CheckContext:
    return CheckContext(
        checklists={cid: sc.checklist for cid, sc in checklists.items()},
        aliases=options.aliases,
        max_file_bytes=options.max_file_bytes,
        review_max_age_days=options.review_max_age_days,
        today=reference_date(),
        keep_records=keep_records,
    )


def made_context(
    options: RunbookOptions, checklist_files: list[str], need_records: bool
) -> tuple[CheckContext, dict[str, SourcedChecklist], list[Diagnostic]]:
    """The check context, the valid checklists, and the checklists' own diagnostics (those
    of each file, and ids used twice)."""
    diagnostics: list[Diagnostic] = []
    checklists = load_checklists(checklist_files, options, diagnostics)
    diagnostics += duplicate_id_diagnostics([], checklist_files, [])
    return check_context(checklists, options, need_records), checklists, diagnostics


def _selected(
    only: list[str],
    diagnostics: list[Diagnostic],
    checklists: dict[str, SourcedChecklist],
    name_uses: list[RecordSummary],
    options: RunbookOptions,
) -> tuple[list[Diagnostic], int, list[str]]:
    """The diagnostics of the selected files, how many they are, and the notes about them.

    A checklist being checked on its own (a path, or --changed) answers for its effect on the
    records; a full run shows it at each record instead."""
    selected = {display_path(p) for p in only}
    diagnostics = [d for d in diagnostics if d.path in selected]
    chosen = {cid: sc for cid, sc in checklists.items() if sc.path in selected}
    diagnostics += removed_item_diagnostics(chosen, name_uses, options.max_file_bytes)
    notes = []
    for sourced in chosen.values():
        notes += checklist_notes(sourced, name_uses)
    return diagnostics, len(selected), notes


def _check_records(
    paths: list[str], context: CheckContext, jobs: int | None, cache: ValidationCache | None
) -> list[RecordResult]:
    with collector_paused():
        kept: dict[str, tuple[Stamp, RecordResult]] = {}
        changed = paths
        # With nothing kept every file is checked, and stamped by the loader as it reads it.
        if cache is not None and cache.results:
            changed = []
            for path in paths:  # one pass: a pre-commit run on one record of 10,000 is mostly this
                stamp = file_stamp(path)
                result = cache.reusable(path, stamp)
                if result is None:
                    changed.append(path)
                else:
                    kept[path] = stamp, result
        chunks, pickled = check_in_workers(changed, context, jobs)
        checked = [entry for chunk in chunks for entry in chunk]
        if cache is not None:
            kept.update((p, (stamp, result)) for p, stamp, _, result in checked if stamp)
            cache.save(kept, changed=changed, pickled=pickled)
        if len(checked) == len(paths):  # every file was checked: no kept result to weave in
            return [result for *_, result in checked]
        fresh = {path: result for path, *_, result in checked}
        return [fresh[path] if path in fresh else kept[path][1] for path in paths]
