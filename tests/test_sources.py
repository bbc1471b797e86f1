"""An aggregating runbook over real git repositories: sync, identity, failure isolation and
confinement of its sources."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_run import run_cli
from git_repos import git
from source_repos import add_record, aggregate, counting_git, team_runbook

EPOCH = "1795000000"


def run(repo: Path, *args: str) -> object:
    return run_cli(repo, *args, epoch=EPOCH)


@pytest.fixture
def teams(tmp_path: Path) -> dict[str, Path]:
    return {
        "payments": team_runbook(
            tmp_path / "payments", "payments-api", ["2026-11-01-raise-limits"]
        ),
        "search": team_runbook(tmp_path / "search", "Search", ["2026-11-02-reindex"]),
    }


def test_a_new_commit_shows_up_after_a_sync_and_an_unchanged_source_costs_one_ls_remote(
    tmp_path: Path, teams: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    org = aggregate(
        tmp_path / "org",
        [
            {"name": "payments", "git": teams["payments"].as_uri(), "ref": "main"},
            {"name": "search", "path": "../search"},
        ],
    )
    environment, calls = counting_git(tmp_path)
    monkeypatch.setenv("PATH", environment["PATH"])

    first = run(org, "sources", "sync")
    assert first.exit_code == 0, first.output
    assert "payments: fetched" in first.stdout and "search: read in place" in first.stdout
    assert [r["id"] for r in run(org, "list", "--format", "json").json()] == [
        "search/2026-11-02-reindex",
        "payments/2026-11-01-raise-limits",
    ]

    calls.write_text("")
    again = run(org, "sources", "sync")
    assert again.exit_code == 0 and "payments: up to date at" in again.stdout
    assert [line.split()[4] for line in calls.read_text().splitlines()] == ["ls-remote"]

    add_record(teams["payments"], "2026-11-05-bigger-pool", "payments-api", commit=True)
    calls.write_text("")
    changed = run(org, "sources", "sync")
    assert "payments: fetched" in changed.stdout
    made = [line.split()[4] for line in calls.read_text().splitlines()]
    assert "clone" not in made and made.count("fetch") == 1 and "init" not in made
    listed = run(org, "list", "--format", "json").json()
    assert listed[0]["id"] == "payments/2026-11-05-bigger-pool"
    assert listed[0]["source"] == "payments"
    assert listed[0]["path"] == "records/2026/2026-11-05-bigger-pool.yaml"
    commits = org / ".runbook-cache" / "sources" / "payments" / "commits"
    head = git(teams["payments"], "rev-parse", "HEAD").strip()
    assert head in {folder.name for folder in commits.iterdir()}


def test_a_broken_source_keeps_its_last_good_commit_and_an_unreachable_one_is_left_out(
    tmp_path: Path, teams: dict[str, Path]
) -> None:
    org = aggregate(
        tmp_path / "org",
        [
            {"name": "payments", "git": teams["payments"].as_uri()},
            {"name": "gone", "git": (tmp_path / "nowhere").as_uri()},
        ],
    )
    run(org, "sources", "sync")
    assert run(org, "list").exit_code == 0  # validates payments' commit: its last good one
    good = git(teams["payments"], "rev-parse", "HEAD").strip()

    broken = add_record(teams["payments"], "2026-11-06-broken", "payments-api")
    broken.write_text(broken.read_text() + "unknown_key: 1\n")
    git(teams["payments"], "add", "-A")
    git(teams["payments"], "commit", "-qm", "broken")
    sync = run(org, "sources", "sync")
    assert sync.exit_code == 1  # the unreachable source
    assert "gone: cannot sync: fatal:" in sync.stdout and "nowhere" in sync.stdout

    listed = run(org, "list", "--format", "json")
    assert [r["id"] for r in listed.json()] == ["payments/2026-11-01-raise-limits"]
    lines = [line for line in listed.stderr.splitlines() if "source" in line]
    assert len(lines) == 2, listed.stderr
    assert "source payments:" in lines[0] and f"showing commit {good[:12]}" in lines[0]
    assert "records/2026/2026-11-06-broken.yaml" in lines[0] and "[unknown-key]" in lines[0]
    assert "source gone: cannot fetch" in lines[1] and lines[1].endswith("left out")


def test_the_aggregate_builds_every_source_and_fails_only_under_strict(
    tmp_path: Path, teams: dict[str, Path]
) -> None:
    org = aggregate(
        tmp_path / "org",
        [
            {"name": "payments", "git": teams["payments"].as_uri()},
            {"name": "search", "path": str(teams["search"])},
            {"name": "gone", "git": (tmp_path / "nowhere").as_uri()},
        ],
    )
    # A record of the aggregate's own, with the checklists it names.
    shutil.copytree(teams["search"] / "checklists", org / "checklists")
    own = next((teams["search"] / "records").rglob("*.yaml"))
    (org / "records").mkdir()
    shutil.copy(own, org / "records" / "2026-11-02-own.yaml")
    built = run(org, "build", "-q")
    assert built.exit_code == 0, built.output
    assert built.output.count("source gone: cannot fetch") == 1
    site = org / "site"
    page = (site / "changes" / "payments" / "2026-11-01-raise-limits" / "index.html").read_text()
    assert "Source" in page and "records/2026/2026-11-01-raise-limits.yaml" in page
    assert (site / "changes" / "search" / "2026-11-02-reindex" / "index.html").is_file()
    exported = json.loads((site / "records.json").read_text())
    assert {(r["id"], r["source"]) for r in exported} == {
        ("2026-11-02-own", None),
        ("search/2026-11-02-reindex", "search"),
        ("payments/2026-11-01-raise-limits", "payments"),
    }
    assert (site / "changes" / "2026-11-02-own" / "index.html").is_file()
    # Two sources' checklists of the same id stay apart.
    assert (site / "checklists" / "payments" / "safe-change" / "index.html").is_file()
    assert (site / "checklists" / "search" / "safe-change" / "index.html").is_file()
    sources = (site / "sources" / "index.html").read_text()
    assert "gone" in sources and "left out" in sources

    strict = run(org, "build", "-q", "--no-sync", "--strict")
    assert strict.exit_code == 1 and "source gone" in strict.output


def test_a_hostile_source_reads_nothing_outside_its_checkout(
    tmp_path: Path, teams: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "outside-secret-4f9a"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.yaml").write_text(f"title: {secret}\n")
    (outside / "parent.yml").write_text(f"site_name: {secret}\n")
    monkeypatch.setenv("AGGREGATE_TOKEN", secret)
    hostile = {
        "env": "plugins:\n  - runbook:\n      records_dir: !ENV AGGREGATE_TOKEN\n",
        "python": "site_name: !!python/name:os.system\nplugins:\n  - runbook:\n"
        "      records_dir: !!python/object/apply:os.system [echo hi]\n",
        "inherit": "INHERIT: ../outside/parent.yml\n",
        "absolute": f"plugins:\n  - runbook:\n      records_dir: {outside}\n",
        "dotdot": "plugins:\n  - runbook:\n      records_dir: ../outside\n",
        "huge": "site_name: x\n" + "# padding\n" * 200_000,
    }
    sources = []
    for flavour, text in hostile.items():
        repo = team_runbook(tmp_path / flavour, flavour, [])
        (repo / "mkdocs.yml").write_text(text)
        sources.append({"name": flavour, "path": str(repo)})
    planted = team_runbook(tmp_path / "planted", "planted", [])
    os.symlink(outside / "leak.yaml", planted / "records" / "leak.yaml")
    sources.append({"name": "planted", "path": str(planted)})
    sources.append({"name": "payments", "git": teams["payments"].as_uri()})
    org = aggregate(tmp_path / "org", sources)

    run(org, "sources", "sync")
    listed = run(org, "list", "--format", "json")
    assert [r["id"] for r in listed.json()] == ["payments/2026-11-01-raise-limits"]
    assert secret not in listed.output
    problems = {
        line.removeprefix("runbook: source ").split(":", 1)[0]: line
        for line in listed.stderr.splitlines()
        if line.startswith("runbook: source ")
    }
    # `!ENV` is read as its name, never the aggregate's variable: a folder with no records.
    assert sorted(problems) == sorted([*hostile.keys() - {"env"}, "planted"]), listed.stderr
    assert "leads outside the source" in problems["absolute"]
    assert "outside" in problems["dotdot"]
    assert "INHERIT leads outside" in problems["inherit"]
    assert "larger than" in problems["huge"]
    assert "records/leak.yaml is a link leading outside the source" in problems["planted"]


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([{"name": "a", "path": "x"}, {"name": "a", "path": "y"}], "two sources are named 'a'"),
        ([{"name": "a", "path": "x", "git": "file:///x"}], "exactly one of `git:` and `path:`"),
        ([{"name": "Payments", "path": "x"}], "sources.0.name"),
        ([{"name": "a", "path": "x", "dir": "../up"}], "dir must be a relative folder"),
        ([{"name": "a", "git": "https://u:hunter2@example.com/r.git"}], "no password"),
        ([{"name": "a", "git": "ext::sh -c touch% /tmp/x"}], "git must be an https"),
        ([{"name": "a", "git": "file:///x", "ref": "--upload-pack=x"}], "ref is a branch"),
    ],
)
def test_a_bad_sources_option_is_a_configuration_error(
    tmp_path: Path, sources: list[dict[str, str]], message: str
) -> None:
    org = aggregate(tmp_path / "org", sources)
    result = run(org, "sources", "sync")
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_a_token_in_a_url_is_never_printed(tmp_path: Path) -> None:
    """A token can be a URL's user name; git's own message quotes the URL. Neither the sync,
    the build nor the site shows it."""
    token = "ghp_notarealtoken0123456789"
    org = aggregate(
        tmp_path / "org", [{"name": "private", "git": f"https://{token}@127.0.0.1:9/r.git"}]
    )
    synced = run(org, "sources", "sync", "--timeout", "20")
    assert synced.exit_code == 1 and "private: cannot sync:" in synced.stdout
    built = run(org, "build", "-q")
    assert built.exit_code == 0, built.output
    assert "https://127.0.0.1:9/r.git" in (org / "site" / "sources" / "index.html").read_text()
    published = [p.read_text(errors="replace") for p in (org / "site").rglob("*.html")]
    assert not any(token in text for text in [synced.output, built.output, *published])


def test_a_build_after_a_source_changed_is_no_no_change_build(
    tmp_path: Path, teams: dict[str, Path]
) -> None:
    """A build that finds nothing changed leaves the site as it is; a new commit in a git
    source, or a new file in a path source, is a change even when the aggregate's own files
    are not."""
    org = aggregate(
        tmp_path / "org",
        [
            {"name": "payments", "git": teams["payments"].as_uri(), "ref": "main"},
            {"name": "search", "path": "../search"},
        ],
    )
    assert run(org, "build", "-q").exit_code == 0
    assert "nothing changed" in run(org, "build").output
    add_record(teams["payments"], "2026-11-05-bigger-pool", "payments-api", commit=True)
    rebuilt = run(org, "build")
    assert "nothing changed" not in rebuilt.output, rebuilt.output
    assert (org / "site" / "changes" / "payments" / "2026-11-05-bigger-pool").is_dir()
    add_record(teams["search"], "2026-11-06-new-shards", "Search")
    rebuilt = run(org, "build")
    assert "nothing changed" not in rebuilt.output, rebuilt.output
    assert (org / "site" / "changes" / "search" / "2026-11-06-new-shards").is_dir()
