"""Gates that must fail a bad record whatever its file is called or where it points: the
pull-request check (`validate --changed main`), the pre-commit hook (`--only-runbook-files`),
explicit paths and a full run report the same diagnostics, in real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from cli_run import CliRun, run_cli, run_pre_commit
from git_repos import git, new_repository
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_files import EPOCH

from generator.diagnostics import printable

VENV_BIN = Path(sys.executable).parent
BROKEN = "title: ok\ntitle: twice\n"  # a duplicate key: an error at 2:1
# Folder (and file) names a team might have, or a tool might make: each must be checked.
ODD_NAMES = {
    "accent": "équipe",
    "nfd": unicodedata.normalize("NFD", "équipe"),
    "space": "platform team",
    "nbsp": "platform\u00a0team",
    "zwj": "team\u200dops",
    "tab": "team\tops",
    "not-utf8": os.fsdecode(b"caf\xe9"),
    "quotes": 'it\'s "ours"',
    "leading-dash": "-team",
    "uri-marks": "a#b?c%41",
    "backslash": "back\\slash",
}


def _runbook_repo(tmp_path: Path) -> Path:
    """A runbook made by `runbook init`, committed on main in a git repository."""
    repo = new_repository(tmp_path / "runbook")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "runbook init")
    return repo


def _broken_record(repo: Path, folder: str, name: str = "2026-01-01-bad.yaml") -> str:
    """A record with a duplicate key in records/FOLDER/; its path as diagnostics name it."""
    path = repo / "records" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN, encoding="utf-8")
    return f"records/{folder}/{name}"


def _reported(run: CliRun, shown: str) -> bool:
    return f"{printable(shown)}:2:1: error: duplicate key 'title'" in run.stdout


@pytest.mark.parametrize("quote_path", ["true", "false"])
@pytest.mark.parametrize("odd", ODD_NAMES.values(), ids=ODD_NAMES.keys())
def test_every_gate_fails_a_bad_record_in_an_oddly_named_folder(
    tmp_path: Path, odd: str, quote_path: str
) -> None:
    repo = _runbook_repo(tmp_path)
    git(repo, "config", "core.quotePath", quote_path)
    git(repo, "checkout", "-qb", "feature")
    shown = _broken_record(repo, odd)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a record in an odd folder")

    runs = {
        "changed": run_cli(repo, "validate", "--changed", "main", epoch=EPOCH),
        "path": run_cli(repo, "validate", shown, epoch=EPOCH),
        "folder": run_cli(repo, "validate", f"records/{odd}", epoch=EPOCH),
        "absolute": run_cli(repo, "validate", str(repo / shown), epoch=EPOCH),
        "hook": run_cli(repo, "validate", "--only-runbook-files", shown, epoch=EPOCH),
        "all": run_cli(repo, "validate", epoch=EPOCH),
    }
    for how, run in runs.items():
        assert run.exit_code == 1 and _reported(run, shown), (how, run.output)
    assert runs["changed"].stdout == runs["path"].stdout == runs["hook"].stdout
    assert runs["all"].stdout == runs["path"].stdout  # the rest of the runbook is valid

    staged = run_cli(repo, "validate", "--changed", "HEAD", epoch=EPOCH)  # nothing since
    assert staged.exit_code == 0 and "no record or checklist changed" in staged.stderr


@pytest.mark.parametrize("odd", ODD_NAMES.values(), ids=ODD_NAMES.keys())
def test_an_odd_file_name_is_checked_too(tmp_path: Path, odd: str) -> None:
    repo = _runbook_repo(tmp_path)
    git(repo, "checkout", "-qb", "feature")
    shown = _broken_record(repo, "2026", f"2026-01-01-{odd}.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "an odd name")
    for args in (("--changed", "main"), (shown,), ("--only-runbook-files", shown)):
        run = run_cli(repo, "validate", *args, epoch=EPOCH)
        assert run.exit_code == 1 and _reported(run, shown), (args, run.output)
        assert "[id]" in run.stdout  # not a valid id either, and said so at the same path


def test_renamed_copied_deleted_and_untracked_files_since_a_revision(tmp_path: Path) -> None:
    """--changed reads `git diff --name-status -z`: a renamed or copied record is checked at
    its new path, a deleted one is not looked for, an untracked one is checked."""
    repo = _runbook_repo(tmp_path)
    git(repo, "config", "diff.renames", "copies")
    for name in ("old", "gone", "source"):
        path = repo / _broken_record(repo, "2025", f"2025-01-01-{name}.yaml")
        path.write_text(BROKEN + f"# {name}: {'words ' * 20}\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "three records")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "records" / "équipe").mkdir()
    git(repo, "mv", "records/2025/2025-01-01-old.yaml", "records/équipe/2025-01-01-moved.yaml")
    git(repo, "rm", "-q", "records/2025/2025-01-01-gone.yaml")
    source = repo / "records/2025/2025-01-01-source.yaml"
    shutil.copy(source, repo / "records/2025/copy.yaml")
    source.write_text(source.read_text("utf-8") + "# edited\n", "utf-8")  # copies: edited
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "move, delete, copy")
    names = git(repo, "diff", "--name-status", base).split()
    assert any(status.startswith("R") for status in names), names
    assert any(status.startswith("C") for status in names), names
    untracked = _broken_record(repo, "2025", "2025-01-02-new.yaml")

    run = run_cli(repo, "validate", "--changed", base, "--format", "json", epoch=EPOCH)
    assert run.exit_code == 1, run.output
    assert {d["path"] for d in run.json()} == {
        "records/équipe/2025-01-01-moved.yaml",
        "records/2025/copy.yaml",
        "records/2025/2025-01-01-source.yaml",
        untracked,
    }


@pytest.mark.parametrize("link_to", ["outside", "inside"])
def test_a_record_that_is_a_link_is_checked_where_the_link_is(tmp_path: Path, link_to: str) -> None:
    """What counts is where the link sits: a record linked to a file outside records/ is a
    record (a full run reads it), and every gate reports it at the link's path."""
    repo = _runbook_repo(tmp_path)
    git(repo, "checkout", "-qb", "feature")
    target = tmp_path / "elsewhere" / "shared.yaml" if link_to == "outside" else repo / "x.yml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(BROKEN, encoding="utf-8")
    link = repo / "records" / "2026" / "2026-01-01-linked.yaml"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(target)
    shown = "records/2026/2026-01-01-linked.yaml"
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a linked record")

    runs = [
        run_cli(repo, "validate", epoch=EPOCH),
        run_cli(repo, "validate", "--changed", "main", epoch=EPOCH),
        run_cli(repo, "validate", shown, epoch=EPOCH),
        run_cli(repo, "validate", "--only-runbook-files", shown, epoch=EPOCH),
        run_cli(repo, "validate", "--only-runbook-files", str(repo / shown), epoch=EPOCH),
    ]
    for run in runs:
        assert run.exit_code == 1 and _reported(run, shown), run.output
        assert str(target.name) not in run.stdout  # nothing at the target's own path
    assert len({run.stdout for run in runs}) == 1

    # a file outside the runbook's folders, linked from elsewhere, is still no record
    outside = repo / "notes" / "2026-01-02-note.yaml"
    outside.parent.mkdir()
    outside.symlink_to(link)
    hook = run_cli(
        repo, "validate", "--only-runbook-files", "notes/2026-01-02-note.yaml", epoch=EPOCH
    )
    assert (hook.exit_code, hook.stdout) == (0, "")


