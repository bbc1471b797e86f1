"""Checking many record files on every core: chunks of files to a pool of worker processes.

Files are independent until the cross-record rules, so each worker loads, validates and
applies the per-record rules to a chunk of files and sends back the results, pickled once.

Workers are forked where that is safe (Linux); elsewhere they are spawned (Windows has no fork,
and on macOS system libraries may hold locks across one), so what a worker is given (its
initialiser, the CheckContext) is module-level and picklable. Signals are handled only as far
as the platform has them (Windows has no SIGHUP and no signal masks).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any

from .file_check import CheckContext, RecordResult, check_record_file
from .files import Stamp
from .gc_pause import collector_paused

# A checked record file: its path, its stamp when it was read (None: its result is not kept),
# the digest of its bytes (None: not read whole), and its result.
Checked = tuple[str, "Stamp | None", "str | None", RecordResult]
PARALLEL_THRESHOLD = 400  # below this, starting workers costs more than it saves
MIN_CHUNK = 25  # files a worker takes at once, at least


# Chooses how workers start, instead of the platform's choice: `spawn` runs the spawn path on
# Linux too (the tests do).
START_METHOD_VARIABLE = "RUNBOOK_START_METHOD"
START_METHODS = ("fork", "spawn", "forkserver")

_worker_context: CheckContext | None = None
# What a worker makes of a chunk of checked files before sending it back (None: the list).
Pack = Callable[[list[Checked], CheckContext], Any]
_worker_pack: Pack | None = None

# The signals that end a run, as far as the platform has them.
_ENDING_SIGNALS = {
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
}


def start_method() -> str:
    """Fork on Linux: the workers start as copies of the parent, with nothing to import again.
    Spawn elsewhere, or when fork is missing. RUNBOOK_START_METHOD overrides both."""
    chosen = os.environ.get(START_METHOD_VARIABLE)
    if chosen:
        if chosen not in START_METHODS:
            raise ValueError(
                f"{START_METHOD_VARIABLE}={chosen!r}: use one of {', '.join(START_METHODS)}"
            )
        return chosen
    return "fork" if sys.platform.startswith("linux") and hasattr(os, "fork") else "spawn"


def _block_ending_signals(block: bool) -> None:
    """Hold back (or let through) the ending signals; where there are no signal masks
    (Windows) nothing is held back."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK if block else signal.SIG_UNBLOCK, _ENDING_SIGNALS)


def _init_worker(context: CheckContext, pack: Pack | None) -> None:
    """A worker dies at once on SIGTERM or SIGHUP (the parent cleans up) and leaves Ctrl-C
    to the parent, which then stops it."""
    global _worker_context, _worker_pack
    _worker_context, _worker_pack = context, pack
    for number in _ENDING_SIGNALS - {signal.SIGINT}:
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _block_ending_signals(False)  # blocked while it was started


def _check_chunk(paths: list[str]) -> bytes:
    """A worker's results, pickled here: the parent keeps these bytes in the cache as they are
    (check/cache.py) instead of pickling every result a second time."""
    assert _worker_context is not None
    with collector_paused():
        packed = _packed(paths, _worker_context, _worker_pack)
    return pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)


def _packed(paths: list[str], context: CheckContext, pack: Pack | None) -> Any:
    checked = [(path, *check_record_file(path, context)) for path in paths]
    return checked if pack is None else pack(checked, context)


def check_in_workers(
    paths: list[str], context: CheckContext, jobs: int | None, pack: Pack | None = None
) -> tuple[list[Any], list[bytes]]:
    """The files checked in chunks, in order: each chunk the list of its checked files, or
    what `pack` made of it where it was checked (a worker then sends back what the caller
    keeps, not the records it made); and when workers checked them, the chunks as they were
    pickled. `pack` is a module-level function, so that spawned workers can be given it."""
    workers = jobs or os.cpu_count() or 1
    if workers < 2 or len(paths) < PARALLEL_THRESHOLD:
        return [_packed(paths, context, pack)], []
    chunks = _shrinking_chunks(paths, workers)
    packed: list[Any] = []
    pickled: list[bytes] = []
    # A signal while the pool is being made would leave its workers unknown to _stop_now
    # (and holding the caller's output open): it waits until the pool exists.
    _block_ending_signals(True)
    # Imported here: a pre-commit run on a few records never starts workers, and the pool's
    # imports were a tenth of its start-up.
    from multiprocessing import get_context

    try:
        starter = get_context(start_method())
        pool = starter.Pool(workers, initializer=_init_worker, initargs=(context, pack))
    except BaseException:
        _block_ending_signals(False)
        raise
    try:
        _block_ending_signals(False)  # one that came is raised here
        for chunk in pool.imap(_check_chunk, chunks):
            pickled.append(chunk)
            packed.append(pickle.loads(chunk))  # from our own workers, as multiprocessing's are
    except BaseException:
        _stop_now(pool)
        raise
    pool.close()
    pool.join()
    return packed, pickled


def _shrinking_chunks(paths: list[str], workers: int) -> list[list[str]]:
    """Each chunk a share of the files still left ("guided" scheduling): few round trips while
    there is much to do, and small last chunks, so that no core idles long at the end while
    another finishes a large one."""
    chunks = []
    start = 0
    while start < len(paths):
        size = max(MIN_CHUNK, (len(paths) - start) // (workers * 4))
        chunks.append(paths[start : start + size])
        start += size
    return chunks


def _stop_now(pool: Any) -> None:
    """Interrupted (a signal, Ctrl-C): kill the workers, so that none is left blocked holding
    the caller's output open. Not the pool's orderly terminate(), now or at exit: a worker
    killed while reading its next task holds the task queue's lock forever, and terminate()
    waits for that lock (multiprocessing exposes no other way to the worker processes). The
    pool's handler thread is stopped first: it replaces dead workers, and a replacement started
    after the kill would be left blocked, holding the caller's output open."""
    from multiprocessing.pool import TERMINATE

    pool._worker_handler._state = TERMINATE
    for process in pool._pool:
        process.kill()
    pool._terminate.cancel()
