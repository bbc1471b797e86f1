"""Builds at once and builds killed half-way, run as users run them (the CLI and `mkdocs build`
in processes of their own): one build at a time per repository, each leftover of a build
that is gone swept by the next, never a folder of a build that still runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import processes
import pytest

from benchmarks.corpus import write_corpus
from generator.site import build_lock

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX process control")

RUNBOOK = [sys.executable, "-m", "generator"]
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1798761600"}
RECORDS = 150
SCRATCH = Path(".runbook-cache") / "pagefind-shards"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("concurrency") / "runbook", RECORDS)


@pytest.fixture
def repo(corpus: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(corpus, copy)
    return copy


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def start(repo: Path, *command: str, **env: str) -> subprocess.Popen[str]:
    """A build in a session of its own (as from a terminal or a CI step): killing its group
    ends the Pagefind runs it started too."""
    return subprocess.Popen(
        list(command),
        cwd=repo,
        env={**ENV, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(build: subprocess.Popen[str]) -> tuple[int, str]:
    _, stderr = build.communicate(timeout=300)
    return build.returncode, stderr


def build(repo: Path, *args: str, **env: str) -> tuple[int, str]:
    return finish(start(repo, *RUNBOOK, "build", "-q", *args, **env))


def record_ids(repo: Path) -> list[str]:
    return sorted(path.stem for path in (repo / "records").rglob("*.yaml"))


def assert_complete_site(repo: Path) -> None:
    """Every record page, and a Pagefind index whose bundles load."""
    site = repo / "site"
    missing = [i for i in record_ids(repo) if not (site / "changes" / i / "index.html").is_file()]
    assert missing == []
    bundle = site / "pagefind"
    shards = json.loads((bundle / "shards.json").read_text(encoding="utf-8"))["shards"]
    assert shards
    for shard in shards:
        entry = json.loads((bundle / shard / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"], entry
        for name in ("pagefind.js", "pagefind-worker.js"):
            assert (bundle / shard / name).is_file(), name
        for language in entry["languages"].values():
            assert (bundle / shard / f"pagefind.{language['hash']}.pf_meta").is_file()
            assert (bundle / shard / f"wasm.{language['wasm']}.pagefind").is_file()
        assert list((bundle / shard / "index").glob("*.pf_index"))
        assert list((bundle / shard / "fragment").iterdir())


def leftovers(repo: Path) -> list[str]:
    """Staging and retired site folders, and Pagefind scratch folders."""
    found = [p.name for p in repo.iterdir() if p.name.startswith(".site.")]
    if (repo / SCRATCH).is_dir():
        found += [p.name for p in (repo / SCRATCH).iterdir() if p.name.startswith("shard-")]
    return found


def lock_is_free(repo: Path) -> bool:
    try:
        build_lock.acquire(repo, timeout=0)
    except build_lock.BuildLocked:
        return False
    build_lock.release(repo)
    return True


@pytest.mark.parametrize(
    "second",
    [[*RUNBOOK, "build", "-q"], [*MKDOCS, "build"]],
    ids=["runbook-build", "mkdocs-build"],
)
def test_two_builds_at_once_both_finish_with_a_complete_site(repo: Path, second: list[str]) -> None:
    first = start(repo, *RUNBOOK, "build", "--full")
    assert wait_for(lambda: list(repo.glob(".site.new-*")), 120), "the first build never started"
    other = start(repo, *second)
    (first_code, first_err), (second_code, second_err) = finish(first), finish(other)
    assert (first_code, second_code) == (0, 0), first_err + second_err
    waiting = re.search(
        r"waiting for the build running in this repository \(pid (\d+)\)", second_err
    )
    assert waiting, second_err
    assert int(waiting.group(1)) == first.pid
    assert "Traceback" not in first_err + second_err
    assert_complete_site(repo)
    assert leftovers(repo) == []
    assert lock_is_free(repo)


def test_a_build_that_cannot_wait_longer_fails_with_one_line(repo: Path) -> None:
    (repo / "site").mkdir()
    (repo / "site" / "index.html").write_text("previous site\n", encoding="utf-8")
    build_lock.acquire(repo)  # this process is the running build
    try:
        code, stderr = build(repo, RUNBOOK_BUILD_LOCK_TIMEOUT="0.5")
    finally:
        build_lock.release(repo)
    lines = stderr.strip().splitlines()
    assert code == 1, stderr
    assert lines[0].startswith("runbook: waiting for the build running in this repository")
    assert f"(pid {os.getpid()})" in lines[0]
    assert len(lines) == 2, stderr
    assert lines[1].startswith("runbook: build failed: another build is running"), stderr
    assert "previous site was left in place" in lines[1]
    assert (repo / "site" / "index.html").read_text(encoding="utf-8") == "previous site\n"
    assert leftovers(repo) == []


def in_staging(repo: Path) -> bool:
    return any(p.is_dir() and any(p.iterdir()) for p in repo.glob(".site.new-*"))


def indexing(repo: Path) -> bool:
    return any((repo / SCRATCH).glob("shard-*/documents/*"))


@pytest.mark.parametrize("moment", [in_staging, indexing], ids=["staging", "indexing"])
def test_a_killed_build_leaves_the_site_and_the_next_build_sweeps_its_leftovers(
    repo: Path, moment: Callable[[Path], bool]
) -> None:
    assert build(repo)[0] == 0
    before = (repo / "site" / "index.html").read_bytes()
    killed = start(repo, *RUNBOOK, "build", "-q", "--full")
    try:
        assert wait_for(lambda: moment(repo), 120), "the build never got there"
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # the build and the Pagefind runs it started
        killed.communicate()
    assert killed.returncode == -signal.SIGKILL
    assert (repo / "site" / "index.html").read_bytes() == before
    left = leftovers(repo)
    assert any(name.startswith(f".site.new-{killed.pid}-") for name in left), left
    assert lock_is_free(repo)

    code, stderr = build(repo, "--full")
    assert code == 0, stderr
    assert leftovers(repo) == []
    assert_complete_site(repo)


def test_the_sweep_keeps_the_folders_of_a_build_that_still_runs(repo: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    alive = os.getpid()  # this process stands for a build that still runs
    planted = {
        repo / f".site.new-{alive}-abcdefgh": True,
        repo / f".site.old-{alive}-abcdefgh": True,
        repo / SCRATCH / f"shard-{alive}-abcdefgh": True,
        repo / f".site.new-{ended.pid}-abcdefgh": False,
        repo / f".site.old-{ended.pid}-abcdefgh": False,
        repo / SCRATCH / f"shard-{ended.pid}-abcdefgh": False,
    }
    for folder in planted:
        (folder / "documents").mkdir(parents=True)
        (folder / "documents" / "index.html").write_text("half\n", encoding="utf-8")

    code, stderr = build(repo)

    assert code == 0, stderr
    assert {folder.name: folder.exists() for folder in planted} == {
        folder.name: kept for folder, kept in planted.items()
    }
    assert_complete_site(repo)


def test_a_build_leaves_no_process_behind_once_it_returns(repo: Path) -> None:
    """Replacing a site deletes the old one in the build's own process: nothing of it runs
    once the command has returned (not even for a moment)."""
    assert build(repo)[0] == 0
    before = {process.identity for process in processes.started_here()}
    code, stderr = build(repo, "--full")  # a site to replace, and every shard indexed
    assert code == 0, stderr
    if processes.supported():
        assert processes.running(before) == []
    assert leftovers(repo) == []


@pytest.mark.parametrize("plant", ["symlink", "hardlink"])
def test_a_planted_lock_file_is_refused_not_written_through(
    repo: Path, tmp_path: Path, plant: str
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n", encoding="utf-8")
    lock = repo / ".runbook-cache" / "build.lock"
    lock.parent.mkdir()
    if plant == "symlink":
        lock.symlink_to(outside)
    else:
        os.link(outside, lock)

    code, stderr = build(repo)

    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("runbook: build failed:"), stderr
    assert str(lock) in stderr
    assert outside.read_text(encoding="utf-8") == "keep me\n"
    assert not (repo / "site").exists()