def test_a_records_folder_reached_through_a_link_selects_the_same_files(tmp_path: Path) -> None:
    repo = _runbook_repo(tmp_path)
    shown = _broken_record(repo, "2026")
    alias = tmp_path / "alias"
    alias.symlink_to(repo)
    for path in (shown, str(alias / shown), str(repo / "records" / ".." / shown)):
        run = run_cli(repo, "validate", path, "--format", "json", epoch=EPOCH)
        assert run.exit_code == 1 and {d["path"] for d in run.json()} == {shown}, path
        assert "duplicate-id" not in run.stdout  # one file, not two


def test_the_hook_and_a_real_process_take_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    """git and pre-commit hand over bytes: the real command takes them, reports the file at
    its name with the byte escaped, and never prints a traceback."""
    repo = _runbook_repo(tmp_path)
    _broken_record(repo, os.fsdecode(b"caf\xff"))
    path = b"records/caf\xff/2026-01-01-bad.yaml"
    for args in ([b"validate", path], [b"validate", b"--only-runbook-files", path]):
        result = subprocess.run(
            [os.fsencode(VENV_BIN / "runbook"), *args], cwd=repo, capture_output=True, check=False
        )
        assert result.returncode == 1, result.stderr
        expected = b"records/caf\\xff/2026-01-01-bad.yaml:2:1: error: duplicate key 'title'"
        assert expected in result.stdout
        assert b"Traceback" not in result.stderr


