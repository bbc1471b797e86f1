"""`runbook annotate` against a local server speaking Grafana's annotations API (Grafana
itself cannot be installed here; tests/grafana_api.py says which documented shapes it
implements), and annotations.json as the site publishes it."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
import yaml
from cli_run import CliRun, run_cli
from grafana_api import FakeGrafana, running_grafana
from record_files import EPOCH, initialised_runbook, starter, write_record

from generator.authoring.annotate import MAX_ANSWER_BYTES, QUERY_LIMIT
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


def test_a_rollout_window_is_a_region_in_annotations_json_and_on_grafana(repo: Path) -> None:
    write_record(
        repo,
        "2026-11-22-rollout",
        "started_at: 2026-11-22T09:40:00+01:00\nshipped_at: 2026-11-22T10:05:00+01:00\n",
    )
    window = (ms("2026-11-22T08:40:00+00:00"), ms("2026-11-22T09:05:00+00:00"))
    out = repo / "rendered"
    assert run_cli(repo, "render", "--out", str(out), epoch=EPOCH).exit_code == 0
    exported = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
    (rollout,) = [a for a in exported if a["id"] == "2026-11-22-rollout"]
    assert (rollout["time"], rollout["timeEnd"]) == window
    with running_grafana(TOKEN) as grafana:
        assert annotate(repo, grafana).exit_code == 0
        (posted,) = [a for a in grafana.annotations if "runbook-id:2026-11-22-rollout" in a["tags"]]
        assert (posted["time"], posted["timeEnd"]) == window
        again = annotate(repo, grafana)
        assert "posted 0, 5 already on Grafana" in again.stderr and len(grafana.annotations) == 5


# Hostile and broken answers. Every run below must end with one line per problem, never a
# traceback, never the token and never a URL's password; nothing may be posted twice.

PASSWORD = "s3cret-pa55word"


def assert_private(result: CliRun, token: str = TOKEN) -> None:
    for secret in (token, PASSWORD, "Traceback"):
        assert secret not in result.output


def post_count(grafana: FakeGrafana) -> int:
    return sum(method == "POST" for method, _, _ in grafana.requests)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_post_is_an_error_naming_status_and_host_never_posted(
    repo: Path, status: int
) -> None:
    with running_grafana(TOKEN) as grafana, running_grafana(TOKEN) as elsewhere:
        port = elsewhere.url.rsplit(":", 1)[1]
        location = f"http://admin:{PASSWORD}@localhost:{port}/api/annotations?auth={PASSWORD}"
        grafana.redirect["POST"] = (status, location)
        for _ in range(2):  # and the same on the next run: never "posted"
            result = annotate(repo, grafana)
            assert result.exit_code == 1
            assert result.stdout == ""
            assert result.stderr.splitlines() == [
                f"runbook annotate: Grafana at {grafana.url} answered POST /api/annotations "
                f"with a redirect (HTTP {status} to http://localhost:{port}); not followed: "
                "give --grafana-url the address Grafana answers at"
            ]
            assert_private(result)
        assert grafana.annotations == [] and post_count(grafana) == 2
        assert elsewhere.requests == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_get_redirected_to_another_host_is_not_followed(repo: Path, status: int) -> None:
    with running_grafana(TOKEN) as grafana, running_grafana(TOKEN) as elsewhere:
        grafana.redirect["GET"] = (status, f"{elsewhere.url}/api/annotations?x=1")
        result = annotate(repo, grafana)
        assert elsewhere.requests == []  # so no Authorization ever reached it
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} answered GET /api/annotations with a "
        f"redirect (HTTP {status} to {elsewhere.url}); not followed: give --grafana-url the "
        "address Grafana answers at"
    ]
    assert grafana.annotations == [] and post_count(grafana) == 0
    assert_private(result)


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_trickling_answer_ends_at_the_deadline(repo: Path, where: str) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.trickle = where
        started = time.monotonic()
        result = annotate(repo, grafana, "--timeout", "1")
        took = time.monotonic() - started
        assert grafana.written >= 3  # it was trickling, not silent
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} did not answer GET /api/annotations within 1 s"
    ]
    assert took < 4  # one second's deadline; the rest is loading the records on a busy host
    assert_private(result)


def test_an_endless_answer_is_read_up_to_the_cap(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.endless = True
        result = annotate(repo, grafana)
        written = grafana.written
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} answered GET /api/annotations with more "
        f"than {MAX_ANSWER_BYTES} bytes; stopped reading"
    ]
    # what the server got out: the cap, one chunk, and what the sockets' buffers held
    assert written < MAX_ANSWER_BYTES + 16 * 1024 * 1024


def test_a_declared_length_past_the_cap_is_not_read(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.huge_length = True
        result = annotate(repo, grafana)
    assert result.exit_code == 1
    assert "with more than" in result.stderr and len(result.stderr.splitlines()) == 1


def test_an_answer_that_is_not_http_is_one_escaped_line(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.not_http = True
        result = annotate(repo, grafana)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} gave a broken HTTP answer to GET "
        "/api/annotations: BadStatusLine: SSH-2.0-OpenSSH_9.6\\x1b[2J\\r\\n"
    ]


NOT_A_LIST = "answered GET /api/annotations with JSON that is not a list of annotations"
NOT_ANNOTATIONS = "answered GET /api/annotations with an annotation that is not an object"


@pytest.mark.parametrize(
    ("method", "answer", "problem"),
    [
        ("GET", b'{"annotations": []}', NOT_A_LIST),
        ("GET", b'"[]"', NOT_A_LIST),
        ("GET", b'[["runbook", "runbook-id:2026-11-20-utc"]]', NOT_ANNOTATIONS),
        ("GET", b'[{"tags": "runbook-id:2026-11-20-utc"}]', NOT_ANNOTATIONS),
        ("GET", b'[{"tags": {"runbook": 1}}]', NOT_ANNOTATIONS),
        ("GET", b"[" * 200_000 + b"]" * 200_000, "did not answer GET /api/annotations with JSON"),
        ("GET", b"1" + b"0" * 10_000, "did not answer GET /api/annotations with JSON"),
        ("GET", b"<html>Sign in</html>", "did not answer GET /api/annotations with JSON"),
        ("POST", b'{"message": "Annotation added", "id": "7"}', "without the new annotation's id"),
        ("POST", b'[{"id": 7}]', "without the new annotation's id"),
        ("POST", b'{"id": true}', "without the new annotation's id"),
        ("POST", b"{" * 200_000, "did not answer POST /api/annotations with JSON"),
    ],
)
def test_an_oddly_typed_or_nested_answer_is_one_line(
    repo: Path, method: str, answer: bytes, problem: str
) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.raw_answer[method] = answer
        result = annotate(repo, grafana)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"runbook annotate: Grafana at {grafana.url} ") and problem in first
    assert result.stdout == ""  # a POST not acknowledged is never said to be posted
    assert_private(result)


def test_strings_where_grafana_has_numbers_are_not_needed(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.raw_answer["GET"] = json.dumps(
            [{"id": "x", "time": "soon", "timeEnd": None, "tags": ["runbook-id:2026-11-20-utc"]}]
        ).encode()
        result = annotate(repo, grafana)
    assert result.exit_code == 0, result.output
    assert "2026-11-20-utc" not in result.stdout and len(grafana.annotations) == 3


@pytest.mark.parametrize("spread", [True, False])
def test_more_annotations_in_range_than_a_page_never_posts_twice(repo: Path, spread: bool) -> None:
    """Others' runbook annotations fill the range past QUERY_LIMIT: spread over it, or all at
    one record's millisecond (no window can be split small enough)."""
    with running_grafana(TOKEN) as grafana:
        assert annotate(repo, grafana).exit_code == 0
        ours = {a["tags"][1]: a for a in grafana.annotations}
        first, last = (min(a["time"] for a in ours.values()), max(a["time"] for a in ours.values()))
        crowd = QUERY_LIMIT + 1500
        for n in range(crowd):
            at = first + (last - first) * n // crowd if spread else ours[
                "runbook-id:2026-11-20-utc"]["time"]  # fmt: skip
            grafana.annotations.append(
                {"id": 100 + n, "time": at, "tags": ["runbook", f"runbook-id:elsewhere-{n}"]}
            )
        # newest first, so a page cut at the limit misses the oldest record
        again = annotate(repo, grafana)
        assert again.exit_code == 0, again.output
        assert "posted 0, 4 already on Grafana" in again.stderr
        assert post_count(grafana) == 4
        gets = sum(method == "GET" for method, _, _ in grafana.requests)
    assert gets < 60


