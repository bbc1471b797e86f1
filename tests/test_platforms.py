"""`validate`, `new`, `list`, `schema` and `init` run on Linux, macOS and Windows: workers
start by spawn (macOS, Windows) as they do by fork (Linux), with the same results, and nothing
these commands import needs what only POSIX has (fcntl, pwd, os.fork, SIGHUP, signal masks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run_cli

from benchmarks.corpus import write_corpus
from generator.check import workers
from generator.check.validate import validate_runbook
from generator.check.workers import PARALLEL_THRESHOLD, start_method
from generator.config import read_options
from generator.diagnostics import Diagnostic

REPO_ROOT = Path(__file__).resolve().parent.parent
EPOCH = "1798761600"
EXAMPLE = REPO_ROOT / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough records for workers, a few of them broken (an error and a warning each)."""
    repo = write_corpus(tmp_path_factory.mktemp("platforms") / "runbook", PARALLEL_THRESHOLD + 80)
    for record in sorted((repo / "records").rglob("*.yaml"))[::61]:
        text = record.read_text("utf-8")
        record.write_text(text.replace("title: ", "titel: ", 1), "utf-8")
    return repo


def diagnostics_of(repo: Path, jobs: int) -> list[Diagnostic]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        options = read_options("mkdocs.yml")
        return validate_runbook(options, jobs=jobs, keep_records=False).diagnostics


@pytest.fixture(scope="module")
def in_one_process(corpus: Path) -> list[Diagnostic]:
    return diagnostics_of(corpus, jobs=1)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_report_what_one_process_reports(
    corpus: Path,
    in_one_process: list[Diagnostic],
    method: str,
    monkeypatch: pytest.MonkeyPatch,
    checked_here: list[str],
) -> None:
    monkeypatch.setenv("RUNBOOK_START_METHOD", method)
    assert diagnostics_of(corpus, jobs=2) == in_one_process
    assert checked_here == []  # every record went to the workers
    assert {d.code for d in in_one_process} >= {"unknown-key", "missing"}


def test_workers_are_forked_only_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNBOOK_START_METHOD", raising=False)
    for platform, has_fork, expected in [
        ("linux", True, "fork"),
        ("linux", False, "spawn"),
        ("darwin", True, "spawn"),
        ("win32", False, "spawn"),
    ]:
        monkeypatch.setattr(sys, "platform", platform)
        if has_fork:
            monkeypatch.setattr(os, "fork", lambda: 0, raising=False)
        else:
            monkeypatch.delattr(os, "fork", raising=False)
        assert start_method() == expected, platform


def test_an_unknown_start_method_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_START_METHOD", "threads")
    with pytest.raises(ValueError, match="RUNBOOK_START_METHOD='threads'"):
        workers.start_method()


# Run in a fresh interpreter: what Windows lacks is made unimportable (fcntl, pwd) or removed
# (os.fork, SIGHUP, signal masks) before generator is imported; then one command runs.
WITHOUT_POSIX = """
import importlib.abc, os, signal, sys

class Unavailable(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"fcntl", "pwd"}:
            raise ImportError(f"no module named {name!r} here")
        return None

for name in ("fcntl", "pwd"):
    sys.modules.pop(name, None)
sys.meta_path.insert(0, Unavailable())
del os.fork
for name in ("SIGHUP", "pthread_sigmask"):
    delattr(signal, name)

from generator.cli import main
main(sys.argv[1:])
"""


def without_posix(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_POSIX, *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_runs_without_fcntl_pwd_fork_or_sighup(runbook_repo: Path) -> None:
    shutil.copy(EXAMPLE, runbook_repo / "records" / EXAMPLE.name)
    broken = runbook_repo / "records" / "2026-11-21-broken.yaml"
    broken.write_text(EXAMPLE.read_text("utf-8").replace("title: ", "titel: ", 1), "utf-8")

    result = without_posix(runbook_repo, "validate")
    expected = run_cli(runbook_repo, "validate", epoch=EPOCH)
    assert "Traceback" not in result.stderr, result.stderr
    assert (result.returncode, result.stdout) == (1, expected.stdout)
    assert expected.exit_code == 1
    reported = [line.split(": ", 2)[0] for line in result.stdout.splitlines()]
    assert reported and all(path.startswith("records/2026-11-21-broken.yaml:") for path in reported)
    assert "[unknown-key]" in result.stdout and "[missing]" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("init", "fresh"),
        ("schema", "record"),
        ("list",),
        ("new", "Cap upload size", "--service", "uploads", "--owner", "ops", "--file", "a.conf"),
    ],
)
def test_other_commands_run_without_fcntl_pwd_fork_or_sighup(
    runbook_repo: Path, args: tuple[str, ...]
) -> None:
    shutil.copy(EXAMPLE, runbook_repo / "records" / EXAMPLE.name)
    result = without_posix(runbook_repo, *args)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