@pytest.mark.skipif(shutil.which("pre-commit", path=str(VENV_BIN)) is None, reason="pre-commit")
@pytest.mark.parametrize("odd", ["nbsp", "zwj", "tab", "accent"])
def test_the_pre_commit_hook_for_real(tmp_path: Path, odd: str) -> None:
    repo = _runbook_repo(tmp_path)
    shown = _broken_record(repo, ODD_NAMES[odd])
    git(repo, "add", "-A")
    hook = run_pre_commit(repo)
    assert hook.returncode == 1
    assert f"{printable(shown)}:2:1: error: duplicate key 'title'" in hook.stdout


# Any folder name the file system takes: printable or not, any script, a lone byte too.
FOLDER_NAMES = st.one_of(
    st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="/\0"), min_size=1, max_size=12
    ),
    st.binary(min_size=1, max_size=6).map(os.fsdecode),
).filter(lambda name: "/" not in name and "\0" not in name and name not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(folder=FOLDER_NAMES)
def test_a_selected_file_is_reported_whatever_its_folder_is_called(folder: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch)
        (repo / "mkdocs.yml").write_text("site_name: t\nplugins: [runbook]\n", "utf-8")
        (repo / "checklists").mkdir()
        shown = _broken_record(repo, folder)
        hook = run_cli(repo, "validate", "--only-runbook-files", shown, epoch=EPOCH)
        path = run_cli(repo, "validate", shown, epoch=EPOCH)
        everything = run_cli(repo, "validate", epoch=EPOCH)
    for run in (hook, path, everything):
        assert run.exit_code == 1 and _reported(run, shown), run.output


def _commit(repo: Path, message: str, *names: str | bytes) -> None:
    for name in names:
        path = os.path.join(os.fsencode(repo), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            file.write(f"{message}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def _new_record(repo: Path, *args: str) -> tuple[CliRun, dict[str, object]]:
    import yaml

    run = run_cli(repo, "new", "A change", "--service", "uploads", *args, epoch=EPOCH)
    assert run.exit_code == 0, run.output
    return run, yaml.safe_load((repo / run.stdout.strip()).read_text(encoding="utf-8"))


@pytest.mark.parametrize("quote_path", ["true", "false"])
def test_new_from_git_reads_every_file_name_and_says_which_it_cannot_write(
    tmp_path: Path, quote_path: str
) -> None:
    """Quoted names (non-ASCII under core.quotePath) used to be dropped without a word; a
    name validate would refuse in files_touched (a control character, not UTF-8) is named
    in a note instead of being written or dropped silently."""
    repo = _runbook_repo(tmp_path)
    git(repo, "config", "core.quotePath", quote_path)
    writable = ["app/équipe.py", "platform\u00a0team/a b.txt", '-lead/it\'s "q".txt']
    _commit(repo, "odd names", *writable, "e\u0301/nfd.txt", "tab\tname.txt", b"caf\xff.txt")
    run, record = _new_record(repo, "--from-git", "HEAD")
    assert record["files_touched"] == sorted([*writable, "e\u0301/nfd.txt"])
    assert "tab\\tname.txt" in run.stderr and "caf\\xff.txt" in run.stderr
    assert "Traceback" not in run.output

    staged = ["staged/équipe.txt", "staged/plain.txt"]
    for name in staged:
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("x\n", encoding="utf-8")
    git(repo, "add", *staged)
    _, record = _new_record(repo)
    assert record["files_touched"] == sorted(staged)


def test_new_from_git_on_a_merge_lists_what_the_merged_branch_brought_in(tmp_path: Path) -> None:
    repo = _runbook_repo(tmp_path)
    git(repo, "checkout", "-qb", "feature")
    _commit(repo, "feature one", "app/équipe.py")
    _commit(repo, "feature two", "deploy/nginx.conf")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "meanwhile on main", "docs-elsewhere/readme.txt")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")

    run, record = _new_record(repo, "--from-git", "HEAD")
    assert record["files_touched"] == ["app/équipe.py", "deploy/nginx.conf"]
    assert "merge commit" in run.stderr and "HEAD^1" in run.stderr
    assert record["commit"] == git(repo, "rev-parse", "HEAD")[: len(str(record["commit"]))]
