"""Each record's related changes ("what else touched this"), and what a rebuild keeps of the
last build's lists.

A record's list is drawn from its pools (the records touching each of its files, those of its
service, those of each of its tags) and ranked by distances between positions in the
runbook. So it can only change when one of its pools gains, loses or reorders a member, or
when a record is added or removed between it and a candidate. A rebuild whose added and
removed records are all newer than every other (what a new deploy's record is) shifts every
other position by the same amount: only the members of the changed records' pools, before
and after the change, need their lists again. Anything else (a backdated record, a moved
date, other aliases) computes every list, as a full build does.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..models import SourcedRecord

RELATED_LIMIT = 6
CANDIDATES_PER_KEY = 20  # on each side in time
Pools = dict[str, list[SourcedRecord]]
# Between a row's files, and between its three parts (no value a record holds has a control
# character: the loader refuses them, raw and escaped).
ITEM, PART = "\x00", "\x01"


@dataclass(frozen=True)
class RelatedLists:
    """The related lists of a runbook, with what they were made from, as columns in the
    runbook's order (newest first): each record's id, its pools as one string (`pool_row`),
    and its list as positions in this order. What the next build compares with."""

    order: list[str]
    rows: list[str]
    related: list[list[int]]
    aliases: str  # repr of the aliases the pool keys were made with

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))  # its columns as they are: asdict would copy every list

    @classmethod
    def from_json(cls, data: Any) -> RelatedLists | None:
        """The lists a kept file holds; None unless it has the shape `as_json` gives (the
        positions in each list are checked where they are used)."""
        if not isinstance(data, dict) or data.keys() != {"order", "rows", "related", "aliases"}:
            return None
        order, rows, related = data["order"], data["rows"], data["related"]
        valid = (
            all(isinstance(column, list) for column in (order, rows, related))
            and len(order) == len(rows) == len(related)
            and isinstance(data["aliases"], str)
        )
        return cls(**data) if valid else None


def pool_row(files: Iterable[str], service_key: str, tag_keys: Iterable[str]) -> str:
    """A record's pools as one string: its files (each once, sorted), its service's key, its
    tags' keys (each once, sorted)."""
    return PART.join((ITEM.join(sorted(set(files))), service_key, ITEM.join(sorted(set(tag_keys)))))


def related_changes(
    records: list[SourcedRecord],
    rows: list[str],
    pools: dict[str, Pools],
    aliases: str,
    *,
    before: RelatedLists | None = None,
) -> tuple[dict[str, list[SourcedRecord]], RelatedLists]:
    """Per record: shared files first (most shared first), then same service, then shared
    tags; and the lists as the next build compares them. `rows`: each record's `pool_row`;
    `pools`: the records by "file", "service" and "tag" key, newest first; `aliases`: what
    the keys were made with. With `before` (the last build's), only the lists a change can
    reach are computed again (see the module docstring).

    Candidates are the records nearest in time within each file, service or tag, so a file
    touched by thousands of records costs a constant, and a new record changes the related
    list of its neighbours in its pools only. Nearness is the distance between positions in
    the (newest-first) runbook, ties by id.
    """
    ids = [entry.id for entry in records]
    position = {record_id: here for here, record_id in enumerate(ids)}
    lists = _kept(ids, position, rows, pools, aliases, before)
    again = [here for here in range(len(records)) if here not in lists]
    if again:
        lists.update(_Ranking(records, position, pools, rows).lists(again))
    column = [lists[here] for here in range(len(records))]
    related = {
        record_id: [records[at] for at in column[here]] for here, record_id in enumerate(ids)
    }
    return related, RelatedLists(ids, rows, column, aliases)


def _kept(
    ids: list[str],
    position: dict[str, int],
    rows: list[str],
    pools: dict[str, Pools],
    aliases: str,
    before: RelatedLists | None,
) -> dict[int, list[int]]:
    """The lists `before` holds that this runbook keeps, as positions in it: none, unless
    `before` differs from it only by records added or removed at the newest end and by
    records whose pools changed; then all but those of the members of those records' pools,
    old and new. `ids` and `position`: the runbook's records' ids, and each id's position."""
    if before is None or before.aliases != aliases:
        return {}
    present, previous = position.keys(), set(before.order)
    if len(present) != len(ids):
        return {}
    added = _leading(ids, lambda record_id: record_id not in previous)
    removed = _leading(before.order, lambda record_id: record_id not in present)
    if ids[added:] != before.order[removed:]:
        return {}
    shift = removed - added  # a record's position before, less its position now
    changed_before = list(range(removed))
    changed_now = list(range(added))
    for here in range(added, len(ids)):
        if rows[here] != before.rows[here + shift]:
            changed_before.append(here + shift)
            changed_now.append(here)
    again = set(changed_now)
    changed_rows = [before.rows[at] for at in changed_before] + [rows[at] for at in changed_now]
    for row in changed_rows:
        for kind, key in _pool_names(row):
            again.update(position[entry.id] for entry in pools[kind].get(key, ()))
    kept, last = {}, len(before.order) - 1
    try:
        for here in range(added, len(ids)):
            if here not in again:
                found = before.related[here + shift]
                # Every record a kept list names is still here (gone ones are before `removed`).
                if found and (min(found) < removed or max(found) > last):
                    return {}
                kept[here] = [at - shift for at in found] if shift else found
    except TypeError:  # not a list of positions: never trusted
        return {}
    return kept


