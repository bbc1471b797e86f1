"""The release a tag ships: the sdist and the wheel built from `git archive HEAD` pass
`twine check --strict` and carry every subpackage and data file; installed into a fresh venv
that cannot see the checkout, the wheel's `runbook` scaffolds, drafts, validates, lists, builds
and prints schemas in a new runbook repository; and pre-commit installs the hook itself from
this project's `.pre-commit-hooks.yaml`, as a team's configuration asks for it.

What is tested is the last commit (what a tag would ship), not the working tree. Everything is
built and installed once per module; installing takes the local package index pip is
configured with, so the test needs no network where that index is local."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from git_repos import git, new_repository

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.release, pytest.mark.xdist_group("release")]

PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"

# The files `runbook init` copies from the package that a glob would most easily miss.
HIDDEN_STARTER_FILES = (
    "generator/starter/.github/workflows/runbook-check.yml",
    "generator/starter/.github/workflows/runbook-publish.yml",
    "generator/starter/.gitignore",
    "generator/starter/.pre-commit-config.yaml",
)

# What `runbook new` leaves for the writer to fill in, filled in.
FILLED_IN = """\
reason: |
  Uploads of any size reached the application servers.
expected_result: |
  Uploads over 10 MB are refused at the edge with 413.
files_touched:
  - deploy/nginx/upload.conf
commands:
  - kubectl rollout restart deploy/nginx
metrics:
  - {name: p95 upload latency, unit: ms, before: 840, after: 310, better: lower}
rollback:
  plan: |
    Revert the commit and restart nginx.
  commands:
    - kubectl rollout undo deploy/nginx
  tested: true
"""


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would let a child find the checkout
    or this test venv: no PYTHONPATH, no VIRTUAL_ENV, the test venv's bin off PATH."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    environment["PATH"] = os.pathsep.join(
        part
        for part in environment.get("PATH", "").split(os.pathsep)
        if part and Path(part).resolve() != VENV_BIN.resolve()
    )
    environment["NO_MKDOCS_2_WARNING"] = "1"
    return {**environment, **extra}


def run(*args: str | Path, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_environment(**extra),
        capture_output=True,
        text=True,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@dataclass(frozen=True)
class Release:
    archive: Path  # `git archive HEAD`
    source: Path  # the archive, extracted and built
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Team:
    """A runbook repository a team started with the installed `runbook`."""

    repo: Path
    runbook: Path
    drafted: Path  # the record `runbook new` wrote, filled in since
    draft_check: subprocess.CompletedProcess[str]  # `runbook validate` before filling it in

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run(self.runbook, *args, cwd=cwd or self.repo)


def extract(archive: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    succeeded(run("tar", "-xf", archive, "-C", folder, cwd=folder))
    return folder


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("needs the git checkout: the release is built from `git archive HEAD`")
    work = tmp_path_factory.mktemp("release")
    archive = work / "head.tar"
    succeeded(run("git", "archive", "--format=tar", "-o", archive, "HEAD", cwd=REPO_ROOT))
    source = extract(archive, work / "source")
    dist = work / "dist"
    # Isolated, as a release job builds: pip fetches the build backend from the index.
    succeeded(
        run(sys.executable, "-m", "build", "--sdist", "--wheel", "-o", dist, source, cwd=work)
    )
    (sdist,) = dist.glob("runbook_generator-*.tar.gz")
    (wheel,) = dist.glob("runbook_generator-*-py3-none-any.whl")
    return Release(archive, source, sdist, wheel)


@pytest.fixture(scope="module")
def venv(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv, outside the checkout, with the wheel and its dependencies installed."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    outside = venv.parent
    succeeded(run(sys.executable, "-m", "venv", venv, cwd=outside))
    python = venv / "bin" / "python"
    succeeded(run(python, "-m", "pip", "install", "--quiet", release.wheel, cwd=outside))
    return venv


@pytest.fixture(scope="module")
def team(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Team:
    """`runbook init` in a new git repository, `runbook new`, the drafted record validated as
    written, then filled in and everything committed."""
    repo = new_repository(tmp_path_factory.mktemp("team") / "team-runbook")
    runbook = venv / "bin" / "runbook"
    succeeded(run(runbook, "init", cwd=repo))
    drafted = succeeded(
        run(runbook, "new", "Cap upload size", "--service", "uploads", "--owner", "platform",
            cwd=repo)
    )  # fmt: skip
    record = repo / drafted.stdout.strip().splitlines()[0]
    draft_check = run(runbook, "validate", cwd=repo)
    # Filled in: the drafted head (title to status) kept, every placeholder replaced.
    head = record.read_text(encoding="utf-8").split("\nreason:", 1)[0]
    kept = [f"{line}\n" for line in head.splitlines() if not line.startswith("#")]
    record.write_text("".join(kept) + FILLED_IN, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start a runbook")
    return Team(repo, runbook, record, draft_check)


def clone(repo: Path, into: Path) -> Path:
    """A clone of `repo`'s last commit, to change without changing what other tests read."""
    git(into.parent, "clone", "-q", str(repo), str(into))
    return into


