"""`--since`/`--until` as people type them, read in the reader's zone: a time without its
offset, `90m`, `2 days ago`, `yesterday`; and `runbook list`'s table in one zone.

Each case runs the real CLI in a process of its own with TZ set, and "now" fixed where the
command reads the clock (listing.current_time), so every boundary is checked to the minute."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from record_files import EPOCH, initialised_runbook, starter, write_record

# Friday 2026-11-20, 21:30 UTC: in Chatham (+13:45) it is already Saturday.
NOW = "2026-11-20T21:30:00+00:00"
ZONES = {
    "UTC": "+00:00",
    "America/New_York": "-05:00",
    "Asia/Kolkata": "+05:30",
    "Pacific/Chatham": "+13:45",  # summer time there
}
RUN_WITH_NOW = (
    "import datetime as dt, sys\n"
    "from generator.authoring import when\n"
    "fixed = dt.datetime.fromisoformat(sys.argv[1])\n"
    "when.current_time = lambda: fixed\n"
    "from generator.cli import cli\n"
    "cli(sys.argv[2:], prog_name='runbook')\n"
)


def runbook(repo: Path, zone: str, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TZ": zone, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run(
        [sys.executable, "-c", RUN_WITH_NOW, now, *args],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def listed(repo: Path, zone: str, *args: str, now: str = NOW) -> list[str]:
    result = runbook(repo, zone, "list", "--format", "json", *args, now=now)
    assert result.returncode == 0, result.stderr
    return sorted(record["id"] for record in json.loads(result.stdout or "[]"))


def wall(moment: str, zone: str) -> str:
    """The moment as a clock on the wall in `zone` shows it, without an offset."""
    return f"{dt.datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)):%Y-%m-%dT%H:%M}"


@pytest.fixture(scope="module")
def evening(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Changes just inside and just outside 90 minutes and 2 days before NOW, and one with
    its day only."""
    repo = initialised_runbook(tmp_path_factory.mktemp("when"))
    starter(repo).rename(repo / "starter.yaml")
    write_record(repo, "2026-11-20-at-90m", "shipped_at: 2026-11-20T20:00:00Z\n")
    write_record(repo, "2026-11-20-at-91m", "shipped_at: 2026-11-20T19:59:00Z\n")
    write_record(repo, "2026-11-18-at-2d", "shipped_at: 2026-11-18T21:30:00Z\n")
    write_record(repo, "2026-11-18-before-2d", "shipped_at: 2026-11-18T21:29:00Z\n")
    write_record(repo, "2026-11-19-day-only", "")
    return repo


@pytest.mark.parametrize("zone", ZONES)
def test_a_time_without_offset_is_read_in_the_local_zone_and_said_once(
    evening: Path, zone: str
) -> None:
    at_90m = wall("2026-11-20T20:00:00Z", zone)
    result = runbook(evening, zone, "list", "--format", "json", "--since", at_90m)
    assert result.returncode == 0, result.stderr
    assert sorted(r["id"] for r in json.loads(result.stdout)) == ["2026-11-20-at-90m"]
    assert result.stderr == f"note: {at_90m} read in {zone} (UTC{ZONES[zone]})\n"
    a_minute_later = wall("2026-11-20T20:01:00Z", zone)
    assert listed(evening, zone, "--since", a_minute_later) == []
    at_91m = wall("2026-11-20T19:59:00Z", zone)
    assert listed(evening, zone, "--since", at_91m, "--until", at_91m) == ["2026-11-20-at-91m"]


@pytest.mark.parametrize("zone", ZONES)
def test_relative_times_count_back_from_now_to_the_minute(evening: Path, zone: str) -> None:
    assert listed(evening, zone, "--since", "90m") == ["2026-11-20-at-90m"]
    assert listed(evening, zone, "--since", "90 minutes ago") == ["2026-11-20-at-90m"]
    assert listed(evening, zone, "--since", "2h") == ["2026-11-20-at-90m", "2026-11-20-at-91m"]
    two_days = ["2026-11-18-at-2d", "2026-11-19-day-only", "2026-11-20-at-90m", "2026-11-20-at-91m"]
    assert listed(evening, zone, "--since", "2 days ago") == two_days
    assert listed(evening, zone, "--since", "2d") == two_days
    assert "2026-11-18-before-2d" in listed(evening, zone, "--since", "1w", "--until", "2 days ago")
    assert listed(evening, zone, "--since", "now") == []


