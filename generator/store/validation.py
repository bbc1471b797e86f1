"""`runbook validate` answered from the record store: the files' own diagnostics are read
back, and the cross-record rules are queries, so a run on one record of 100,000 reads that
record's rows and the few rows its names, id and checklists share with others.

The answers are those of check/validate.py's validate_runbook (which builds use): the same
rules, fed by SQL instead of every record's summary in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ..check.checklist_effects import dated_item_notes, removed_items
from ..check.cross_record_rules import (
    alias_target_diagnostics,
    duplicate_id_diagnostics,
    fix_diagnostics,
    variant_diagnostics,
)
from ..check.files import discover, file_stem
from ..check.paths import RecordFiles, display_path
from ..check.validate import ValidationReport, made_context
from ..check.variants import Variant
from ..config import RunbookOptions
from ..diagnostics import Diagnostic, sort_diagnostics
from ..models import Runbook, SourcedChecklist
from ..names import NameKind, preferred_spelling
from .access import Order, with_store
from .context import StoreContext, inputs_digest
from .fix_rules import fix_uses
from .records import RecordStore, restored, stored


def validate_with_store(
    options: RunbookOptions,
    store_file: Path | None,
    *,
    only: Sequence[Path] | None = None,
    jobs: int | None = None,
) -> ValidationReport:
    """validate_runbook(options, only=only, keep_records=False), answered from the store at
    `store_file` (None: one in memory, for this run)."""
    checklist_files = discover(options.checklists_dir, recursive=False)
    context, checklists, diagnostics = made_context(options, checklist_files, False)
    errors = sum(d.severity == "error" for d in diagnostics)
    stored_context = StoreContext(
        inputs_digest(options, checklist_files), lambda: (context, errors)
    )
    files = RecordFiles(options, checklist_files, only)
    shown: set[str] | None = None

    def answer(store: RecordStore, order: Order) -> tuple[list[Diagnostic], list[str]]:
        nonlocal shown
        selected = files.selected
        shown = None if selected is None else {display_path(path) for path in selected}
        wanted = files.named_records()
        found = store.diagnostics(wanted)
        found += variant_diagnostics(_variants(store, wanted, order), options)
        found += fix_diagnostics(fix_uses(store, wanted, order), store.has_id, options)
        if shown is None or (options.config_file and display_path(options.config_file) in shown):
            found += _alias_targets(store, options, order)
        if wanted is None:
            found += duplicate_id_diagnostics([], [], files.paths)
        else:
            found += duplicate_id_diagnostics([], [], _same_ids(store, wanted, order))
        notes = []
        chosen = {cid: sc for cid, sc in checklists.items() if shown and sc.path in shown}
        if chosen:
            found += _removed_items(store, chosen, options, order)
            for sourced in chosen.values():
                notes += _dated_item_notes(store, sourced)
        return found, notes

    (found, checklist_notes), notes = with_store(
        store_file, options.root, stored_context, files, jobs, answer
    )
    diagnostics += found
    if shown is None:
        files_checked = len(checklist_files) + len(files.paths)
    else:
        diagnostics = [d for d in diagnostics if d.path in shown]
        files_checked = len(shown)
    return ValidationReport(
        Runbook([], checklists),
        sort_diagnostics(diagnostics),
        files_checked,
        notes + checklist_notes,
    )


def _same_ids(store: RecordStore, wanted: list[str], order: Order) -> list[str]:
    """The record files that share an id with one of `wanted`, in the listing's order: what
    duplicate_id_diagnostics needs to say the same of `wanted` as it does over every file."""
    stems = list({stored(file_stem(path)) for path in wanted})
    rows = store.connection.execute(
        f"SELECT stem, path FROM files WHERE stem IN ({', '.join('?' * len(stems))})", stems
    ).fetchall()
    by_stem: dict[object, list[str]] = defaultdict(list)
    for stem, path in rows:
        by_stem[stem].append(restored(path))
    shared = [path for same in by_stem.values() if len(same) > 1 for path in same]
    return sorted(shared, key=order)


_LOCATIONS: dict[str, tuple] = {"service": ("service",), "owner": ("owner",)}


def _variants(store: RecordStore, wanted: list[str] | None, order: Order) -> list[Variant]:
    """check/variants.py's name_variants, by query: the groups spelled more than one way
    (of every record, or of the `wanted` files' names), and in each the spellings other than
    the one it is shown under."""
    connection = store.connection
    if wanted is None:
        groups = connection.execute(
            "SELECT kind, group_key FROM names GROUP BY kind, group_key "
            "HAVING COUNT(DISTINCT spelling) > 1"
        ).fetchall()
    else:
        used = store.by_path(
            "SELECT DISTINCT n.kind, n.group_key, n.spelling FROM names n "
            "JOIN files f ON f.id = n.file_id WHERE f.path IN ({})",
            wanted,
        )
        groups = list(
            dict.fromkeys(
                (kind, key)
                for kind, key, spelling in used
                if any(
                    connection.execute(
                        "SELECT 1 FROM names WHERE kind = ? AND group_key = ? "
                        f"AND spelling {operator} ? LIMIT 1",
                        (kind, key, spelling),
                    ).fetchone()
                    for operator in ("<", ">")
                )
            )
        )
    selected = None if wanted is None else {stored(path) for path in wanted}
    variants = []
    for kind, key in groups:
        uses = connection.execute(
            "SELECT f.path, f.shown, n.position, n.spelling, n.canonical, n.aliased, s.date, "
            "s.record_id FROM names n JOIN summaries s ON s.file_id = n.file_id "
            "JOIN files f ON f.id = n.file_id WHERE n.kind = ? AND n.group_key = ?",
            (kind, key),
        ).fetchall()
        uses.sort(key=lambda use: (order(restored(use[0])), use[2]))
        shown = preferred_spelling((use[4], use[6], restored(use[7])) for use in uses)
        others = sum(1 for use in uses if use[4] == shown)
        for path, shown_path, position, spelling, _, aliased, _, _ in uses:
            if selected is not None and path not in selected:
                continue
            if not aliased and spelling != shown:
                location = _LOCATIONS.get(kind, ("tags", position))
                variants.append(
                    Variant(restored(shown_path), kind, location, spelling, shown, others)
                )
    return variants


def _alias_targets(store: RecordStore, options: RunbookOptions, order: Order) -> list[Diagnostic]:
    connection = store.connection
    used = set(connection.execute("SELECT DISTINCT kind, name_key FROM names WHERE counts_as_use"))
    any_uses = connection.execute("SELECT EXISTS (SELECT 1 FROM summaries)").fetchone()[0]

    def known(kind: NameKind) -> dict[str, str]:
        rows = connection.execute(
            "SELECT f.path, n.position, n.name_key, n.spelling FROM names n "
            "JOIN files f ON f.id = n.file_id WHERE n.kind = ?",
            (kind,),
        ).fetchall()
        rows.sort(key=lambda row: (order(restored(row[0])), row[1]))
        return {key: spelling for _, _, key, spelling in rows}

    return alias_target_diagnostics(options, used, known, any_uses=bool(any_uses))


def _removed_items(
    store: RecordStore,
    chosen: dict[str, SourcedChecklist],
    options: RunbookOptions,
    order: Order,
) -> list[Diagnostic]:
    marks = ", ".join("?" * len(chosen))
    rows = store.connection.execute(
        "SELECT u.checklist_id, u.item_id, f.path, f.shown FROM unknown_items u "
        f"JOIN files f ON f.id = u.file_id WHERE u.checklist_id IN ({marks})",
        list(chosen),
    ).fetchall()
    users: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for checklist_id, item_id, path, shown in rows:
        users[(checklist_id, item_id)].append((order(restored(path)), restored(shown)))
    return removed_items(
        chosen,
        {item: (len(paths), min(paths)[1]) for item, paths in users.items()},
        options.max_file_bytes,
    )


def _dated_item_notes(store: RecordStore, sourced: SourcedChecklist) -> list[str]:
    connection = store.connection

    def count(since: str) -> int:
        return connection.execute(
            "SELECT COUNT(*) FROM record_checklists c JOIN summaries s ON s.file_id = c.file_id "
            "WHERE c.checklist_id = ? AND s.date >= ?",
            (sourced.id, since),
        ).fetchone()[0]

    return dated_item_notes(sourced, count(""), lambda day: count(day.isoformat()))
