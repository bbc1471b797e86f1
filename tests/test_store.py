"""The record store (store/) answers `runbook validate` and `runbook list` exactly as a run
without it does, whatever happened to the files since it was filled, and whatever happened to
the store itself: damaged, locked, signed by someone else, or used by two commands at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from cli_run import run_cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from record_files import EPOCH, initialised_runbook

from generator.authoring.listing import Filters, Window, select_records
from generator.check.file_check import CheckContext
from generator.check.files import settled_stamp
from generator.check.validate import validate_runbook
from generator.config import read_options
from generator.store.context import NOT_AN_INPUT, context_inputs
from generator.store.database import BUSY_SECONDS
from generator.store.listing import listed_records
from generator.store.trust import signing_key_path
from generator.store.validation import validate_with_store

STORE = Path(".runbook-cache") / "store.sqlite"
ALIASES = """\
      aliases:
        services: {legacy-uploads: uploads}
        tags: {perf: performance, fast: speedy}
"""


def _record(record_id: str, service: str, tags: list[str], extra: dict | None = None) -> str:
    data = {
        "title": f"Change {record_id}",
        "date": dt.date.fromisoformat(record_id[:10]),
        "owner": "Ops Team" if len(record_id) % 2 else "ops-team",
        "service": service,
        "reason": "Because.",
        "expected_result": "It works.",
        "files_touched": [f"deploy/{service.lower()}.conf"],
        "commands": ["make deploy"],
        "metrics": [{"name": "p99", "unit": "ms", "before": 10, "after": 5, "better": "lower"}],
        "rollback": {"plan": "Revert.", "tested": True},
        "tags": tags,
        **(extra or {}),
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runbook made by `runbook init`, with aliases (one to a name no record uses)."""
    root = initialised_runbook(tmp_path_factory.mktemp("template"))
    config = root / "mkdocs.yml"
    text = config.read_text("utf-8")
    config.write_text(text.replace("      templates_dir: templates\n", "      templates_dir: "
                                   "templates\n" + ALIASES), "utf-8")  # fmt: skip
    return root


SERVICES = ["uploads", "Uploads", "legacy-uploads", "billing", "Billing API", "billing-api"]
TAGS = ["performance", "Performance", "perf", "speedy", "db"]
EXTRAS = [
    None,
    {"checklists": {"safe-change": {"no-such-item": "done"}}},  # unknown item: removed-item
    {"shipped_at": "placeholder"},
    {"titel": "typo"},  # an error: not listed
    # The fixes rules: a fix of an earlier, a later or a missing record, of this service or
    # another; a rollback no later record explains (unless one fixes it).
    {"fixes": ["2026-01-01-change-1", {"id": "2026-01-03-change-3", "other_service": True}]},
    {"fixes": ["2026-01-12-change-11", "2026-01-05-change-5"]},
    {"status": "rolled-back"},
]
operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "edit", "delete", "rename", "twin"]),
        st.integers(0, 30),
        st.sampled_from(SERVICES),
        st.lists(st.sampled_from(TAGS), max_size=3),
        st.integers(0, len(EXTRAS) - 1),
    ),
    min_size=1,
    max_size=6,
)


def _apply(repo: Path, operation: tuple, rng_day: int) -> None:
    kind, number, service, tags, extra_index = operation
    records = sorted((repo / "records").rglob("*.yaml"))
    day = dt.date(2026, 1, 1) + dt.timedelta(days=number % 12)  # several records a day
    extra = EXTRAS[extra_index]
    if extra and "shipped_at" in extra:
        extra = {"shipped_at": f"{day.isoformat()}T{number % 24:02d}:05:00+01:00"}
    if kind == "add" or not records:
        path = repo / "records" / str(day.year) / f"{day.isoformat()}-change-{number}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_record(path.stem, service, tags, extra), "utf-8")
        return
    target = records[number % len(records)]
    if kind == "edit":
        target.write_text(_record(target.stem, service, tags, extra), "utf-8")
    elif kind == "delete":
        target.unlink()
    elif kind == "rename":
        folder = repo / "records" / ("archive" if "archive" not in str(target) else "2026")
        folder.mkdir(exist_ok=True)
        target.rename(folder / target.name)
    else:  # a second file with the same id: [duplicate-id]
        folder = repo / "records" / "twins"
        folder.mkdir(exist_ok=True)
        shutil.copyfile(target, folder / target.name.replace(".yaml", ".yml"))


