"""DORA's four keys against answers worked out by hand (in the comments), from records written
as a team writes them: `runbook dora` in a real runbook, and the delivery page of a real build.

The runbook (all production unless said; times UTC):

    checkout, 2026-01:
      a  01-05 shipped 10:00, committed 01-04 10:00 (24 h)     fixed by b   -> failed
      b  01-06 shipped 12:00, committed 01-06 06:00 (6 h)      fixes a; fixed by c (chain)
      c  01-07 shipped 09:00, no committed_at                  fixes b
      s  01-08 staging, rolled-back                            not a deployment
      p  01-09 planned                                         not a deployment
    checkout, 2026-02: none                                    a month with no deploys
    checkout, 2026-03:
      d  03-02 shipped 10:00, committed 03-02 08:00 (2 h)      incident open      -> failed
      e  03-03 shipped 10:00, committed 03-01 10:00 (48 h)     rolled-back, incidents
         10:30-11:30 and 10:45-13:00 (both resolved)                              -> failed
    search, 2026-01:
      f  01-10 no shipped_at, committed_at                     rolled-back, undone_by
      g  01-20 shipped 10:00, committed 01-20 09:00 (1 h)

    checkout 2026-01: 3 deploys (a b c), failed a, b -> 2/3 = 0.67
      lead: 24, 6 -> median 15.0; missing 1 (c)
      restore: a -> b shipped - a shipped = 26 h; b -> c shipped - b shipped = 21 h;
      median 23.5; missing 0
    checkout 2026-02: 0 deploys, all null
    checkout 2026-03: 2 deploys, failed d, e -> 1.0
      lead: 2, 48 -> 25.0; restore: d incident open, no fixer -> missing;
      e: latest resolved 13:00 - earliest opened 10:30 = 2.5 h -> median 2.5; missing 1
    search 2026-01: 2 deploys (f g), failed f -> 0.5; lead: g 1 h (f no shipped_at) -> 1.0,
      missing 1; restore: f has no incident, no fixer -> missing 1, null
    whole 2026-01: 5 deploys, 3 failed -> 0.6; lead 24, 6, 1 -> 6.0, missing 2;
      restore 26, 21 -> 23.5, missing 1
    whole 2026-02: 0; whole 2026-03: as checkout.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import VENV_BIN, CliRun, run_cli

EPOCH = "1798761600"  # 2027-01-01: "today" never matters here

RECORD = """\
title: Change {name}
date: {day}
{lines}owner: ops
service: {service}
reason: Because.
expected_result: Better.
files_touched: [app/{name}.py]
commands: [deploy {name}]
metrics:
  - {{name: errors, unit: "%", before: 2, after: 1, better: lower}}