def break_record(repo: Path, record: Path) -> tuple[str, int, int]:
    """Makes the record's `better:` wrong; its path, line and column."""
    text = (repo / record).read_text(encoding="utf-8")
    (line,) = [n for n, row in enumerate(text.splitlines(), 1) if "better: lower" in row]
    column = text.splitlines()[line - 1].index("lower") + 1
    (repo / record).write_text(text.replace("better: lower", "better: down"), encoding="utf-8")
    return record.as_posix(), line, column


@pytest.fixture(scope="module")
def broken(team: Team, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int, int]:
    """A clone of the team's runbook whose drafted record has a wrong value at a known line
    and column."""
    repo = clone(team.repo, tmp_path_factory.mktemp("broken") / "team-runbook")
    return (repo, *break_record(repo, team.drafted.relative_to(team.repo)))


# The sdist and the wheel


def test_the_sdist_and_the_wheel_pass_twine_check_strict(release: Release) -> None:
    checked = succeeded(
        run(sys.executable, "-m", "twine", "check", "--strict", release.sdist, release.wheel,
            cwd=release.source)
    )  # fmt: skip
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def shipped_files(source: Path) -> set[str]:
    """Every file under generator/ in the tag, the linked folders (templates, checklists)
    followed."""
    found = set()
    for folder, _, files in os.walk(source / "generator", followlinks=True):
        for name in files:
            found.add((Path(folder) / name).relative_to(source).as_posix())
    return found


