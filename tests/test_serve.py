"""`runbook serve` rebuilds when a record changes: a real server on localhost, bounded in time."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

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


def test_serve_rebuilds_when_a_record_is_added(runbook_repo: Path) -> None:
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=runbook_repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for(base + "changes/2026-11-20-cap-upload-size/", "Cap upload size")
        assert fetch(base + "changes/2026-11-23-served-later/") is None

        source = runbook_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
        text = source.read_text(encoding="utf-8").replace(
            "title: Cap upload size", "title: Served later", 1
        )
        (source.parent / "2026-11-23-served-later.yaml").write_text(text, encoding="utf-8")
        wait_for(base + "changes/2026-11-23-served-later/", "Served later")
        wait_for(base, "2026-11-23-served-later")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("runbook serve did not stop on SIGTERM")