rollback: {{plan: Revert it., tested: true{undone}}}
"""

RECORDS = {
    "2026-01-05-a": ("checkout", "shipped_at: 2026-01-05T10:00:00Z\n"
                     "committed_at: 2026-01-04T10:00:00Z\n"),
    "2026-01-06-b": ("checkout", "shipped_at: 2026-01-06T12:00:00Z\n"
                     "committed_at: 2026-01-06T06:00:00Z\nfixes: [2026-01-05-a]\n"),
    "2026-01-07-c": ("checkout", "shipped_at: 2026-01-07T09:00:00Z\nfixes: [2026-01-06-b]\n"),
    "2026-01-08-s": ("checkout", "environment: staging\nstatus: rolled-back\n"),
    "2026-01-09-p": ("checkout", "status: planned\n"),
    "2026-03-02-d": ("checkout", "shipped_at: 2026-03-02T10:00:00Z\n"
                     "committed_at: 2026-03-02T08:00:00Z\nincidents:\n"
                     "  - {id: INC-1, url: 'https://inc.example/1', "
                     "opened_at: 2026-03-02T11:00:00Z}\n"),
    "2026-03-03-e": ("checkout", "shipped_at: 2026-03-03T10:00:00Z\n"
                     "committed_at: 2026-03-01T10:00:00Z\nstatus: rolled-back\nincidents:\n"
                     "  - {id: INC-2, url: 'https://inc.example/2', "
                     "opened_at: 2026-03-03T10:45:00Z, resolved_at: 2026-03-03T13:00:00Z}\n"
                     "  - {id: INC-3, url: 'https://inc.example/3', "
                     "opened_at: 2026-03-03T10:30:00Z, resolved_at: 2026-03-03T11:30:00Z}\n"),
    "2026-01-10-f": ("search", "committed_at: 2026-01-10T08:00:00Z\nstatus: rolled-back\n"),
    "2026-01-20-g": ("search", "shipped_at: 2026-01-20T10:00:00Z\n"
                     "committed_at: 2026-01-20T09:00:00Z\n"),
}  # fmt: skip


def figure(service, month, deployments, failed, rate, lead, restore, no_lead, no_restore):  # type: ignore[no-untyped-def]
    return {
        "service": service,
        "month": month,
        "deployments": deployments,
        "failed": failed,
        "change_failure_rate": rate,
        "lead_time_hours": lead,
        "time_to_restore_hours": restore,
        "missing_lead_time": no_lead,
        "missing_time_to_restore": no_restore,
    }


WHOLE = [
    figure(None, "2026-01", 5, 3, 0.6, 6.0, 23.5, 2, 1),
    figure(None, "2026-02", 0, 0, None, None, None, 0, 0),
    figure(None, "2026-03", 2, 2, 1.0, 25.0, 2.5, 0, 1),
]
CHECKOUT = [
    figure("checkout", "2026-01", 3, 2, 0.67, 15.0, 23.5, 1, 0),
    figure("checkout", "2026-02", 0, 0, None, None, None, 0, 0),
    figure("checkout", "2026-03", 2, 2, 1.0, 25.0, 2.5, 0, 1),
]
SEARCH = [figure("search", "2026-01", 2, 1, 0.5, 1.0, None, 1, 1)]


@pytest.fixture
def runbook(runbook_repo: Path) -> Path:
    for record_id, (service, lines) in RECORDS.items():
        undone = ", undone_by: the on-call reverted it" if record_id.endswith(("-f", "-e")) else ""
        (runbook_repo / "records" / f"{record_id}.yaml").write_text(
            RECORD.format(
                name=record_id[-1], day=record_id[:10], lines=lines, service=service, undone=undone
            ),
            encoding="utf-8",
        )
    return runbook_repo


def dora(runbook: Path, *args: str) -> CliRun:
    result = run_cli(runbook, "dora", *args, epoch=EPOCH)
    assert "Traceback" not in result.output
    return result


def test_the_four_keys_per_service_and_month_are_the_hand_computed_ones(runbook: Path) -> None:
    assert run_cli(runbook, "validate", epoch=EPOCH).exit_code == 0
    result = dora(runbook, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == WHOLE + CHECKOUT + SEARCH


def test_a_service_and_a_window_select_deployments_but_not_their_failures(runbook: Path) -> None:
    # Only b and c: b is still failed (c fixes it) and its restore counts; a is out.
    result = dora(runbook, "--service", "CHECK", "--since", "2026-01-06", "--until", "2026-01-31")
    table = result.stdout.splitlines()
    assert table[0].split() == [
        "SERVICE", "MONTH", "DEPLOYS", "FAILED", "CFR", "LEAD", "TIME", "H", "RESTORE", "H",
        "NO", "LEAD", "TIME", "NO", "RESTORE",
    ]  # fmt: skip
    assert table[1].split() == ["checkout", "2026-01", "2", "1", "0.50", "6.00", "21.00", "1", "0"]
    assert len(table) == 2
    none = dora(runbook, "--service", "billing", "--format", "json")
    assert none.exit_code == 0 and none.json() == [] and "no deployments match" in none.stderr
    refused = dora(runbook, "--since", "last tuesday")
    assert refused.exit_code == 2 and "is not a date" in refused.stderr


def test_invalid_records_are_left_out_and_said_so(runbook: Path) -> None:
    broken = runbook / "records" / "2026-01-20-g.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("owner: ops\n", ""), "utf-8")
    result = dora(runbook, "--format", "json")
    assert "1 errors; invalid records are not counted" in result.stderr
    search = [f for f in result.json() if f["service"] == "search"]
    assert search == [figure("search", "2026-01", 1, 1, 1.0, None, None, 1, 1)]


def test_a_second_run_reads_the_kept_rows(runbook: Path, tmp_path: Path) -> None:
    first = dora(runbook, "--format", "json").json()
    assert (runbook / ".runbook-cache").is_dir()
    again = dora(runbook, "--format", "json").json()
    assert again == first == WHOLE + CHECKOUT + SEARCH


def test_the_delivery_page_shows_the_same_figures_and_links_causes_and_fixes(
    runbook: Path,
) -> None:
    built = subprocess.run(
        [VENV_BIN / "runbook", "build", "--site-dir", "out"],
        cwd=runbook,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    page = (runbook / "out" / "delivery" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # checkout, 2026-01: 67 % (2 of 3), lead 15.00 h, restore 23.50 h, one without commit time
    assert "2026-01 3 medium 67 % (2 of 3) low 15.00 h elite 1 deployment without" in text
    assert "2026-02 0 low – – –" in text  # the month without deployments
    assert "2026-03 2 medium 100 % (2 of 2) low 25.00 h high 2.50 h high 1 failed change" in text
    # The failed change a links to its fixer b; e to its incidents; d's incident is open.
    failed = page[page.index('id="failed-changes"') :]
    assert re.search(r'href="\.\./changes/2026-01-05-a/"[^>]*>Change a</a>.*?Fixed by: <a href="'
                     r'\.\./changes/2026-01-06-b/"[^>]*>Change b</a>', failed, re.S)  # fmt: skip
    assert re.search(r'href="https://inc\.example/1"[^>]*>INC-1</a> \(open\)', failed)
    assert "restored in 2.50 h" in failed and "time to restore unknown" in failed
    # Both record pages link to each other, and show the rollout and incidents.
    fixed = (runbook / "out" / "changes" / "2026-01-05-a" / "index.html").read_text("utf-8")
    assert "Fixed by a later change:" in fixed and 'href="../../changes/2026-01-06-b/"' in fixed
    fixer = (runbook / "out" / "changes" / "2026-01-06-b" / "index.html").read_text("utf-8")
    assert (
        "This change fixes or rolls back:" in fixer
        and 'href="../../changes/2026-01-05-a/"' in fixer
    )
    incidents = (runbook / "out" / "changes" / "2026-03-03-e" / "index.html").read_text("utf-8")
    assert incidents.index("How to undo it") < incidents.index('id="incidents-and-fixes"')
    assert "2026-03-03 10:45 Z" in incidents and "2026-03-03 13:00 Z" in incidents
    # The timeline's month files carry the same links for the page's script.
    month = json.loads((runbook / "out" / "timeline" / "2026-01.json").read_text("utf-8"))
    rows = {row["id"]: row for row in month}
    assert rows["2026-01-06-b"]["fixes"] == [["Change a", "changes/2026-01-05-a/"]]
    assert rows["2026-01-06-b"]["fixed_by"] == [["Change c", "changes/2026-01-07-c/"]]


def test_a_rollout_window_shows_on_the_record_page_and_timeline(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    (runbook_repo / "records" / "2026-01-05-w.yaml").write_text(
        RECORD.format(
            name="w",
            day="2026-01-05",
            lines="started_at: 2026-01-05T08:55:00+01:00\nshipped_at: 2026-01-05T10:00:00+01:00\n",
            service="web",
            undone="",
        ),
        encoding="utf-8",
    )
    assert run_runbook("render", "--out", "out").exit_code == 0
    page = (runbook_repo / "out" / "changes" / "2026-01-05-w.md").read_text(encoding="utf-8")
    assert ">08:55</time>, rolled out over 1 h 5 min" in page
    timeline = (runbook_repo / "out" / "timeline.md").read_text(encoding="utf-8")
    assert "<span>rolled out over 1 h 5 min</span>" in timeline


def test_the_delivery_page_shows_the_last_12_months_with_runbook_doras_figures(
    runbook_repo: Path, run_runbook: Callable[..., CliRun]
) -> None:
    # Three years of checkout, a deployment a month (every third one rolled back); legacy
    # deployed only in its first year; search in the last months, with a quiet month between.
    records = [(f"{year}-{month:02d}-10", "checkout") for year in (2023, 2024, 2025)
               for month in range(1, 13)]  # fmt: skip
    records += [("2023-03-01", "legacy"), ("2023-05-01", "legacy")]
    records += [("2025-08-02", "search"), ("2025-08-03", "search"), ("2025-10-04", "search")]
    for at, (day, service) in enumerate(records):
        name = f"n{at:02d}"
        lines = f"shipped_at: {day}T10:{at:02d}:00Z\ncommitted_at: {day}T0{at % 9}:00:00Z\n"
        if at % 3 == 0:
            lines += "status: rolled-back\n"
        (runbook_repo / "records" / f"{day}-{name}.yaml").write_text(
            RECORD.format(
                name=name, day=day, lines=lines, service=service,
                undone=", undone_by: the on-call" if at % 3 == 0 else "",
            ),
            encoding="utf-8",
        )  # fmt: skip
    dora_rows = run_runbook("dora", "--format", "json").json()
    assert run_runbook("render", "--out", "out").exit_code == 0
    page = (runbook_repo / "out" / "delivery.md").read_text(encoding="utf-8")

    def shown(section: str) -> list[dict]:
        """The figures of one table of the page, as `runbook dora --format json` has them."""
        start = page.index(section)
        table = page[start : page.index("</table>", start)]
        return [
            {"month": month, **_figures_of(row)}
            for month, row in re.findall(r'data-label="Month">([0-9-]+)</td>(.*?)</tr>', table)
        ]

    def doras(service: str | None) -> list[dict]:
        keys = ("month", "deployments", "failed", "lead_time_hours", "time_to_restore_hours")
        return [{k: f[k] for k in keys} for f in reversed(dora_rows) if f["service"] == service
                and f["month"] >= "2025-01"]  # fmt: skip

    last_12 = [f"2025-{month:02d}" for month in range(12, 0, -1)]
    assert [f["month"] for f in shown("## Whole runbook")] == last_12
    assert shown("## Whole runbook") == doras(None)
    assert [f["month"] for f in shown("### checkout")] == last_12
    assert shown("### checkout") == doras("checkout")
    # search: its months from its first deployment to its last, the quiet 2025-09 included.
    assert shown("### search") == doras("search")
    assert [f["month"] for f in shown("### search")] == ["2025-10", "2025-09", "2025-08"]
    # legacy has no table, only its line among the services without deployments.
    assert "### legacy" not in page
    assert "1 other service without a deployment since 2025-01" in page
    assert "<span>legacy (last 2023-05)</span>" in page
    assert "Older months: `runbook dora --until 2024-12-31`." in page
    # The failed changes are those of the shown months only.
    failed = page[page.index("## Failed changes") : page.index("## How each figure")]
    assert re.findall(r"^### ([0-9-]+)$", failed, re.M) == sorted(
        {f["month"] for f in doras(None) if f["failed"]}, reverse=True
    )
    assert "2024-" not in failed and "2023-" not in failed


def _figures_of(row: str) -> dict:
    """Deployments, failed, lead time and time to restore of one row of the delivery page."""
    cells = dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row))

    def hours(cell: str) -> float | None:
        found = re.match(r"([0-9.]+) h", cell)
        return float(found.group(1)) if found else None

    failed = re.match(r"[0-9]+ % \(([0-9]+) of", cells["Change failure rate"])
    return {
        "deployments": int(re.match(r"[0-9]+", cells["Deployments"]).group()),  # type: ignore[union-attr]
        "failed": int(failed.group(1)) if failed else 0,
        "lead_time_hours": hours(cells["Lead time (median)"]),
        "time_to_restore_hours": hours(cells["Time to restore (median)"]),
    }
