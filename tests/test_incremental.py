"""Incremental builds must give the same site as full builds, only faster.

A real `runbook build` on a copy of the demo records: add a record, remove one, edit one,
and after each incremental build compare every file with a full build of the same input.
"""

from __future__ import annotations

import filecmp
import hmac
import json
import os
import pickle
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import run_cli

from benchmarks.corpus import write_corpus
from benchmarks.search_bundle import page_numbered, search_fragments
from generator.check.validate import validate_runbook
from generator.config import read_options, user_cache_folder
from generator.models import SourcedRecord
from generator.render import long_lists
from generator.render.environment import DEFAULT_TEMPLATES, make_environment
from generator.render.exports import records_json
from generator.render.settings import RenderSettings
from generator.site import incremental, site_copy
from generator.site.incremental import MANIFEST_NAME, PageCache
from generator.store.trust import read_signed_json, signing_key_path

REPO_ROOT = Path(__file__).resolve().parent.parent
EPOCH = "1790000000"


def build(repo: Path, *args: str) -> str:
    result = run_cli(repo, "build", *args, epoch=EPOCH)
    assert result.exit_code == 0, result.output
    return result.stderr


def differing_files(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side included); the
    manifest, which names the folder and the file stamps a site was built from, apart."""
    problems: list[str] = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        problems.extend(prefix + name for name in comparison.left_only + comparison.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            comparison.left, comparison.right, comparison.common_files, shallow=False
        )
        problems.extend(prefix + name for name in mismatch + errors)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    if search_fragments(left) != search_fragments(right):
        problems.append("pagefind/fragment (what search returns)")
    return sorted(
        p
        for p in problems
        if not p.endswith("sitemap.xml.gz") and not page_numbered(p) and p != MANIFEST_NAME
    )


@pytest.fixture
def demo_repo(runbook_repo: Path) -> Path:
    shutil.copytree(REPO_ROOT / "records", runbook_repo / "records", dirs_exist_ok=True)
    return runbook_repo


def full_build_copy(repo: Path, tmp_path: Path, name: str) -> Path:
    """A full build of the same input in a copy of the repository."""
    clone = tmp_path / name
    shutil.copytree(repo, clone, ignore=shutil.ignore_patterns("site", ".runbook-cache"))
    build(clone, "--full", "-q")
    return clone / "site"


def test_incremental_builds_equal_full_builds(demo_repo: Path, tmp_path: Path) -> None:
    assert "in full" in build(demo_repo)
    source = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"

    added = demo_repo / "records" / "2026" / "2026-11-21-follow-up.yaml"
    added.write_text(
        source.read_text(encoding="utf-8").replace(
            "title: Cap upload size", "title: Follow up on the upload cap", 1
        ),
        encoding="utf-8",
    )
    assert "incrementally" in build(demo_repo)
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "a")) == []
    fragments = search_fragments(demo_repo / "site")
    assert "changes/2026-11-21-follow-up/" in fragments
    assert "Follow up on the upload cap" in fragments["changes/2026-11-21-follow-up/"]["content"]
    related = demo_repo / "site" / "changes" / "2026-11-20-cap-upload-size" / "index.html"
    assert "2026-11-21-follow-up" in related.read_text(encoding="utf-8")

    checklist = demo_repo / "checklists" / "safe-change.yaml"
    checklist.write_text(
        checklist.read_text(encoding="utf-8").replace("title: ", "title: Renamed ", 1),
        encoding="utf-8",
    )
    assert "incrementally" in build(demo_repo)
    page = demo_repo / "site" / "changes" / "2026-11-20-cap-upload-size" / "index.html"
    assert "Renamed Safe change" in page.read_text(encoding="utf-8")
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "c")) == []

    removed = demo_repo / "records" / "2025" / "2025-12-04-nginx-upload-buffering.yaml"
    removed.unlink()
    assert "incrementally" in build(demo_repo)
    assert not (demo_repo / "site" / "changes" / removed.stem).exists()
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "b")) == []


def test_configuration_changes_force_a_full_build(demo_repo: Path) -> None:
    build(demo_repo, "-q")
    config = demo_repo / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "site_description: changed\n")
    assert "in full" in build(demo_repo)
    (demo_repo / "templates").mkdir()
    (demo_repo / "templates" / "runbook.css").write_text("body { color: red; }\n")
    assert "in full" in build(demo_repo)
    assert "color: red" in (demo_repo / "site" / "assets" / "runbook.css").read_text()


def run_build(repo: Path, *args: str) -> tuple[int, str]:
    """`runbook build` that may fail: exit code and everything it printed."""
    result = run_cli(repo, "build", *args, epoch=EPOCH)
    return result.exit_code, result.output


def test_incremental_builds_validate_only_changed_files(
    demo_repo: Path, checked_here: list[str]
) -> None:
    """Unchanged records reuse their last result; edits and checklist changes are seen."""
    build(demo_repo, "-q")  # full: nothing cached yet
    build(demo_repo, "-q")  # incremental: fills the cache
    checked_here.clear()
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    record.write_text(
        record.read_text(encoding="utf-8").replace("title: Cap upload size", "title: Capped", 1),
        encoding="utf-8",
    )
    build(demo_repo, "-q")
    assert checked_here == [record.name]
    site_page = demo_repo / "site" / "changes" / record.stem / "index.html"
    assert "Capped" in site_page.read_text(encoding="utf-8")

    record.write_text(record.read_text(encoding="utf-8") + "surprise: key\n", encoding="utf-8")
    code, output = run_build(demo_repo, "-q")
    assert code != 0 and f"{record.name}:" in output and "[unknown-key]" in output

    record.write_text(record.read_text(encoding="utf-8").replace("surprise: key\n", ""))
    checklist = demo_repo / "checklists" / "safe-change.yaml"
    checklist.write_text(
        checklist.read_text(encoding="utf-8")
        + "  - id: brand-new-step\n    text: A step no record has addressed yet\n",
        encoding="utf-8",
    )
    checked_here.clear()
    code, output = run_build(demo_repo, "-q")
    assert code != 0 and "brand-new-step" in output and "[missing-item]" in output
    assert len(checked_here) == len(list((demo_repo / "records").rglob("*.yaml")))


def site_snapshot(site: Path) -> dict[str, bytes]:
    return {
        path.relative_to(site).as_posix(): path.read_bytes()
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def test_failed_incremental_build_leaves_the_site_untouched(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Incremental builds start from hard links to the previous site's pages; a build that
    rewrote pages and then failed must not have changed one byte of the live site."""
    build(demo_repo, "-q")
    before = site_snapshot(demo_repo / "site")
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    record.write_text(
        record.read_text(encoding="utf-8").replace("title: Cap upload size", "title: Capped", 1),
        encoding="utf-8",
    )

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full, just after every page was written")

    monkeypatch.setattr(incremental, "_write_manifest", fail)
    code, output = run_build(demo_repo, "-q")
    assert code == 1
    assert "build failed: disk full" in output and "previous site was left in place" in output
    assert site_snapshot(demo_repo / "site") == before
    monkeypatch.undo()
    build(demo_repo, "-q")
    page = demo_repo / "site" / "changes" / record.stem / "index.html"
    assert "Capped" in page.read_text(encoding="utf-8")