def test_both_carry_every_subpackage_and_every_data_file(release: Release) -> None:
    expected = shipped_files(release.source)
    subpackages = {name for name in expected if name.endswith("/__init__.py")}
    assert {"generator/check/__init__.py", "generator/site/__init__.py"} <= subpackages
    assert set(HIDDEN_STARTER_FILES) <= expected
    assert any(name.startswith("generator/templates/") for name in expected)
    assert any(name.startswith("generator/checklists/") for name in expected)

    wheel = set(zipfile.ZipFile(release.wheel).namelist())
    assert expected - wheel == set()
    with tarfile.open(release.sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        sdist = {name.removeprefix(f"{top}/") for name in tar.getnames()}
    assert expected - sdist == set()

    (entry_points,) = [name for name in wheel if name.endswith(".dist-info/entry_points.txt")]
    declared = zipfile.ZipFile(release.wheel).read(entry_points).decode()
    assert "runbook = generator.__main__:main" in declared
    assert "runbook = generator.site.plugin:RunbookPlugin" in declared


# The wheel installed where the checkout cannot be seen


def test_the_installed_package_is_the_one_in_the_fresh_venv(venv: Path) -> None:
    python = venv / "bin" / "python"
    where = succeeded(run(python, "-c", "import generator; print(generator.__file__)", cwd=venv))
    imported = Path(where.stdout.strip())
    purelib = Path(succeeded(run(python, "-c", PURELIB, cwd=venv)).stdout.strip())
    assert purelib.is_relative_to(venv), purelib
    assert imported.is_relative_to(purelib), imported
    assert not imported.resolve().is_relative_to(REPO_ROOT)


def test_runbook_version_is_the_wheel_version(team: Team, release: Release) -> None:
    version = release.wheel.name.split("-")[1]
    assert version in succeeded(team("--version")).stdout


def test_init_writes_the_starter_files_and_new_a_draft_that_names_what_is_missing(
    team: Team, release: Release
) -> None:
    for name in (
        "mkdocs.yml",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/workflows/runbook-check.yml",
        ".github/workflows/runbook-publish.yml",
        "checklists/safe-change.yaml",
        "schemas/record.schema.json",
    ):
        assert (team.repo / name).is_file(), name
    wheel_version = release.wheel.name.split("-")[1]
    for workflow in ("runbook-check.yml", "runbook-publish.yml"):
        text = (team.repo / ".github" / "workflows" / workflow).read_text(encoding="utf-8")
        assert f'"runbook-generator=={wheel_version}"' in text  # the version that wrote it
    assert team.draft_check.returncode == 1
    draft = team.drafted.relative_to(team.repo).as_posix()
    for field in ("reason", "commands[0]", "rollback.plan"):
        assert re.search(
            rf"^{re.escape(draft)}:\d+:\d+: error: {re.escape(field)}: .* \[placeholder\]$",
            team.draft_check.stdout,
            re.MULTILINE,
        ), team.draft_check.stdout


@pytest.mark.parametrize("output", ["text", "json", "github", "sarif"])
def test_a_valid_runbook_validates_in_every_format(team: Team, output: str) -> None:
    checked = succeeded(team("validate", "--format", output))
    if output == "text":
        assert "0 errors, 0 warnings" in checked.stdout + checked.stderr
    elif output == "json":
        assert json.loads(checked.stdout) == []
    elif output == "github":
        assert "::error" not in checked.stdout
        assert "::warning" not in checked.stdout
    else:
        (sarif_run,) = json.loads(checked.stdout)["runs"]
        assert sarif_run["results"] == []


@pytest.mark.parametrize("output", ["text", "json", "github", "sarif"])
def test_an_invalid_record_fails_with_its_line_and_column_in_every_format(
    team: Team, broken: tuple[Path, str, int, int], output: str
) -> None:
    repo, where, line, column = broken
    checked = team("validate", "--format", output, cwd=repo)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    if output == "text":
        assert f"{where}:{line}:{column}: error: metrics[0].better:" in checked.stdout
    elif output == "json":
        (found,) = [d for d in json.loads(checked.stdout) if d["severity"] == "error"]
        assert (found["path"], found["line"], found["column"]) == (where, line, column)
        assert found["code"] == "schema"
    elif output == "github":
        assert f"::error file={where},line={line},col={column}," in checked.stdout
    else:
        (sarif_run,) = json.loads(checked.stdout)["runs"]
        (result,) = [r for r in sarif_run["results"] if r["level"] == "error"]
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == where
        region = location["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (line, column)
        assert result["ruleId"] in {r["id"] for r in sarif_run["tool"]["driver"]["rules"]}


def test_build_strict_writes_the_site_with_the_record_page(team: Team) -> None:
    succeeded(team("build", "--strict"))
    site = team.repo / "site"
    assert (site / "index.html").is_file()
    assert (site / "changes" / team.drafted.stem / "index.html").is_file()
    published = json.loads((site / "records.json").read_text(encoding="utf-8"))
    assert team.drafted.stem in json.dumps(published)


def test_list_shows_the_records_as_a_table_and_as_json(team: Team) -> None:
    table = succeeded(team("list", "--service", "uploads")).stdout
    assert team.drafted.stem in table
    assert "Cap upload size" in table
    listed = json.loads(succeeded(team("list", "--format", "json")).stdout)
    ours = {row["id"]: row for row in listed}[team.drafted.stem]
    assert (ours["service"], ours["owner"], ours["files_touched"]) == (
        "uploads",
        "platform",
        ["deploy/nginx/upload.conf"],
    )


@pytest.mark.parametrize("kind", ["record", "checklist"])
def test_schema_prints_json_schema(team: Team, kind: str) -> None:
    schema = json.loads(succeeded(team("schema", kind)).stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "title" in schema["properties"]
    if kind == "record":
        assert {"reason", "files_touched", "commands", "rollback"} <= set(schema["required"])


# The pre-commit hook, installed by pre-commit from this project's .pre-commit-hooks.yaml


@pytest.fixture(scope="module")
def hook_source(release: Release, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A git repository holding what the tag holds, tagged: the `repo:` and `rev:` a team's
    configuration names."""
    repo = new_repository(extract(release.archive, tmp_path_factory.mktemp("hook") / "runbook"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Release")
    tag = f"v{release.wheel.name.split('-')[1]}"
    git(repo, "tag", tag)
    return repo.as_uri(), tag


@dataclass(frozen=True)
class PreCommit:
    """`pre-commit run --all-files` in a repository whose configuration uses the hook from
    the release; pre-commit installs its environment once, into `home`."""

    url: str
    rev: str
    home: Path

    def __call__(self, repo: Path) -> subprocess.CompletedProcess[str]:
        (repo / ".pre-commit-config.yaml").write_text(
            "repos:\n"
            f"  - repo: {self.url}\n"
            f"    rev: {self.rev}\n"
            "    hooks:\n"
            "      - id: runbook-validate\n",
            encoding="utf-8",
        )
        git(repo, "add", "-A")  # pre-commit reads the files git knows
        return run(
            sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never",
            cwd=repo, PRE_COMMIT_HOME=str(self.home),
        )  # fmt: skip


@pytest.fixture(scope="module")
def pre_commit(hook_source: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> PreCommit:
    return PreCommit(*hook_source, tmp_path_factory.mktemp("pre-commit-home"))


def test_the_pre_commit_hook_passes_a_valid_runbook(
    team: Team, pre_commit: PreCommit, tmp_path: Path
) -> None:
    ran = pre_commit(clone(team.repo, tmp_path / "team-runbook"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"^runbook validate\.+Passed$", ran.stdout, re.MULTILINE), ran.stdout
    # pre-commit's own environment for the hook, built from the release's source
    assert list(pre_commit.home.glob("repo*/py_env-*/bin/runbook")), ran.stdout


def test_the_pre_commit_hook_fails_an_invalid_record_at_its_line_and_column(
    team: Team, pre_commit: PreCommit, tmp_path: Path
) -> None:
    repo = clone(team.repo, tmp_path / "team-runbook")
    where, line, column = break_record(repo, team.drafted.relative_to(team.repo))
    ran = pre_commit(repo)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert re.search(r"^runbook validate\.+Failed$", ran.stdout, re.MULTILINE), ran.stdout
    assert f"{where}:{line}:{column}: error: metrics[0].better:" in ran.stdout


# The workflow that publishes a tag


def test_the_release_workflow_publishes_only_what_passed_the_release_test() -> None:
    workflow_file = REPO_ROOT / ".github" / "workflows" / "release.yml"
    checked = run(
        VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows",
        workflow_file, cwd=REPO_ROOT,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    workflow = yaml.safe_load(workflow_file.read_text(encoding="utf-8"))
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"] == {"contents": "read"}
    tested = workflow["jobs"]["test-and-build"]
    runs = [step.get("run", "") for step in tested["steps"]]
    assert any("pytest" in command and "tests/test_release.py" in command for command in runs)
    assert any("GITHUB_REF_NAME" in command and "pyproject.toml" in command for command in runs)
    assert any("twine check --strict" in command for command in runs)
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == "test-and-build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
