"""One strictness for every gate: mkdocs.yml's `strict` option decides which warnings fail the
pull-request check, the pre-commit hook and the publishing build alike, each run exactly as
`runbook init` wrote it, so that a pull request that passes its check publishes."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_run import run_cli
from git_repos import git, new_repository
from record_files import EPOCH, starter, write_record

from generator.config import ConfigurationError, read_options

AFTER = "      templates_dir: templates\n"
# The option's settings, and whether a record whose only warning is an untested rollback
# fails under each.
SETTINGS = {
    "unset": ("", True),  # the gates as written pass --strict: every warning fails
    "true": ("      strict: true\n", True),
    "false": ("      strict: false\n", False),
    "named": ("      strict: [rollback-untested]\n", True),
    "others": ("      strict: [no-metrics, id-date]\n", False),
}


def _scaffolded_gates(repo: Path) -> dict[str, list[str]]:
    """The runbook command lines of the check workflow, the pre-commit hook and the publish
    workflow, as `runbook init` wrote them (without the leading `runbook`)."""
    workflows = repo / ".github" / "workflows"
    check = yaml.safe_load((workflows / "runbook-check.yml").read_text("utf-8"))
    publish = yaml.safe_load((workflows / "runbook-publish.yml").read_text("utf-8"))
    hook = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text("utf-8"))

    def runbook_steps(workflow: dict[str, Any], words: str) -> list[str]:
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        runs = [s["run"] for s in steps if s.get("run", "").startswith(words)]
        words = shlex.split(runs[0].replace('"$BASE"', "main"))[1:]
        return words[: words.index("--format")] if "--format" in words else words

    (entry,) = [h["entry"] for r in hook["repos"] for h in r["hooks"]]
    return {
        "check": runbook_steps(check, "runbook validate"),
        "hook": shlex.split(entry)[1:],
        "publish": [*runbook_steps(publish, "runbook build"), "-q"],
    }


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A runbook made by `runbook init` on main, and a branch adding a record whose only
    problem is a warning (its rollback is not marked tested)."""
    repo = new_repository(tmp_path / "runbook")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "runbook init")
    git(repo, "checkout", "-qb", "feature")
    rollback = yaml.safe_load(starter(repo).read_text("utf-8"))["rollback"]
    write_record(repo, "2026-11-17-untested-rollback", "", rollback={**rollback, "tested": False})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a record with an untested rollback")
    return repo


def _set_strict(repo: Path, line: str) -> None:
    config = repo / "mkdocs.yml"
    text = config.read_text("utf-8")
    assert text.count(AFTER) == 1
    config.write_text(text.replace(AFTER, AFTER + line), encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=SETTINGS)
def test_a_record_with_only_warnings_passes_or_fails_every_gate_alike(
    pull_request: Path, setting: str
) -> None:
    line, fails = SETTINGS[setting]
    _set_strict(pull_request, line)
    gates = _scaffolded_gates(pull_request)
    assert gates["check"][:2] == ["validate", "--strict"]
    record = "records/2026/2026-11-17-untested-rollback.yaml"
    runs = {
        "check": run_cli(pull_request, *gates["check"], epoch=EPOCH),
        "hook": run_cli(pull_request, *gates["hook"], record, epoch=EPOCH),
        "validate PATH": run_cli(pull_request, "validate", record, epoch=EPOCH),
        "publish": run_cli(pull_request, *gates["publish"], epoch=EPOCH),
    }
    for gate, run in runs.items():
        if gate == "validate PATH" and setting == "unset":
            assert run.exit_code == 0, run.output  # no option, no --strict: warnings pass
            continue
        assert run.exit_code == (1 if fails else 0), (gate, run.output)
        if gate != "publish":
            assert "[rollback-untested]" in run.stdout
    if fails and setting != "unset":
        assert "1 warnings mkdocs.yml's strict fails on" in runs["publish"].stderr


def test_without_the_flag_an_option_that_is_set_still_decides(pull_request: Path) -> None:
    _set_strict(pull_request, SETTINGS["named"][0])
    assert run_cli(pull_request, "validate", "--changed", "main", epoch=EPOCH).exit_code == 1
    config = pull_request / "mkdocs.yml"
    text = config.read_text("utf-8")
    config.write_text(text.replace(SETTINGS["named"][0], SETTINGS["false"][0]), encoding="utf-8")
    assert run_cli(pull_request, "validate", "--changed", "main", epoch=EPOCH).exit_code == 0
    assert run_cli(pull_request, "validate", "--strict", epoch=EPOCH).exit_code == 0


def test_the_option_names_warning_codes_only(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: x\nplugins:\n  - runbook:\n      strict: [rollback-untestd]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="'rollback-untestd' is not a warning code"):
        read_options(str(config))
    config.write_text(
        "site_name: x\nplugins:\n  - runbook:\n      strict: [secret]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="'secret' is not a warning code"):
        read_options(str(config))


def test_the_demo_passes_its_own_gate() -> None:
    demo = Path(__file__).resolve().parent.parent
    run = run_cli(demo, "validate", "--strict", epoch=EPOCH)
    assert run.exit_code == 0, run.output