def _leading(items: list[str], holds: Callable[[str], bool]) -> int:
    """How many of the first `items` hold."""
    count = 0
    while count < len(items) and holds(items[count]):
        count += 1
    return count


def _pool_names(row: str) -> Iterator[tuple[str, str]]:
    files, service, tags = row.split(PART)
    yield from (("file", path) for path in files.split(ITEM) if path)
    yield "service", service
    yield from (("tag", tag) for tag in tags.split(ITEM) if tag)


class _Ranking:
    """The related lists of chosen records. Records are handled as their positions: each
    pool is a sorted list of positions (so a record is found in it by bisection), and a
    candidate's ranking is one integer (shared count, distance, then the rank of its id),
    which the sort compares without a key function: at 100,000 records this step runs once
    per record for every candidate."""

    def __init__(
        self,
        records: list[SourcedRecord],
        position: dict[str, int],
        pools: dict[str, Pools],
        rows: list[str],
    ) -> None:
        self.records = records
        self.pools = pools
        self.rows = rows
        count = len(records)
        self.position = position
        self.id_rank = [0] * count
        for rank, here in enumerate(sorted(range(count), key=lambda p: records[p].id)):
            self.id_rank[here] = rank
        self.at_rank = sorted(range(count), key=self.id_rank.__getitem__)
        self._positions: dict[tuple[str, str], list[int]] = {}

    def positions(self, kind: str, key: str) -> list[int]:
        """The pool as ascending positions, made once per pool."""
        found = self._positions.get((kind, key))
        if found is None:
            position = self.position
            found = [position[entry.id] for entry in self.pools[kind][key]]
            self._positions[kind, key] = found
        return found

    def nearest(self, pool: list[int], here: int) -> Iterator[int]:
        """The pool's positions nearest to `here`, nearest first (ties by id), at most
        CANDIDATES_PER_KEY on each side."""
        id_rank = self.id_rank
        at = bisect.bisect_left(pool, here)
        newer = pool[max(0, at - CANDIDATES_PER_KEY) : at][::-1]
        older = pool[at + 1 : at + 1 + CANDIDATES_PER_KEY]
        i = j = 0
        while i < len(newer) and j < len(older):
            before, after = here - newer[i], older[j] - here
            if before < after or (before == after and id_rank[newer[i]] < id_rank[older[j]]):
                yield newer[i]
                i += 1
            else:
                yield older[j]
                j += 1
        yield from newer[i:]
        yield from older[j:]

    def lists(self, positions: Iterable[int]) -> dict[int, list[int]]:
        """The related lists of the records at `positions`, as positions."""
        records, id_rank, at_rank = self.records, self.id_rank, self.at_rank
        span = len(records) + 1
        lists = {}
        for here in positions:
            names = list(_pool_names(self.rows[here]))
            touched: list[int] = []
            for path in (key for kind, key in names if kind == "file"):
                pool = self.positions("file", path)
                at = bisect.bisect_left(pool, here)
                touched += pool[max(0, at - CANDIDATES_PER_KEY) : at]
                touched += pool[at + 1 : at + 1 + CANDIDATES_PER_KEY]
            shared = Counter(touched)
            ranked = sorted(
                (abs(other - here) - times * span) * span + id_rank[other]
                for other, times in shared.items()
            )
            chosen = dict.fromkeys(at_rank[key % span] for key in ranked[:RELATED_LIMIT])
            for kind, key in names:
                if kind == "file":
                    continue
                if len(chosen) >= RELATED_LIMIT:
                    break
                for other in self.nearest(self.positions(kind, key), here):
                    if len(chosen) >= RELATED_LIMIT:
                        break
                    chosen.setdefault(other)
            lists[here] = list(chosen)
        return lists
