"""Keeping Python's cycle collector off the records: paused while they are made, and off
them afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while records are checked, unpickled or indexed, and
    keep it off what that made.

    Records are trees of dicts, lists and strings that reference counting frees; the cycle
    collector would still rescan every live record every few thousand allocations, which was
    13 % of a validation run. Nothing here builds cycles, so nothing is left for it to find.
    What the paused work leaves alive (the records, their results, the index) lives as long as
    the run, so it is then frozen: otherwise every full collection that later allocations set
    off walks all of it again (five of them took 4 of the 23 s of a rebuild after one record
    of 20,000 changed). Freezing frees nothing early: reference counting still frees what is
    let go; a long-lived process gives it back with `release_frozen`.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def release_frozen() -> None:
    """Give everything frozen back to the cycle collector: at the end of a build, since
    `mkdocs serve` builds again in the same process and what the last build held is
    garbage by then (some of it in cycles only the collector frees)."""
    gc.unfreeze()
