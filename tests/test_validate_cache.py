"""`runbook validate` keeps each file's results between runs (the record store, store/), so a
pre-commit hook checking one record does not parse every other record again for the
cross-record checks, and never reports anything a fresh run would not."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import run_cli
from record_files import EPOCH, initialised_runbook, write_record

from generator.check.workers import PARALLEL_THRESHOLD
from generator.config import read_options
from generator.store.validation import validate_with_store

RESULTS = Path(".runbook-cache") / "store.sqlite"


def test_a_warm_run_says_what_a_cold_one_says_and_sees_every_edit(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    for day in range(1, 6):
        write_record(repo, f"2026-03-0{day}-change", "", service="uploads")
    variant = write_record(repo, "2026-03-09-new-change", "", service="Uploads")

    cold = run_cli(repo, "validate", str(variant), epoch=EPOCH)
    assert (repo / RESULTS).is_file()
    warm = run_cli(repo, "validate", str(variant), epoch=EPOCH)
    assert (warm.exit_code, warm.output) == (cold.exit_code, cold.output)
    # the other records' names come from the kept results: the variant is still seen
    assert "[name-variant]" in warm.stdout and "'uploads'" in warm.stdout

    variant.write_text(variant.read_text("utf-8").replace("service: Uploads", "service: 12"))
    edited = run_cli(repo, "validate", str(variant), epoch=EPOCH)
    assert edited.exit_code == 1 and "service" in edited.stdout and "[schema]" in edited.stdout
    full = run_cli(repo, "validate", epoch=EPOCH)
    shutil.rmtree(repo / ".runbook-cache")
    fresh = run_cli(repo, "validate", epoch=EPOCH)
    assert (full.exit_code, full.output) == (fresh.exit_code, fresh.output)


def test_unchanged_files_are_not_read_again(tmp_path: Path, checked_here: list[str]) -> None:
    repo = initialised_runbook(tmp_path)
    record = write_record(repo, "2026-03-01-change", "")
    other = write_record(repo, "2026-03-02-change", "")
    assert run_cli(repo, "validate", epoch=EPOCH).exit_code == 0
    checked_here.clear()
    assert run_cli(repo, "validate", str(record), epoch=EPOCH).exit_code == 0
    assert checked_here == []
    other.write_text(other.read_text("utf-8") + "\n", "utf-8")
    assert run_cli(repo, "validate", str(record), epoch=EPOCH).exit_code == 0
    assert checked_here == [other.name]


def _restoring_copy(record: Path, text: str) -> None:
    """`cp -p` over the file: same size, same inode, the old modification time restored."""
    status = record.stat()
    record.write_text(text, "utf-8")
    os.utime(record, ns=(status.st_atime_ns, status.st_mtime_ns))


def _rsync_inplace(record: Path, text: str) -> None:
    """`rsync --inplace -t`: the bytes rewritten through the open file, then the time set."""
    status = record.stat()
    with record.open("r+b") as file:
        file.write(text.encode())
        file.flush()
        os.utime(file.fileno(), ns=(status.st_atime_ns, status.st_mtime_ns))


def _touch_reference(record: Path, text: str) -> None:
    """`touch -r OTHER`: the time copied from a file that is older than the edit."""
    reference = record.with_name("reference")
    reference.write_bytes(b"")
    os.utime(reference, ns=(record.stat().st_atime_ns, record.stat().st_mtime_ns))
    record.write_text(text, "utf-8")
    status = reference.stat()
    os.utime(record, ns=(status.st_atime_ns, status.st_mtime_ns))
    reference.unlink()


@pytest.mark.parametrize("edit", [_restoring_copy, _rsync_inplace, _touch_reference])
@pytest.mark.parametrize("selection", [(), ("records",)], ids=["all", "a-path"])
def test_an_edit_that_keeps_size_inode_and_modification_time_is_seen(
    tmp_path: Path, edit: Callable[[Path, str], None], selection: tuple[str, ...]
) -> None:
    """The stamp holds the change time, which every write moves and no user can set: an edit
    that keeps everything else (same size, in place, modification time put back) is checked
    again, at once and in every later run."""
    repo = initialised_runbook(tmp_path)
    record = write_record(repo, "2026-03-01-change", "")
    assert run_cli(repo, "validate", *selection, epoch=EPOCH).exit_code == 0
    text = record.read_text("utf-8")
    broken = text.replace("title: ", "titel: ", 1)
    assert len(broken) == len(text)
    inode, mtime = record.stat().st_ino, record.stat().st_mtime_ns
    edit(record, broken)
    assert (record.stat().st_ino, record.stat().st_mtime_ns) == (inode, mtime)
    assert record.stat().st_size == len(text.encode())
    for _ in range(2):
        run = run_cli(repo, "validate", *selection, epoch=EPOCH)
        assert run.exit_code == 1 and "[unknown-key]" in run.stdout


def test_validate_outside_a_runbook_keeps_nothing(tmp_path: Path) -> None:
    record = tmp_path / "2026-03-01-change.yaml"
    record.write_text("title: t\n", "utf-8")
    run_cli(tmp_path, "validate", str(record), epoch=EPOCH)
    assert not (tmp_path / ".runbook-cache").exists()


def _row_ids(repo: Path) -> dict[str, int]:
    connection = sqlite3.connect(repo / RESULTS)
    rows = connection.execute("SELECT path, id FROM files").fetchall()
    connection.close()
    return {"/".join(Path(path).parts[-2:]): file_id for path, file_id in rows}


def test_a_run_that_changes_few_results_writes_only_those(tmp_path: Path) -> None:
    """A pre-commit run on one record replaces that record's rows and leaves the others as
    they are; edits, new files and deleted files are all seen."""
    repo = initialised_runbook(tmp_path)
    records = [
        write_record(repo, f"2026-{month:02d}-{day:02d}-change", "", service="uploads")
        for month in (3, 4)
        for day in range(1, 26)
    ]
    assert run_cli(repo, "validate", epoch=EPOCH).exit_code == 0
    base = _row_ids(repo)

    variant = records[0]
    variant.write_text(variant.read_text("utf-8").replace("service: uploads", "service: Uploads"))
    warm = run_cli(repo, "validate", str(variant), epoch=EPOCH)
    assert "[name-variant]" in warm.stdout
    twin = repo / "records" / "2025" / records[1].name
    twin.parent.mkdir(exist_ok=True)
    twin.write_text(records[1].read_text("utf-8"), "utf-8")
    assert "[duplicate-id]" in run_cli(repo, "validate", epoch=EPOCH).stdout
    ids, edited = _row_ids(repo), f"2026/{variant.name}"
    assert ids.pop(f"2025/{twin.name}") and ids.pop(edited) != base[edited]  # new, replaced
    assert ids == {name: n for name, n in base.items() if name != edited}  # left as they were

    twin.unlink()
    warm = run_cli(repo, "validate", epoch=EPOCH)
    assert "[duplicate-id]" not in warm.stdout and "[name-variant]" in warm.stdout
    assert len(_row_ids(repo)) == len(base)
    shutil.rmtree(repo / ".runbook-cache")
    fresh = run_cli(repo, "validate", epoch=EPOCH)
    assert (warm.exit_code, warm.output) == (fresh.exit_code, fresh.output)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_results_from_workers_are_kept_and_an_unstamped_file_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked_here: list[str], start_method: str
) -> None:
    """A run large enough for workers keeps the results as they pickled them, each under the
    stamp of the file as it was read: the next run checks only what changed since, and a file
    that could not be read (no stamp) is read again once it can be. Workers forked (Linux) or
    spawned (macOS, Windows) alike."""
    monkeypatch.setenv("RUNBOOK_START_METHOD", start_method)
    repo = initialised_runbook(tmp_path)
    (repo / "records" / "2025").mkdir(exist_ok=True)
    records = [
        write_record(repo, f"{dt.date(2025, 1, 1) + dt.timedelta(days=day)}-change", "")
        for day in range(PARALLEL_THRESHOLD + 20)
    ]
    later = repo / "records" / "2026" / "2026-12-01-later.yaml"
    later.symlink_to(tmp_path / "not-yet.yaml")  # unreadable until its target exists
    monkeypatch.chdir(repo)
    options = read_options("mkdocs.yml")
    cache_file = repo / RESULTS

    cold = validate_with_store(options, cache_file, jobs=2)
    assert [d.code for d in cold.diagnostics] == ["unreadable"]
    checked_here.clear()
    (tmp_path / "not-yet.yaml").write_text(records[0].read_text("utf-8"), "utf-8")
    edited = records[-1]
    edited.write_text(edited.read_text("utf-8").replace("title: ", "titel: ", 1), "utf-8")
    warm = validate_with_store(options, cache_file, jobs=2)
    assert sorted(checked_here) == sorted([later.name, edited.name])
    shutil.rmtree(repo / ".runbook-cache")
    fresh = validate_with_store(options, cache_file, jobs=2)
    assert warm.diagnostics == fresh.diagnostics
    codes = {(Path(d.path).name, d.code) for d in warm.diagnostics}
    assert {(edited.name, "unknown-key"), (edited.name, "missing")} <= codes
    assert (later.name, "unreadable") not in codes
