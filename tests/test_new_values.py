"""`runbook new` never writes a value that `runbook validate` then refuses: every value it
takes goes through validate's own checks (the field's type, the loader's characters, the
credential scan), and a refused one is said in one line with what cannot be printed escaped."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cli_run import CliRun, run_cli
from git_repos import new_repository
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_files import EPOCH, initialised_runbook

VENV_BIN = Path(sys.executable).parent
# Every field, so that the written record is complete: any error in it is a refused value.
BACKFILL = {
    "title": "Cap upload size",
    "--date": "2026-06-01",
    "--service": "uploads",
    "--owner": "Maya Okafor",
    "--reason": "Uploads tied up the origin.",
    "--expected-result": "413 from the edge.",
    "--file": "deploy/nginx/upload.conf",
    "--command": "make deploy",
    "--rollback": "Revert the commit.",
    "--tag": "security-review",
}


def _new(repo: Path, **values: str) -> CliRun:
    given = BACKFILL | values
    args = [given.pop("title")]
    for option, value in given.items():
        args += [option, value]
    return run_cli(repo, "new", *args, "--rollback-tested", epoch=EPOCH)


def _refused_in_one_line(run: CliRun, option: str) -> None:
    assert run.exit_code == 2, run.output
    assert run.stdout == ""
    message = run.stderr.removesuffix("\n")
    assert "\n" not in message and message.isprintable(), repr(run.stderr)
    assert message.startswith(f"runbook: Invalid value for '{option}': "), message


REFUSED = {
    "escape-in-title": ("title", "[TITLE]", "red \x1b[31malert", "U+001B (\\x1b)"),
    "noncharacter-in-reason": ("--reason", "--reason", "a\ufffeb", "U+FFFE (\\ufffe)"),
    "noncharacter-in-command": ("--command", "--command", "make \ufdd0", "U+FDD0 (\\ufdd0)"),
    "nel-in-plan": ("--rollback", "--rollback", "undo\x85it", "U+0085 (\\x85)"),
    "separator-in-owner": ("--owner", "--owner", "a\u2028b", "U+2028 (\\u2028)"),
    "nul-in-tag": ("--tag", "--tag", "a\x00b", "U+0000 (\\x00)"),
    "mysql-password": ("--command", "--command", "mysql -u root -pS3cretPassw0rd db", "MySQL"),
    "token-in-url": (
        "--command",
        "--command",
        "curl -H 'Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789' api",
        "ghp_…",
    ),
    "token-in-reason": (
        "--reason",
        "--reason",
        "Leaked AKIAIOSFODNN7EXAMPLF in the logs.",
        "AKIA…",
    ),
    "password-in-rollback": (
        "--rollback-command",
        "--rollback-command",
        "psql postgres://admin:hunter2hunter2@db/app",
        "hunt…",
    ),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return initialised_runbook(tmp_path_factory.mktemp("new-values"))


@pytest.mark.parametrize("case", REFUSED)
def test_new_refuses_what_validate_refuses_in_one_escaped_line(repo: Path, case: str) -> None:
    field, option, value, shown = REFUSED[case]
    before = sorted((repo / "records").rglob("*.yaml"))
    run = _new(repo, **{field: value})
    _refused_in_one_line(run, option)
    assert shown in run.stderr
    assert "hunter2hunter2" not in run.stderr and "S3cretPassw0rd" not in run.stderr
    assert sorted((repo / "records").rglob("*.yaml")) == before


def test_an_allowed_credential_is_written_and_validates(repo: Path) -> None:
    command = "mysql -u root -pexample-only db  # runbook: allow-secret"
    run = _new(repo, title="Allowed example", **{"--command": command})
    assert run.exit_code == 0, run.output
    checked = run_cli(repo, "validate", run.stdout.strip(), epoch=EPOCH)
    assert checked.exit_code == 0, checked.output


def test_a_value_that_is_not_utf8_is_refused_by_the_real_command(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    result = subprocess.run(
        [os.fsencode(VENV_BIN / "runbook"), b"new", b"caf\xe9 change", b"--owner", b"ops"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == b"runbook: Invalid value for '[TITLE]': is not UTF-8 text (at \\xe9)\n"


# Text with what validate refuses mixed in: controls, noncharacters, separators, credentials.
PIECES = [
    "\x1b", "\x00", "\x7f", "\x85", "\u2028", "\ufffe", "\uffff", "\ufdd0", "\t", "\ufeff",
    "\u202e", "\u200d", "\r\n", "\n", " -pS3cretPassw0rd", " --password=hunter2hunter2",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "https://u:hunter2hunter2@example.com",
    "# runbook: allow-secret",
]  # fmt: skip
ODD_TEXT = st.lists(
    st.one_of(st.text(min_size=1, max_size=6), st.sampled_from(PIECES)), min_size=1, max_size=5
).map("".join)
FIELDS = ["title", "--service", "--owner", "--reason", "--command", "--rollback", "--tag"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=ODD_TEXT)
def test_whatever_new_writes_validate_accepts(field: str, value: str) -> None:
    """Either `new` refuses the value in one printable line, or the record it writes has no
    error (only the warning for having no metric)."""
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch)
        (repo / "mkdocs.yml").write_text("site_name: t\nplugins: [runbook]\n", "utf-8")
        (repo / "records").mkdir()
        (repo / "checklists").mkdir()
        run = _new(repo, **{field: value})
        if run.exit_code != 0:
            option = "[TITLE]" if field == "title" else field
            _refused_in_one_line(run, option)
            return
        checked = run_cli(repo, "validate", "--format", "json", epoch=EPOCH)
    errors = [d for d in checked.json() if d["severity"] == "error"]
    assert errors == [], (field, value, errors)


def test_an_owner_from_git_that_validate_refuses_is_left_to_fill_in(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    new_repository(repo, user="Ada\u2028Lovelace")
    run = run_cli(repo, "new", "A change", epoch=EPOCH)
    assert run.exit_code == 0, run.output
    assert "owner: the name in git config contains U+2028 (\\u2028)" in run.stderr
    assert run.stderr.replace("\n", "").isprintable()
    assert 'owner: "TODO: ' in (repo / run.stdout.strip()).read_text("utf-8")
