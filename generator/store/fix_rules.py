"""What the fixes rules (check/cross_record_rules.py fix_diagnostics) read, from the record
store: every record's summary for a whole run; for a run on a few files (the pre-commit hook),
those files' summaries and the few others the rules compare them with, found by query.
"""

from __future__ import annotations

from ..check.cross_record_rules import fix_diagnostics
from ..check.summary import RecordSummary
from ..config import RunbookOptions
from ..delivery import decoded
from .access import Order
from .records import RecordStore, restored, stored

_SUMMARIES = (
    "SELECT f.path, f.shown, s.delivery, s.unexplained_line, s.unexplained_column "
    "FROM summaries s JOIN files f ON f.id = s.file_id"
)


def fix_uses(store: RecordStore, wanted: list[str] | None, order: Order) -> list[RecordSummary]:
    """The summaries fix_diagnostics needs, in the listing's order (its first of a duplicated
    id is the first listed): every record's, or, for the files `wanted`, theirs, those their
    fixes name, those that name them in their fixes and, when a fix of theirs names no valid
    record, every record of their service (the rule suggests ids from those)."""
    connection = store.connection
    if wanted is None:
        rows = connection.execute(_SUMMARIES).fetchall()
    else:
        rows = store.by_path(_SUMMARIES + " WHERE f.path IN ({})", wanted)
        own = [decoded(delivery) for _, _, delivery, _, _ in rows]
        named = sorted({fixed for row in own for fixed, _ in row.fixes})
        targets = _where(store, "s.record_id IN ({})", [stored(fixed) for fixed in named])
        rows += targets
        rows += _where(
            store,
            "s.file_id IN (SELECT file_id FROM fixes WHERE fixed_id IN ({}))",
            [row.id for row in own],
        )
        found = {decoded(delivery).id for _, _, delivery, _, _ in targets}
        services = sorted({row.service for row in own if any(f not in found for f, _ in row.fixes)})
        rows += _where(store, "json_extract(s.delivery, '$[1]') IN ({})", services)
    unique = {restored(path): rest for path, *rest in rows}
    uses = []
    for path in sorted(unique, key=order):
        shown, delivery, line, column = unique[path]
        row = decoded(delivery)
        uses.append(
            RecordSummary(
                restored(shown),
                row.id,
                row.date,
                row.service,
                "",
                (),
                delivery=row,
                unexplained_at=None if line is None else (line, column),
            )
        )
    return uses


def _where(store: RecordStore, condition: str, values: list) -> list[tuple]:
    """The summaries meeting `condition`, in which `{}` stands for the values."""
    return store.by_values(_SUMMARIES + " WHERE " + condition, values) if values else []


def fix_errors(store: RecordStore, options: RunbookOptions, order: Order) -> int:
    """How many errors the fixes rules find, reading only the records that have fixes and
    those the rules compare them with (what `list` and `dora` count beside each file's own
    errors, as `validate` does)."""
    fixing = store.connection.execute(
        "SELECT DISTINCT f.path, f.shown FROM fixes x JOIN files f ON f.id = x.file_id"
    ).fetchall()
    if not fixing:
        return 0
    shown = {restored(path) for _, path in fixing}
    uses = fix_uses(store, [restored(path) for path, _ in fixing], order)
    found = fix_diagnostics(uses, store.has_id, options)
    return sum(d.severity == "error" and d.path in shown for d in found)
