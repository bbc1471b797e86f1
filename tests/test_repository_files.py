"""Nothing runbook writes lands outside the repository, whatever links a hostile or careless
repository holds; edited files keep their line endings; and what runbook keeps for itself is
read back only as the regular, private files it wrote."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from cli_run import run_cli
from git_repos import new_repository

from generator.config import read_options
from generator.repository_files import UnsafeWrite, WritesInside, make_folders, write_file

EPOCH = "1798761600"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository holding a file that must never change."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me\n", encoding="utf-8")
    return folder


def untouched(outside: Path) -> bool:
    return sorted(p.name for p in outside.iterdir()) == ["precious.txt"] and (
        (outside / "precious.txt").read_text(encoding="utf-8") == "keep me\n"
    )


def test_write_file_refuses_a_folder_or_file_linked_outside(tmp_path: Path, outside: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "linked-folder").symlink_to(outside, target_is_directory=True)
    (repo / "linked-file").symlink_to(outside / "precious.txt")
    for target in (repo / "linked-folder" / "new.json", repo / "linked-file", repo / "../x"):
        with pytest.raises(UnsafeWrite):
            write_file(target, "changed\n", inside=repo)
    with pytest.raises(UnsafeWrite):
        make_folders(repo / "linked-folder" / "sub", inside=repo)
    assert untouched(outside)


def test_one_job_s_writes_check_each_folder_and_keep_refusing_a_linked_one(
    tmp_path: Path, outside: Path
) -> None:
    """A build's page cache writes tens of thousands of files through one WritesInside, which
    checks each folder once: a folder it refused stays refused for every later file, and
    the folders it made hold what was written."""
    repo = tmp_path / "repo"
    (repo / "cache").mkdir(parents=True)
    (repo / "cache" / "linked").symlink_to(outside, target_is_directory=True)
    writes = WritesInside(repo)
    for name in ("a.md", "b.md", "sub/c.md"):
        with pytest.raises(UnsafeWrite):
            writes.write(repo / "cache" / "linked" / name, "changed\n")
        writes.write(repo / "cache" / "made" / name, f"{name}\n")
    assert untouched(outside)
    made = sorted(p.relative_to(repo).as_posix() for p in (repo / "cache" / "made").rglob("*"))
    assert made == ["cache/made/a.md", "cache/made/b.md", "cache/made/sub", "cache/made/sub/c.md"]
    assert (repo / "cache" / "made" / "sub" / "c.md").read_text(encoding="utf-8") == "sub/c.md\n"


def test_write_file_writes_through_a_link_that_stays_inside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "mkdocs.yml").write_text("site_name: A\n", encoding="utf-8")
    (repo / "mkdocs.yml").symlink_to("config/mkdocs.yml")
    written = write_file(repo / "mkdocs.yml", "site_name: B\n", inside=repo)
    assert (repo / "mkdocs.yml").is_symlink()
    assert written == repo / "config" / "mkdocs.yml"
    assert (repo / "config" / "mkdocs.yml").read_text(encoding="utf-8") == "site_name: B\n"
    assert [p.name for p in (repo / "config").iterdir()] == ["mkdocs.yml"]  # no leftovers


def test_an_exclusive_write_leaves_whatever_is_there(tmp_path: Path, outside: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dangling").symlink_to(outside / "not-yet")
    (repo / "taken").write_text("mine\n", encoding="utf-8")
    for name in ("dangling", "taken"):
        with pytest.raises(FileExistsError):
            write_file(repo / name, "new\n", inside=repo, exclusive=True)
    assert not (outside / "not-yet").exists() and untouched(outside)
    assert (repo / "taken").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in repo.iterdir()) == ["dangling", "taken"]


@pytest.mark.parametrize("linked", [".vscode", "schemas", ".github", "checklists"])
def test_init_never_writes_through_a_folder_linked_outside(
    tmp_path: Path, outside: Path, linked: str
) -> None:
    repo = new_repository(tmp_path / "team")
    (repo / linked).symlink_to(outside, target_is_directory=True)
    result = run_cli(repo, "init", epoch=EPOCH)
    assert result.exit_code == 1
    assert f"{repo / linked} is a link to {outside}" in result.stderr
    assert "Traceback" not in result.output
    assert untouched(outside)
    assert (repo / "mkdocs.yml").is_file()  # the rest of the scaffold was written


def test_schema_write_never_writes_through_a_link(tmp_path: Path, outside: Path) -> None:
    repo = new_repository(tmp_path / "team")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    (repo / "schemas" / "record.schema.json").unlink()
    (repo / "schemas" / "record.schema.json").symlink_to(outside / "precious.txt")
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 1 and "outside" in result.stderr
    assert untouched(outside)


def test_validate_with_a_cache_folder_linked_outside_writes_nothing_there(
    tmp_path: Path, outside: Path
) -> None:
    repo = new_repository(tmp_path / "team")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    (repo / ".runbook-cache").symlink_to(outside, target_is_directory=True)
    for _ in range(2):
        result = run_cli(repo, "validate", epoch=EPOCH)
        assert result.exit_code == 0, result.output
    assert untouched(outside)


@pytest.mark.parametrize("name", ["store.sqlite", "store.sqlite-wal", "store.sqlite-shm"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_cache_file_that_is_not_a_regular_file_is_ignored_at_once(
    tmp_path: Path, kind: str, name: str
) -> None:
    """The record store and SQLite's files beside it are opened only as regular files: a
    FIFO or a link planted there means running without the store, said in one note."""
    repo = new_repository(tmp_path / "team")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    cache = repo / ".runbook-cache"
    cache.mkdir()
    planted = cache / name
    if kind == "fifo":
        os.mkfifo(planted)
    else:
        planted.symlink_to("/dev/zero")
    result = run_cli(repo, "validate", epoch=EPOCH)  # a hang here fails the suite's timeout
    assert result.exit_code == 0, result.output
    assert result.output.count("note: record store") == 1


def test_a_signing_key_others_can_read_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a key readable by others a planted cache could carry a valid signature (and
    unpickling runs code): such a key means running without the cache, never trusting it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    repo = new_repository(tmp_path / "team")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    assert run_cli(repo, "validate", epoch=EPOCH).exit_code == 0
    key = tmp_path / "xdg" / "runbook" / "cache-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    from generator.store import trust

    assert trust.signing_key() is not None
    key.chmod(0o644)
    assert trust.signing_key() is None
    key.chmod(0o600)
    real = key.with_name("real-key")
    key.rename(real)
    key.symlink_to(real)
    assert trust.signing_key() is None


def test_init_keeps_crlf_line_endings_of_the_files_it_edits(tmp_path: Path) -> None:
    repo = new_repository(tmp_path / "team")
    (repo / "mkdocs.yml").write_bytes(
        b"site_name: Team\r\ntheme:\r\n  name: material\r\nplugins:\r\n  - search\r\n"
    )
    (repo / ".gitignore").write_bytes(b"*.pyc\r\nsite/\r\n")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    for name in ("mkdocs.yml", ".gitignore"):
        data = (repo / name).read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n"), name
    config = (repo / "mkdocs.yml").read_bytes()
    assert b"  - runbook\r\n" in config
    ignored = (repo / ".gitignore").read_bytes().decode().splitlines()
    assert "/site/" not in ignored  # `site/` already ignores it
    assert ".runbook-cache/" in ignored


def test_init_leaves_a_gitignore_that_is_not_utf8_and_finishes(tmp_path: Path) -> None:
    repo = new_repository(tmp_path / "team")
    original = "# caf\xe9 notes\nsite/\n".encode("latin-1")
    (repo / ".gitignore").write_bytes(original)
    for _ in range(2):  # a rerun goes just as far
        result = run_cli(repo, "init", epoch=EPOCH)
        assert result.exit_code == 0, result.output
        assert ".gitignore is not UTF-8 text" in result.stderr
        assert ".runbook-cache/" in result.stderr  # the lines to add by hand
    assert (repo / ".gitignore").read_bytes() == original
    assert (repo / "mkdocs.yml").is_file() and (repo / "records").is_dir()


def test_init_adds_the_plugin_where_inherit_takes_the_plugins_from(tmp_path: Path) -> None:
    repo = new_repository(tmp_path / "team")
    (repo / "base.yml").write_text(
        "theme:\n  name: material\nplugins:\n  - search\n  - tags\n", encoding="utf-8"
    )
    child = "INHERIT: base.yml\nsite_name: Team\n"
    (repo / "mkdocs.yml").write_text(child, encoding="utf-8")
    result = run_cli(repo, "init", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    assert (repo / "mkdocs.yml").read_text(encoding="utf-8") == child
    assert (repo / "base.yml").read_text(encoding="utf-8").endswith("  - tags\n  - runbook\n")
    built = run_cli(repo, "build", "-q", epoch=EPOCH)
    assert built.exit_code == 0, built.output
    assert (repo / "site" / "timeline" / "index.html").is_file()


def test_options_follow_inherit(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(
        "plugins:\n  - runbook:\n      records_dir: changes\n", encoding="utf-8"
    )
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nsite_name: A\n", encoding="utf-8")
    assert read_options(str(tmp_path / "mkdocs.yml")).records_dir == tmp_path / "changes"
    (tmp_path / "mkdocs.yml").write_text(
        "INHERIT: base.yml\nplugins:\n  - runbook:\n      records_dir: mine\n", encoding="utf-8"
    )
    assert read_options(str(tmp_path / "mkdocs.yml")).records_dir == tmp_path / "mine"
    (tmp_path / "base.yml").write_text("INHERIT: mkdocs.yml\n", encoding="utf-8")
    with pytest.raises(Exception, match="INHERIT"):
        read_options(str(tmp_path / "mkdocs.yml"))
