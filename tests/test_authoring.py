"""Authoring and CI as a new user meets them, in real git repositories: init, new, list,
validate --changed, and the pre-commit hook."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_run import run_pre_commit
from click.testing import CliRunner
from git_repos import git, new_repository

from generator.cli import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def runbook(repo: Path, *args: str) -> tuple[int, str, str]:
    """Run the real CLI with `repo` as the current folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    return new_repository(tmp_path / "team-runbook")


@pytest.fixture
def initialised(git_repo: Path) -> Path:
    code, _, _ = runbook(git_repo, "init")
    assert code == 0
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "runbook init")
    return git_repo


def commit_files(repo: Path, message: str, *paths: str) -> None:
    for path in paths:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(f"{message}\n", encoding="utf-8")
    git(repo, "add", *paths)
    git(repo, "commit", "-qm", message)


def fill_in(record_path: Path) -> None:
    """What the author adds after `runbook new`: the parts git cannot know."""
    data = yaml.safe_load(record_path.read_text(encoding="utf-8"))
    data.update(
        reason="Workers ran out of memory on large uploads.",
        expected_result="No more OOM kills.",
        commands=["ansible-playbook deploy/nginx.yml"],
        metrics=[
            {"name": "OOM kills", "unit": "per day", "before": 4, "after": 0, "better": "lower"}
        ],
        rollback={"plan": "Revert the commit.", "commands": ["git revert HEAD"], "tested": True},
    )
    record_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_init_scaffolds_a_runbook_that_validates_and_builds(git_repo: Path) -> None:
    code, out, _ = runbook(git_repo, "init")
    assert code == 0
    for expected in (
        "mkdocs.yml",
        "docs/about.md",
        "templates/README.md",
        ".pre-commit-config.yaml",
    ):
        assert (git_repo / expected).is_file(), expected
    starter = sorted(p.name for p in (REPO_ROOT / "checklists").glob("*.yaml"))
    assert sorted(p.name for p in (git_repo / "checklists").glob("*.yaml")) == starter
    assert len(list((git_repo / "records").rglob("*.yaml"))) == 1
    assert "wrote   mkdocs.yml" in out

    assert runbook(git_repo, "validate", "--strict")[0] == 0
    assert runbook(git_repo, "build", "-q")[0] == 0
    assert len(list((git_repo / "site" / "changes").glob("*/index.html"))) == 1