def test_serve_and_build_keep_separate_page_caches(tmp_path: Path) -> None:
    """`runbook serve` renders with the dev server's URL; if it shared the build's page cache,
    the next `runbook build` would find every page changed and render them all again."""
    built = RenderSettings(site_url="https://runbook.example.com/")
    served = RenderSettings(site_url="http://127.0.0.1:8000/")
    build_cache = PageCache.for_settings(tmp_path, built)
    build_cache.store("changes/a.md", "# A\n")
    build_cache.save_keys({"changes/a.md": "key-a"})
    serve_cache = PageCache.for_settings(tmp_path, served)
    serve_cache.store("changes/a.md", "# A, served\n")
    serve_cache.save_keys({"changes/a.md": "key-served"})
    again = PageCache.for_settings(
        tmp_path, RenderSettings(site_url="https://runbook.example.com/")
    )
    assert again.is_current("changes/a.md", "key-a")
    assert (again.folder / "changes" / "a.md").read_text(encoding="utf-8") == "# A\n"
    assert not again.is_current("changes/a.md", "key-served")


def test_a_page_missing_from_the_cache_is_not_current_whatever_its_key(tmp_path: Path) -> None:
    """The cache's files are listed once per build rather than stat'ed one by one: a page
    whose file went (deleted, or a folder in its place) is rendered again even though the
    keys file still names it with its key, and one stored during the build is current."""
    (tmp_path / "cache" / "pages").mkdir(parents=True)
    cache = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    for name in ("a", "b", "c"):
        cache.store(f"changes/{name}.md", f"# {name}\n")
    cache.save_keys({f"changes/{name}.md": f"key-{name}" for name in "abc"})
    (cache.folder / "changes" / "b.md").unlink()
    (cache.folder / "changes" / "c.md").unlink()
    (cache.folder / "changes" / "c.md").mkdir()
    again = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    assert again.is_current("changes/a.md", "key-a")
    assert not again.is_current("changes/a.md", "key-b")
    assert not again.is_current("changes/b.md", "key-b")
    assert not again.is_current("changes/c.md", "key-c")
    again.store("changes/b.md", "# b\n")
    assert again.is_current("changes/b.md", "key-b")


