"""Fixtures shared by the test suite: a throwaway runbook repository and the real CLI."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import CliRun, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DATA = Path(__file__).resolve().parent / "data"
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
    tests' keys in a folder of their own."""
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="runbook-tests-cache-")


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
