"""Good corpus: records in tests/data/valid/records/ must validate without a single diagnostic.

They exercise what must keep working: a UTF-8 byte order mark, every shorthand form, the
`.yml` suffix, quoted dates, Unicode in one-line fields and the credential allow marker.
Adding a case is adding a file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cli_run import CliRun

VALID = Path(__file__).resolve().parent / "data" / "valid" / "records"
RECORD_FILES = sorted(p for p in VALID.iterdir() if p.suffix in (".yaml", ".yml"))


def _assert_no_problems(run: CliRun) -> None:
    assert "Traceback" not in run.stdout + run.stderr
    assert run.json() == []
    assert run.exit_code == 0


def test_corpus_has_the_required_shapes() -> None:
    assert 3 <= len(RECORD_FILES) <= 5
    assert any(p.suffix == ".yml" for p in RECORD_FILES)
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in RECORD_FILES)


@pytest.mark.parametrize("path", RECORD_FILES, ids=lambda p: p.name)
def test_valid_record(path: Path, runbook_repo: Path, run_runbook: Callable[..., CliRun]) -> None:
    shutil.copy(path, runbook_repo / "records" / path.name)

    _assert_no_problems(run_runbook("validate", "--format", "json"))
    _assert_no_problems(run_runbook("validate", "--format", "json", "--strict"))

    as_text = run_runbook("validate")
    assert as_text.exit_code == 0
    assert as_text.stdout == ""
    assert "0 errors, 0 warnings" in as_text.stderr

    as_github = run_runbook("validate", "--format", "github")
    assert (as_github.exit_code, as_github.stdout) == (0, "")


def test_valid_records_together(runbook_repo: Path, run_runbook: Callable[..., CliRun]) -> None:
    """Side by side (nested in a year folder too) their ids stay unique and all still pass."""
    (runbook_repo / "records" / "2026").mkdir()
    for path in RECORD_FILES:
        shutil.copy(path, runbook_repo / "records" / "2026" / path.name)
    _assert_no_problems(run_runbook("validate", "--format", "json", "--strict"))


def test_validate_named_file_by_absolute_path(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    target = runbook_repo / "records" / RECORD_FILES[0].name
    shutil.copy(RECORD_FILES[0], target)
    _assert_no_problems(run_runbook("validate", "--format", "json", str(target)))


def test_validate_named_file_by_relative_path(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    shutil.copy(RECORD_FILES[0], runbook_repo / "records" / RECORD_FILES[0].name)
    relative = f"records/{RECORD_FILES[0].name}"
    _assert_no_problems(run_runbook("validate", "--format", "json", relative))


def test_build_exit_codes_separate_configuration_from_records(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    config = runbook_repo / "mkdocs.yml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace("name: material", "name: no-such-theme"), encoding="utf-8")
    broken_config = run_runbook("build", "-q")
    assert broken_config.exit_code == 2, broken_config.output
    assert "configuration error" in broken_config.output

    config.write_text(good, encoding="utf-8")
    (runbook_repo / "records" / "2026-01-01-bad.yaml").write_text("title: [\n", encoding="utf-8")
    broken_record = run_runbook("build", "-q")
    assert broken_record.exit_code == 1
    assert "records/2026-01-01-bad.yaml:2:1: error:" in broken_record.output
    assert "Traceback" not in broken_record.output
