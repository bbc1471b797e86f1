"""What a checklist's history means for the records: the effect of adding, retiring and
removing items, said where the checklist is.

An item with `added:` binds only records dated on or after it; one with `retired:` may be
addressed only before it. Deleting an item outright instead breaks every record that
addressed it: that is an error at the checklist (`[removed-item]`), suggesting `retired:` or
`replaces:`, besides the `[unknown-item]` at each record.
"""

from __future__ import annotations

from collections import defaultdict

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
    diagnostics = []
    for (checklist_id, item_id), paths in sorted(users.items()):
        sourced = checklists.get(checklist_id)
        if sourced is None:
            continue
        loaded = load_yaml_file(sourced.path, sourced.path, max_bytes=max_bytes)
        line, column = loaded.key_positions.get("items", (1, 1))
        count = f"{len(paths)} record{'s' if len(paths) != 1 else ''}"
        diagnostics.append(
            problem(
                sourced.path,
                line,
                column,
                "error",
                "removed-item",
                f"items: '{item_id}' is not an item of this checklist, but {count} address it "
                f"(first {paths[0]}): if it was removed, keep it with 'retired: DATE'; if it "
                f"was renamed, list '{item_id}' under the new item's 'replaces:'",
            )
        )
    return diagnostics


def checklist_notes(sourced: SourcedChecklist, summaries: list[RecordSummary]) -> list[str]:
    """One line per dated item: which of the records through the checklist it binds."""
    through = [s for s in summaries if sourced.id in s.checklists]
    notes = []
    for item in sourced.checklist.items:
        if item.added is not None:
            bound = sum(1 for s in through if s.date >= item.added)
            notes.append(
                f"{sourced.path}: item '{item.id}' (added {item.added.isoformat()}) must be "
                f"addressed by {bound} of the {len(through)} records through this checklist; "
                f"the {len(through) - bound} dated before it need not"
            )
        if item.retired is not None:
            earlier = sum(1 for s in through if s.date < item.retired)
            notes.append(
                f"{sourced.path}: item '{item.id}' (retired {item.retired.isoformat()}) may be "
                f"addressed only by the {earlier} of the {len(through)} records through this "
                "checklist dated before it"
            )
    return notes
