"""Long lists of changes (a tag's, a service's, a checklist item's, a metric's, rollback
readiness) are split into pages of bounded size, every change on exactly one of them, and the
older pages stay as they are while newer changes are added."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_run import run_cli
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.corpus import write_corpus
from generator.render import long_lists
from generator.render.long_lists import BLOCK, older_uri, split_list

EPOCH = "1790000000"


def changes(count: int, start: int = 0) -> list[SimpleNamespace]:
    """`count` changes numbered from `start`, newest first, a day apart."""
    day = dt.date(2020, 1, 1)
    return [
        SimpleNamespace(number=n, record=SimpleNamespace(date=day + dt.timedelta(days=n)))
        for n in reversed(range(start, start + count))
    ]


def split(items: list[SimpleNamespace]) -> tuple[long_lists.Part, list]:
    return split_list(items, "tags/jobs.md", older_uri("tags/jobs.md"), lambda item: item)


@given(total=st.integers(0, 5 * BLOCK), added=st.integers(1, 2 * BLOCK))
def test_every_change_is_on_one_page_of_bounded_size_and_older_pages_stay(
    total: int, added: int
) -> None:
    items = changes(total)
    own, older = split(items)
    assert [*own.items, *(i for _, part in reversed(older) for i in part.items)] == items
    assert len(own.items) < 2 * BLOCK
    assert all(len(part.items) == BLOCK for _, part in older)
    if older:
        assert len(own.items) >= BLOCK
        assert [page.uri for page in own.older] == [uri for uri, _ in reversed(older)]
        assert older[0][0] == "tags/jobs/older-1.md" and not older[0][1].older_uri
        assert older[-1][1].newer_uri == "tags/jobs.md"
    grown_own, grown_older = split(changes(added, start=total) + items)
    assert grown_own.total == total + added
    for (uri, part), (grown_uri, grown_part) in zip(older, grown_older, strict=False):
        assert (uri, part.items, part.first, part.last) == (
            grown_uri,
            grown_part.items,
            grown_part.first,
            grown_part.last,
        )
        if uri != older[-1][0]:  # the newest older page's "newer" link may move on
            assert part == grown_part


def links_to_changes(page: Path) -> set[str]:
    return set(re.findall(r'href="[./]*changes/([^/"]+)/', page.read_text(encoding="utf-8")))


def test_a_site_splits_long_lists_and_links_every_older_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real build, with blocks of 10 changes and pages of about 5 files so that 200
    records make long lists: every tag's changes are on its page or its older pages, each
    page short, every link there; every file's history is where the finder and the record
    pages link to."""
    monkeypatch.setattr(long_lists, "BLOCK", 10)
    monkeypatch.setattr(long_lists, "FILES_PER_PART", 5)
    repo = write_corpus(tmp_path / "runbook", 200)
    result = run_cli(repo, "build", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    site = repo / "site"
    records = json.loads((site / "records.json").read_text(encoding="utf-8"))
    tags = {tag for record in records for tag in record["tags"]}
    assert tags
    for tag in tags:
        pages = [site / "tags" / tag / "index.html", *(site / "tags" / tag).glob("older-*/")]
        expected = {record["id"] for record in records if tag in record["tags"]}
        assert len(pages) - 1 == max(len(expected) // 10 - 1, 0)
        shown = [links_to_changes(page / "index.html" if page.is_dir() else page) for page in pages]
        assert set().union(*shown) == expected
        assert all(len(ids) < 20 for ids in shown)
        own = (site / "tags" / tag / "index.html").read_text(encoding="utf-8")
        for link in re.findall(r'href="(older-\d+/)"', own):
            assert (site / "tags" / tag / link / "index.html").is_file()
    untested = {record["id"] for record in records if not record["rollback"]["tested"]}
    readiness = [site / "rollback-readiness" / "index.html"]
    readiness += [page / "index.html" for page in (site / "rollback-readiness").glob("older-*")]
    assert set().union(*map(links_to_changes, readiness)) == untested
    checklist_pages = list((site / "checklists").glob("*/*-older-*/index.html"))
    assert checklist_pages and all(len(links_to_changes(p)) == 10 for p in checklist_pages)
    finder = json.loads((site / "files" / "paths.json").read_text(encoding="utf-8"))
    assert any("/part-" in url for _, url, _ in finder)
    for path, url, count in finder:
        page, _, anchor = url.partition("#")
        html = (site / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html
        assert count == sum(path in record["files_touched"] for record in records)
    split = [page.parent for page in (site / "files").glob("*/part-1")]
    assert split
    for folder in split:
        own = (folder / "index.html").read_text(encoding="utf-8")
        parts = re.findall(rf'href="[./]*files/{folder.name}/(part-\d+)/"', own)
        assert len(parts) == len(list(folder.glob("part-*"))) and len(parts) & (len(parts) - 1) == 0
