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
    """A spelling that differs from the one its group is shown under, in the file at `path`."""

    path: str
    kind: NameKind
    loc: tuple
    spelling: str
    shown_as: str
    others: int


def name_variants(uses: list[RecordSummary], aliases: Aliases) -> list[Variant]:
    """Every spelling of a name other than the one its group is shown under. A serial step
    over every record: one cheap pass over the distinct spellings finds the groups spelled
    more than one way (usually none), and only their records are looked at again."""
    keys: dict[tuple[NameKind, str], tuple[NameKind, str]] = {}

    def group_of(kind: NameKind, spelling: str) -> tuple[NameKind, str]:
        group = keys.get((kind, spelling))
        if group is None:
            group = keys[(kind, spelling)] = (kind, aliases.key(kind, spelling))
        return group

    distinct: dict[NameKind, set[str]] = {
        "service": {use.service for use in uses},
        "owner": {use.owner for use in uses},
        "tag": {tag for use in uses for tag in use.tags},
    }
    spellings: dict[tuple[NameKind, str], set[str]] = defaultdict(set)
    for kind, names in distinct.items():
        for spelling in names:
            spellings[group_of(kind, spelling)].add(spelling)
    varied = {group for group, names in spellings.items() if len(names) > 1}
    if not varied:
        return []
    members: dict[tuple[NameKind, str], list[tuple[str, dt.date, str]]] = defaultdict(list)
    for use in uses:
        for kind, _, spelling in use.named():
            group = group_of(kind, spelling)
            if group in varied:
                name = aliases.canonical(kind, spelling)
                members[group].append((name, use.date, use.record_id))
    shown = {group: preferred_spelling(members[group]) for group in varied}
    variants = []
    for use in uses:
        for kind, loc, spelling in use.named():
            group = group_of(kind, spelling)
            if group not in varied or aliases.target(kind, spelling) is not None:
                continue
            if spelling != shown[group]:
                others = sum(1 for name, _, _ in members[group] if name == shown[group])
                variants.append(Variant(use.path, kind, loc, spelling, shown[group], others))
    return variants
