"""`runbook notify cdevents|pagerduty` against local servers implementing the documented
request and response shapes of a CDEvents (CloudEvents HTTP) receiver and of PagerDuty's
Events API v2 (tests/change_event_receivers.py; neither can be installed here). Every CDEvent
is checked against the CDEvents v0.5.1 JSON schemas, vendored in tests/data/cdevents-v0.5.1."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from change_event_receivers import Receiver, running_receiver
from cli_run import CliRun, run_cli
from jsonschema import Draft202012Validator
from record_files import EPOCH, initialised_runbook, starter, write_record
from referencing import Registry, Resource

from generator.authoring.sent_ledger import LEDGER_FILE

SCHEMAS = Path(__file__).parent / "data" / "cdevents-v0.5.1"
UPLOADS_KEY = "R0UTINGKEYUPLOADS0000000000000001"
BILLING_KEY = "R0UTINGKEYBILLING0000000000000002"
TOKEN = "cdevents-receiver-token-0123456789"


def _validators() -> dict[str, Draft202012Validator]:
    resources = [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCHEMAS.rglob("*.json"))
    ]
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in resources
    )
    return {
        schema["properties"]["context"]["properties"]["type"]["enum"][0]: Draft202012Validator(
            schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for schema in resources
        if "context" in schema.get("properties", {})
    }


VALIDATORS = _validators()


def assert_valid_cdevent(event: dict[str, Any]) -> None:
    """The event validates against its type's v0.5.1 schema, and its timestamp is RFC 3339."""
    VALIDATORS[event["context"]["type"]].validate(event)
    assert event["context"]["timestamp"].endswith("Z")
    dt.datetime.fromisoformat(event["context"]["timestamp"].replace("Z", "+00:00"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A deployment that stayed, one rolled back by a later record, one rolled back with no
    record saying how, one with its day only, and a planned one."""
    root = initialised_runbook(tmp_path)
    starter(root).rename(root / "starter.yaml")
    uploads: dict[str, Any] = {"service": "uploads-api"}
    write_record(
        root, "2026-11-10-base", "shipped_at: 2026-11-10T09:00:00Z\ncommit: aaaaaaa\n", **uploads
    )
    write_record(
        root,
        "2026-11-20-cap",
        "started_at: 2026-11-20T13:50:00+01:00\nshipped_at: 2026-11-20T14:05:00+01:00\n"
        "commit: 9fceb02\n",
        status="rolled-back",
        links=[{"title": "PR 812", "url": "https://git.example.com/pr/812"}],
        **uploads,
    )
    write_record(
        root,
        "2026-11-21-undo-cap",
        "shipped_at: 2026-11-21T08:00:00Z\ncommit: bbbbbbb\nfixes: [2026-11-20-cap]\n",
        **uploads,
    )
    write_record(root, "2026-11-19-billing", "commit: ccccccc\n", service="Billing API")
    write_record(root, "2026-11-23-tls", "shipped_at: 2026-11-23T10:00:00Z\n",
                 service="billing-api", status="rolled-back")  # fmt: skip
    write_record(root, "2026-11-24-plan", "", service="billing-api", status="planned")
    return root


def notify(repo: Path, *args: str, env: dict[str, str] | None = None) -> CliRun:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        return run_cli(repo, "notify", *args, epoch=EPOCH)


def send_cdevents(repo: Path, receiver: Receiver, *args: str) -> CliRun:
    return notify(repo, "cdevents", "--url", receiver.endpoint, *args)


KEYS = {"PAGERDUTY_ROUTING_KEY": UPLOADS_KEY, "BILLING_KEY": BILLING_KEY}


def send_pagerduty(repo: Path, receiver: Receiver, *args: str) -> CliRun:
    route = ("--service-key-env", "billing api=BILLING_KEY")  # any spelling of the service
    return notify(repo, "pagerduty", "--url", receiver.endpoint, *route, *args, env=KEYS)


EXPECTED_EVENTS = [
    "2026-11-10-base.deployed",
    "2026-11-19-billing.deployed",
    "2026-11-20-cap.deployed",
    "2026-11-20-cap.rolledback",
    "2026-11-21-undo-cap.deployed",
    "2026-11-23-tls.deployed",
    "2026-11-23-tls.rolledback",
]


def test_cdevents_are_valid_cloudevents_in_binary_mode_once_each(repo: Path) -> None:
    with running_receiver("cdevents") as receiver:
        result = send_cdevents(repo, receiver)
        assert result.exit_code == 0, result.output
        assert result.stdout.split()[1::2] == EXPECTED_EVENTS
        assert [r["headers"]["ce-id"] for r in receiver.accepted] == EXPECTED_EVENTS
        for request in receiver.accepted:
            event, headers = request["body"], request["headers"]
            assert_valid_cdevent(event)
            assert headers["ce-type"] == event["context"]["type"]
            assert headers["ce-source"] == event["context"]["source"]
            assert headers["ce-subject"] == event["subject"]["id"]
            assert headers["ce-time"] == event["context"]["timestamp"]
            assert headers["content-type"] == "application/json"
        again = send_cdevents(repo, receiver)
        assert again.exit_code == 0 and again.stdout == ""
        assert "posted 0, 7 sent before" in again.stderr
        assert len(receiver.seen) == 7
    events = {e["context"]["id"]: e for e in receiver.bodies()}
    cap = events["2026-11-20-cap.deployed"]
    assert cap["context"]["timestamp"] == "2026-11-20T13:05:00Z"
    assert cap["context"]["source"] == "https://example.github.io/runbook/"
    assert cap["subject"] == {
        "id": "uploads-api",
        "content": {
            "environment": {"id": "production"},
            "artifactId": "pkg:generic/uploads-api@9fceb02",
        },
    }
    runbook = cap["customData"]["runbook"]
    assert runbook["url"] == "https://example.github.io/runbook/changes/2026-11-20-cap/"
    assert runbook["started_at"] == "2026-11-20T12:50:00Z"
    # Undone by a later record: at its time, running its commit.
    undone = events["2026-11-20-cap.rolledback"]
    assert undone["context"]["timestamp"] == "2026-11-21T08:00:00Z"
    assert undone["subject"]["content"]["artifactId"] == "pkg:generic/uploads-api@bbbbbbb"
    assert undone["customData"]["runbook"]["timestamp_from"] == "shipped_at of 2026-11-21-undo-cap"
    # No record says how: at its own time, back to the previous deployment (any spelling).
    tls = events["2026-11-23-tls.rolledback"]
    assert tls["context"]["timestamp"] == "2026-11-23T10:00:00Z"
    assert tls["subject"]["content"]["artifactId"] == "pkg:generic/billing-api@ccccccc"
    day = events["2026-11-19-billing.deployed"]
    assert day["context"]["timestamp"] == "2026-11-19T00:00:00Z"
    assert day["customData"]["runbook"]["timestamp_from"] == "date"


def test_a_new_record_alone_is_sent_and_an_edited_one_again(repo: Path) -> None:
    with running_receiver("cdevents") as receiver:
        assert send_cdevents(repo, receiver).exit_code == 0
        write_record(repo, "2026-11-25-late", "shipped_at: 2026-11-25T10:00:00Z\n")
        assert send_cdevents(repo, receiver).stdout.split() == [
            "posted",
            "2026-11-25-late.deployed",
        ]
        write_record(repo, "2026-11-25-late", "shipped_at: 2026-11-25T11:00:00Z\n")
        edited = send_cdevents(repo, receiver)
        assert edited.stdout.split() == ["posted", "2026-11-25-late.deployed"]
        assert [r["headers"]["ce-id"] for r in receiver.accepted].count(
            "2026-11-25-late.deployed"
        ) == 2


def test_since_and_changed_pick_records_and_the_rollbacks_they_record(repo: Path) -> None:
    dry = notify(
        repo, "cdevents", "--url", "http://127.0.0.1:9/", "--dry-run", "--since", "2026-11-21"
    )
    assert dry.exit_code == 0, dry.output
    ids = [json.loads(line)["body"]["context"]["id"] for line in dry.stdout.splitlines()]
    # The record undoing 2026-11-20-cap brings that record's rollback along.
    assert ids == [
        "2026-11-20-cap.rolledback",
        "2026-11-21-undo-cap.deployed",
        "2026-11-23-tls.deployed",
        "2026-11-23-tls.rolledback",
    ]


def test_changed_takes_the_records_changed_since_a_revision(repo: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "records")
    write_record(repo, "2026-11-25-late", "shipped_at: 2026-11-25T10:00:00Z\n")
    dry = notify(repo, "cdevents", "--url", "http://127.0.0.1:9/", "--dry-run", "--changed", "HEAD")
    assert dry.exit_code == 0, dry.output
    assert [json.loads(line)["body"]["context"]["id"] for line in dry.stdout.splitlines()] == [
        "2026-11-25-late.deployed"
    ]


def test_out_writes_the_same_valid_files_every_time(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "events"
    first = notify(repo, "cdevents", "--out", str(out))
    assert first.exit_code == 0, first.output
    files = sorted(out.iterdir())
    assert [path.name for path in files] == sorted(f"{event}.json" for event in EXPECTED_EVENTS)
    written = {path.name: path.read_bytes() for path in files}
    for data in written.values():
        assert_valid_cdevent(json.loads(data))
    assert notify(repo, "cdevents", "--out", str(out)).exit_code == 0
    assert {path.name: path.read_bytes() for path in sorted(out.iterdir())} == written
    assert not (repo / ".runbook-cache" / LEDGER_FILE).exists()


def test_a_bearer_token_is_sent_and_never_printed(repo: Path) -> None:
    with running_receiver("cdevents") as receiver:
        result = notify(repo, "cdevents", "--url", receiver.endpoint, "--token-env", "CE_TOKEN",
                        env={"CE_TOKEN": TOKEN})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert {r["headers"]["authorization"] for r in receiver.accepted} == {f"Bearer {TOKEN}"}
        dry = notify(repo, "cdevents", "--url", receiver.endpoint, "--token-env", "CE_TOKEN",
                     "--dry-run", env={"CE_TOKEN": TOKEN})  # fmt: skip
    assert TOKEN not in result.output + dry.output
    assert TOKEN not in (repo / ".runbook-cache" / LEDGER_FILE).read_text(encoding="utf-8")


def test_pagerduty_change_events_are_routed_per_service(repo: Path) -> None:
    with running_receiver("pagerduty", {UPLOADS_KEY, BILLING_KEY}) as receiver:
        result = send_pagerduty(repo, receiver)
        assert result.exit_code == 0, result.output
        again = send_pagerduty(repo, receiver)
        assert again.stdout == "" and "posted 0, 7 sent before" in again.stderr
        assert len(receiver.seen) == 7
    ledger = (repo / ".runbook-cache" / LEDGER_FILE).read_text(encoding="utf-8")
    for secret in (UPLOADS_KEY, BILLING_KEY):
        assert secret not in ledger and secret not in result.output + again.output
    bodies = {
        f"{b['payload']['custom_details']['record']}.{b['payload']['custom_details']['change']}": b
        for b in receiver.bodies()
    }
    assert list(bodies) == EXPECTED_EVENTS
    assert {b["routing_key"] for i, b in bodies.items() if "billing" in i or "tls" in i} == {
        BILLING_KEY
    }
    assert {b["routing_key"] for i, b in bodies.items() if "cap" in i or "base" in i} == {
        UPLOADS_KEY
    }
    cap = bodies["2026-11-20-cap.deployed"]
    assert (
        cap["payload"]["summary"]
        == "Keep a runbook of every change we ship (uploads-api, production)"
    )
    assert cap["payload"]["timestamp"] == "2026-11-20T13:05:00Z"
    assert cap["payload"]["source"] == "https://example.github.io/runbook/"
    assert cap["payload"]["custom_details"]["commit"] == "9fceb02"
    assert cap["links"] == [
        {
            "href": "https://example.github.io/runbook/changes/2026-11-20-cap/",
            "text": "Runbook record",
        },
        {"href": "https://git.example.com/pr/812", "text": "PR 812"},
    ]
    undone = bodies["2026-11-20-cap.rolledback"]["payload"]
    assert (
        undone["summary"].startswith("Rolled back: ")
        and undone["timestamp"] == "2026-11-21T08:00:00Z"
    )
    assert all(len(b["payload"]["summary"]) <= 1024 for b in bodies.values())


def test_pagerduty_dry_run_needs_no_key_no_network_and_shows_none(repo: Path) -> None:
    result = notify(repo, "pagerduty", "--url", "http://127.0.0.1:9/v2/change/enqueue", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 7
    assert {line["body"]["routing_key"] for line in lines} == {"${PAGERDUTY_ROUTING_KEY}"}
    assert {line["method"] for line in lines} == {"POST"}
    with running_receiver("pagerduty", {UPLOADS_KEY, BILLING_KEY}) as receiver:
        assert send_pagerduty(repo, receiver, "--since", "2026-11-23").exit_code == 0
        dry = send_pagerduty(repo, receiver, "--dry-run")
        assert len(receiver.seen) == 2
    # With the keys at hand, the ledger is read: what was sent is not listed again.
    assert len(dry.stdout.splitlines()) == 5 and "would send 5, 2 sent before" in dry.stderr
    assert UPLOADS_KEY not in dry.output + result.output and BILLING_KEY not in dry.output


def test_an_invalid_event_is_named_the_others_sent_and_it_is_retried(repo: Path) -> None:
    with running_receiver("pagerduty", {UPLOADS_KEY, BILLING_KEY}) as receiver:
        receiver.answer_for["2026-11-20-cap.deployed"] = 400
        result = send_pagerduty(repo, receiver)
        assert result.exit_code == 1
        assert len(receiver.accepted) == 6
        assert (
            f"runbook notify pagerduty: 2026-11-20-cap.deployed not posted: PagerDuty at "
            f"{receiver.endpoint} refused POST of 2026-11-20-cap.deployed (HTTP 400: Event object "
            "is invalid: refused for the test (400))"
        ) in result.stderr.splitlines()
        del receiver.answer_for["2026-11-20-cap.deployed"]
        retry = send_pagerduty(repo, receiver)
        assert retry.exit_code == 0 and retry.stdout.split() == [
            "posted",
            "2026-11-20-cap.deployed",
        ]


@pytest.mark.parametrize(("kind", "status"), [("pagerduty", 429), ("cdevents", 503)])
def test_throttling_or_a_server_error_stops_and_the_next_run_sends_the_rest(
    repo: Path, kind: str, status: int
) -> None:
    with running_receiver(kind, {UPLOADS_KEY, BILLING_KEY}) as receiver:
        send = send_pagerduty if kind == "pagerduty" else send_cdevents
        receiver.accept_only = 3
        stopped = send(repo, receiver)
        assert stopped.exit_code == 1
        assert f"(HTTP {status}" in stopped.stderr and "next run" in stopped.stderr
        assert "posted 3, 4 not posted (stopped), 0 sent before" in stopped.stderr
        assert len(receiver.seen) == 4  # stopped at the first refusal
        receiver.accept_only = None
        rest = send(repo, receiver)
        assert rest.exit_code == 0 and "posted 4, 3 sent before" in rest.stderr
    assert len(receiver.accepted) == 7


def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(repo: Path) -> None:
    with (
        running_receiver("pagerduty", {UPLOADS_KEY}) as elsewhere,
        running_receiver("pagerduty", {UPLOADS_KEY, BILLING_KEY}) as receiver,
    ):
        receiver.redirect = elsewhere.endpoint + "?key=x"
        result = send_pagerduty(repo, receiver)
        assert elsewhere.seen == []
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert f"with a redirect (HTTP 307 to {elsewhere.url}); not followed" in line
    assert "key=x" not in line and UPLOADS_KEY not in result.output


@pytest.mark.parametrize("mode", ["trickle", "endless", "not_the_service"])
def test_hostile_answers_are_one_line_and_nothing_is_noted_as_sent(repo: Path, mode: str) -> None:
    with running_receiver("pagerduty", {UPLOADS_KEY, BILLING_KEY}) as receiver:
        setattr(receiver, mode, True)
        result = send_pagerduty(repo, receiver, "--timeout", "1")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    expected = {
        "trickle": "did not answer POST of 2026-11-10-base.deployed within 1 s",
        "endless": "with more than 1048576 bytes; stopped reading",
        "not_the_service": "but not as PagerDuty accepts an event (<html><body>Welcome",
    }[mode]
    assert expected in line and "Traceback" not in result.output
    assert UPLOADS_KEY not in result.output and BILLING_KEY not in result.output
    assert not (repo / ".runbook-cache" / LEDGER_FILE).exists()


def test_an_unset_or_unusable_key_is_a_usage_error_never_echoed(repo: Path) -> None:
    unset = notify(repo, "pagerduty", "--url", "http://127.0.0.1:9/")
    assert unset.exit_code == 2
    assert unset.stderr.splitlines() == [
        "runbook: notify: set PAGERDUTY_ROUTING_KEY: credentials are read from the environment only"
    ]
    broken = notify(repo, "pagerduty", "--url", "http://127.0.0.1:9/",
                    env={"PAGERDUTY_ROUTING_KEY": f"{UPLOADS_KEY}\r\nX-Injected: 1"})  # fmt: skip
    assert broken.exit_code == 2 and UPLOADS_KEY not in broken.output
    assert "Injected" not in broken.output
    secret_url = notify(
        repo, "pagerduty", "--url", f"https://u:{UPLOADS_KEY}@example.com/", "--dry-run"
    )
    assert secret_url.exit_code == 2 and UPLOADS_KEY not in secret_url.output
    query = notify(repo, "cdevents", "--url", f"https://example.com/?token={TOKEN}", "--dry-run")
    assert query.exit_code == 2 and TOKEN not in query.output


def test_an_unreachable_receiver_is_one_line(repo: Path) -> None:
    with running_receiver("cdevents") as receiver:
        url = receiver.endpoint
    result = notify(repo, "cdevents", "--url", url)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"runbook notify cdevents: cannot reach the CDEvents receiver at {url}")


def test_the_ledger_survives_a_cut_line_and_refuses_a_planted_link(
    repo: Path, tmp_path: Path
) -> None:
    ledger = repo / ".runbook-cache" / LEDGER_FILE
    ledger.parent.mkdir(exist_ok=True)
    ledger.write_text('{"sink":"cdevents","destin', encoding="utf-8")  # a crash mid-line
    with running_receiver("cdevents") as receiver:
        result = send_cdevents(repo, receiver)
        assert result.exit_code == 0 and "skipped 1 lines" in result.stderr
        assert send_cdevents(repo, receiver).stdout == ""
    assert len(ledger.read_text(encoding="utf-8").splitlines()) == 8
    outside = tmp_path / "outside.jsonl"
    outside.write_text("", encoding="utf-8")
    ledger.unlink()
    ledger.symlink_to(outside)
    with running_receiver("cdevents") as receiver:
        planted = send_cdevents(repo, receiver)
    assert planted.exit_code == 2 and "Traceback" not in planted.output
    assert outside.read_text(encoding="utf-8") == ""
