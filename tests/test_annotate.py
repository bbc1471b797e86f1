"""`runbook annotate` against a local server speaking Grafana's annotations API (Grafana
itself cannot be installed here; tests/grafana_api.py says which documented shapes it
implements), and annotations.json as the site publishes it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from cli_run import CliRun, run_cli
from grafana_api import FakeGrafana, running_grafana
from record_files import EPOCH, initialised_runbook, starter, write_record

from generator.config import parse_settings

TOKEN = "glsa_runbook_test_token_0123456789"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Changes shipped in three offsets, and one with its day only."""
    root = initialised_runbook(tmp_path)
    starter(root).rename(root / "starter.yaml")
    write_record(root, "2026-11-20-berlin", "shipped_at: 2026-11-20T21:30:00+01:00\n", tags=["db"])
    write_record(root, "2026-11-20-utc", "shipped_at: 2026-11-20T20:45:00Z\ncommit: 9fceb02\n")
    write_record(root, "2026-11-21-newyork", "shipped_at: 2026-11-21T08:10:00-05:00\n")
    write_record(root, "2026-11-19-day-only", "", service="billing-api")
    return root


def annotate(repo: Path, grafana: FakeGrafana, *args: str, token: str = TOKEN) -> CliRun:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNBOOK_GRAFANA_TOKEN", token)
        return run_cli(
            repo,
            "annotate",
            "--grafana-url",
            grafana.url,
            "--token-env",
            "RUNBOOK_GRAFANA_TOKEN",
            *args,
            epoch=EPOCH,
        )


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_records_are_posted_with_their_epoch_milliseconds_and_tags(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        result = annotate(repo, grafana, "--dashboard-uid", "deploys")
        assert result.exit_code == 0, result.output
        posted = {a["tags"][1]: a for a in grafana.annotations}
    assert set(posted) == {
        "runbook-id:2026-11-20-berlin",
        "runbook-id:2026-11-20-utc",
        "runbook-id:2026-11-21-newyork",
        "runbook-id:2026-11-19-day-only",
    }
    berlin = posted["runbook-id:2026-11-20-berlin"]
    assert berlin["time"] == ms("2026-11-20T20:30:00+00:00") and "timeEnd" not in berlin
    assert posted["runbook-id:2026-11-21-newyork"]["time"] == ms("2026-11-21T13:10:00+00:00")
    day = posted["runbook-id:2026-11-19-day-only"]
    assert (day["time"], day["timeEnd"] + 1) == (
        ms("2026-11-19T00:00:00+00:00"),
        ms("2026-11-20T00:00:00+00:00"),
    )
    assert berlin["tags"][0] == "runbook" and "db" in berlin["tags"]
    assert "billing-api" in day["tags"]
    assert all(a["dashboardUID"] == "deploys" for a in grafana.annotations)
    assert "changes/2026-11-20-berlin/" in berlin["text"]


def test_a_second_run_posts_nothing_and_a_new_record_alone(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        assert annotate(repo, grafana).exit_code == 0
        assert len(grafana.annotations) == 4
        again = annotate(repo, grafana)
        assert again.exit_code == 0 and len(grafana.annotations) == 4
        assert "posted 0, 4 already on Grafana" in again.stderr
        write_record(repo, "2026-11-22-late", "shipped_at: 2026-11-22T10:00:00Z\n")
        third = annotate(repo, grafana)
        assert third.stdout.split() == ["posted", "2026-11-22-late"]
        assert len(grafana.annotations) == 5
        gets = [path for method, path, _ in grafana.requests if method == "GET"]
    assert all("tags=runbook" in path and "from=" in path and "to=" in path for path in gets)


def test_since_and_dry_run(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        dry = annotate(repo, grafana, "--dry-run", "--since", "2026-11-20T21:00+01:00")
        assert dry.exit_code == 0, dry.output
        # oldest first; 20:00Z is after the day-only record's day
        planned = [json.loads(line) for line in dry.stdout.splitlines()]
        assert [body["tags"][1] for body in planned] == [
            "runbook-id:2026-11-20-berlin",
            "runbook-id:2026-11-20-utc",
            "runbook-id:2026-11-21-newyork",
        ]
        assert "not checked against Grafana" in dry.stderr
        assert grafana.annotations == [] and grafana.requests == []
        assert annotate(repo, grafana, "--since", "2026-11-21").exit_code == 0
        assert [a["tags"][1] for a in grafana.annotations] == ["runbook-id:2026-11-21-newyork"]


def test_a_dry_run_needs_no_token_and_no_network(repo: Path) -> None:
    result = run_cli(
        repo, "annotate", "--grafana-url", "http://127.0.0.1:9", "--token-env", "NOT_SET_VAR",
        "--dry-run", epoch=EPOCH,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 4


def test_a_refused_token_is_one_line_and_never_echoed(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        result = annotate(repo, grafana, token="glsa_wrong_token_987654321")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} refused GET /api/annotations "
        "(HTTP 401: Invalid API key)"
    ]
    assert "glsa_wrong" not in result.output and grafana.annotations == []
    headers = grafana.requests[0][2]
    assert headers["Authorization"] == "Bearer glsa_wrong_token_987654321"


def test_an_unreachable_grafana_is_one_line_and_exit_1(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        url = grafana.url
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNBOOK_GRAFANA_TOKEN", TOKEN)
        result = run_cli(
            repo, "annotate", "--grafana-url", url, "--token-env", "RUNBOOK_GRAFANA_TOKEN",
            epoch=EPOCH,
        )  # fmt: skip
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"runbook annotate: cannot reach Grafana at {url}")
    assert TOKEN not in result.output


def test_a_missing_token_is_a_usage_error(repo: Path) -> None:
    result = run_cli(
        repo, "annotate", "--grafana-url", "http://127.0.0.1:9", "--token-env", "NOT_SET_VAR",
        epoch=EPOCH,
    )  # fmt: skip
    assert result.exit_code == 2 and "NOT_SET_VAR" in result.stderr


def test_annotations_json_has_what_grafana_reads(repo: Path) -> None:
    out = repo / "rendered"
    assert run_cli(repo, "render", "--out", str(out), epoch=EPOCH).exit_code == 0
    annotations = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    by_id = {a["id"]: a for a in annotations}
    assert [a["id"] for a in annotations][:2] == ["2026-11-21-newyork", "2026-11-20-utc"]
    berlin = by_id["2026-11-20-berlin"]
    assert berlin["time"] == ms("2026-11-20T20:30:00+00:00")
    record = yaml.safe_load((repo / "starter.yaml").read_text(encoding="utf-8"))
    assert berlin["tags"] == [record["service"], "production", record["status"], "db"]
    assert berlin["tagsText"] == ",".join(berlin["tags"])
    site_url = parse_settings((repo / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]
    assert berlin["url"] == f"{site_url}changes/2026-11-20-berlin/"  # absolute for Grafana
    assert by_id["2026-11-20-utc"]["commit"] == "9fceb02"
    day = by_id["2026-11-19-day-only"]
    assert day["timeEnd"] - day["time"] == 86_400_000 - 1
    assert {"time", "title", "text", "tags", "url"} <= set(berlin)
