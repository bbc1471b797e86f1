"""The guard that fails a test leaving a process running (conftest.no_process_left_running)
sees a detached grandchild by name, and does not count a child that has just exited."""

from __future__ import annotations

import os
import signal
import subprocess

import processes
import pytest

pytestmark = pytest.mark.skipif(not processes.supported(), reason="needs /proc")


def test_a_detached_grandchild_is_named_and_a_finished_one_is_not() -> None:
    before = {process.identity for process in processes.started_here()}
    # the shell exits at once: its `sleep` is reparented away from this process
    subprocess.run(["sh", "-c", "sleep 61 >/dev/null 2>&1 &"], check=True)
    try:
        (left,) = processes.left_running(before, within=0)
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