def test_a_record_grafana_refuses_is_named_and_the_others_posted(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.refuse_tags["runbook-id:2026-11-20-utc"] = 400
        result = annotate(repo, grafana)
        assert result.exit_code == 1
        assert result.stdout.split()[1::2] == [
            "2026-11-19-day-only",
            "2026-11-20-berlin",
            "2026-11-21-newyork",
        ]
        assert result.stderr.splitlines() == [
            f"runbook annotate: 2026-11-20-utc not posted: Grafana at {grafana.url} refused "
            "POST /api/annotations (HTTP 400: bad request data)",
            "runbook annotate: posted 3, 1 refused, 0 already on Grafana",
        ]
        grafana.refuse_tags.clear()
        again = annotate(repo, grafana)
        assert again.exit_code == 0 and again.stdout.split() == ["posted", "2026-11-20-utc"]
        tags = [a["tags"][1] for a in grafana.annotations]
    assert len(tags) == len(set(tags)) == 4


def test_a_server_error_stops_the_run_with_one_line(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.refuse_tags["runbook-id:2026-11-20-utc"] = 503
        result = annotate(repo, grafana)
    assert result.exit_code == 1
    assert result.stdout.split() == ["posted", "2026-11-19-day-only", "posted", "2026-11-20-berlin"]
    assert result.stderr.splitlines() == [
        f"runbook annotate: Grafana at {grafana.url} failed on POST /api/annotations "
        "(HTTP 503: bad request data)",
        "runbook annotate: posted 2, 2 not posted (stopped), 0 already on Grafana",
    ]


@pytest.mark.parametrize(
    "token", [f"{TOKEN}\r\nX-Injected: 1", f"{TOKEN}\nsecond", f"{TOKEN}\x1b[2J", f"glsa {TOKEN}"]
)
def test_a_token_with_a_control_character_is_refused_without_echo(repo: Path, token: str) -> None:
    with running_grafana(TOKEN) as grafana:
        result = annotate(repo, grafana, token=token)
    assert result.exit_code == 2 and grafana.requests == []
    assert result.stderr.splitlines() == [
        "runbook: annotate: RUNBOOK_GRAFANA_TOKEN holds a line break, space, control or "
        "non-ASCII character inside the token: set it to the token alone"
    ]
    assert_private(result, token)
    assert "Injected" not in result.output and "second" not in result.output


@pytest.mark.parametrize(
    "template",
    ["http://admin:{password}@{host}", "http://{password}@{host}", "http://:{password}@{host}/"],
)
def test_a_url_with_credentials_is_refused_without_echo(repo: Path, template: str) -> None:
    with running_grafana(TOKEN) as grafana:
        host = grafana.url.removeprefix("http://")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RUNBOOK_GRAFANA_TOKEN", TOKEN)
            result = run_cli(
                repo, "annotate", "--grafana-url", template.format(password=PASSWORD, host=host),
                "--token-env", "RUNBOOK_GRAFANA_TOKEN", epoch=EPOCH,
            )  # fmt: skip
        assert grafana.requests == []
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "runbook: annotate: --grafana-url must not hold a user name or password: the token is "
        "read from the variable --token-env names"
    ]
    assert_private(result)


def test_a_server_message_with_control_characters_is_escaped(repo: Path) -> None:
    with running_grafana(TOKEN) as grafana:
        grafana.refuse_tags["runbook-id:2026-11-20-utc"] = 400
        grafana.refusal_message = "bad\x1b[31m red\r\nrunbook annotate: posted all\u202e"
        result = annotate(repo, grafana)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(
        "(HTTP 400: bad\\x1b[31m red\\r\\nrunbook annotate: posted all\\u202e)"
    )
    assert "\x1b" not in result.output and "\u202e" not in result.output


def test_record_text_shows_literally_in_grafanas_html_tooltip(repo: Path) -> None:
    write_record(
        repo,
        "2026-11-22-html",
        "shipped_at: 2026-11-22T10:00:00Z\n",
        title='<a href="https://evil.example">click</a> <img src=x onerror=alert(1)> & co',
    )
    with running_grafana(TOKEN) as grafana:
        assert annotate(repo, grafana).exit_code == 0
        (text,) = [a["text"] for a in grafana.annotations if "2026-11-22-html" in a["tags"][1]]
    assert '<a href="https://evil' not in text and "<img" not in text
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; co" in text
    assert text.endswith("/changes/2026-11-22-html/</a>")


def test_annotation_tags_use_the_names_the_site_shows_for_the_whole_runbook(repo: Path) -> None:
    """An alias renames a service everywhere, and a record's spelling yields to the one most
    records use, even when --since leaves those records out of the run."""
    config = repo / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "      records_dir: records\n",
            "      records_dir: records\n"
            "      aliases:\n        services: {billing-api: Billing}\n",
        ),
        encoding="utf-8",
    )
    result = run_cli(
        repo, "annotate", "--grafana-url", "http://127.0.0.1:9", "--dry-run", epoch=EPOCH,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bodies = {json.loads(line)["tags"][1]: json.loads(line) for line in result.stdout.splitlines()}
    assert "Billing" in bodies["runbook-id:2026-11-19-day-only"]["tags"]
    assert "billing-api" not in bodies["runbook-id:2026-11-19-day-only"]["tags"]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1]:99999",
        "https://",
        "http://host/?q=1",
        "ftp://host",
        "http://a b",
    ],
)
def test_a_url_that_is_no_grafana_base_url_is_one_usage_line(repo: Path, url: str) -> None:
    result = run_cli(repo, "annotate", "--grafana-url", url, "--dry-run", epoch=EPOCH)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("runbook: annotate: --grafana-url ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
