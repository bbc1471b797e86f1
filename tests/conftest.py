"""Fixtures shared by the test suite: a throwaway runbook repository and the real CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import cli

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


@dataclass(frozen=True)
class CliRun:
    """What one `runbook` invocation printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else []


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
def run_runbook(runbook_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliRun]:
    """Run the real `runbook` CLI inside `runbook_repo` with a fixed "today"."""
    monkeypatch.chdir(runbook_repo)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)

    def run(*args: str) -> CliRun:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return CliRun(result.exit_code, result.stdout, result.stderr)

    return run