def test_init_never_overwrites(git_repo: Path) -> None:
    (git_repo / "records").mkdir()
    (git_repo / "records" / "mine.yaml").write_text("title: Mine\n", encoding="utf-8")
    code, _, _ = runbook(git_repo, "init")
    assert code == 0
    assert (git_repo / "records" / "mine.yaml").read_text(encoding="utf-8") == "title: Mine\n"
    before = {
        p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    _, again, _ = runbook(git_repo, "init")
    assert "wrote" not in again
    after = {
        p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert after == before


def test_new_prefills_from_the_last_commit_then_validates_builds_and_lists(
    initialised: Path,
) -> None:
    commit_files(initialised, "cap uploads", "deploy/nginx/upload.conf", "app/views.py")
    code, out, err = runbook(initialised, "new", "Cap upload size!", "--service", "uploads")
    assert code == 0, err
    today = dt.date.today()
    record_path = initialised / out.strip()
    assert record_path.name == f"{today.isoformat()}-cap-upload-size.yaml"
    assert record_path.parent == initialised / "records" / str(today.year)
    text = record_path.read_text(encoding="utf-8")
    # No relative `$schema` modeline, which breaks once the record moves: the workspace's
    # editor mapping (tests/test_editor.py) gives it its schema wherever it sits.
    assert "yaml-language-server" not in text
    assert (initialised / "schemas" / "record.schema.json").is_file()
    data = yaml.safe_load(text)
    assert data["owner"] == "Ada Lovelace"
    assert data["service"] == "uploads"
    assert data["files_touched"] == ["app/views.py", "deploy/nginx/upload.conf"]

    # Unfilled, the record is rejected for what only the author knows, and only for that.
    code, out, _ = runbook(initialised, "validate", "--format", "json")
    assert code == 1
    errors = [d for d in json.loads(out) if d["severity"] == "error"]
    assert {d["code"] for d in errors} == {"placeholder"}
    fields = {d["message"].split(":")[0] for d in errors}
    assert fields == {"reason", "commands[0]", "rollback.plan", "rollback.commands[0]"}

    fill_in(record_path)
    assert runbook(initialised, "validate")[0] == 0
    assert runbook(initialised, "build", "-q")[0] == 0
    assert (initialised / "site" / "changes" / record_path.stem / "index.html").is_file()

    code, out, _ = runbook(initialised, "list", "--file", "deploy/nginx", "--format", "json")
    assert [r["id"] for r in json.loads(out)] == [record_path.stem]
    _, out, _ = runbook(initialised, "list", "--file", "NGINX/upload")  # any part, any case
    assert record_path.stem in out and "start-a-runbook" not in out
    _, out, _ = runbook(initialised, "list", "--file", "nginx/download")
    assert record_path.stem not in out
    _, out, _ = runbook(initialised, "list", "--service", "uploads")
    assert record_path.stem in out and "start-a-runbook" not in out
    _, out, _ = runbook(initialised, "list", "--since", (today + dt.timedelta(days=1)).isoformat())
    assert record_path.stem not in out


def test_new_prefers_staged_files_and_accepts_a_range(initialised: Path) -> None:
    commit_files(initialised, "one", "a/one.txt")
    commit_files(initialised, "two", "b/two.txt")
    (initialised / "c").mkdir()
    (initialised / "c" / "three.txt").write_text("3", encoding="utf-8")
    git(initialised, "add", "c/three.txt")
    _, out, _ = runbook(initialised, "new", "Staged", "--owner", "ops-team")
    staged = yaml.safe_load((initialised / out.strip()).read_text(encoding="utf-8"))
    assert staged["files_touched"] == ["c/three.txt"]
    assert staged["owner"] == "ops-team"

    _, out, _ = runbook(initialised, "new", "Range", "--from-git", "HEAD~2..HEAD")
    ranged = yaml.safe_load((initialised / out.strip()).read_text(encoding="utf-8"))
    assert ranged["files_touched"] == ["a/one.txt", "b/two.txt"]


def test_new_never_overwrites_and_gives_a_distinct_id(initialised: Path) -> None:
    first = runbook(initialised, "new", "Same title")[1].strip()
    second = runbook(initialised, "new", "Same title")[1].strip()
    assert first != second
    assert Path(second).stem == Path(first).stem + "-2"
    assert (initialised / first).is_file() and (initialised / second).is_file()


def test_new_requires_service_checklists_listed(initialised: Path) -> None:
    policy = initialised / "checklists" / "release-readiness.yaml"
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    data["required_for"] = {"services": ["billing"]}
    policy.write_text(yaml.safe_dump(data), encoding="utf-8")
    _, out, _ = runbook(initialised, "new", "Billing release", "--service", "billing")
    record = yaml.safe_load((initialised / out.strip()).read_text(encoding="utf-8"))
    assert set(record["checklists"]["release-readiness"]) == {i["id"] for i in data["items"]}


def test_new_outside_git_still_writes_a_record(tmp_path: Path) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    code, out, err = runbook(repo, "new", "No git here", "--service", "web", "--owner", "me")
    assert code == 0
    assert "not inside a git repository" in err
    text = (repo / out.strip()).read_text(encoding="utf-8")
    assert yaml.safe_load(text)["files_touched"] == [
        "TODO: Files the change touched, relative POSIX paths from the repository root."
    ]
    assert yaml.safe_load(text)["owner"] == "me"


def test_new_in_a_shallow_clone_says_what_it_could_not_prefill(
    initialised: Path, tmp_path: Path
) -> None:
    commit_files(initialised, "change", "deploy/app.conf")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{initialised}", str(clone)], check=True
    )
    git(clone, "config", "user.name", "Shallow Sam")
    code, out, err = runbook(clone, "new", "From a shallow clone", "--service", "web")
    assert code == 0
    assert "shallow clone" in err
    assert (
        yaml.safe_load((clone / out.strip()).read_text(encoding="utf-8"))["owner"] == "Shallow Sam"
    )

    # --changed against a revision the clone does not have falls back to everything.
    code, _, err = runbook(clone, "validate", "--changed", "HEAD~5")
    assert "not found" in err
    assert code == 1  # the unfilled new record is an error, so everything was validated


def test_validate_changed_reports_only_changed_records_but_sees_the_whole_runbook(
    initialised: Path,
) -> None:
    broken = initialised / "records" / "2020" / "2020-01-01-old-broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("title: [unclosed\n", encoding="utf-8")
    git(initialised, "add", "-A")
    git(initialised, "commit", "-qm", "an old broken record")
    base = git(initialised, "rev-parse", "HEAD").strip()

    example = next((initialised / "records").rglob("*start-a-runbook.yaml"))
    duplicate = initialised / "records" / "2099" / example.name
    duplicate.parent.mkdir()
    shutil.copy(example, duplicate)
    code, out, _ = runbook(initialised, "validate", "--changed", base, "--format", "json")
    diagnostics = json.loads(out)
    assert code == 1
    assert {d["path"] for d in diagnostics} == {f"records/2099/{example.name}"}
    assert [d["code"] for d in diagnostics] == ["duplicate-id"]

    duplicate.unlink()
    code, out, _ = runbook(initialised, "validate", "--changed", base)
    assert code == 0 and out == ""
    assert runbook(initialised, "validate")[0] == 1  # the old broken record is still there


@pytest.mark.skipif(shutil.which("pre-commit", path=str(VENV_BIN)) is None, reason="pre-commit")
def test_pre_commit_hook_runs_for_real(initialised: Path) -> None:
    manifest = subprocess.run(
        [
            str(VENV_BIN / "pre-commit"),
            "validate-manifest",
            str(REPO_ROOT / ".pre-commit-hooks.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    bad = initialised / "records" / "2026" / "2026-01-01-bad.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("title: ok\ntitle: twice\n", encoding="utf-8")
    git(initialised, "add", "-A")
    hook = run_pre_commit(initialised)
    assert hook.returncode == 1
    assert "records/2026/2026-01-01-bad.yaml:2:1: error: duplicate key 'title'" in hook.stdout


def test_new_from_git_fills_the_commit_and_when_it_shipped(initialised: Path) -> None:
    """The commit's id and time (with its offset) become `commit`, `committed_at` and
    `shipped_at`, and its local day the record's date, so the record validates as written."""
    (initialised / "app").mkdir()
    (initialised / "app" / "limits.py").write_text("LIMIT = 5\n", encoding="utf-8")
    git(initialised, "add", "app/limits.py")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_COMMITTER_DATE", "2026-11-20T23:59:00-05:00")
        git(initialised, "commit", "-qm", "limits")
    head = git(initialised, "rev-parse", "HEAD").strip()
    code, out, err = runbook(
        initialised, "new", "Lower limits", "--from-git", "HEAD", "--service", "app"
    )
    assert code == 0, err
    record_path = initialised / out.strip()
    assert record_path.name.startswith("2026-11-20-")
    data = yaml.safe_load(record_path.read_text(encoding="utf-8"))
    assert head.startswith(data["commit"]) and len(data["commit"]) >= 7
    committed = dt.datetime(2026, 11, 20, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert data["shipped_at"] == committed
    assert data["committed_at"] == committed  # the committer's time, with its offset: lead time
    fill_in(record_path)
    code, out, _ = runbook(initialised, "validate", "--format", "json")
    assert [d["message"] for d in json.loads(out) if d["path"].endswith(record_path.name)] == []


def test_a_scripted_backfill_is_valid_without_editing(initialised: Path) -> None:
    """Every field from options: the record validates under --strict as written, lists under
    its own date and keeps multi-line Markdown byte for byte."""
    reason = "Uploads of several GB tied up the origin.\n\nSee the incident review.\n"
    code, out, err = runbook(
        initialised,
        "new",
        "Cap upload size at the edge",
        "--date", "2025-06-01",
        "--shipped-at", "2025-06-01T23:30:00-04:00",
        "--service", "uploads",
        "--owner", "Maya Okafor",
        "--environment", "staging",
        "--status", "verified",
        "--reason", reason,
        "--expected-result", "413 from the edge",
        "--file", "deploy/nginx/upload.conf",
        "--file", "deploy/cdn/edge.yaml",
        "--command", "nginx -t -c /etc/nginx/nginx.conf",
        "--command", "kubectl apply --dry-run=server -f edge.yaml",
        "--rollback", "Re-apply the previous config.",
        "--rollback-command", "git revert --no-edit HEAD",
        "--rollback-tested",
        "--tag", "security",
        "--check", "security-hardening=done",
        "--check", "security-hardening.headers=n/a",
    )  # fmt: skip
    assert code == 0, err
    path = initialised / out.strip()
    assert path.relative_to(initialised).as_posix() == (
        "records/2025/2025-06-01-cap-upload-size-at-the-edge.yaml"
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["reason"] == reason
    assert data["commands"][1] == "kubectl apply --dry-run=server -f edge.yaml"
    assert data["rollback"]["tested"] is True
    assert data["checklists"]["security-hardening"]["headers"] == "n/a"
    assert data["checklists"]["security-hardening"]["permissions"] == "done"
    # one metric would silence the last warning; a backfill rarely has one
    code, out, _ = runbook(initialised, "validate", "--format", "json")
    problems = [d for d in json.loads(out) if d["path"].endswith(path.name)]
    assert [d["code"] for d in problems] == ["no-metrics"], problems
    code, out, _ = runbook(initialised, "list", "--since", "2025-06-01", "--until", "2025-06-01")
    assert "Cap upload size at the edge" in out


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["x" * 201], "at most 200 characters"),
        (["T", "--date", "2026-02-30"], "'2026-02-30' is not a real date"),
        (["T", "--shipped-at", "2026-02-04T10:00:00"], "has no offset"),
        (["T", "--date", "2026-02-03", "--shipped-at", "2026-02-04T01:00:00Z"], "--date is"),
        (["T", "--file", "../etc/passwd"], "'..'"),
        (["T", "--command", ""], "--command"),
        (["T", "--owner", "two\nlines"], "'--owner': must be a single line"),
        (["T", "--check", "nope=done"], "no checklist 'nope'"),
        (["T", "--check", "safe-change.nope=done"], "has no item 'nope'"),
        (["T", "--check", "safe-change=todo"], "CHECKLIST=done"),
        (["T", "--rollback-command", "git revert HEAD"], "needs --rollback"),
    ],
)
def test_new_refuses_what_validate_would_refuse_before_writing(
    initialised: Path, options: list[str], complaint: str
) -> None:
    before = sorted((initialised / "records").rglob("*.yaml"))
    code, _, err = runbook(initialised, "new", *options)
    assert code == 2
    assert complaint in err
    assert sorted((initialised / "records").rglob("*.yaml")) == before


def test_new_reads_another_repository_and_says_when_a_commit_touched_only_the_runbook(
    initialised: Path, tmp_path: Path
) -> None:
    code_repo = new_repository(tmp_path / "service-code", user="Grace Hopper")
    commit_files(code_repo, "tune pool", "config/pool.toml")
    code, out, err = runbook(
        initialised, "new", "Tune the pool", "--from-git", "HEAD", "-C", str(code_repo)
    )
    assert code == 0, err
    data = yaml.safe_load((initialised / out.strip()).read_text(encoding="utf-8"))
    assert data["files_touched"] == ["config/pool.toml"]
    assert data["owner"] == "Grace Hopper"
    assert git(code_repo, "rev-parse", "HEAD").startswith(data["commit"])

    commit_files(initialised, "record only", "records/2026/2026-01-02-note.yaml")
    code, out, err = runbook(initialised, "new", "Another", "--from-git", "HEAD")
    assert code == 0
    assert "touched only the runbook's own files" in err
    drafted = yaml.safe_load((initialised / out.strip()).read_text())
    assert drafted["files_touched"][0].startswith("TODO: ")  # to fill in by hand


@pytest.mark.skipif(shutil.which("pre-commit", path=str(VENV_BIN)) is None, reason="pre-commit")
def test_pre_commit_hook_follows_a_renamed_records_folder(initialised: Path) -> None:
    """The hook is handed every staged YAML file and checks those under the configured
    folders only: a renamed records_dir is still checked, a workflow file is not a record."""
    config = initialised / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("records_dir: records", "records_dir: history"),
        encoding="utf-8",
    )
    (initialised / "records").rename(initialised / "history")
    bad = initialised / "history" / "2026" / "2026-01-01-bad.yaml"
    bad.write_text("title: ok\ntitle: twice\n", encoding="utf-8")
    git(initialised, "add", "-A")
    hook = run_pre_commit(initialised)
    assert hook.returncode == 1
    assert "history/2026/2026-01-01-bad.yaml:2:1: error: duplicate key 'title'" in hook.stdout
    assert ".github" not in hook.stdout and "mkdocs.yml:" not in hook.stdout
    bad.unlink()
    git(initialised, "add", "-A")
    clean = run_pre_commit(initialised)
    assert clean.returncode == 0, clean.stdout


def test_a_backfill_checks_the_items_in_force_on_its_own_day(initialised: Path) -> None:
    """An item added to a checklist after the backfilled day is not asked for (validate
    would call it unknown there); one retired since still is."""
    checklist = initialised / "checklists" / "safe-change.yaml"
    text = checklist.read_text(encoding="utf-8")
    text = text.replace("  - id: failure-mode\n", "  - id: failure-mode\n    retired: 2026-01-01\n")
    text += "  - id: feature-flag\n    text: Ship it behind a flag\n    added: 2026-01-01\n"
    checklist.write_text(text, encoding="utf-8")
    code, out, err = runbook(
        initialised, "new", "Old change", "--date", "2025-06-01", "--service", "uploads",
        "--owner", "Maya Okafor", "--reason", "Backfilled.", "--file", "app/views.py",
        "--command", "make deploy", "--rollback", "Revert it.", "--check", "safe-change=done",
    )  # fmt: skip
    assert code == 0, err
    items = yaml.safe_load((initialised / out.strip()).read_text("utf-8"))["checklists"]
    assert "feature-flag" not in items["safe-change"]
    assert items["safe-change"]["failure-mode"] == "done"
    code, out, _ = runbook(initialised, "validate", "--format", "json")
    problems = [d["code"] for d in json.loads(out) if "old-change" in d["path"]]
    assert set(problems) <= {"no-metrics", "rollback-untested", "missing-expected-result"}
