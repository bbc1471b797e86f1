"""Odd files in records/ are reported, never skipped silently and never allowed to hang."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.check.files import discover, file_stamp, has_yaml_files
from generator.check.loader import load_yaml_file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_dangling_link_and_link_loop(
    runbook_repo: Path, run_runbook: Callable[..., object]
) -> None:
    records = runbook_repo / "records"
    os.mkfifo(records / "2026-01-01-fifo.yaml")
    (records / "2026-01-02-dangling.yaml").symlink_to(runbook_repo / "nowhere.yaml")
    (records / "loop").symlink_to(records)
    (records / "folder.yaml").mkdir()

    result = run_runbook("validate", "--format", "json")
    found = {(d["path"], d["code"], d["message"]) for d in result.json()}
    assert result.exit_code == 1
    assert ("records/2026-01-01-fifo.yaml", "unreadable", "not a regular file") in found
    assert any(
        path == "records/2026-01-02-dangling.yaml" and code == "unreadable"
        for path, code, _ in found
    )
    assert len(found) == 2


def test_symlink_loop_between_records_is_reported_not_raised(
    runbook_repo: Path, run_runbook: Callable[..., object]
) -> None:
    records = runbook_repo / "records"
    (records / "2026-01-03-a.yaml").symlink_to(records / "2026-01-04-b.yaml")
    (records / "2026-01-04-b.yaml").symlink_to(records / "2026-01-03-a.yaml")
    result = run_runbook("validate", "--format", "json")
    assert result.exit_code == 1
    assert {(d["path"], d["code"]) for d in result.json()} == {
        ("records/2026-01-03-a.yaml", "unreadable"),
        ("records/2026-01-04-b.yaml", "unreadable"),
    }


def test_upper_case_suffix_and_newline_in_a_file_name(
    runbook_repo: Path, run_runbook: Callable[..., object]
) -> None:
    """`*.YAML` is a record like any other (it used to be skipped silently); a file name
    ending in a newline is not a valid id (`$` matched before it)."""
    valid = Path(__file__).parent / "data" / "valid" / "records"
    source = (valid / "2026-03-02-nginx-upload-buffer.yaml").read_text(encoding="utf-8")
    records = runbook_repo / "records"
    (records / "2026-03-02-upper.YAML").write_text(source, encoding="utf-8")
    (records / "2026-03-02-newline\n.yaml").write_text(source, encoding="utf-8")
    result = run_runbook("validate", "--format", "json")
    found = {(d["path"], d["code"]) for d in result.json() if d["severity"] == "error"}
    assert found == {("records/2026-03-02-newline\\n.yaml", "id")}
    listed = run_runbook("list", "--format", "json")
    assert "2026-03-02-upper" in {entry["id"] for entry in listed.json()}


@pytest.mark.parametrize("size", [20, 65_535, 65_536, 65_537, 200_000, 299_999, 300_000, 300_001])
def test_a_file_is_read_whole_up_to_the_cap_and_refused_past_it(tmp_path: Path, size: int) -> None:
    """Reading stops at a short read (the file's end) or one byte past the cap, whatever the
    file's size against the read buffers: the last key of a file at the cap is still read."""
    cap = 300_000
    tail = "\nlast: end\n"
    text = ("title: t\n# " + "x" * size)[: size - len(tail)] + tail
    path = tmp_path / "2026-01-01-sized.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_yaml_file(str(path), path.name, max_bytes=cap)
    if size > cap:
        assert [d.code for d in loaded.diagnostics] == ["too-large"]
    else:
        assert loaded.text == text and loaded.data == {"title": "t", "last": "end"}
        assert loaded.stamp == file_stamp(str(path))


def test_record_files_are_listed_in_path_order(tmp_path: Path) -> None:
    """Folder by folder, a folder's files where its name falls among its siblings' names
    (folder `a` before `a-b.yaml`, folder `ab` after `a.yaml`), as Path sorts them."""
    names = ["a/x.yaml", "a.yaml", "a-b.yaml", "ab/y.yml", "B.YAML", "a/b/z.yaml", "c.txt"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("title: x\n", "utf-8")
    found = discover(tmp_path, recursive=True)
    assert found == sorted(found, key=lambda path: Path(path).parts)
    assert [os.path.relpath(path, tmp_path) for path in found] == [
        "B.YAML",
        os.path.join("a", "b", "z.yaml"),
        os.path.join("a", "x.yaml"),
        "a-b.yaml",
        "a.yaml",
        os.path.join("ab", "y.yml"),
    ]
    assert has_yaml_files(tmp_path, recursive=False)
    assert not has_yaml_files(tmp_path / "missing", recursive=True)


def test_a_folder_nested_deeper_than_the_python_stack_is_listed(tmp_path: Path) -> None:
    deepest = tmp_path
    for _ in range(sys.getrecursionlimit() + 10):
        deepest /= "a"
        deepest.mkdir()
    (deepest / "2026-01-01-deep.yaml").write_text("title: x\n", "utf-8")
    try:
        assert discover(tmp_path, recursive=True) == [str(deepest / "2026-01-01-deep.yaml")]
    finally:  # pytest's clean-up of old temporary folders recurses, and would fail on this one
        (deepest / "2026-01-01-deep.yaml").unlink()
        while deepest != tmp_path:
            deepest.rmdir()
            deepest = deepest.parent
