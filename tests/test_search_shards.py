"""How the records' search documents are cut into Pagefind shards (site/search_index.py).

The recent shard is what a query ranks first, so it must stay between RECENT and 2 x RECENT
records; a new record must change that shard alone, or every build re-indexes the archive.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from generator.site.search_index import PagefindIndex, plan_shards

RECENT = 5


def documents(folder: Path, count: int) -> list[str]:
    """`count` search documents; their paths, newest first."""
    paths = [f"changes/r{number:04d}/index.html" for number in range(count)]
    for path in paths:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        page = f"<!doctype html><html lang='en'><body><main><p>{path}</p></main></body></html>"
        (folder / path).write_text(page, encoding="utf-8")
    return paths[::-1]


@pytest.mark.parametrize("count", [1, RECENT - 1, RECENT, 2 * RECENT - 1, 2 * RECENT, 37])
def test_the_recent_shard_holds_the_newest_records_and_the_archive_the_rest(
    tmp_path: Path, count: int
) -> None:
    newest_first = documents(tmp_path, count)
    shards = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    recent = shards[0].paths
    assert set(recent) == set(newest_first[: len(recent)])
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


def test_a_shard_is_named_by_its_documents_and_the_pagefind_version(tmp_path: Path) -> None:
    newest_first = documents(tmp_path, 12)
    first = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    assert plan_shards(tmp_path, newest_first, "1.5.2", RECENT) == first
    assert plan_shards(tmp_path, newest_first, "1.6.0", RECENT)[1].name != first[1].name
    (tmp_path / newest_first[-1]).write_text("<p>edited</p>", encoding="utf-8")
    edited = plan_shards(tmp_path, newest_first, "1.5.2", RECENT)
    assert edited[0] == first[0] and edited[1].name != first[1].name


def eventually(condition: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_every_shard_is_indexed_at_once_and_its_scratch_folder_removed(tmp_path: Path) -> None:
    """Both shards' Pagefind runs (real ones) land in the site, each bundle holding its own
    records; the folders they ran in (thousands of links at scale) go away after the build."""
    source = tmp_path / "documents"
    newest_first = documents(source, 2 * RECENT + 3)
    index = PagefindIndex(tmp_path / "cache", reuse=False, recent=RECENT)
    index.start(source, newest_first)
    index.finish(tmp_path / "site")
    bundle = tmp_path / "site" / "pagefind"
    names = json.loads((bundle / "shards.json").read_text(encoding="utf-8"))["shards"]
    assert names == [shard.name for shard in index.shards] and len(names) == 2
    for name, shard in zip(names, index.shards, strict=True):
        entry = json.loads((bundle / name / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert entry["languages"]["en"]["page_count"] == len(shard.paths)
    shards_folder = tmp_path / "cache" / "pagefind-shards"
    assert eventually(lambda: sorted(p.name for p in shards_folder.iterdir()) == sorted(names))


def test_a_failed_run_fails_the_build_with_pagefinds_message(tmp_path: Path) -> None:
    source = tmp_path / "documents"
    newest_first = documents(source, 3)
    for path in newest_first:  # nothing Pagefind can index: it fails
        (source / path).write_text("", encoding="utf-8")
    index = PagefindIndex(tmp_path / "cache", reuse=False, recent=RECENT)
    index.start(source, newest_first)
    with pytest.raises(PluginError, match=r"Pagefind failed \(exit [1-9]"):
        index.finish(tmp_path / "site")
