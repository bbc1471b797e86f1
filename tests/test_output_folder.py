"""An output folder that would replace part of the repository is refused before anything moves.

`runbook build --site-dir .` once deleted mkdocs.yml, records/, checklists/ and docs/. Every
way of naming such a folder (the option, `site_dir:` in mkdocs.yml, a committed `site`
symlink) and every folder of the runbook is tried here, and the whole tree around the
repository must be byte-identical afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import CliRun

from generator.site.output import write_atomically

TESTS_DATA = Path(__file__).resolve().parent / "data"
MINIMAL_MKDOCS_YML = (
    "site_name: Test runbook\ntheme:\n  name: material\nplugins:\n  - search\n  - runbook\n"
)

SITE_DIRS_OVER_THE_RUNBOOK = (
    ".",
    "..",
    "records",
    "records/2026",
    "checklists",
    "docs",
    "templates",
    ".runbook-cache",
)
VALID_RECORD = TESTS_DATA / "valid" / "records" / "2026-03-02-nginx-upload-buffer.yaml"


@pytest.fixture
def full_repo(runbook_repo: Path) -> Path:
    """A repository with a record, a docs page, a template override and a stray file."""
    (runbook_repo / "records" / "2026").mkdir()
    shutil.copy(VALID_RECORD, runbook_repo / "records" / "2026" / VALID_RECORD.name)
    (runbook_repo / "docs").mkdir()
    (runbook_repo / "docs" / "about.md").write_text("# About\n", encoding="utf-8")
    (runbook_repo / "templates").mkdir()
    (runbook_repo / "templates" / "README.md").write_text("overrides\n", encoding="utf-8")
    (runbook_repo / "notes.txt").write_text("keep me\n", encoding="utf-8")
    return runbook_repo


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file (its bytes) and symlink (its target) under `folder`, the caches excepted."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if ".runbook-cache" in path.parts:
            continue
        if path.is_symlink():
            found[relative] = os.readlink(path)
        elif path.is_file():
            found[relative] = path.read_bytes()
    return found


def assert_refused(
    result: CliRun, before: dict[str, bytes | str], after: dict, *, by_mkdocs: bool = False
) -> None:
    """Exit 2 with one line saying why (or MkDocs' own refusal), and nothing touched."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    if by_mkdocs:
        assert "'docs_dir' should not be within the 'site_dir'" in result.stderr
    else:
        assert result.stderr.startswith("runbook: refusing"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert after == before


@pytest.mark.parametrize(
    "command",
    [("build", "--site-dir", folder) for folder in SITE_DIRS_OVER_THE_RUNBOOK]
    + [("render", "--out", folder) for folder in (".", "records", "checklists", "docs", "..")],
)
def test_an_output_folder_over_the_runbook_is_refused(
    full_repo: Path, run_runbook: Callable[..., CliRun], command: tuple[str, ...]
) -> None:
    before = snapshot(full_repo.parent)
    result = run_runbook(*command)
    assert_refused(result, before, snapshot(full_repo.parent))


@pytest.mark.parametrize(
    ("site_dir", "by_mkdocs"),
    [("records", False), ("checklists", False), ("templates", False), (".", True), ("..", True)],
)
def test_build_refuses_site_dir_in_mkdocs_yml(
    full_repo: Path, run_runbook: Callable[..., CliRun], site_dir: str, by_mkdocs: bool
) -> None:
    """MkDocs itself refuses a site_dir holding docs_dir; runbook refuses the rest."""
    (full_repo / "mkdocs.yml").write_text(
        MINIMAL_MKDOCS_YML + f"site_dir: {site_dir}\n", encoding="utf-8"
    )
    before = snapshot(full_repo.parent)
    result = run_runbook("build")
    assert_refused(result, before, snapshot(full_repo.parent), by_mkdocs=by_mkdocs)


@pytest.mark.parametrize("link_target", [".", "records", "checklists", "templates", ".."])
def test_build_refuses_a_site_symlink_into_the_runbook(
    full_repo: Path, run_runbook: Callable[..., CliRun], link_target: str
) -> None:
    (full_repo / "site").symlink_to(link_target, target_is_directory=True)
    before = snapshot(full_repo.parent)
    result = run_runbook("build")
    assert_refused(result, before, snapshot(full_repo.parent))


def test_build_refuses_a_folder_of_other_files_and_a_file(
    full_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    (full_repo / "src").mkdir()
    (full_repo / "src" / "main.py").write_text("print('hi')\n", encoding="utf-8")
    before = snapshot(full_repo.parent)
    assert_refused(run_runbook("build", "--site-dir", "src"), before, snapshot(full_repo.parent))
    (full_repo / "mkdocs.yml").write_text(
        MINIMAL_MKDOCS_YML + "site_dir: notes.txt\n", encoding="utf-8"
    )
    before = snapshot(full_repo.parent)
    assert_refused(run_runbook("build"), before, snapshot(full_repo.parent))


def test_plain_mkdocs_build_refuses_site_dir_records(full_repo: Path) -> None:
    (full_repo / "mkdocs.yml").write_text(
        MINIMAL_MKDOCS_YML + "site_dir: records\n", encoding="utf-8"
    )
    before = snapshot(full_repo.parent)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=full_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "refusing site_dir" in result.stderr
    assert snapshot(full_repo.parent) == before


def test_earlier_outputs_are_still_replaced(
    full_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    """The guard lets every ordinary rebuild through: a site over a site, an output over one."""
    for _ in range(2):
        assert run_runbook("build", "--full").exit_code == 0
        assert run_runbook("render", "--out", "out").exit_code == 0
    mkdocs_site = full_repo / "plain"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(mkdocs_site)],
        cwd=full_repo,
        check=True,
    )
    assert run_runbook("build", "--site-dir", "plain").exit_code == 0
    assert (full_repo / "site" / "changes" / VALID_RECORD.stem / "index.html").is_file()
    assert (full_repo / "out" / "records.json").is_file()


def test_a_replaced_output_is_deleted_after_the_swap_and_nothing_beside_it(
    tmp_path: Path,
) -> None:
    """The retired folder goes once the new one is in place, as does one an interrupted
    deletion left; folders that only share the name pattern stay."""
    target = tmp_path / "site"
    write_atomically(target, lambda folder: (folder / "index.html").write_text("one\n"))
    left = tmp_path / ".site.old-k3j2h1g0" / "site"
    left.mkdir(parents=True)
    (left / "index.html").write_text("interrupted\n", encoding="utf-8")
    notes = tmp_path / ".site.old-notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "site").mkdir(parents=True)
    (elsewhere / "site" / "keep.html").write_text("keep me\n", encoding="utf-8")
    (tmp_path / ".site.old-linked").symlink_to(elsewhere, target_is_directory=True)

    write_atomically(target, lambda folder: (folder / "index.html").write_text("two\n"))

    assert (target / "index.html").read_text(encoding="utf-8") == "two\n"
    kept = {".site.old-notes", ".site.old-linked"}

    def retired() -> list[str]:
        return [p.name for p in tmp_path.iterdir() if ".old-" in p.name and p.name not in kept]

    deadline = time.monotonic() + 20
    while retired() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert retired() == []
    assert (notes / "todo.txt").read_text(encoding="utf-8") == "keep me\n"
    assert (elsewhere / "site" / "keep.html").read_text(encoding="utf-8") == "keep me\n"
