"""The fields delivery performance is counted from: `started_at`, `committed_at`, `incidents`
and `fixes`, and the rules that relate records through `fixes` (each at its entry's line)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from cli_run import CliRun

RECORD = """\
title: {title}
date: {day}
{extra}owner: ops
service: {service}
reason: Uploads tied up the origin.
expected_result: Fewer timeouts.
files_touched: [deploy/nginx.conf]
commands: [nginx -s reload]
metrics:
  - {{name: p99, unit: ms, before: 900, after: 300, better: lower}}
rollback: {{plan: Revert the config., tested: true}}
"""


def write(repo: Path, record_id: str, *, service: str = "uploads", extra: str = "") -> Path:
    path = repo / "records" / f"{record_id}.yaml"
    path.write_text(
        RECORD.format(title=record_id, day=record_id[:10], service=service, extra=extra),
        encoding="utf-8",
    )
    return path


def problems(run_runbook: Callable[..., CliRun]) -> list[tuple[str, int, str, str]]:
    result = run_runbook("validate", "--format", "json")
    assert "Traceback" not in result.output
    return [
        (Path(d["path"]).stem, d["line"], d["code"], d["message"])
        for d in result.json()
        if d["code"] in {"unknown-fix", "fix-order", "fix-service", "rollback-unexplained"}
    ]


def test_fixes_are_older_records_of_the_same_service(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    write(runbook_repo, "2026-03-01-raise-buffer", extra="status: rolled-back\n")
    write(runbook_repo, "2026-03-01-shared-tls", service="tls-lib")
    write(runbook_repo, "2026-03-05-later-one")
    write(
        runbook_repo,
        "2026-03-02-undo-buffer",
        extra="fixes:\n"
        "  - 2026-03-01-raise-buffer\n"  # fine: older, same service
        "  - 2026-03-01-shared-tls\n"  # another service, not said
        "  - {id: 2026-03-01-shared-tls, other_service: true}\n"  # said: fine
        "  - 2026-03-05-later-one\n"  # newer
        "  - 2026-03-01-raise-bufer\n",  # a typo
    )
    found = problems(run_runbook)
    assert [(stem, line, code) for stem, line, code, _ in found] == [
        ("2026-03-02-undo-buffer", 5, "fix-service"),
        ("2026-03-02-undo-buffer", 7, "fix-order"),
        ("2026-03-02-undo-buffer", 8, "unknown-fix"),
    ]
    messages = [message for *_, message in found]
    assert "write {id: 2026-03-01-shared-tls, other_service: true}" in messages[0]
    assert "(it is 2026-03-05)" in messages[1]
    assert "did you mean '2026-03-01-raise-buffer'?" in messages[2]


def test_on_one_day_shipped_at_orders_a_fix(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    write(runbook_repo, "2026-03-02-first", extra="shipped_at: 2026-03-02T10:00:00Z\n")
    write(
        runbook_repo,
        "2026-03-02-second",
        extra="shipped_at: 2026-03-02T09:00:00Z\nfixes: [2026-03-02-first]\n",
    )
    write(runbook_repo, "2026-03-02-no-time", extra="fixes: [2026-03-02-first]\n")
    assert [(stem, code) for stem, _, code, _ in problems(run_runbook)] == [
        ("2026-03-02-second", "fix-order")
    ]


def test_a_rollback_says_what_undid_it(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    write(runbook_repo, "2026-03-01-fixed-later", extra="status: rolled-back\n")
    write(runbook_repo, "2026-03-02-the-fix", extra="fixes: [2026-03-01-fixed-later]\n")
    undone = "status: rolled-back\n"
    path = write(runbook_repo, "2026-03-01-undone-by-hand", extra=undone)
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "tested: true}", "tested: true, undone_by: kubectl rollout undo by the on-call}"
        ),
        encoding="utf-8",
    )
    write(runbook_repo, "2026-03-01-unexplained", extra=undone)
    assert [(stem, line, code) for stem, line, code, _ in problems(run_runbook)] == [
        ("2026-03-01-unexplained", 3, "rollback-unexplained")
    ]


def test_a_fix_of_an_invalid_record_is_not_called_unknown(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    broken = write(runbook_repo, "2026-03-01-broken")
    broken.write_text(broken.read_text(encoding="utf-8").replace("owner: ops\n", ""), "utf-8")
    write(runbook_repo, "2026-03-02-fix", extra="fixes: [2026-03-01-broken]\n")
    assert problems(run_runbook) == []


def test_new_takes_the_rollout_and_commit_times(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    written = run_runbook(
        "new",
        "Raise the buffer",
        "--service",
        "uploads",
        "--owner",
        "ops",
        "--shipped-at",
        "2026-03-02T14:05:00+01:00",
        "--started-at",
        "2026-03-02T13:50:00+01:00",
        "--committed-at",
        "2026-03-01T18:00:00+01:00",
    )
    assert written.exit_code == 0, written.stderr
    data = yaml.safe_load((runbook_repo / written.stdout.strip()).read_text(encoding="utf-8"))
    assert data["started_at"].isoformat() == "2026-03-02T13:50:00+01:00"
    assert data["committed_at"].isoformat() == "2026-03-01T18:00:00+01:00"
    naive = run_runbook("new", "Another", "--committed-at", "2026-03-01T18:00:00")
    assert naive.exit_code == 2
    assert "Invalid value for '--committed-at'" in naive.stderr and "add Z or +HH:MM" in (
        naive.stderr
    )
    late = run_runbook(
        "new",
        "Late start",
        "--shipped-at",
        "2026-03-02T14:05:00Z",
        "--started-at",
        "2026-03-02T14:10:00Z",
    )
    assert late.exit_code == 2 and "--started-at is after --shipped-at" in late.stderr


def test_the_schema_describes_the_delivery_fields(run_runbook: Callable[..., CliRun]) -> None:
    schema = json.loads(run_runbook("schema", "record").stdout)
    properties = schema["properties"]
    assert {"started_at", "committed_at", "incidents", "fixes"} <= set(properties)
    assert "lead time" in properties["committed_at"]["description"]
    incident = schema["$defs"]["Incident"]
    assert set(incident["required"]) == {"id", "url", "opened_at"}
    fix = json.dumps(properties["fixes"]) + json.dumps(schema["$defs"]["Fix"])
    assert "other_service" in fix
