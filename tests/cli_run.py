"""The real `runbook` CLI, run in-process inside a repository, and what it printed."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import cli


@dataclass(frozen=True)
class CliRun:
    """What one `runbook` invocation printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else []


def run_cli(repo: Path, *args: str, epoch: str) -> CliRun:
    """`runbook ARGS` inside `repo`, with SOURCE_DATE_EPOCH=`epoch` as "today", so that
    results never depend on the clock."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        patch.setenv("SOURCE_DATE_EPOCH", epoch)
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return CliRun(result.exit_code, result.stdout, result.stderr)


VENV_BIN = Path(sys.executable).parent


def run_pre_commit(repo: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit run --all-files` with the repository's config, in a clean environment."""
    return subprocess.run(
        [str(VENV_BIN / "pre-commit"), "run", "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": str(repo.parent),
            "NO_MKDOCS_2_WARNING": "1",
        },
        check=False,
    )