def test_the_page_cache_drops_what_its_last_build_listed_and_nothing_outside_it(
    tmp_path: Path,
) -> None:
    """Pages no longer generated leave the cache by the list of pages its keys file holds
    (no walk of 100,000 files); a planted list naming files outside the cache, directly or
    through a linked folder, removes none of them, and a name no path can be is passed over."""
    (tmp_path / "cache" / "pages").mkdir(parents=True)
    cache = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    cache.store("changes/a.md", "# A\n")
    cache.store("changes/b.md", "# B\n")
    cache.save_keys({"changes/a.md": "key-a", "changes/b.md": ""})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.txt").write_text("mine\n", encoding="utf-8")
    (cache.folder / "linked").symlink_to(outside)
    again = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    keys = {"changes/a.md": "key-a", "changes/b.md": "", "linked/kept.txt": "x"}
    keys["../../outside/kept.txt"] = keys["changes/\0.md"] = "x"
    again.keys_file.write_text(json.dumps(keys), encoding="utf-8")
    again.prune({"changes/a.md"})
    assert (cache.folder / "changes" / "a.md").is_file()
    assert not (cache.folder / "changes" / "b.md").exists()
    assert (outside / "kept.txt").read_text(encoding="utf-8") == "mine\n"


def test_a_page_cache_without_its_keys_file_drops_what_it_lists_and_nothing_linked_in(
    tmp_path: Path,
) -> None:
    """With no keys file (deleted, or never written), the pages no longer generated are those
    the cache's own listing finds: they go, the kept ones stay, and a folder linked into the
    cache is not followed, so nothing outside it is removed."""
    (tmp_path / "cache" / "pages").mkdir(parents=True)
    cache = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    for uri in ("index.md", "changes/a.md", "changes/b.md", "metrics/m/c.md"):
        cache.store(uri, f"# {uri}\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.txt").write_text("mine\n", encoding="utf-8")
    (cache.folder / "linked").symlink_to(outside)
    again = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    again.prune({"index.md", "changes/a.md"})
    left = sorted(p.relative_to(cache.folder).as_posix() for p in cache.folder.rglob("*.md"))
    assert left == ["changes/a.md", "index.md"]
    assert (outside / "kept.txt").read_text(encoding="utf-8") == "mine\n"


def test_a_stored_page_is_rewritten_exactly_when_its_bytes_change(tmp_path: Path) -> None:
    """A page is compared with its file a slice at a time: a change anywhere (across a slice
    boundary, in a character of several bytes, a file longer or shorter) rewrites it; the
    same text leaves the file alone (MkDocs' dirty mode reads its mtime)."""
    (tmp_path / "cache" / "pages").mkdir(parents=True)
    cache = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    size = incremental.COMPARED_CHARACTERS
    text = "a" * (size - 1) + "é€" + "b" * size + "𝄞\n"
    path = cache.store("records.json", text)
    assert path.read_text(encoding="utf-8") == text
    for changed in (text[:-1], text + "x", text.replace("€", "e"), text.replace("𝄞", "𝄟")):
        os.utime(path, ns=(0, 0))
        cache.store("records.json", text)
        assert path.stat().st_mtime_ns == 0  # the same text: not written again
        cache.store("records.json", changed)
        assert path.read_text(encoding="utf-8") == changed
        cache.store("records.json", text)


def test_an_unchanged_big_page_is_compared_without_copies_of_it(tmp_path: Path) -> None:
    """records.json is 2 KiB per record: storing it again must not hold its bytes, nor the
    file's, beside the text (three copies of 200 MB at 100,000 records)."""
    (tmp_path / "cache" / "pages").mkdir(parents=True)
    cache = PageCache(tmp_path / "cache" / "pages", tmp_path / "cache")
    text = "[" + ",".join(f'{{"id":"{n:08d}","title":"change é"}}' for n in range(400_000)) + "]"
    cache.store("records.json", text)
    tracemalloc.start()
    try:
        cache.store("records.json", text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) > 12_000_000
    assert peak < len(text) // 2


def test_records_json_holds_two_copies_of_itself_at_most(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """records.json is made in one buffer from the records' own JSON: at its peak the buffer
    and the export it returns, never also a list of every record's text (a third copy of
    200 MB at 100,000 records, at the build's memory peak)."""
    monkeypatch.chdir(demo_repo)
    runbook = validate_runbook(read_options("mkdocs.yml")).runbook
    entries = [
        SourcedRecord(f"{entry.id}-{copy}", entry.path, entry.record)
        for copy in range(300)
        for entry in runbook.records
    ]
    assert all(entry.serialised for entry in entries)
    tracemalloc.start()
    try:
        text = records_json(entries)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) > 5_000_000
    assert json.loads(text)[0]["id"] == entries[0].id
    assert peak < 2.5 * len(text)


