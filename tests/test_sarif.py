"""`runbook validate --format sarif`: SARIF 2.1.0 that GitHub code scanning accepts, checked
structurally and with Microsoft's SARIF multitool (npm `@microsoft/sarif-multitool`, installed
by `make test`), which validates a log against the SARIF 2.1.0 schema and its rules."""

from __future__ import annotations

import json
import os
import string
import subprocess
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from cli_run import run_cli
from hypothesis import given
from hypothesis import strategies as st
from record_files import EPOCH, initialised_runbook, starter

from generator.diagnostics import CODES
from generator.sarif import artifact_uri

REPO_ROOT = Path(__file__).resolve().parent.parent
MULTITOOL = REPO_ROOT / "node_modules" / ".bin" / "sarif-multitool"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A runbook with errors and warnings in two records."""
    repo = initialised_runbook(tmp_path)
    record = starter(repo)
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("\nservice: ", "\nservice: 12\n# was: "), encoding="utf-8")
    (record.parent / "2026-11-19-half.yaml").write_text("title: x\ndate: 2026-11-19\n", "utf-8")
    return repo


def test_one_result_per_diagnostic_with_its_rule_level_and_region(broken: Path) -> None:
    as_json = run_cli(broken, "validate", "--format", "json", epoch=EPOCH)
    sarif = run_cli(broken, "validate", "--format", "sarif", epoch=EPOCH)
    assert sarif.exit_code == as_json.exit_code == 1
    log = json.loads(sarif.stdout)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "runbook" and driver["version"]
    rules = [rule["id"] for rule in driver["rules"]]
    assert sorted(rules) == sorted(CODES)
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    expected = [
        (d["code"], "error" if d["severity"] == "error" else "warning", d["message"], d["path"],
         d["line"], d["column"])
        for d in as_json.json()
    ]  # fmt: skip
    found = []
    for result in run["results"]:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert rules[result["ruleIndex"]] == result["ruleId"]
        found.append(
            (result["ruleId"], result["level"], result["message"]["text"],
             physical["artifactLocation"]["uri"], physical["region"]["startLine"],
             physical["region"]["startColumn"])
        )  # fmt: skip
    assert found == expected and len(found) >= 3
    assert all(not Path(uri).is_absolute() for _, _, _, uri, _, _ in found)


def assert_multitool_accepts(log: Path, report: Path) -> None:
    """Microsoft's SARIF multitool validates `log` (schema and rules) and finds nothing; in CI
    the tool must be there (`make test` installs it from npm)."""
    if not MULTITOOL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MULTITOOL} is missing: `make test` installs it (npm)")
        pytest.skip("the SARIF multitool is not installed (npm install)")
    result = subprocess.run(
        [str(MULTITOOL), "validate", str(log), "--output", str(report), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    problems = json.loads(report.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert problems == [], [p["message"] for p in problems]


def test_microsofts_multitool_accepts_the_log(broken: Path, tmp_path: Path) -> None:
    log = tmp_path / "runbook.sarif"
    log.write_text(run_cli(broken, "validate", "--format", "sarif", epoch=EPOCH).stdout, "utf-8")
    assert_multitool_accepts(log, tmp_path / "report.sarif")
    report = tmp_path / "report.sarif"
    # and it does reject a broken log: the check can fail
    log.write_text('{"version": "2.1.0", "runs": "none"}', "utf-8")
    subprocess.run(
        [str(MULTITOOL), "validate", str(log), "--output", str(report), "--log", "ForceOverwrite"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert json.loads(report.read_text(encoding="utf-8"))["runs"][0]["results"]


def test_a_clean_runbook_gives_a_log_without_results(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    result = run_cli(repo, "validate", "--format", "sarif", epoch=EPOCH)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["runs"][0]["results"] == []


ODD_FILE_NAMES = {
    "a b.yaml": "a%20b.yaml",
    "a#b.yaml": "a%23b.yaml",
    "a?b.yaml": "a%3Fb.yaml",
    "a%41b.yaml": "a%2541b.yaml",
    "équipe.yaml": "%C3%A9quipe.yaml",
    "a:b.yaml": "a%3Ab.yaml",
}


@pytest.mark.parametrize("name", ODD_FILE_NAMES)
def test_artifact_uris_are_percent_encoded_relative_references(name: str) -> None:
    assert artifact_uri(f"records/{name}") == f"records/{ODD_FILE_NAMES[name]}"
    assert artifact_uri(name) == ODD_FILE_NAMES[name]  # `:` first would read as a scheme


# A segment of a path as diagnostics show it: normal, so never `.` or `..`.
SEGMENTS = st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and s not in (".", ".."))


@given(st.lists(SEGMENTS, min_size=1))
def test_an_artifact_uri_decodes_back_to_its_path(segments: list[str]) -> None:
    path = "/".join(segments)
    uri = artifact_uri(path)
    parsed = urlsplit(uri)
    assert (parsed.scheme, parsed.netloc, parsed.query, parsed.fragment) == ("", "", "", "")
    assert os.fsdecode(unquote_to_bytes(parsed.path)) == path
    assert set(uri) <= set(string.ascii_letters + string.digits + "-._~/%")


def test_a_name_that_is_not_utf8_keeps_its_byte() -> None:
    assert artifact_uri(os.fsdecode(b"records/caf\xff.yaml")) == "records/caf%FF.yaml"


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    """A runbook with a broken record under every kind of name a URI must encode."""
    repo = initialised_runbook(tmp_path)
    for index, name in enumerate([*ODD_FILE_NAMES, os.fsdecode(b"caf\xff.yaml")]):
        folder = repo / "records" / name.removesuffix(".yaml")
        folder.mkdir()
        (folder / f"2026-01-0{index + 1}-x.yaml").write_text("title: x\ntitle: y\n", "utf-8")
    return repo


def test_odd_names_give_uris_that_name_their_files(odd_names: Path) -> None:
    sarif = run_cli(odd_names, "validate", "--format", "sarif", epoch=EPOCH)
    assert sarif.exit_code == 1
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in json.loads(sarif.stdout)["runs"][0]["results"]
        for location in result["locations"]
    }
    assert len(uris) == len(ODD_FILE_NAMES) + 1
    for uri in uris:
        assert (odd_names / os.fsdecode(unquote_to_bytes(uri))).is_file(), uri


def test_microsofts_multitool_accepts_odd_names(odd_names: Path, tmp_path: Path) -> None:
    log = tmp_path / "odd.sarif"
    log.write_text(run_cli(odd_names, "validate", "--format", "sarif", epoch=EPOCH).stdout, "utf-8")
    assert_multitool_accepts(log, tmp_path / "report.sarif")
