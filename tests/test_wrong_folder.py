"""A CI step in the wrong folder must fail: `validate`, `list` and `annotate` exit 2 with one
line when there is no runbook where they run (DESIGN.md, exit status 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import run_cli
from record_files import EPOCH, initialised_runbook

COMMANDS = [["validate"], ["list"], ["annotate", "--grafana-url", "http://127.0.0.1:9"]]


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_test")


def one_line_exit_2(folder: Path, args: list[str], says: str) -> None:
    result = run_cli(folder, *args, epoch=EPOCH)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("runbook: ") and says in line, line


@pytest.mark.parametrize("args", COMMANDS)
def test_no_mkdocs_yml(tmp_path: Path, args: list[str]) -> None:
    one_line_exit_2(tmp_path, args, "no mkdocs.yml in")


@pytest.mark.parametrize("args", COMMANDS)
def test_records_dir_missing_or_not_a_folder(tmp_path: Path, args: list[str]) -> None:
    repo = initialised_runbook(tmp_path)
    text = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    assert "records_dir: records" in text
    (repo / "mkdocs.yml").write_text(
        text.replace("records_dir: records", "records_dir: changes"), encoding="utf-8"
    )
    one_line_exit_2(repo, args, "records_dir changes does not exist")
    (repo / "changes").write_text("not a folder\n", encoding="utf-8")
    one_line_exit_2(repo, args, "records_dir changes is not a folder")


@pytest.mark.parametrize("args", COMMANDS)
def test_no_record_files(tmp_path: Path, args: list[str]) -> None:
    repo = initialised_runbook(tmp_path)
    for record in (repo / "records").rglob("*.yaml"):
        record.unlink()
    one_line_exit_2(repo, args, "no record files")


def test_paths_given_are_checked_wherever_they_are(tmp_path: Path) -> None:
    """Explicit files need no runbook around them (pre-commit passes the changed files)."""
    repo = initialised_runbook(tmp_path)
    (record,) = (repo / "records").rglob("*.yaml")
    assert run_cli(repo, "validate", str(record), epoch=EPOCH).exit_code == 0
