"""`runbook serve` rebuilds when a record changes and keeps answering while one is broken: a
real server on localhost, bounded in time."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from generator.site.rebuilds import surviving_failures

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, expected: str | None = None) -> str:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        body = fetch(url)
        if body is not None and (expected is None or expected in body):
            return body
        time.sleep(0.5)
    raise AssertionError(f"{url} did not serve {expected!r} within {TIMEOUT_SECONDS} s")


def fetch_page(url: str) -> tuple[float, str]:
    """Seconds to answer and the body of one request, error statuses included."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        body = ""  # not listening yet
    return time.monotonic() - started, body


@contextmanager
def serving(repo: Path, log: Path, program: str = "generator") -> Iterator[str]:
    """`runbook serve` (or `mkdocs serve`, program "mkdocs") in `repo`, its terminal output
    in `log`; yields the base URL."""
    port = free_port()
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", program, "serve", "-a", f"127.0.0.1:{port}"],
            cwd=repo,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                pytest.fail(f"{program} serve did not stop on SIGTERM")


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {TIMEOUT_SECONDS} s")


def test_serve_rebuilds_when_a_record_is_added(runbook_repo: Path, tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    with serving(runbook_repo, tmp_path / "serve.log") as base:
        wait_for(base + "changes/2026-11-20-cap-upload-size/", "Cap upload size")
        assert fetch(base + "changes/2026-11-23-served-later/") is None

        source = runbook_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
        text = source.read_text(encoding="utf-8").replace(
            "title: Cap upload size", "title: Served later", 1
        )
        (source.parent / "2026-11-23-served-later.yaml").write_text(text, encoding="utf-8")
        wait_for(base + "changes/2026-11-23-served-later/", "Served later")
        wait_for(base, "2026-11-23-served-later")


def test_a_rebuild_with_nothing_changed_builds_nothing(runbook_repo: Path, tmp_path: Path) -> None:
    """A file no page depends on (an editor's note beside the records) starts a rebuild that
    finds every input as the last build read it, and builds nothing."""
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    log = tmp_path / "serve.log"
    with serving(runbook_repo, log) as base:
        wait_for(base + "changes/2026-11-20-cap-upload-size/", "Cap upload size")
        (runbook_repo / "records" / "notes.txt").write_text("to do\n", encoding="utf-8")
        wait_until(lambda: "not rebuilt" in log.read_text(encoding="utf-8"), "no skipped rebuild")
        wait_for(base + "changes/2026-11-20-cap-upload-size/", "Cap upload size")
    assert log.read_text(encoding="utf-8").count("Documentation built in") == 1


def test_a_broken_record_never_holds_a_request_and_shows_on_the_page(
    runbook_repo: Path, tmp_path: Path
) -> None:
    """The last good site keeps answering, with the diagnostic in a banner on every page,
    until the record is fixed; each warning is printed once, not on every rebuild."""
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    record = runbook_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    good = record.read_text(encoding="utf-8")
    warned = runbook_repo / "records" / "2026" / "2026-11-21-says-nothing-expected.yaml"
    data = yaml.safe_load(good)
    del data["expected_result"]
    data["title"] = "Says nothing expected"
    warned.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    log = tmp_path / "serve.log"
    page = "changes/2026-11-20-cap-upload-size/"
    with serving(runbook_repo, log) as base:
        wait_for(base + page, "Cap upload size")
        record.write_text(good + "title: [broken\n", encoding="utf-8")
        wait_until(lambda: 'role="alert"' in fetch_page(base + page)[1], "no banner")
        for url in (base + page, base, base + "files/"):
            seconds, body = fetch_page(url)
            assert seconds < 5, f"{url} took {seconds:.1f} s"
            assert "Cap upload size" in body or url != base + page
            assert "2026-11-20-cap-upload-size.yaml:" in body and "[yaml-syntax]" in body
        for edit in range(2):  # rebuilds that change nothing about the warned record
            record.write_text(good + f"# edit {edit}\n", encoding="utf-8")
            wait_until(lambda: 'role="alert"' not in fetch_page(base + page)[1], "banner stays")
    output = log.read_text(encoding="utf-8")
    assert output.count("no expected_result") == 1, output
    assert "'dirty' build" not in output


def test_a_runbook_broken_from_the_start_serves_an_error_page(
    runbook_repo: Path, tmp_path: Path
) -> None:
    (runbook_repo / "records" / "2026").mkdir()
    record = runbook_repo / "records" / "2026" / "2026-11-20-broken.yaml"
    record.write_text("title: ok\ntitle: twice\n", encoding="utf-8")
    with serving(runbook_repo, tmp_path / "serve.log") as base:
        wait_until(lambda: "duplicate key" in fetch_page(base)[1], "no error page")
        seconds, body = fetch_page(base)
        assert seconds < 5
        assert "2026-11-20-broken.yaml:2:1: error: duplicate key 'title'" in body
        shutil.copy(REPO_ROOT / "records" / "2026" / "2026-11-20-cap-upload-size.yaml", record)
        wait_for(base, "Cap upload size")


def test_a_builder_is_made_to_survive_failures_once() -> None:
    """`runbook serve` wraps its builder, then the plugin's on_serve (which wraps plain
    `mkdocs serve`'s) keeps it as it is: the banner's callback is not replaced."""
    results: list[tuple[str, ...]] = []

    def broken_build() -> None:
        raise RuntimeError("records/broken.yaml:1:1: error")

    builder = surviving_failures(broken_build, results.append)
    assert surviving_failures(builder) is builder
    builder()
    assert results == [("records/broken.yaml:1:1: error",)]


def test_a_new_broken_record_has_an_error_page_with_the_diagnostics(
    runbook_repo: Path, tmp_path: Path
) -> None:
    """A record added broken has no page in the last good site: its URL answers with the
    diagnostics (and reloads), not the site's bare "not found"; fixed, its page appears."""
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    good = (runbook_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml").read_text(
        encoding="utf-8"
    )
    new = runbook_repo / "records" / "2026" / "2026-11-24-added-broken.yaml"
    page = "changes/2026-11-24-added-broken/"
    with serving(runbook_repo, tmp_path / "serve.log") as base:
        wait_for(base, "Cap upload size")
        new.write_text(good + "title: [broken\n", encoding="utf-8")
        wait_until(lambda: 'role="alert"' in fetch_page(base)[1], "no banner")
        seconds, body = fetch_page(base + page)
        assert seconds < 5
        assert 'role="alert"' in body and "no such page" in body
        assert "2026-11-24-added-broken.yaml:" in body and "[yaml-syntax]" in body
        assert "livereload" in body  # it reloads itself when the record is fixed
        new.write_text(good.replace("title: Cap upload size", "title: Added later", 1))
        wait_for(base + page, "Added later")


def test_plain_mkdocs_serve_keeps_the_last_good_site_while_a_record_is_broken(
    runbook_repo: Path, tmp_path: Path
) -> None:
    """`mkdocs serve` (through the plugin, not `runbook serve`) empties its site folder before
    each rebuild: a broken record used to leave every page answering 404."""
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    (runbook_repo / "docs").mkdir()  # MkDocs' own serve requires it (runbook serve does not)
    record = runbook_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    good = record.read_text(encoding="utf-8")
    log = tmp_path / "mkdocs-serve.log"
    page = "changes/2026-11-20-cap-upload-size/"
    with serving(runbook_repo, log, program="mkdocs") as base:
        wait_for(base + page, "Cap upload size")
        record.write_text(good + "title: [broken\n", encoding="utf-8")
        wait_until(lambda: "rebuild failed" in log.read_text(encoding="utf-8"), "no failure")
        for url in (base + page, base, base + "timeline/", base + "files/"):
            seconds, _ = fetch_page(url)
            assert seconds < 5, f"{url} took {seconds:.1f} s"
            assert fetch(url) is not None, f"{url} is gone"
        assert "Cap upload size" in (fetch(base + page) or "")
        record.write_text(good.replace("title: Cap upload size", "title: Fixed", 1), "utf-8")
        wait_for(base + page, "Fixed")
    assert "[yaml-syntax]" in log.read_text(encoding="utf-8")


def test_builds_in_one_process_leave_nothing_kept_from_the_cycle_collector(
    runbook_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build keeps the records and index it holds off the cycle collector (frozen), and
    gives them back when it ends: `mkdocs serve` builds again and again in one process, and
    what one build held must not stay out of reach of the collector for the next ones."""
    import gc

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    (runbook_repo / "docs").mkdir()
    monkeypatch.chdir(runbook_repo)
    gc.unfreeze()
    for _ in range(2):
        build(load_config(str(runbook_repo / "mkdocs.yml")), dirty=False)
        assert gc.get_freeze_count() == 0
        assert gc.isenabled()
    assert (runbook_repo / "site" / "index.html").is_file()
