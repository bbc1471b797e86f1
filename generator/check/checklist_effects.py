"""What a checklist's history means for the records: the effect of adding, retiring and
removing items, said where the checklist is.

An item with `added:` binds only records dated on or after it; one with `retired:` may be
addressed only before it. Deleting an item outright instead breaks every record that
addressed it: that is an error at the checklist (`[removed-item]`), suggesting `retired:` or
`replaces:`, besides the `[unknown-item]` at each record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from ..diagnostics import Diagnostic
from ..models import SourcedChecklist
from .loader import load_yaml_file
from .problems import problem
from .summary import RecordSummary


def removed_item_diagnostics(
    checklists: dict[str, SourcedChecklist], summaries: list[RecordSummary], max_bytes: int
) -> list[Diagnostic]:
    users: dict[tuple[str, str], list[str]] = defaultdict(list)
    for summary in summaries:
        for checklist_id, item_id in summary.unknown_items:
            users[(checklist_id, item_id)].append(summary.path)
    return removed_items(
        checklists, {item: (len(paths), paths[0]) for item, paths in users.items()}, max_bytes
    )


def removed_items(
    checklists: dict[str, SourcedChecklist],
    users: dict[tuple[str, str], tuple[int, str]],
    max_bytes: int,
) -> list[Diagnostic]:
    """`[removed-item]` at each checklist of `users`: (checklist id, item id) → how many
    records address that unknown item, and the first of them in the listing's order."""
    diagnostics = []
    for (checklist_id, item_id), (users_count, first) in sorted(users.items()):
        sourced = checklists.get(checklist_id)
        if sourced is None:
            continue
        loaded = load_yaml_file(sourced.path, sourced.path, max_bytes=max_bytes)
        line, column = loaded.key_positions.get("items", (1, 1))
        count = f"{users_count} record{'s' if users_count != 1 else ''}"
        diagnostics.append(
            problem(
                sourced.path,
                line,
                column,
                "error",
                "removed-item",
                f"items: '{item_id}' is not an item of this checklist, but {count} address it "
                f"(first {first}): if it was removed, keep it with 'retired: DATE'; if it "
                f"was renamed, list '{item_id}' under the new item's 'replaces:'",
            )
        )
    return diagnostics


def checklist_notes(sourced: SourcedChecklist, summaries: list[RecordSummary]) -> list[str]:
    """One line per dated item: which of the records through the checklist it binds."""
    through = [s for s in summaries if sourced.id in s.checklists]
    return dated_item_notes(
        sourced, len(through), lambda day: sum(1 for s in through if s.date >= day)
    )


def dated_item_notes(
    sourced: SourcedChecklist, through: int, dated_from: Callable[[dt.date], int]
) -> list[str]:
    """The notes of checklist_notes, given how many records go `through` the checklist and
    how many of those are dated on or after a day."""
    notes = []
    for item in sourced.checklist.items:
        if item.added is not None:
            bound = dated_from(item.added)
            notes.append(
                f"{sourced.path}: item '{item.id}' (added {item.added.isoformat()}) must be "
                f"addressed by {bound} of the {through} records through this checklist; "
                f"the {through - bound} dated before it need not"
            )
        if item.retired is not None:
            earlier = through - dated_from(item.retired)
            notes.append(
                f"{sourced.path}: item '{item.id}' (retired {item.retired.isoformat()}) may be "
                f"addressed only by the {earlier} of the {through} records through this "
                "checklist dated before it"
            )
    return notes