def test_yesterday_and_today_are_days_in_the_local_zone(evening: Path) -> None:
    # NOW is Friday afternoon in New York and Saturday morning in Chatham.
    assert "2026-11-19-day-only" in listed(evening, "America/New_York", "--since", "yesterday")
    assert "2026-11-19-day-only" not in listed(evening, "Pacific/Chatham", "--since", "yesterday")
    assert listed(evening, "Pacific/Chatham", "--since", "today") == []
    assert listed(evening, "America/New_York", "--since", "today") == [
        "2026-11-20-at-90m",
        "2026-11-20-at-91m",
    ]


@pytest.fixture(scope="module")
def spring_forward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Berlin's clocks went from 02:00 to 03:00 on 2026-03-29."""
    repo = initialised_runbook(tmp_path_factory.mktemp("dst"))
    starter(repo).rename(repo / "starter.yaml")
    write_record(repo, "2026-03-28-noon", "shipped_at: 2026-03-28T12:00:00+01:00\n")
    write_record(repo, "2026-03-28-a-minute-before", "shipped_at: 2026-03-28T11:59:00+01:00\n")
    write_record(repo, "2026-03-28-eleven", "shipped_at: 2026-03-28T11:00:00+01:00\n")
    write_record(repo, "2026-03-28-before-eleven", "shipped_at: 2026-03-28T10:59:00+01:00\n")
    return repo


def test_on_the_day_clocks_change_a_day_back_is_the_same_time_of_day(
    spring_forward: Path,
) -> None:
    now = "2026-03-29T12:00:00+02:00"  # 23 hours after noon the day before
    since_1d = listed(spring_forward, "Europe/Berlin", "--since", "1d", now=now)
    assert since_1d == ["2026-03-28-noon"]
    since_24h = listed(spring_forward, "Europe/Berlin", "--since", "24h", now=now)
    assert since_24h == ["2026-03-28-a-minute-before", "2026-03-28-eleven", "2026-03-28-noon"]
    result = runbook(spring_forward, "Europe/Berlin", "list", "--since", "2026-03-29T02:30")
    assert result.returncode == 2 and "does not exist in Europe/Berlin" in result.stderr
    result = runbook(spring_forward, "Europe/Berlin", "list", "--since", "2026-03-29T03:00")
    assert "read in Europe/Berlin (UTC+02:00)" in result.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-11-20T25:00", "not a real date and time"),
        ("2026-11-20T25:00Z", "not a real date and time"),
        ("3 fortnights ago", "not a unit"),
        ("garbage", "or a time back from now"),  # every form WHEN takes, not only timestamps
        ("1e9m", "or a time back from now"),
    ],
)
def test_a_bound_that_is_no_time_is_refused(evening: Path, value: str, says: str) -> None:
    result = runbook(evening, "UTC", "list", "--since", value)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert result.stderr.count(repr(value)) == 1, result.stderr  # named once


def test_the_table_shows_every_time_in_one_zone_named_once(evening: Path) -> None:
    write_record(evening, "2026-07-01-summer", "shipped_at: 2026-07-01T10:00:00Z\n")
    try:
        lines = runbook(evening, "Asia/Kolkata", "list").stdout.splitlines()
        assert lines[0] == "times in Asia/Kolkata (UTC+05:30)"
        assert lines[1].split() == ["SHIPPED", "ID", "SERVICE", "STATUS", "OWNER", "TITLE"]
        assert any(line.startswith("2026-11-21 01:30  2026-11-20-at-90m ") for line in lines)
        assert any(line.startswith("2026-11-19        2026-11-19-day-only ") for line in lines)

        lines = runbook(evening, "Asia/Kolkata", "list", "--utc").stdout.splitlines()
        assert lines[0] == "times in UTC"
        assert any(line.startswith("2026-11-20 20:00  2026-11-20-at-90m ") for line in lines)

        berlin = runbook(evening, "Europe/Berlin", "list").stdout.splitlines()
        assert berlin[0] == "times in Europe/Berlin (UTC+01:00 or UTC+02:00)"
        assert any(line.startswith("2026-07-01 12:00  2026-07-01-summer") for line in berlin)
        for line in berlin[2:]:  # no row carries an offset of its own
            assert " Z " not in line and "+0" not in line and "-05:00" not in line
    finally:
        (evening / "records" / "2026" / "2026-07-01-summer.yaml").unlink()