def test_reused_index_page_rebuilt_from_its_cached_blocks(demo_repo: Path, tmp_path: Path) -> None:
    """An index page taken unchanged from the cache holds its big tables hidden from Markdown;
    if MkDocs must convert it again (its output was deleted), the tables come back whole."""
    build(demo_repo, "-q")
    build(demo_repo, "-q")  # incremental: every page taken from the cache
    tables = sorted((demo_repo / "site" / "files").rglob("index.html"))
    outputs = [page for page in tables if "<tbody>" in page.read_text(encoding="utf-8")]
    assert outputs, "no files page with a table"
    for page in outputs:
        page.unlink()
    # Files deleted inside the site are not looked for; a touched record makes a build run.
    os.utime(next((demo_repo / "records").rglob("*.yaml")))
    assert "incrementally" in build(demo_repo)
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "f")) == []


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a pickle at all", b"cgenerator.check.validate\nNoSuchClassAnyMore\n."],
    ids=["empty", "garbage", "class-gone"],
)
def test_damaged_validation_cache_means_validating_everything(
    demo_repo: Path, tmp_path: Path, damage: bytes
) -> None:
    build(demo_repo, "-q")
    (demo_repo / ".runbook-cache" / "validated.pickle").write_bytes(damage)
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    record.write_text(record.read_text(encoding="utf-8") + "surprise: key\n", encoding="utf-8")
    code, output = run_build(demo_repo, "-q")
    assert code != 0 and "[unknown-key]" in output and "Traceback" not in output
    record.write_text(record.read_text(encoding="utf-8").replace("surprise: key\n", ""))
    assert "incrementally" in build(demo_repo)
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "d")) == []