def _same_answers(repo: Path) -> None:
    options = read_options("mkdocs.yml")
    store = repo / STORE
    with_store = validate_with_store(options, store)
    without = validate_runbook(options, keep_records=False)
    assert with_store.diagnostics == without.diagnostics
    assert with_store.files_checked == without.files_checked
    assert with_store.notes == without.notes == []
    files = sorted((repo / "records").rglob("*.y*ml")) + sorted((repo / "checklists").iterdir())
    for chosen in (files[0], files[len(files) // 2], repo / "checklists" / "safe-change.yaml"):
        selected = validate_with_store(options, store, only=[chosen])
        alone = validate_runbook(options, only=[chosen], keep_records=False)
        assert (selected.diagnostics, selected.notes) == (alone.diagnostics, alone.notes)
        assert selected.files_checked == alone.files_checked
    everything = validate_runbook(options)
    errors = sum(d.severity == "error" for d in everything.diagnostics)
    since = dt.datetime(2026, 1, 10, 12, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    for filters in (
        Filters(),
        Filters(service="upl", tag="PERF"),
        Filters(window=Window(since, dt.date(2026, 1, 25))),
        Filters(file="DEPLOY/b", status="ship"),
    ):
        listed, listed_errors, notes = listed_records(options, store, filters)
        expected = select_records(everything.runbook.records, filters, options.aliases)
        assert [(r.id, r.path, r.record) for r in listed] == [
            (r.id, r.path, r.record) for r in expected
        ]
        assert (listed_errors, notes) == (errors, [])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
@example(
    [("add", 0, "uploads", ["perf"], 2), ("add", 12, "Uploads", [], 0), ("twin", 1, "", [], 0)]
)
@example(
    [("add", 3, "billing", [], 1), ("rename", 0, "", [], 0), ("edit", 0, "legacy-uploads", [], 3)]
)
def test_a_run_with_the_store_answers_as_a_run_without_it(template: Path, steps: list) -> None:
    """Random adds, edits, deletes, renames and twins, each followed by full runs, runs on
    one file (a record, a checklist) and listings: with the store kept from the previous
    step, the answers are those of a run that keeps nothing."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        repo = Path(folder) / "runbook"
        shutil.copytree(template, repo, symlinks=True)
        patch.chdir(repo)
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        for day, operation in enumerate(steps):
            _apply(repo, operation, day)
            _same_answers(repo)


def _runbook_with_records(tmp_path: Path, count: int = 6) -> Path:
    repo = initialised_runbook(tmp_path)
    for number in range(count):
        day = dt.date(2026, 2, 1) + dt.timedelta(days=number)
        path = repo / "records" / "2026" / f"{day.isoformat()}-change.yaml"
        path.write_text(_record(path.stem, SERVICES[number % 3], TAGS[:2]), "utf-8")
    (repo / "records" / "2026" / "2026-03-01-broken.yaml").write_text("title: [\n", "utf-8")
    return repo


def _fresh(repo: Path) -> str:
    """What a run that keeps nothing prints."""
    kept = repo.parent / "kept-store"
    shutil.move(repo / ".runbook-cache", kept)
    try:
        return run_cli(repo, "validate", epoch=EPOCH).output
    finally:
        shutil.rmtree(repo / ".runbook-cache", ignore_errors=True)
        shutil.move(kept, repo / ".runbook-cache")


def test_a_damaged_store_means_one_note_and_the_same_answer(tmp_path: Path) -> None:
    repo = _runbook_with_records(tmp_path)
    run_cli(repo, "validate", epoch=EPOCH)
    expected = _fresh(repo)
    for name in ("store.sqlite-wal", "store.sqlite-shm"):
        (repo / ".runbook-cache" / name).unlink(missing_ok=True)
    (repo / STORE).write_bytes(b"not a database at all" * 100)
    run = run_cli(repo, "validate", epoch=EPOCH)
    notes = [line for line in run.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: record store .runbook-cache/store.sqlite not used (file is not a database): "
        "every record file checked without it"
    ]
    assert run.output.replace(notes[0] + "\n", "") == expected


def test_a_store_another_command_is_writing_means_one_note_and_the_same_answer(
    tmp_path: Path,
) -> None:
    repo = _runbook_with_records(tmp_path)
    run_cli(repo, "validate", epoch=EPOCH)
    record = repo / "records" / "2026" / "2026-02-01-change.yaml"
    record.write_text(_record(record.stem, "Uploads", ["db"]), "utf-8")
    expected = _fresh(repo)
    holder = sqlite3.connect(repo / STORE, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a command that is writing its rows
    try:
        started = time.monotonic()
        run = run_cli(repo, "validate", epoch=EPOCH)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "another runbook command is writing it" in run.stderr
    assert waited < BUSY_SECONDS + 5
    assert "\n".join(line for line in run.output.splitlines() if "note:" not in line) + "\n" == (
        expected
    )
    assert run_cli(repo, "validate", epoch=EPOCH).output == expected  # and used again after


def test_a_store_signed_with_another_key_is_emptied_and_filled_again(tmp_path: Path) -> None:
    """A store whose rows say a broken record is fine, signed by someone else (a clone, a
    shared CI cache): nothing in it is believed."""
    repo = _runbook_with_records(tmp_path)
    expected = run_cli(repo, "validate", epoch=EPOCH).output
    assert "[yaml-syntax]" in expected
    with sqlite3.connect(repo / STORE) as connection:
        connection.execute("UPDATE files SET diagnostics = '[]', errors = 0")
        connection.execute("CREATE VIEW planted AS SELECT 1")
    connection.close()
    key = signing_key_path()
    original = key.read_bytes()
    key.write_bytes(os.urandom(len(original)))
    try:
        run = run_cli(repo, "validate", epoch=EPOCH)
    finally:
        key.write_bytes(original)
    assert run.output == expected
    with sqlite3.connect(repo / STORE) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
    connection.close()
    assert "planted" not in names


def test_a_store_copied_with_its_repository_is_checked_again(tmp_path: Path) -> None:
    """A copy of the repository with its cache folder (a clone of a committed folder, a CI
    cache restored): every file has another inode and change time, so no row matches."""
    repo = _runbook_with_records(tmp_path)
    run_cli(repo, "validate", epoch=EPOCH)
    with sqlite3.connect(repo / STORE) as connection:
        connection.execute("UPDATE files SET diagnostics = '[]', errors = 0")
    connection.close()
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    assert "[yaml-syntax]" in run_cli(copy, "validate", epoch=EPOCH).output


def test_two_validates_at_once_both_answer_as_one_alone(tmp_path: Path) -> None:
    """Two `runbook validate` processes in one repository, started together, rounds after
    rounds of edits (a cold store first): each prints what a run alone prints, and the store
    is whole afterwards."""
    repo = _runbook_with_records(tmp_path, count=60)
    environment = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    records = sorted((repo / "records" / "2026").glob("*-change.yaml"))
    for round_number in range(4):
        edited = records[round_number]
        edited.write_text(_record(edited.stem, SERVICES[round_number], TAGS[2:]), "utf-8")
        expected = _fresh(repo) if (repo / ".runbook-cache").exists() else None
        commands = [
            subprocess.Popen(
                [sys.executable, "-m", "generator", "validate", *selection],
                cwd=repo,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for selection in ((), ())
        ]
        outputs = [command.communicate(timeout=120) for command in commands]
        expected = expected or _fresh(repo)
        for stdout, stderr in outputs:
            assert stdout + stderr == expected or (
                "another runbook command is writing it" in stderr
                and stdout + "\n".join(s for s in stderr.splitlines() if "note:" not in s) + "\n"
                == expected
            )
    with sqlite3.connect(repo / STORE) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)


def test_an_edit_in_place_that_keeps_size_and_modification_time_is_seen(tmp_path: Path) -> None:
    """A record rewritten at the same size with its modification time put back (`cp -p`,
    `touch -r`) has another change time: `validate` and `list` read it again."""
    repo = _runbook_with_records(tmp_path)
    record = repo / "records" / "2026" / "2026-02-01-change.yaml"
    assert run_cli(repo, "validate", epoch=EPOCH).exit_code == 1  # the broken record
    assert "Change 2026-02-01-change" in run_cli(repo, "list", epoch=EPOCH).stdout
    before = record.stat()
    text = record.read_text("utf-8")
    edited = text.replace("Change 2026-02-01-change", "Chbnge 2026-02-01-change")
    assert len(edited) == len(text) and edited != text
    with record.open("r+", encoding="utf-8") as stream:  # in place: the same inode
        stream.write(edited)
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = record.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert "Chbnge 2026-02-01-change" in run_cli(repo, "list", epoch=EPOCH).stdout
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)


def test_a_folder_emptied_and_a_folder_added_are_seen(tmp_path: Path) -> None:
    """The store compares rows only in folders whose digest changed: a folder whose records
    are all gone, and a new folder with the same record ids, are both seen by `list`."""
    repo = _runbook_with_records(tmp_path)
    assert "Change 2026-02-01-change" in run_cli(repo, "list", epoch=EPOCH).stdout
    moved = repo / "records" / "2026-moved"
    shutil.move(repo / "records" / "2026", moved)
    (moved / "2026-02-01-change.yaml").write_text(
        _record("2026-02-01-change", "uploads", [], {"title": "Moved and edited"}), "utf-8"
    )
    listed = run_cli(repo, "list", epoch=EPOCH).stdout
    assert "Moved and edited" in listed and "Change 2026-02-01-change" not in listed
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)
    shutil.rmtree(moved)
    (repo / "records" / "2027").mkdir()
    write_to = repo / "records" / "2027" / "2027-01-01-change.yaml"
    write_to.write_text(_record(write_to.stem, "billing", []), "utf-8")
    listed = run_cli(repo, "list", epoch=EPOCH).stdout
    assert "Change 2027-01-01-change" in listed and "Moved and edited" not in listed
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)


def test_an_unchanged_runbook_is_answered_without_writing_the_store(tmp_path: Path) -> None:
    """Every folder's digest matches the one kept, a folder whose name is not UTF-8 too:
    `validate` and `list` read no file again and write nothing."""
    repo = _runbook_with_records(tmp_path)
    odd = repo / "records" / os.fsdecode(b"caf\xff")
    odd.mkdir()
    (odd / "2026-04-01-change.yaml").write_text(_record("2026-04-01-change", "db", []), "utf-8")
    run_cli(repo, "list", epoch=EPOCH)  # fills the store, every record's data kept
    with sqlite3.connect(repo / STORE) as connection:
        before = connection.execute("SELECT * FROM files ORDER BY id").fetchall()
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        for command in ("validate", "list"):
            run_cli(repo, command, epoch=EPOCH)
            assert connection.execute("PRAGMA data_version").fetchone()[0] == version
        assert connection.execute("SELECT * FROM files ORDER BY id").fetchall() == before
    connection.close()


def test_a_record_that_could_not_be_read_is_read_once_it_can(tmp_path: Path) -> None:
    """A record that is a link to nothing yet: its folder never looks unchanged, so the
    record is read as soon as the link's target exists, though no other file changed."""
    repo = _runbook_with_records(tmp_path)
    target = tmp_path / "later.yaml"
    (repo / "records" / "2026" / "2026-03-05-later.yaml").symlink_to(target)
    assert "2026-03-05-later" in run_cli(repo, "validate", epoch=EPOCH).output
    run_cli(repo, "list", epoch=EPOCH)
    target.write_text(_record("2026-03-05-later", "billing", []), "utf-8")
    assert "Change 2026-03-05-later" in run_cli(repo, "list", epoch=EPOCH).stdout
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)


def _settled(repo: Path) -> None:
    """Wait until every folder under records/ last changed long enough ago for its stamp to
    vouch for its entries (check/files.py SETTLED_NS), then let a full run keep the stamps."""
    folders = [repo / "records", *(p for p in (repo / "records").rglob("*") if p.is_dir())]
    deadline = time.monotonic() + 30
    while any(settled_stamp(str(folder)) is None for folder in folders):
        assert time.monotonic() < deadline, "the folders' times never settled"
        time.sleep(0.05)
    validate_with_store(read_options("mkdocs.yml"), repo / STORE)


def test_a_run_on_named_files_answers_for_them_as_a_full_run(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate FILE` reads again only the folders whose stamp changed and the files named;
    what it says of them equals what a run over every file says, whatever the named file is:
    edited in place in a folder that did not change, added, moved to another folder, a
    second file with an id already used, a new spelling of a service or a tag. A file edited
    in place that is not named is seen by the next full run (the README's guarantee)."""
    repo = tmp_path / "runbook"
    shutil.copytree(template, repo, symlinks=True)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for number, service, tags, extra in (
        (1, "uploads", ["performance"], None),
        (2, "uploads", ["db"], None),
        (3, "billing", [], EXTRAS[4]),
        (5, "billing", ["speedy"], None),
        (11, "uploads", [], None),
    ):
        folder = repo / "records" / ("archive" if number > 4 else "2026")
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"2026-01-{number:02d}-change-{number}"
        (folder / f"{stem}.yaml").write_text(_record(stem, service, tags, extra), "utf-8")
    options = read_options("mkdocs.yml")
    store = repo / STORE
    _settled(repo)

    def same_for(named: Path) -> None:
        selected = validate_with_store(options, store, only=[named])
        alone = validate_runbook(options, only=[named], keep_records=False)
        assert (selected.diagnostics, selected.notes) == (alone.diagnostics, alone.notes)
        assert selected.files_checked == alone.files_checked

    edited = repo / "records" / "2026" / "2026-01-02-change-2.yaml"
    with edited.open("w", encoding="utf-8") as stream:  # in place: its folder keeps its stamp
        stream.write(_record(edited.stem, "Uploads", ["Performance"], EXTRAS[5]))
    same_for(edited)
    variant = validate_with_store(options, store, only=[edited]).diagnostics
    assert {d.code for d in variant} >= {"name-variant"}

    added = repo / "records" / "archive" / "2026-01-09-change-9.yaml"
    added.write_text(_record(added.stem, "billing-api", ["perf"], None), "utf-8")
    same_for(added)

    moved = repo / "records" / "2026" / "2026-01-01-change-1.yaml"
    _settled(repo)
    moved = moved.rename(repo / "records" / "archive" / moved.name)
    same_for(moved)

    _settled(repo)
    twin = repo / "records" / "twins" / "2026-01-05-change-5.yml"
    twin.parent.mkdir()
    shutil.copyfile(repo / "records" / "archive" / "2026-01-05-change-5.yaml", twin)
    same_for(twin)
    twins = validate_with_store(options, store, only=[twin]).diagnostics
    assert any(d.code == "duplicate-id" for d in twins)

    _settled(repo)
    elsewhere = repo / "records" / "archive" / "2026-01-11-change-11.yaml"
    with elsewhere.open("w", encoding="utf-8") as stream:  # in place, and not named
        stream.write(_record(elsewhere.stem, "UPLOADS", [], None))
    full = validate_with_store(options, store)
    assert any(d.path.endswith(elsewhere.name) for d in full.diagnostics)
    same_for(repo / "records" / "2026" / "2026-01-02-change-2.yaml")


def test_the_stores_inputs_name_every_field_of_the_check_context(tmp_path: Path) -> None:
    """The store is trusted without making the check context when what the context is made
    from is unchanged: each field of the context must be among those inputs."""
    options = read_options(initialised_runbook(tmp_path) / "mkdocs.yml")
    fields = {field.name for field in dataclasses.fields(CheckContext)}
    assert set(context_inputs(options, [])) == fields - NOT_AN_INPUT


def test_an_option_the_checks_read_changed_is_seen_by_the_next_run(tmp_path: Path) -> None:
    """review_max_age_days lowered in mkdocs.yml: the next `validate` checks the records
    again (no record file changed), and says so as a run without the store does."""
    repo = _runbook_with_records(tmp_path, count=2)
    path = next((repo / "records" / "2026").glob("2026-02-01-*.yaml"))
    data = yaml.safe_load(path.read_text("utf-8"))
    path.write_text(yaml.safe_dump({**data, "last_reviewed": dt.date(2026, 2, 1)}), "utf-8")
    assert "stale-review" not in run_cli(repo, "validate", epoch=EPOCH).output
    config = repo / "mkdocs.yml"
    text = config.read_text("utf-8").replace(
        "  - runbook:\n", "  - runbook:\n      review_max_age_days: 1\n", 1
    )
    assert text != config.read_text("utf-8")
    config.write_text(text, "utf-8")
    assert "stale-review" in run_cli(repo, "validate", epoch=EPOCH).output
    assert run_cli(repo, "validate", epoch=EPOCH).output == _fresh(repo)
