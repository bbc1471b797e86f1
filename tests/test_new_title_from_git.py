"""`runbook new --from-git REV` without a TITLE takes the commit's subject (for A..B, the
newest commit's); with neither, a usage error in one line."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_run import run_cli
from git_repos import git, new_repository
from record_files import EPOCH

CONFIG = "site_name: t\nplugins: [runbook]\n"


def _repo(tmp_path: Path) -> Path:
    repo = new_repository(tmp_path / "repo")
    (repo / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    (repo / "records").mkdir()
    (repo / "checklists").mkdir()
    for number, subject in enumerate(["Add the upload limit", "Cap upload size at 10 MB"]):
        (repo / "deploy").mkdir(exist_ok=True)
        (repo / "deploy" / f"file-{number}.conf").write_text(f"{number}\n", encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"{subject}\n\nThe body is not the title.")
    return repo


def _drafted(repo: Path, *args: str) -> dict[str, object]:
    run = run_cli(repo, "new", *args, epoch=EPOCH)
    assert run.exit_code == 0, run.output
    return yaml.safe_load((repo / run.stdout.strip()).read_text(encoding="utf-8"))


def test_the_title_is_the_commit_subject(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    record = _drafted(repo, "--from-git", "HEAD~1")
    assert record["title"] == "Add the upload limit"
    assert record["files_touched"] == ["deploy/file-0.conf"]


def test_a_range_takes_the_newest_commit_subject(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    record = _drafted(repo, "--from-git", "HEAD~1..HEAD")
    assert record["title"] == "Cap upload size at 10 MB"


def test_a_title_given_wins(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert _drafted(repo, "Mine", "--from-git", "HEAD")["title"] == "Mine"


def test_without_title_or_revision_a_usage_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    run = run_cli(repo, "new", epoch=EPOCH)
    assert run.exit_code == 2
    assert run.stderr == (
        "runbook: new: give a TITLE, or --from-git REV to take the commit's subject\n"
    )
    unknown = run_cli(repo, "new", "--from-git", "no-such-branch", epoch=EPOCH)
    assert unknown.exit_code == 2
    assert "no commit subject for 'no-such-branch'" in unknown.stderr
    assert not list((repo / "records").rglob("*.yaml"))


def test_a_merge_commit_gives_its_subject_and_its_first_parent_diff(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    git(repo, "checkout", "-qb", "feature")
    (repo / "deploy" / "feature.conf").write_text("f\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Feature work")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the feature", "feature")
    run = run_cli(repo, "new", "--from-git", "HEAD", epoch=EPOCH)
    assert run.exit_code == 0, run.output
    record = yaml.safe_load((repo / run.stdout.strip()).read_text(encoding="utf-8"))
    assert record["title"] == "Merge the feature"
    assert record["files_touched"] == ["deploy/feature.conf"]
    assert "is a merge commit" in run.stderr


def test_a_planned_change_gets_no_shipped_at_from_its_commit(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    record = _drafted(repo, "--from-git", "HEAD", "--status", "planned")
    assert record["status"] == "planned"
    assert "shipped_at" not in record
    refused = run_cli(
        repo, "new", "X", "--status", "planned", "--shipped-at", "2026-01-01T10:00:00Z",
        epoch=EPOCH,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "--status is planned" in refused.stderr
