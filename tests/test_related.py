"""Related changes kept from the last build equal related changes computed afresh.

A rebuild computes again only the lists a change can reach (render/related.py); whatever the
runbook went through in between (records added newest or backdated, removed, moved in time,
their files, service or tags changed, their text edited, aliases changed), the lists it ends
with are the ones a full build computes from the same records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.models import ChangeRecord, Runbook, SourcedRecord
from generator.names import Aliases
from generator.render.index import RunbookIndex, build_index
from generator.render.related import RelatedLists

FILES = [f"deploy/{name}.conf" for name in "abcdefg"] + ["app/main.py", "README.md"]
SERVICES = ["uploads", "billing", "Billing", "search"]
TAGS = ["db", "nginx", "cache", "DB"]
FIRST_DAY = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Change:
    """A record's id, day and pools, and a title that stands for the rest of its text."""

    id: str
    day: int
    files: tuple[str, ...]
    service: str
    tags: tuple[str, ...]
    title: str = "A change"


pools = st.fixed_dictionaries(
    {
        "files": st.lists(st.sampled_from(FILES), min_size=1, max_size=3).map(tuple),
        "service": st.sampled_from(SERVICES),
        "tags": st.lists(st.sampled_from(TAGS), max_size=2).map(tuple),
    }
)
steps = st.one_of(
    st.tuples(st.just("add newest"), pools, st.integers(0, 2)),
    st.tuples(st.just("add backdated"), pools, st.integers(0, 60)),
    st.tuples(st.just("remove newest"), st.none(), st.none()),
    st.tuples(st.just("remove"), st.none(), st.integers(0, 10_000)),
    st.tuples(st.just("edit pools"), pools, st.integers(0, 10_000)),
    st.tuples(st.just("edit title"), st.none(), st.integers(0, 10_000)),
    st.tuples(st.just("move"), st.none(), st.tuples(st.integers(0, 10_000), st.integers(0, 80))),
    st.tuples(st.just("alias"), st.none(), st.booleans()),
)


def index_of(changes: list[Change], aliases: Aliases, before: RelatedLists | None) -> RunbookIndex:
    records = [
        SourcedRecord(
            change.id,
            f"records/{change.id}.yaml",
            ChangeRecord.model_validate(
                {
                    "title": change.title,
                    "date": FIRST_DAY + dt.timedelta(days=change.day),
                    "owner": "Maya",
                    "service": change.service,
                    "status": "verified",
                    "reason": "Because it was slow.",
                    "files_touched": list(change.files),
                    "commands": ["make deploy"],
                    "rollback": {"plan": "Revert it."},
                    "tags": list(change.tags),
                }
            ),
        )
        for change in sorted(changes, key=lambda change: (change.day, change.id), reverse=True)
    ]
    return build_index(Runbook(records=records), aliases, related_before=before)


def as_ids(index: RunbookIndex) -> dict[str, list[str]]:
    return {record_id: [other.id for other in found] for record_id, found in index.related.items()}


def apply(changes: list[Change], step: tuple, number: int) -> list[Change]:
    kind, pooled, where = step
    newest = max((change.day for change in changes), default=0)
    if kind.startswith("add"):
        day = newest + where if kind == "add newest" else max(0, newest - where)
        return [*changes, Change(f"change-{number:03d}", day, **pooled)]
    if not changes:
        return changes
    ordered = sorted(changes, key=lambda change: (change.day, change.id), reverse=True)
    if kind == "remove newest":
        return ordered[1:]
    at = (where[0] if kind == "move" else where) % len(ordered)
    chosen = ordered[at]
    if kind == "remove":
        return [change for change in ordered if change is not chosen]
    edited = {
        "edit pools": lambda: replace(chosen, **pooled),
        "edit title": lambda: replace(chosen, title=f"Edited {number}"),
        "move": lambda: replace(chosen, day=where[1] if kind == "move" else 0),
    }[kind]()
    return [edited if change is chosen else change for change in ordered]


SAME_POOLS = {"files": ("deploy/a.conf",), "service": "uploads", "tags": ()}


@settings(max_examples=200, deadline=None)
# Records alike in every pool: one moved to the oldest day changes no row at any position.
@example(start=[SAME_POOLS] * 8, builds=[[("move", None, (0, 0))]])
@given(
    start=st.lists(pools, min_size=0, max_size=40),
    builds=st.lists(st.lists(steps, min_size=1, max_size=3), min_size=1, max_size=6),
)
def test_kept_related_lists_equal_lists_computed_afresh(start: list, builds: list) -> None:
    """Each build follows one to three changes, and keeps from the build before it."""
    changes = [Change(f"change-{n:03d}", n // 2, **p) for n, p in enumerate(start)]
    aliases = Aliases()
    kept = index_of(changes, aliases, None).related_lists
    for number, made in enumerate(builds):
        for step_number, step in enumerate(made, start=100 + 10 * number):
            if step[0] == "alias":
                aliases = Aliases(services={"billing": "Payments"} if step[2] else {})
            else:
                changes = apply(changes, step, step_number)
        rebuilt = index_of(changes, aliases, kept)
        assert as_ids(rebuilt) == as_ids(index_of(changes, aliases, None))
        kept = rebuilt.related_lists


def test_an_edit_that_keeps_every_pool_computes_no_list_again() -> None:
    """The reuse itself: after a title edit, lists named in the kept ones show through as
    they were kept (a kept list is used, not computed again); after a pool changes, they
    are computed."""
    changes = [Change(f"change-{n:03d}", n, ("deploy/a.conf",), "uploads", ()) for n in range(30)]
    kept = index_of(changes, Aliases(), None).related_lists
    assert kept is not None
    oldest = "change-000"
    oldest_at = kept.order.index(oldest)
    related = [[] if at == oldest_at else found for at, found in enumerate(kept.related)]
    marked = replace(kept, related=related)  # no list would be empty
    titled = [
        replace(change, title="Edited") if change.id == "change-029" else change
        for change in changes
    ]
    assert as_ids(index_of(titled, Aliases(), marked))[oldest] == []
    moved = [
        replace(change, files=("app/main.py",)) if change.id == "change-029" else change
        for change in changes
    ]
    assert as_ids(index_of(moved, Aliases(), marked))[oldest] != []
