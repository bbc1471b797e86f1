"""The processes a test leaves running, read from /proc (Linux): every descendant of this
process, and every process that inherited this process's mark in its environment (a daemon
that detached itself is reparented away from us, but keeps its environment)."""

from __future__ import annotations

import os
import select
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# Set once per test process (each pytest-xdist worker has its own); children inherit it.
MARK_NAME = "RUNBOOK_TESTS_PROCESS_MARK"
MARK = f"{MARK_NAME}={uuid.uuid4().hex}".encode()


def mark_this_process() -> None:
    name, _, value = MARK.decode().partition("=")
    os.environ[name] = value


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    state: str  # Z: exited, waiting for its parent to read its status
    started: int  # clock ticks after boot: with the pid, one process even if pids are reused
    command: str

    @property
    def identity(self) -> tuple[int, int]:
        return self.pid, self.started

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command[:200]})"


def _read(pid: int) -> Process | None:
    """The process, or None if it is gone (or not ours to read)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
        argv = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    # "pid (name) state ppid ...": the name may hold spaces and parentheses
    head, _, tail = stat.rpartition(")")
    fields = tail.split()
    name = head.partition("(")[2]
    command = argv.replace(b"\0", b" ").decode(errors="replace").strip() or f"[{name}]"
    return Process(pid, int(fields[1]), fields[0], int(fields[19]), command)


def _marked(pid: int) -> bool:
    try:
        return MARK in (PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def supported() -> bool:
    return (PROC / "self" / "stat").is_file()


def started_here() -> list[Process]:
    """This process's descendants and the processes carrying its mark, zombies included."""
    me = os.getpid()
    everyone = [p for name in os.listdir(PROC) if name.isdigit() and (p := _read(int(name)))]
    children: dict[int, list[Process]] = defaultdict(list)
    for process in everyone:
        children[process.parent].append(process)
    found: dict[int, Process] = {}
    waiting = [me]
    while waiting:
        for child in children[waiting.pop()]:
            found[child.pid] = child
            waiting.append(child.pid)
    for process in everyone:
        if process.pid not in found and process.pid != me and _marked(process.pid):
            found[process.pid] = process
    return sorted(found.values(), key=lambda p: p.pid)


def running(before: set[tuple[int, int]]) -> list[Process]:
    """The processes started here, and not yet at `before`, that still run. A zombie has
    exited: whoever holds its Popen reads its status (reaping it here would take that from
    them), so it is not counted. Nor is a process started by one at `before`: a session's
    browser starts helpers when it needs them (Chromium's on-device model service), which
    are its doing, not the test's."""
    found = started_here()
    by_pid = {process.pid: process for process in found}

    def started_by_earlier(process: Process) -> bool:
        parent = by_pid.get(process.parent)
        while parent is not None:
            if parent.identity in before:
                return True
            parent = by_pid.get(parent.parent)
        return False

    return [
        p
        for p in found
        if p.state not in "ZXx" and p.identity not in before and not started_by_earlier(p)
    ]


def _wait_for_any_to_end(processes: list[Process], timeout: float) -> None:
    """Returns when one of `processes` has ended, or after `timeout` seconds."""
    descriptors = []
    try:
        for process in processes:
            try:
                descriptors.append(os.pidfd_open(process.pid))
            except ProcessLookupError:
                return  # already gone
        poller = select.poll()
        for descriptor in descriptors:
            poller.register(descriptor, select.POLLIN)
        poller.poll(timeout * 1000)
    except (AttributeError, OSError):  # no pidfd here (an old kernel or Python)
        time.sleep(min(timeout, 0.05))
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def left_running(before: set[tuple[int, int]], within: float) -> list[Process]:
    """The processes started here since `before` that still run after up to `within` seconds:
    one that has just been told to stop, or whose parent is ending, is given that long."""
    deadline = time.monotonic() + within
    while True:
        left = running(before)
        remaining = deadline - time.monotonic()
        if not left or remaining <= 0:
            return left
        _wait_for_any_to_end(left, remaining)