class _Payload:
    """Unpickling this creates `marker`: what a planted cache would do, less politely."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.write_text, (self.marker, "unpickled"))


@pytest.mark.parametrize("signed_with", ["another key", "no key"])
def test_validation_cache_from_elsewhere_is_never_unpickled(
    demo_repo: Path, tmp_path: Path, signed_with: str
) -> None:
    """A cache restored from a shared CI cache or a pull request is not this user's: its
    signature fails and it is ignored, not unpickled."""
    build(demo_repo, "-q")
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_Payload(marker))
    key = secrets.token_bytes(32)
    signature = hmac.digest(key, payload, "sha256") if signed_with == "another key" else b""
    (demo_repo / ".runbook-cache" / "validated.pickle").write_bytes(signature + payload)
    os.utime(next((demo_repo / "records").rglob("*.yaml")))  # else nothing reads the cache
    assert "incrementally" in build(demo_repo)
    assert not marker.exists()
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "s")) == []


@pytest.mark.parametrize("signed_with", ["another key", "no key", "damaged"])
def test_related_lists_kept_from_elsewhere_are_never_shown(
    demo_repo: Path, tmp_path: Path, signed_with: str
) -> None:
    """The related lists a build keeps for the next (render/related.py) are used only when
    this user's key signed them: planted lists (every record's emptied) are not shown."""
    build(demo_repo, "-q")
    kept = demo_repo / ".runbook-cache" / "related.json"
    lists = json.loads(kept.read_bytes()[32:])
    lists["content"]["related"] = [[] for _ in lists["content"]["related"]]
    payload = json.dumps(lists).encode("utf-8")
    key = secrets.token_bytes(32)
    signature = {
        "another key": hmac.digest(key, payload, "sha256"),
        "no key": b"",
        "damaged": kept.read_bytes()[:32],
    }[signed_with]
    kept.write_bytes(signature + payload)
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("title: ", "title: Edited, ", 1), encoding="utf-8")
    assert "incrementally" in build(demo_repo)
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "r")) == []


def test_a_unit_of_pages_is_keyed_again_only_when_it_shows_the_changed_record(
    demo_repo: Path, tmp_path: Path
) -> None:
    """Groups', metrics', checklists' and folders' pages are kept as units (site_pages.PageUnit):
    after a title edit, the units whose pages list the edited record have new keys, and
    every other unit keeps its key, so its pages are given without being made again."""
    build(demo_repo, "-q")
    (units_file,) = (demo_repo / ".runbook-cache").glob("pages-*-units.json")
    before = {
        tuple(uri for uri, _ in pages): unit for unit, pages in read_signed_json(units_file).items()
    }
    assert len(before) > 10
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("title: ", "title: Edited, ", 1), encoding="utf-8")
    build(demo_repo, "-q")
    after = {
        tuple(uri for uri, _ in pages): unit for unit, pages in read_signed_json(units_file).items()
    }
    assert after.keys() == before.keys()  # a title edit moves no record between pages

    def shows_record(uris: tuple[str, ...]) -> bool:
        outputs = [demo_repo / "site" / uri.removesuffix(".md") / "index.html" for uri in uris]
        return any(
            "2026-11-20-cap-upload-size/" in page.read_text(encoding="utf-8") for page in outputs
        )

    changed = {uris for uris in before if after[uris] != before[uris]}
    assert changed == {uris for uris in before if shows_record(uris)}
    assert 0 < len(changed) < len(before) / 2
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "u")) == []


def test_validation_cache_key_is_the_users_own(demo_repo: Path) -> None:
    build(demo_repo, "-q")
    key = signing_key_path()
    assert key.is_file() and demo_repo not in key.parents
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_compiled_templates_are_kept_outside_the_repository_and_follow_overrides(
    demo_repo: Path,
) -> None:
    """Compiled templates are loaded as code: only this user's cache may hold them, and a
    template override must be compiled from its own source, not taken from the cache."""
    build(demo_repo, "-q")
    for environment in ("runbook", "theme"):
        compiled = user_cache_folder() / "templates" / environment
        assert any(compiled.iterdir()), f"no compiled {environment} template was kept"
    assert not list(demo_repo.rglob("__jinja2_*"))
    (demo_repo / "templates").mkdir()
    override = demo_repo / "templates" / "record.md.j2"
    default = DEFAULT_TEMPLATES / "record.md.j2"
    override.write_text(default.read_text(encoding="utf-8") + "\nOverride-marker-q7\n")
    build(demo_repo, "-q")
    page = next((demo_repo / "site" / "changes").glob("*/index.html"))
    assert "Override-marker-q7" in page.read_text(encoding="utf-8")


def test_a_cache_folder_that_cannot_hold_compiled_templates_only_means_compiling(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled templates are an optimisation: a cache folder that cannot be made (a file in
    its place) or that disappears while templates are written never fails a build."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "cache" / "runbook").mkdir(parents=True)
    (tmp_path / "cache" / "runbook" / "templates").write_text("not a folder\n")
    build(demo_repo, "-q")
    assert list((demo_repo / "site" / "changes").glob("*/index.html"))

    (tmp_path / "cache" / "runbook" / "templates").unlink()
    environment = make_environment(None)
    shutil.rmtree(user_cache_folder() / "templates")
    feed = environment.get_template("feed.xml.j2")  # compiled, and its code not kept
    assert "<generator>runbook</generator>" in feed.render(settings=RenderSettings(), entries=[])


def test_incremental_build_copies_where_hard_links_are_refused(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems (FAT, some network shares) have no hard links: incremental builds
    still work there, by copying the previous site's pages."""
    build(demo_repo, "-q")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(site_copy.os, "link", refuse)
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    for number, title in enumerate(("Capped", "Capped again")):  # a clone, then the spare
        record.write_text(
            record.read_text(encoding="utf-8").replace(
                "title: Cap upload size" if number == 0 else "title: Capped", f"title: {title}", 1
            ),
            encoding="utf-8",
        )
        assert "incrementally" in build(demo_repo)
        expected = full_build_copy(demo_repo, tmp_path, f"l{number}")
        assert differing_files(demo_repo / "site", expected) == []


