"""When a change shipped, to the minute: `shipped_at` and `commit` in records, and the time
windows of `runbook list` ("what shipped in the two hours before the pager went off")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_run import run_cli
from record_files import EPOCH, initialised_runbook, starter, write_record


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return initialised_runbook(tmp_path)


def diagnostics(repo: Path) -> list[dict]:
    return run_cli(repo, "validate", "--format", "json", epoch=EPOCH).json()


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T14:05:00Z",
        "2026-11-20T16:05:00+02:00",
        "'2026-11-20T09:05:00-05:00'",
        '"2026-11-20 23:59:00 +05:30"',
        "2026-11-20T00:10:00.5-11:00",
    ],
)
def test_a_timestamp_with_its_offset_is_accepted_quoted_or_not(repo: Path, value: str) -> None:
    write_record(repo, "2026-11-20-a", f"shipped_at: {value}\ncommit: 9fceb02\n")
    assert diagnostics(repo) == []
    exported = run_cli(repo, "list", "--format", "json", epoch=EPOCH).json()
    shipped = next(r for r in exported if r["id"] == "2026-11-20-a")["shipped_at"]
    assert shipped.startswith("2026-11-20")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-11-20T14:05:00", "add Z or +HH:MM"),
        ("'2026-11-20 14:05'", "add Z or +HH:MM"),
        ("2026-11-20", "time of day"),
        ("2026-11-21T01:00:00+02:00", "2026-11-21"),  # the next day in its own offset
        ("2026-11-19T23:00:00Z", "2026-11-19"),
        ("'2026-11-20T25:00:00Z'", "not a real date"),
        ("yesterday", "offset"),
        ("1700000000", "offset"),
    ],
)
def test_a_time_without_offset_or_off_its_date_is_an_error_at_its_line(
    repo: Path, value: str, says: str
) -> None:
    path = write_record(repo, "2026-11-20-a", f"shipped_at: {value}\n")
    line = path.read_text(encoding="utf-8").splitlines().index(f"shipped_at: {value}") + 1
    (found,) = diagnostics(repo)
    assert (found["line"], found["severity"]) == (line, "error")
    assert found["message"].startswith("shipped_at:") and says in found["message"], found


@pytest.mark.parametrize("value", ["9fceb0", "not-hex0", "'" + "a" * 41 + "'", "1234567"])
def test_a_commit_is_7_to_40_hex_digits(repo: Path, value: str) -> None:
    path = write_record(repo, "2026-11-20-a", f"commit: {value}\n")
    line = path.read_text(encoding="utf-8").splitlines().index(f"commit: {value}") + 1
    (found,) = diagnostics(repo)
    assert found["line"] == line and found["message"].startswith("commit:"), found


def listed(repo: Path, *args: str) -> list[str]:
    result = run_cli(repo, "list", "--format", "json", *args, epoch=EPOCH)
    assert result.exit_code == 0, result.output
    return [record["id"] for record in result.json()]


@pytest.fixture
def shipped(repo: Path) -> Path:
    """Three changes of one evening in three offsets, and one with its day only."""
    starter(repo).rename(repo / "starter.yaml")
    write_record(repo, "2026-11-20-berlin", "shipped_at: 2026-11-20T21:30:00+01:00\n")
    write_record(repo, "2026-11-20-utc", "shipped_at: 2026-11-20T20:45:00Z\n", tags=["db"])
    write_record(
        repo, "2026-11-20-newyork", "shipped_at: 2026-11-20T16:10:00-05:00\n", status="rolled-back"
    )
    write_record(repo, "2026-11-19-day-only", "", service="billing-api")
    return repo


def test_a_window_is_exact_to_the_minute_in_any_offset(shipped: Path) -> None:
    # 20:30Z (Berlin), 20:45Z (UTC), 21:10Z (New York)
    # newest first, by the time they shipped
    assert listed(shipped, "--since", "2026-11-20T20:45Z") == [
        "2026-11-20-newyork",
        "2026-11-20-utc",
    ]
    assert sorted(listed(shipped, "--since", "2026-11-20T21:46+01:00")) == ["2026-11-20-newyork"]
    assert sorted(listed(shipped, "--until", "2026-11-20T15:44-05:00")) == [
        "2026-11-19-day-only",
        "2026-11-20-berlin",
    ]
    window = ["--since", "2026-11-20T20:31Z", "--until", "2026-11-20T21:09:59Z"]
    assert listed(shipped, *window) == ["2026-11-20-utc"]


def test_a_date_bound_takes_the_whole_day_and_a_day_only_record_its_day(shipped: Path) -> None:
    assert "2026-11-19-day-only" not in listed(shipped, "--since", "2026-11-20")
    assert listed(shipped, "--until", "2026-11-19") == ["2026-11-19-day-only"]
    # A record without its time is in a timestamp window on its day: the day overlaps it.
    assert "2026-11-19-day-only" in listed(shipped, "--since", "2026-11-19T23:00+00:00")


def test_filters_are_case_insensitive_substrings_tags_and_status_included(
    shipped: Path,
) -> None:
    assert listed(shipped, "--service", "BILLING") == ["2026-11-19-day-only"]
    assert listed(shipped, "--tag", "D") == ["2026-11-20-utc"]
    assert listed(shipped, "--status", "ROLLED") == ["2026-11-20-newyork"]
    starter_files = yaml.safe_load(
        (shipped / "records/2026/2026-11-20-utc.yaml").read_text(encoding="utf-8")
    )["files_touched"]
    folder = starter_files[0].rsplit("/", 1)[0] if "/" in starter_files[0] else starter_files[0]
    assert len(listed(shipped, "--file", folder.upper())) == 4


def test_no_match_says_so_on_stderr_and_an_impossible_bound_is_refused(shipped: Path) -> None:
    result = run_cli(shipped, "list", "--owner", "nobody-at-all", epoch=EPOCH)
    assert result.exit_code == 0 and result.stdout == ""
    assert "no records match" in result.stderr
    result = run_cli(shipped, "list", "--since", "2026-11-20T25:45Z", epoch=EPOCH)
    assert result.exit_code == 2 and "not a real date and time" in result.stderr


def test_the_table_in_utc_shows_the_times_and_json_keeps_each_offset(shipped: Path) -> None:
    table = run_cli(shipped, "list", "--utc", epoch=EPOCH).stdout
    assert table.startswith("times in UTC\n")
    assert "2026-11-20 20:30  2026-11-20-berlin" in table
    assert "2026-11-20 20:45  2026-11-20-utc" in table
    assert json.dumps("2026-11-19") not in table  # plain text, not JSON
    exported = {r["id"]: r["shipped_at"] for r in json.loads(listed_json(shipped))}
    assert exported["2026-11-20-berlin"] == "2026-11-20T21:30:00+01:00"
    assert exported["2026-11-20-newyork"] == "2026-11-20T16:10:00-05:00"


def listed_json(repo: Path) -> str:
    return run_cli(repo, "list", "--format", "json", epoch=EPOCH).stdout
