"""Fixtures shared by the test suite: a throwaway runbook repository and the real CLI."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import processes
import pytest
from cli_run import CliRun, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DATA = Path(__file__).resolve().parent / "data"
# How long a process started by a test may take to end after it: a process just told to stop,
# or whose parent is ending. A bound, not a pause: the wait ends as soon as they have.
PROCESS_GRACE_SECONDS = 5.0
# 2027-01-01T00:00:00Z: "today" for staleness warnings, so results do not depend on the clock.
FIXED_EPOCH = "1798761600"

MINIMAL_MKDOCS_YML = """\
site_name: Test runbook
theme:
  name: material
plugins:
  - search
  - runbook
"""


def pytest_configure(config: pytest.Config) -> None:
    """Builds sign their validation cache with a key in the user's cache folder: keep the
    tests' keys in a folder of their own. Processes the tests start carry this process's mark
    (see no_process_left_running). The release test's markers are declared here."""
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="runbook-tests-cache-")
    processes.mark_this_process()
    # Validation tests that spawn workers in this process start multiprocessing's resource
    # tracker, which serves the process that started it until that one exits (a runbook
    # command's ends with the command). Started here, it belongs to the session, not a test.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    config.addinivalue_line(
        "markers",
        "release: builds, installs and runs the release a tag ships (tests/test_release.py)",
    )
    # pytest-xdist's own marker, declared for runs without it: the release module's fixtures
    # build and install once per worker, so `--dist loadgroup` keeps the module on one.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.fixture(autouse=True)
def no_process_left_running() -> Iterator[None]:
    """Fails the test after which a process it started (a child of this process, a child's
    child, or a detached daemon that inherited this process's mark) still runs. Processes
    running before the test, such as a session's browser, are not its doing."""
    if not processes.supported():
        yield
        return
    before = {process.identity for process in processes.started_here()}
    yield
    left = processes.left_running(before, within=PROCESS_GRACE_SECONDS)
    if left:
        pytest.fail(
            f"still running {PROCESS_GRACE_SECONDS:g} s after the test: "
            + "; ".join(map(str, left)),
            pytrace=False,
        )


@pytest.fixture
def runbook_repo(tmp_path: Path) -> Path:
    """A minimal user repository: mkdocs.yml, the starter checklists and an empty records/."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mkdocs.yml").write_text(MINIMAL_MKDOCS_YML, encoding="utf-8")
    (repo / "checklists").mkdir()
    for checklist in sorted((REPO_ROOT / "checklists").glob("*.yaml")):
        shutil.copy(checklist, repo / "checklists" / checklist.name)
    (repo / "records").mkdir()
    return repo


@pytest.fixture
def run_runbook(runbook_repo: Path) -> Callable[..., CliRun]:
    """Run the real `runbook` CLI inside `runbook_repo` with a fixed "today"."""
    return functools.partial(run_cli, runbook_repo, epoch=FIXED_EPOCH)


@pytest.fixture
def checked_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the record files this process validates from now on (a worker process's
    checks are not seen): what a run read again rather than took from its cache."""
    from generator.check import workers  # it checks files in-process below PARALLEL_THRESHOLD

    checked: list[str] = []
    original = workers.check_record_file

    def counting(path: str, context: object) -> object:
        checked.append(Path(path).name)
        return original(path, context)  # type: ignore[arg-type]

    monkeypatch.setattr(workers, "check_record_file", counting)
    return checked