def test_failed_copy_of_the_previous_site_is_reported_in_one_line(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy reports every file it could not copy; the user gets the first and a count."""
    build(demo_repo, "-q")
    before = site_snapshot(demo_repo / "site")

    def full_disk(source: str, destination: str, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_copy.shutil, "copy2", full_disk)
    monkeypatch.setattr(site_copy.os, "link", full_disk)
    os.utime(next((demo_repo / "records").rglob("*.yaml")))  # else nothing is built
    code, output = run_build(demo_repo, "-q")
    assert code == 1
    (line,) = output.strip().splitlines()
    assert re.fullmatch(
        r"runbook: build failed: cannot copy site/\S+: .*No space left on device.* "
        r"\(and \d+ more files\); the previous site was left in place",
        line,
    ), line
    assert site_snapshot(demo_repo / "site") == before


def test_a_runbook_without_records_builds_and_drops_its_search_bundle(runbook_repo: Path) -> None:
    """No records yet (a new runbook) is a site without a records index, not a failed build
    (Pagefind refuses to index nothing); the last record removed takes the bundle with it."""
    assert "in full" in build(runbook_repo)
    assert (runbook_repo / "site" / "index.html").is_file()
    assert not (runbook_repo / "site" / "pagefind").exists()
    record = REPO_ROOT / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    (runbook_repo / "records" / record.name).write_bytes(record.read_bytes())
    build(runbook_repo)
    assert f"changes/{record.stem}/" in search_fragments(runbook_repo / "site")
    (runbook_repo / "records" / record.name).unlink()
    build(runbook_repo)
    assert not (runbook_repo / "site" / "pagefind").exists()


def test_a_docs_page_in_place_of_a_record_page_takes_its_search_entry_too(
    runbook_repo: Path,
) -> None:
    """docs/changes/ID.md replaces the generated page of record ID: search then has no entry
    leading to a page that is not the record's; the entry comes back with the page."""
    records = sorted((REPO_ROOT / "records" / "2026").glob("*.yaml"))[:2]
    for record in records:
        (runbook_repo / "records" / record.name).write_bytes(record.read_bytes())
    replaced, kept = (record.stem for record in records)
    (runbook_repo / "docs" / "changes").mkdir(parents=True)
    (runbook_repo / "docs" / "changes" / f"{replaced}.md").write_text("# Hand-written\n")
    assert f"docs/changes/{replaced}.md exists" in build(runbook_repo)
    found = search_fragments(runbook_repo / "site")
    assert f"changes/{kept}/" in found and f"changes/{replaced}/" not in found
    (runbook_repo / "docs" / "changes" / f"{replaced}.md").unlink()
    build(runbook_repo)
    assert f"changes/{replaced}/" in search_fragments(runbook_repo / "site")


def site_stamps(site: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder of a site by its inode and modification time."""
    return {
        path.relative_to(site).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in [site, *site.rglob("*")]
    }


def test_a_build_with_nothing_changed_leaves_the_site_as_it_is(demo_repo: Path) -> None:
    first = build(demo_repo)
    before = site_stamps(demo_repo / "site")
    again = build(demo_repo)
    assert "nothing changed since the last build; site left as it is" in again
    assert site_stamps(demo_repo / "site") == before
    warnings = [line for line in first.splitlines() if "warning:" in line]
    assert warnings and warnings == [line for line in again.splitlines() if "warning:" in line]


def _edit_record(repo: Path) -> None:
    record = repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("Cap upload", "Capped", 1))


def _edit_checklist(repo: Path) -> None:
    checklist = repo / "checklists" / "safe-change.yaml"
    checklist.write_text(checklist.read_text(encoding="utf-8").replace("title: ", "title: A ", 1))


def _edit_docs_page(repo: Path) -> None:
    (repo / "docs" / "about.md").write_text("# About it\n", encoding="utf-8")


def _edit_inherited_configuration(repo: Path) -> None:
    (repo / "base.yml").write_text("site_description: another\n", encoding="utf-8")


def _replace_site_with_a_copy(repo: Path) -> None:
    shutil.copytree(repo / "site", repo / "copy")
    shutil.rmtree(repo / "site")
    (repo / "copy").rename(repo / "site")


@pytest.mark.parametrize(
    "change",
    [
        _edit_record,
        _edit_checklist,
        _edit_docs_page,
        _edit_inherited_configuration,
        _replace_site_with_a_copy,
    ],
)
def test_a_build_after_any_change_builds(demo_repo: Path, change: Callable[[Path], None]) -> None:
    """Whatever the site depends on (records, checklists, docs pages, mkdocs.yml's INHERIT
    chain) changed, or the site folder is not the one built: the build runs."""
    (demo_repo / "docs").mkdir(exist_ok=True)
    (demo_repo / "docs" / "about.md").write_text("# About\n", encoding="utf-8")
    (demo_repo / "base.yml").write_text("site_description: one\n", encoding="utf-8")
    config = demo_repo / "mkdocs.yml"
    config.write_text("INHERIT: base.yml\n" + config.read_text(encoding="utf-8"))
    build(demo_repo, "-q")
    assert "nothing changed" in build(demo_repo)
    change(demo_repo)
    output = build(demo_repo)
    assert "nothing changed" not in output and "site built" in output


def test_a_build_on_another_day_builds(demo_repo: Path) -> None:
    """Validation counts days from today (staleness warnings): a new day is a new input."""
    build(demo_repo, "-q")
    result = run_cli(demo_repo, "build", epoch=str(int(EPOCH) + 86400))
    assert result.exit_code == 0 and "site built" in result.stderr


def test_a_strict_build_after_a_lenient_one_fails_on_the_same_warnings(demo_repo: Path) -> None:
    build(demo_repo, "-q")
    code, output = run_build(demo_repo, "--strict")
    assert code == 1 and "warning: rollback is not marked tested" in output


def edited_and_rebuilt(
    repo: Path, tmp_path: Path, record: str, old: str, new: str, folder: str
) -> str:
    """Build, replace `old` with `new` in one record, build again (incrementally, and equal
    to a full build of the same records); the HTML of the pages under `folder`."""
    build(repo, "-q")
    path = repo / "records" / record
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    assert "incrementally" in build(repo)
    assert differing_files(repo / "site", full_build_copy(repo, tmp_path, "e")) == []
    pages = (repo / "site" / folder).rglob("*.html")
    return "".join(page.read_text(encoding="utf-8") for page in pages)


def test_a_changed_metric_value_redraws_its_trend_chart(demo_repo: Path, tmp_path: Path) -> None:
    """Metric pages taken from the cache draw no chart: a changed value must still reach its
    page, chart included, as a full build draws it."""
    record = "2026/2026-11-20-cap-upload-size.yaml"
    charts = edited_and_rebuilt(
        demo_repo, tmp_path, record, "before: 740\n", "before: 7400\n", "metrics"
    )
    assert "7,400 GB" in charts


def test_a_rebuild_starts_from_the_site_the_last_build_replaced(demo_repo: Path) -> None:
    """The second build keeps the first site as the spare; the third starts from it (the
    spare is gone while it builds and comes back as the second site), and the live site's
    files are never written through a shared link: each build's site keeps its bytes."""
    spare = demo_repo / ".runbook-cache" / "site-spare"

    def built() -> dict[str, bytes]:
        build(demo_repo, "-q")
        return site_snapshot(demo_repo / "site")

    first = built()
    assert not spare.exists()  # nothing was replaced
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    original = record.read_text(encoding="utf-8")
    record.write_text(original.replace("title: Cap upload size", "title: Capped", 1), "utf-8")
    second = built()
    assert site_snapshot(spare) == first  # the first site, kept
    first_manifest = incremental.read_manifest(spare)
    record.write_text(original.replace("title: Cap upload size", "title: Capped twice", 1), "utf-8")
    third = built()
    assert site_snapshot(spare) == second  # the spare became the third site, the second spare
    assert incremental.read_manifest(demo_repo / "site")["pages"] == first_manifest["pages"]
    assert third != second and site_snapshot(demo_repo / "site") == third


def test_a_changed_checklist_note_reaches_its_checklist_page(
    demo_repo: Path, tmp_path: Path
) -> None:
    """A checklist page lists each item's changes by status with their notes, keyed by what
    their records hold: a skipped item's note rewritten (the lists themselves unchanged)
    reaches the page, as a full build shows it."""
    checklists = edited_and_rebuilt(
        demo_repo,
        tmp_path,
        "2026/2026-11-30-jobs-worker-scheduler-migration.yaml",
        "note: The scheduler has no dashboard annotations yet;",
        "note: Annotations wait for the scheduler's next release;",
        "checklists",
    )
    assert "Annotations wait for the scheduler" in checklists


def test_a_month_file_follows_a_record_of_another_month_it_names(
    demo_repo: Path, tmp_path: Path
) -> None:
    """Month files are kept while their key holds: a record's row names the records that fix
    it, so retitling a fix of April rewrites March's file too, as a full build writes it;
    the untouched months stay the files the first build wrote."""
    build(demo_repo, "-q")
    months = demo_repo / "site" / "timeline"
    first = {path.name: path.stat().st_ino for path in months.glob("*.json")}
    edited_and_rebuilt(
        demo_repo,
        tmp_path,
        "2026/2026-04-02-search-sku-keyword-subfield.yaml",
        "title: Keep SKU codes whole in product search with a keyword sub-field",
        "title: SKU search gets its keyword sub-field",
        "timeline",
    )
    assert "SKU search gets its keyword sub-field" in (months / "2026-03.json").read_text("utf-8")
    rewritten = {p.name for p in months.glob("*.json") if p.stat().st_ino != first.get(p.name)}
    assert rewritten == {"2026-03.json", "2026-04.json"}


SITE_URL = "https://runbook.example.org/team/"
# A MkDocs hook (mkdocs.yml `hooks:`, loaded after the plugins) that writes down the
# documentation pages MkDocs was handed for the build.
FILES_SEEN_HOOK = """\
import json
import pathlib

def on_files(files, config):
    pages = [file.src_uri for file in files.documentation_pages()]
    pathlib.Path({seen!r}).write_text(json.dumps(pages), encoding="utf-8")
    return files
"""


def _seeing_files(repo: Path, seen: Path) -> None:
    """The repository's site gets a site_url (so that its sitemap lists every page by its
    address), and MkDocs' list of pages is written to `seen` by each build."""
    (repo / "seen_files.py").write_text(FILES_SEEN_HOOK.format(seen=str(seen)), "utf-8")
    config = repo / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + f"site_url: {SITE_URL}\nhooks:\n  - seen_files.py\n",
        encoding="utf-8",
    )


def test_a_rebuild_hands_mkdocs_what_changed_and_what_that_links_to(tmp_path: Path) -> None:
    """After the oldest of 200 records changes its title, MkDocs is handed the pages that
    show it (with long lists in parts of ten, the oldest part of each list it is on), the
    index pages and the pages those link to (each part's newer neighbour), not the pages of
    the other records; every link still resolves, the sitemap still lists every page, and
    the site equals a full build byte for byte."""
    repo = write_corpus(tmp_path / "repo", 200)
    seen = tmp_path / "seen.json"
    _seeing_files(repo, seen)
    oldest = min((repo / "records").rglob("*.yaml"), key=lambda path: path.stem)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(long_lists, "BLOCK", 10)
        build(repo, "-q")
        everything = set(json.loads(seen.read_text(encoding="utf-8")))
        oldest.write_text(
            oldest.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), "utf-8"
        )
        said = build(repo)
        handed = set(json.loads(seen.read_text(encoding="utf-8")))
        full = full_build_copy(repo, tmp_path, "full")

    assert "incrementally" in said and "contains a link" not in said  # every link resolved
    records = {f"changes/{path.stem}.md" for path in (repo / "records").rglob("*.yaml")}
    assert records <= everything and f"changes/{oldest.stem}.md" in handed
    assert len(records & handed) < len(records) / 4
    assert "index.md" in handed and "services/index.md" in handed
    # A re-rendered part links its neighbours with `.md` links: those parts are handed too,
    # though nothing they show changed (with the first older part: the second onwards).
    neighbours = {
        uri: re.sub(r"older-(\d+)\.md$", lambda m: f"older-{int(m[1]) - 1}.md", uri)
        for uri in handed
        if re.search(r"/(?:.*-)?older-([2-9]|\d\d+)\.md$", uri)
    }
    assert neighbours and set(neighbours.values()) <= handed
    assert differing_files(repo / "site", full) == []
    sitemap = (repo / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert sitemap == (full / "sitemap.xml").read_text(encoding="utf-8")
    for uri in sorted(records):
        assert f"<loc>{SITE_URL}{uri.removesuffix('.md')}/</loc>" in sitemap


def test_a_failed_build_leaves_no_manifest_to_trust(demo_repo: Path, tmp_path: Path) -> None:
    """A build that writes into the site in place (MkDocs' own --dirty) and fails leaves no
    manifest behind, so the next build trusts none of the folder's outputs: it rebuilds
    what the failed one may have half-written, and equals a full build."""
    build(demo_repo, "-q")
    site = demo_repo / "site"
    assert "keys" in incremental.read_manifest(site)
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    original = record.read_text(encoding="utf-8")
    record.write_text(original.replace("title: Cap upload size", "title: [unclosed"), "utf-8")

    def dirty_build() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--dirty", "-q"],
            cwd=demo_repo,
            env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert dirty_build().returncode != 0
    assert not (site / MANIFEST_NAME).exists()
    record.write_text(original.replace("title: Cap upload size", "title: Capped"), "utf-8")
    done = dirty_build()
    assert done.returncode == 0, done.stderr
    assert incremental.read_manifest(site)["keys"]
    assert differing_files(site, full_build_copy(demo_repo, tmp_path, "full")) == []


def test_a_rebuild_with_a_hand_written_nav_equals_a_full_build(
    demo_repo: Path, tmp_path: Path
) -> None:
    """A hand-written nav gets the index pages it leaves out in a "Runbook" section; a
    rebuild converts few pages, but each shows that section with its pages' titles, as a
    full build does (they read "None" when the section's pages were not read). With pages
    published as `.html` files and a site URL, so that the sitemap lists them."""
    config = demo_repo / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"site_url: {SITE_URL}\nuse_directory_urls: false\n"
        + "nav:\n  - Home: index.md\n  - Timeline: timeline.md\n",
        encoding="utf-8",
    )
    build(demo_repo, "-q")
    record = demo_repo / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    record.write_text(
        record.read_text(encoding="utf-8").replace("title: Cap upload size", "title: Capped"),
        encoding="utf-8",
    )
    assert "incrementally" in build(demo_repo)
    page = demo_repo / "site" / "changes" / "2026-11-20-cap-upload-size.html"
    assert "Capped" in page.read_text(encoding="utf-8")
    assert differing_files(demo_repo / "site", full_build_copy(demo_repo, tmp_path, "full")) == []
