"""The guard that fails a test leaving a process running (conftest.no_process_left_running)
sees a detached grandchild by name, and does not count a child that has just exited."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import processes
import pytest

pytestmark = pytest.mark.skipif(not processes.supported(), reason="needs /proc")


def test_a_detached_grandchild_is_named_and_a_finished_one_is_not() -> None:
    before = {process.identity for process in processes.started_here()}
    # the shell exits at once: its `sleep` is reparented away from this process
    subprocess.run(["sh", "-c", "sleep 61 >/dev/null 2>&1 &"], check=True)
    try:
        # Forked before the shell exited, but its environment (the mark that names it) reads
        # empty while it replaces itself with `sleep`: looked for until it shows.
        deadline = time.monotonic() + 10
        while not (left := processes.left_running(before, within=0)):
            assert time.monotonic() < deadline, "the detached sleep never showed"
            time.sleep(0.01)
        (left,) = left
        assert "sleep 61" in str(left)
        assert left.parent != os.getpid()
    finally:
        for process in processes.running(before):
            os.kill(process.pid, signal.SIGTERM)
    assert processes.left_running(before, within=10) == []


def test_a_child_that_exited_unwaited_is_not_running() -> None:
    before = {process.identity for process in processes.started_here()}
    child = subprocess.Popen(["sh", "-c", "exit 3"])
    try:
        assert processes.left_running(before, within=10) == []
        (zombie,) = [p for p in processes.started_here() if p.identity not in before]
        assert zombie.state == "Z"
    finally:
        assert child.wait() == 3  # its status is still there for its owner


def test_a_helper_started_by_a_process_running_before_the_test_is_not_counted() -> None:
    """A session's browser starts helper processes when it needs them, during whichever test
    asks: those are the browser's doing. A process the test itself starts still counts."""
    program = (
        "import subprocess, sys\n"
        "sys.stdin.readline()\n"
        "helper = subprocess.Popen(['sleep', '61'])\n"
        "print(helper.pid, flush=True)\n"
        "sys.stdin.readline()\n"
        "helper.kill()\n"
        "helper.wait()\n"
    )
    session = subprocess.Popen(
        [sys.executable, "-c", program], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert session.stdin is not None and session.stdout is not None
    try:
        before = {process.identity for process in processes.started_here()}
        session.stdin.write("\n")
        session.stdin.flush()
        helper = int(session.stdout.readline())
        assert helper in {process.pid for process in processes.started_here()}
        assert processes.running(before) == []
        mine = subprocess.Popen(["sleep", "62"])
        try:
            assert [process.pid for process in processes.running(before)] == [mine.pid]
        finally:
            mine.kill()
            mine.wait()
    finally:
        session.stdin.write("\n")
        session.stdin.close()
        session.wait()
