"""A cancelled run (SIGTERM from a CI runner, SIGHUP from a closed terminal) ends cleanly:
no staging folder, no worker process left, the previous site intact, exit 128 + signal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus

RUNBOOK = [sys.executable, "-m", "generator"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1798761600"}


def processes_in(folder: Path) -> list[int]:
    """Processes (ours: same user) whose working folder is `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("signals") / "runbook", 500)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signalled_build_leaves_no_staging_folder_and_the_old_site(
    corpus: Path, tmp_path: Path, number: int
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(corpus, repo)
    (repo / "site").mkdir()
    (repo / "site" / "index.html").write_text("previous site\n", encoding="utf-8")
    build = subprocess.Popen(
        [*RUNBOOK, "build", "-q"], cwd=repo, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert wait_for(lambda: list(repo.glob(".site.new-*/*")), 60), "the build never started"
    time.sleep(0.5)  # well inside the build
    build.send_signal(number)
    _, stderr = build.communicate(timeout=60)
    assert build.returncode == 128 + number, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert [p.name for p in repo.iterdir() if p.name.startswith(".site.")] == []
    assert (repo / "site" / "index.html").read_text() == "previous site\n"
    assert wait_for(lambda: processes_in(repo) == [], 10)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
def test_a_signalled_validation_stops_its_workers(corpus: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(corpus, repo)
    # enough records that validation is still running when the signal comes
    for record in sorted((repo / "records").rglob("*.yaml")):
        for copy in range(6):
            shutil.copy(record, record.with_name(f"{record.stem}-copy-{copy}.yaml"))
    validate = subprocess.Popen(
        [*RUNBOOK, "validate"], cwd=repo, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert wait_for(lambda: len(processes_in(repo)) > 1, 30), "no workers started"
    validate.send_signal(signal.SIGTERM)
    _, stderr = validate.communicate(timeout=30)  # the output closes: no worker holds it
    assert validate.returncode == 128 + signal.SIGTERM, stderr.decode()
    assert wait_for(lambda: processes_in(repo) == [], 10)
