"""`runbook validate --changed REV --require-record PATTERN`, in real git repositories: a pull
request that changes matching files must add or edit a record whose files_touched lists them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from cli_run import CliRun, run_cli
from git_repos import git, new_repository
from record_files import EPOCH, starter

from generator.authoring.require_record import matches

PATTERNS = ("--require-record", "deploy/**", "--require-record", "*.tf")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A runbook made by `runbook init` with some deploy files, on main; a branch `feature`."""
    repo = new_repository(tmp_path / "runbook")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    _write(repo, "deploy/nginx.conf", "deploy/old.conf", "infra/main.tf", "app/views.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "runbook init")
    git(repo, "checkout", "-qb", "feature")
    return repo


def _write(repo: Path, *names: str) -> None:
    for name in names:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name} {path.stat().st_size if path.exists() else 0}\n", "utf-8")


def _commit(repo: Path, message: str = "a change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def _record(repo: Path, *files_touched: str) -> None:
    data = yaml.safe_load(starter(repo).read_text(encoding="utf-8"))
    data["files_touched"] = list(files_touched)
    data["date"] = "2026-11-18"
    path = repo / "records" / "2026" / "2026-11-18-deploy-change.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")


def _check(repo: Path, *more: str) -> CliRun:
    return run_cli(repo, "validate", "--changed", "main", *PATTERNS, *more, epoch=EPOCH)


def test_a_pull_request_that_forgot_its_record_fails_naming_the_files(repo: Path) -> None:
    _write(repo, "deploy/nginx.conf", "infra/main.tf", "app/views.py")
    _commit(repo)
    run = _check(repo)
    assert run.exit_code == 1, run.output
    (line,) = [line for line in run.stderr.splitlines() if "files_touched:" in line]
    assert "deploy/nginx.conf, infra/main.tf (" in line
    assert "app/views.py" not in line


def test_a_record_listing_the_files_passes(repo: Path) -> None:
    _write(repo, "deploy/nginx.conf", "infra/main.tf")
    _record(repo, "deploy/nginx.conf", "infra/main.tf")
    _commit(repo)
    run = _check(repo)
    assert run.exit_code == 0, run.output


@pytest.mark.parametrize("entry", ["deploy/", "deploy", "deploy/*.conf", "**/*.conf"])
def test_a_folder_or_a_glob_in_files_touched_covers_the_files_below(repo: Path, entry: str) -> None:
    _write(repo, "deploy/nginx.conf")
    _record(repo, entry)
    _commit(repo)
    assert _check(repo).exit_code == 0


def test_a_record_listing_other_files_does_not_cover(repo: Path) -> None:
    _write(repo, "deploy/nginx.conf")
    _record(repo, "deploy/nginx.conf.bak", "deploy-other/nginx.conf")
    _commit(repo)
    run = _check(repo)
    assert run.exit_code == 1
    assert "deploy/nginx.conf (" in run.stderr


@pytest.mark.parametrize(
    "message", ["Tidy\n\nRunbook-Record: none", "Tidy\n\nSkip-Runbook-Record: comments only"]
)
def test_a_commit_trailer_lets_it_pass(repo: Path, message: str) -> None:
    _write(repo, "deploy/nginx.conf")
    _commit(repo, "first")
    _write(repo, "app/views.py")
    _commit(repo, message)
    run = _check(repo)
    assert run.exit_code == 0, run.output
    assert "no record required" in run.stderr


def test_the_label_variable_lets_it_pass(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(repo, "deploy/nginx.conf")
    _commit(repo)
    monkeypatch.setenv("RUNBOOK_SKIP_RECORD", "label")
    assert _check(repo).exit_code == 0
    monkeypatch.setenv("RUNBOOK_SKIP_RECORD", "")
    assert _check(repo).exit_code == 1


def test_renamed_and_deleted_files(repo: Path) -> None:
    git(repo, "mv", "deploy/old.conf", "deploy/new.conf")
    git(repo, "rm", "-q", "deploy/nginx.conf")
    _commit(repo)
    run = _check(repo)
    assert run.exit_code == 1
    assert "deploy/nginx.conf, deploy/old.conf -> deploy/new.conf (" in run.stderr
    _record(repo, "deploy/new.conf", "deploy/nginx.conf")  # a rename: either name covers it
    _commit(repo, "the record")
    assert _check(repo).exit_code == 0


@pytest.mark.parametrize(
    "name", ["deploy/with space.conf", "deploy/tab\tname.conf", "deploy/é-ß.conf", "deploy/-x"]
)
def test_odd_file_names(repo: Path, name: str) -> None:
    _write(repo, name)
    _commit(repo)
    git(repo, "config", "core.quotePath", "true")
    run = _check(repo)
    assert run.exit_code == 1
    assert name.replace("\t", "\\t") in run.stderr
    # A name files_touched cannot hold (a tab is refused there) is covered by a glob.
    _record(repo, "deploy/*" if "\t" in name else name)
    _commit(repo, "the record")
    assert _check(repo).exit_code == 0, _check(repo).output


@pytest.mark.skipif(os.name == "nt", reason="file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_named_escaped(repo: Path) -> None:
    (repo / os.fsdecode(b"deploy/caf\xe9.conf")).write_text("x\n", "utf-8")
    _commit(repo)
    run = _check(repo)
    assert run.exit_code == 1
    assert "deploy/caf\\xe9.conf" in run.stderr


def test_only_matching_files_need_a_record_and_it_needs_changed(repo: Path) -> None:
    _write(repo, "app/views.py")
    _commit(repo)
    assert _check(repo).exit_code == 0
    run = run_cli(repo, "validate", "--require-record", "deploy/**", epoch=EPOCH)
    assert run.exit_code == 2
    assert "--require-record needs --changed REV" in run.stderr


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("deploy/**", "deploy/a/b.conf", True),
        ("deploy/**", "app/deploy/a.conf", False),
        ("*.tf", "infra/modules/main.tf", True),
        ("*.tf", "main.tfvars", False),
        ("deploy/", "services/deploy/x", True),
        ("/Makefile", "Makefile", True),
        ("/Makefile", "sub/Makefile", False),
        ("infra/*.tf", "infra/a/b.tf", False),
        ("**/nginx/*.conf", "a/b/nginx/x.conf", True),
        ("conf?.yml", "x/conf1.yml", True),
    ],
)
def test_patterns_read_as_gitignore_globs(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected
