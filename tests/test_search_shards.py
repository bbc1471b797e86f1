"""How the records' search documents are cut into Pagefind shards (site/search_index.py).

The recent shard is what a query ranks first, so it must stay between RECENT and 2 x RECENT
records; a new record must change that shard alone, or every build re-indexes the archive. The
archive comes in blocks (Pagefind holds a shard's whole index in memory while it builds it):
no block larger than its limit, and the older blocks unchanged as the runbook grows.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from generator.site.search_index import PagefindIndex, plan_shards

RECENT = 5
BLOCK = 2 * RECENT


def documents(folder: Path, count: int) -> dict[str, str]:
    """`count` search documents; their paths, newest first, each without a key (named by
    its bytes)."""
    paths = [f"changes/r{number:04d}/index.html" for number in range(count)]
    for path in paths:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        page = f"<!doctype html><html lang='en'><body><main><p>{path}</p></main></body></html>"
        (folder / path).write_text(page, encoding="utf-8")
    return dict.fromkeys(paths[::-1], "")


@pytest.mark.parametrize("count", [1, RECENT - 1, RECENT, 2 * RECENT - 1, 2 * RECENT, 37])
def test_the_recent_shard_holds_the_newest_records_and_the_archive_the_rest(
    tmp_path: Path, count: int
) -> None:
    newest_first = documents(tmp_path, count)
    shards = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    recent = shards[0].paths
    assert set(recent) == set(list(newest_first)[: len(recent)])
    assert sorted(p for shard in shards for p in shard.paths) == sorted(newest_first)
    if count < 2 * RECENT:
        assert len(shards) == 1
    else:
        assert len(shards) == 2 and RECENT <= len(recent) < 2 * RECENT


def test_a_new_record_changes_the_recent_shard_alone(tmp_path: Path) -> None:
    before = plan_shards(tmp_path, documents(tmp_path, 23), "1.5.2", RECENT)
    after = plan_shards(tmp_path, documents(tmp_path, 24), "1.5.2", RECENT)
    assert after[1] == before[1]
    assert after[0].name != before[0].name


@pytest.mark.parametrize("count", [2 * RECENT, 3 * RECENT, 3 * RECENT + 4, 41, 60])
def test_the_archive_comes_in_blocks_counted_from_the_oldest_record(
    tmp_path: Path, count: int
) -> None:
    newest_first = documents(tmp_path, count)
    shards = plan_shards(tmp_path, newest_first, "1.5.2", RECENT, BLOCK)
    assert sorted(p for shard in shards for p in shard.paths) == sorted(newest_first)
    assert RECENT <= len(shards[0].paths) < 2 * RECENT
    blocks = shards[1:]
    assert all(0 < len(block.paths) <= BLOCK for block in blocks)
    # Newest first, each block a run of consecutive records, full blocks from the oldest.
    flattened = [path for shard in shards for path in shard.paths[::-1]]
    assert flattened == list(newest_first)
    assert all(len(block.paths) == BLOCK for block in blocks[1:])


def test_older_blocks_keep_their_names_as_records_come(tmp_path: Path) -> None:
    before = plan_shards(tmp_path, documents(tmp_path, 47), "1.5.2", RECENT, BLOCK)
    for count in range(48, 70):
        after = plan_shards(tmp_path, documents(tmp_path, count), "1.5.2", RECENT, BLOCK)
        full_before = [block for block in before[1:] if len(block.paths) == BLOCK]
        assert all(block in after for block in full_before)
        assert len(after) - len(before) in (0, 1)
        before = after


def test_a_shard_is_named_by_its_documents_and_the_pagefind_version(tmp_path: Path) -> None:
    newest_first = documents(tmp_path, 12)
    first = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    assert plan_shards(tmp_path, newest_first, "1.5.2", RECENT) == first
    assert plan_shards(tmp_path, newest_first, "1.6.0", RECENT)[1].name != first[1].name
    (tmp_path / list(newest_first)[-1]).write_text("<p>edited</p>", encoding="utf-8")
    edited = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    assert edited[0] == first[0] and edited[1].name != first[1].name


def test_a_document_with_a_key_is_named_by_it_not_read(tmp_path: Path) -> None:
    """The documents' cache writes each document by the key of what it shows: a shard is
    named by its documents' keys (a changed key renames it) without reading them (a
    document gone from the folder is never opened)."""
    paths = list(documents(tmp_path, 12))
    keyed = {path: f"key-{path}" for path in paths}
    first = plan_shards(tmp_path, keyed, "1.5.2", RECENT)
    for path in paths:
        (tmp_path / path).unlink()
    assert plan_shards(tmp_path, keyed, "1.5.2", RECENT) == first
    keyed[paths[-1]] = "another key"
    renamed = plan_shards(tmp_path, keyed, "1.5.2", RECENT)
    assert renamed[0] == first[0] and renamed[1].name != first[1].name


def eventually(condition: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("count", [2 * RECENT + 3, 4 * RECENT + 2])
def test_every_shard_is_indexed_and_its_scratch_folder_removed(tmp_path: Path, count: int) -> None:
    """Every shard's Pagefind run (real ones: the recent shard beside the archive's blocks,
    one after another) lands in the site, each bundle holding its own records; the folders
    they ran in (thousands of links at scale) go away after the build."""
    source = tmp_path / "documents"
    newest_first = documents(source, count)
    index = PagefindIndex(tmp_path / "cache", reuse=False, recent=RECENT, archive_block=BLOCK)
    index.start(source, newest_first)
    index.finish(tmp_path / "site")
    bundle = tmp_path / "site" / "pagefind"
    names = json.loads((bundle / "shards.json").read_text(encoding="utf-8"))["shards"]
    assert names == [shard.name for shard in index.shards]
    assert len(names) == (2 if count < 3 * RECENT else 3)
    for name, shard in zip(names, index.shards, strict=True):
        entry = json.loads((bundle / name / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"]["en"]["page_count"] == len(shard.paths)
    shards_folder = tmp_path / "cache" / "pagefind-shards"
    assert eventually(lambda: sorted(p.name for p in shards_folder.iterdir()) == sorted(names))


def test_a_site_keeps_its_current_shards_and_loses_everything_else(tmp_path: Path) -> None:
    """The site's bundle folder after a build holds this runbook's shards and shards.json,
    nothing else: a shard already there under its name is kept as it is (not deleted and
    linked again: a file per record at scale), a shard gone, a half-copied one and a planted
    link are removed, and the link's target is left alone."""
    source = tmp_path / "documents"
    index = PagefindIndex(tmp_path / "cache", reuse=True, recent=RECENT, archive_block=BLOCK)
    index.start(source, documents(source, 2 * RECENT + 3))
    site = tmp_path / "site"
    index.finish(site)
    bundle = site / "pagefind"
    names = [shard.name for shard in index.shards]
    made = (bundle / names[-1]).stat()  # the folder itself, not made again
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (bundle / "0123456789abcdef").mkdir()  # a shard the runbook no longer has
    (bundle / f"shard-{names[0]}").mkdir()  # a copy a stopped build left halfway
    shutil.rmtree(bundle / names[0])
    (bundle / names[0]).symlink_to(outside, target_is_directory=True)

    again = PagefindIndex(tmp_path / "cache", reuse=True, recent=RECENT, archive_block=BLOCK)
    again.start(source, documents(source, 2 * RECENT + 3))
    again.finish(site)
    assert sorted(path.name for path in bundle.iterdir()) == sorted([*names, "shards.json"])
    assert not (bundle / names[0]).is_symlink()
    assert (bundle / names[0] / "pagefind-entry.json").is_file()
    kept = (bundle / names[-1]).stat()
    assert (kept.st_ino, kept.st_ctime_ns) == (made.st_ino, made.st_ctime_ns)
    assert sorted(path.name for path in outside.iterdir()) == ["keep"]


def test_a_failed_run_fails_the_build_with_pagefinds_message(tmp_path: Path) -> None:
    source = tmp_path / "documents"
    newest_first = documents(source, 3)
    for path in newest_first:  # nothing Pagefind can index: it fails
        (source / path).write_text("", encoding="utf-8")
    index = PagefindIndex(tmp_path / "cache", reuse=False, recent=RECENT)
    index.start(source, newest_first)
    with pytest.raises(PluginError, match=r"Pagefind failed \(exit [1-9]"):
        index.finish(tmp_path / "site")
