"""`[name-variant]`: one service, owner or tag spelled two ways across records.

Names are grouped by their key (names.name_key), so `Uploads` and `uploads` already share a
page; the other spellings are warned about at their own line, naming the spelling the site
shows, so the runbook converges on one. A spelling an alias maps is deliberate: no warning.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from ..names import Aliases, NameKind, preferred_spelling
from .summary import RecordSummary


@dataclass(frozen=True)
class Variant:
    """A spelling that differs from the one its group is shown under."""

    use: RecordSummary
    kind: NameKind
    loc: tuple
    spelling: str
    shown_as: str
    others: int


def name_variants(uses: list[RecordSummary], aliases: Aliases) -> list[Variant]:
    groups: dict[tuple[NameKind, str], list[tuple[str, dt.date, str]]] = defaultdict(list)
    for use in uses:
        for kind, _, spelling in use.named():
            name = aliases.canonical(kind, spelling)
            groups[(kind, aliases.key(kind, spelling))].append((name, use.date, use.record_id))
    shown = {group: preferred_spelling(members) for group, members in groups.items()}
    variants = []
    for use in uses:
        for kind, loc, spelling in use.named():
            if aliases.target(kind, spelling) is not None:
                continue
            group = (kind, aliases.key(kind, spelling))
            if spelling != shown[group]:
                others = sum(1 for name, _, _ in groups[group] if name == shown[group])
                variants.append(Variant(use, kind, loc, spelling, shown[group], others))
    return variants
