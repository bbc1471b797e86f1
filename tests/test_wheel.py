"""The release a team pins: the wheel built from what git tracks carries every file the tool
reads at run time, and a runbook scaffolded and built from it alone works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from git_repos import new_repository

REPO_ROOT = Path(__file__).resolve().parent.parent
# Folders whose every file the tool reads at run time (generator/templates and
# generator/checklists are links to the root folders).
PACKAGE_DATA = {
    "generator/starter": REPO_ROOT / "generator" / "starter",
    "generator/templates": REPO_ROOT / "templates",
    "generator/checklists": REPO_ROOT / "checklists",
}


def clean_copy(destination: Path) -> Path:
    """The files git tracks (and new ones it does not ignore), as a clean clone has them,
    links kept as links."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if not source.is_symlink() and not source.is_file():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("needs the git checkout to know which files are tracked")
    work = tmp_path_factory.mktemp("wheel")
    source = clean_copy(work / "clone")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work), source],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (found,) = work.glob("runbook_generator-*.whl")
    return found


def test_the_wheel_carries_the_starter_templates_checklists_and_search_assets(
    wheel: Path,
) -> None:
    members = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{prefix}/{path.relative_to(folder).as_posix()}"
        for prefix, folder in PACKAGE_DATA.items()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - members == set()
    for needed in (
        "generator/starter/.github/workflows/runbook-check.yml",
        "generator/starter/.github/workflows/runbook-publish.yml",
        "generator/starter/.gitignore",
        "generator/starter/.pre-commit-config.yaml",
        "generator/templates/runbook-search.js",
        "generator/templates/runbook.css",
    ):
        assert needed in members
    (entry_points,) = [name for name in members if name.endswith("entry_points.txt")]
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "runbook = generator.__main__:main" in declared
    assert "runbook = generator.site.plugin:RunbookPlugin" in declared


def test_a_runbook_scaffolded_and_built_from_the_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    """Unpacked and first on the path, the wheel's copy is what runs: init writes a runbook
    that validates and builds with --strict, its workflows pinned to the wheel's version."""
    unpacked = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(unpacked)
    environment = {**os.environ, "PYTHONPATH": str(unpacked), "NO_MKDOCS_2_WARNING": "1"}
    repo = new_repository(tmp_path / "team-runbook")

    def runbook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "generator", *args],
            cwd=repo,
            env=environment,
            capture_output=True,
            text=True,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import generator; print(generator.__file__)"],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(unpacked)
    initialised = runbook("init")
    assert initialised.returncode == 0, initialised.stderr
    version = wheel.name.split("-")[1]
    workflow = (repo / ".github" / "workflows" / "runbook-check.yml").read_text("utf-8")
    assert f"runbook-generator=={version}" in workflow
    checked = runbook("validate")
    assert checked.returncode == 0, checked.stderr
    built = runbook("build", "--strict")
    assert built.returncode == 0, built.stderr
    assert (repo / "site" / "index.html").is_file()
    assert (repo / "site" / "records.json").is_file()
