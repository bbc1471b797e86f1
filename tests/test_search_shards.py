"""How the records' search documents are cut into Pagefind shards (site/search_index.py).

The recent shard is what a query ranks first, so it must stay between RECENT and 2 x RECENT
records; a new record must change that shard alone, or every build re-indexes the archive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.site.search_index import plan_shards

RECENT = 5


def documents(folder: Path, count: int) -> list[str]:
    """`count` search documents; their paths, newest first."""
    paths = [f"changes/r{number:04d}/index.html" for number in range(count)]
    for path in paths:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(f"<p>{path}</p>", encoding="utf-8")
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
