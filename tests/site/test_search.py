"""The search box on the demo-based site finds records by file, command, flag, owner and service,
and its facets narrow them.

Queries and expected record ids are derived from the records' YAML, not written by hand.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sitehelpers import (
    GUIDE_WORD,
    REPO_ROOT,
    SEARCH_ANSWERED,
    BuiltSite,
    RecordData,
    Tab,
    newest_first,
    record_id_of,
    record_url,
)

pytestmark = pytest.mark.browser

WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def search(tab: Tab, base_url: str, query: str) -> tuple[str, list[str]]:
    """Type `query` into Material's search box; the result summary and every result's link."""
    page = tab.page
    page.goto(base_url, wait_until="load")
    box = page.locator(".md-search__input")
    if not box.is_visible():
        page.locator('label.md-header__button[for="__search"]').click()
    box.click()
    box.press_sequentially(query, delay=5)
    meta = page.locator(".md-search-result__meta")
    meta.filter(has_text=SEARCH_ANSWERED).wait_for()
    # Each keystroke is a query of its own: an answer to the first letters ("c": 19
    # changes) may show before the answer to the whole query ("cold": 1). The summary is
    # read once it has stayed the same across three looks.
    summary, same = meta.text_content() or "", 0
    while same < 2:
        page.wait_for_timeout(100)
        now = meta.text_content() or ""
        same = same + 1 if now == summary else 0
        summary = now
    if "No matching" not in summary:
        page.locator(".md-search-result__item").first.wait_for()
    # The best record is listed first, alone, while the others load; and Material renders
    # results in batches each time the list's end scrolls into view: leave the end and come
    # back until the list has stayed the same twice.
    scrollwrap = page.locator(".md-search__scrollwrap")
    seen, unchanged = -1, 0
    while unchanged < 2:
        count = page.locator(".md-search-result__item").count()
        unchanged = unchanged + 1 if count == seen else 0
        seen = count
        scrollwrap.evaluate("e => e.scrollTo(0, 0)")
        page.wait_for_timeout(50)
        scrollwrap.evaluate("e => e.scrollTo(0, e.scrollHeight)")
        page.wait_for_timeout(150)
    hrefs = page.locator(".md-search-result__item a").evaluate_all(
        "links => links.map(a => a.href)"
    )
    return summary, hrefs


def found_records(hrefs: list[str]) -> set[str]:
    return {rid for rid in (record_id_of(urlsplit(h).path) for h in hrefs) if rid}


def demo_records(site: BuiltSite) -> dict[str, RecordData]:
    """The records of the repository's own demo (not the extra fixture records)."""
    demo_ids = {p.stem for p in (REPO_ROOT / "records").rglob("*.yaml")}
    return {rid: r for rid, r in site.records.items() if rid in demo_ids}


def most_touched_path(site: BuiltSite) -> str:
    counts = Counter(p for r in site.records.values() for p in set(r.data["files_touched"]))
    return min(counts, key=lambda p: (-counts[p], p))


def touching(site: BuiltSite, path: str) -> set[str]:
    return {r.id for r in site.records.values() if path in r.data["files_touched"]}


def assert_finds(tab: Tab, base_url: str, query: str, expected: set[str]) -> None:
    assert expected, f"nothing to expect for {query!r}"
    summary, hrefs = search(tab, base_url, query)
    found = found_records(hrefs)
    missing = expected - found
    assert not missing, f"{query!r} ({summary}) does not find {sorted(missing)}; found {found}"
    for record_id in expected:
        assert any(urlsplit(h).path.endswith("/" + record_url(record_id)) for h in hrefs)


def test_full_file_path_finds_every_record_that_touched_it(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """...and no record that merely shares a folder or an extension with it."""
    path = most_touched_path(demo_site)
    assert "/" in path and len(touching(demo_site, path)) >= 2
    assert_finds(tab, demo_server, path, touching(demo_site, path))
    found = found_records(search(tab, demo_server, path)[1])
    strays = sorted(r for r in found if path not in yaml.safe_dump(demo_site.records[r].data))
    assert not strays, f"{path!r} also lists records that do not mention it: {strays}"


def test_part_of_a_path_finds_the_records(demo_site: BuiltSite, demo_server: str, tab: Tab) -> None:
    path = most_touched_path(demo_site)
    basename = path.rsplit("/", 1)[-1]
    assert "." in basename
    expected = {
        r.id
        for r in demo_site.records.values()
        if any(p.endswith("/" + basename) or p == basename for p in r.data["files_touched"])
    }
    assert_finds(tab, demo_server, basename, expected)


def test_the_end_of_a_path_from_any_folder_finds_the_records(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    path = max(
        (p for r in demo_site.records.values() for p in r.data["files_touched"]),
        key=lambda p: (p.count("/"), p),
    )
    tail = path.split("/", 1)[1]  # from the second folder on: neither the start nor a word
    assert "/" in tail
    expected = {
        r.id
        for r in demo_site.records.values()
        if any(p == tail or p.endswith("/" + tail) for p in r.data["files_touched"])
    }
    assert_finds(tab, demo_server, tail, expected)


def test_a_word_and_its_parts_are_marked_once(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """`deploy` matches the part `deploy` and the whole `deploy/nginx/upload.conf`, at one
    place: it must be marked once, not a second time inside the first mark."""
    folder = most_touched_path(demo_site).split("/")[0]
    search(tab, demo_server, folder)
    inner = tab.page.locator(".md-search-result__item mark").evaluate_all(
        "marks => marks.map(mark => mark.innerHTML)"
    )
    assert any(folder in html for html in inner), inner[:5]
    assert not [html for html in inner if "<" in html or "&gt;" in html], inner[:5]
    odd = tab.page.locator(".md-search-result__item").evaluate_all(
        "items => items.flatMap(i => [...i.querySelectorAll('*')].map(e => e.tagName))"
        ".filter(name => !/^[A-Z][A-Z0-9]*$/.test(name))"
    )
    assert not odd, f"broken markup in the results: {odd[:5]}"


def _command_fragment(site: BuiltSite) -> tuple[str, set[str]]:
    """The rarest pair of plain consecutive words in the demo's shipping commands."""
    records = demo_records(site)
    best: tuple[int, str] | None = None
    for record in records.values():
        for command in record.commands():
            words = command["run"].split()
            for first, second in itertools.pairwise(words):
                if WORD.match(first) and WORD.match(second) and len(first + second) > 8:
                    fragment = f"{first} {second}"
                    users = sum(
                        any(fragment in c["run"] for c in r.commands())
                        for r in site.records.values()
                    )
                    if best is None or (users, fragment) < best:
                        best = (users, fragment)
    assert best is not None
    fragment = best[1]
    expected = {
        r.id for r in site.records.values() if any(fragment in c["run"] for c in r.commands())
    }
    return fragment, expected


def test_command_fragment_finds_the_record(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    fragment, expected = _command_fragment(demo_site)
    assert_finds(tab, demo_server, fragment, expected)


@pytest.mark.parametrize("key", ["owner", "service"])
def test_owner_and_service_find_their_records(
    demo_site: BuiltSite, demo_server: str, tab: Tab, key: str
) -> None:
    counts = Counter(r.data[key] for r in demo_records(demo_site).values())
    # the busiest name: every one of its records must be among the results
    name = min(counts, key=lambda n: (-counts[n], n))
    expected = {r.id for r in demo_site.records.values() if r.data[key] == name}
    assert len(expected) >= 2
    assert_finds(tab, demo_server, name, expected)


def test_commands_have_a_copy_button(demo_site: BuiltSite, demo_server: str, tab: Tab) -> None:
    record = max(demo_records(demo_site).values(), key=lambda r: (len(r.commands()), r.id))
    tab.page.goto(demo_server + record_url(record.id), wait_until="load")
    blocks = tab.page.locator("article pre")
    expected = len(record.commands()) + len(record.commands(rollback=True))
    assert blocks.count() >= expected
    copy = tab.page.locator(
        "article pre button[data-md-type='copy'], article pre button.md-clipboard, "
        "article pre + button.md-clipboard"
    )
    assert copy.count() == blocks.count()


def _mentions(record: RecordData, word: str) -> bool:
    """`word` appears in the record's YAML as a word of its own, hyphenated names included."""
    text = yaml.safe_dump(record.data, allow_unicode=True).lower()
    return re.search(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", text) is not None


def _busiest_hyphenated_service(site: BuiltSite) -> tuple[str, set[str]]:
    """The hyphenated service that the most other records share a part of the name with."""

    def strays(name: str) -> int:
        parts = name.split("-")
        return sum(
            not _mentions(r, name) and any(_mentions(r, p) for p in parts)
            for r in site.records.values()
        )

    names = {r.data["service"] for r in demo_records(site).values() if "-" in r.data["service"]}
    name = max(sorted(names), key=strays)
    assert strays(name), f"no record shares only a part of {name!r}: the test cannot fail"
    return name, {r.id for r in site.records.values() if r.data["service"] == name}


def test_a_hyphenated_name_is_searched_as_one_word(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """`billing-api` lists the records that say so, not every record saying `api` or `billing`."""
    name, expected = _busiest_hyphenated_service(demo_site)
    summary, hrefs = search(tab, demo_server, name)
    found = found_records(hrefs)
    assert expected <= found, f"{name!r} ({summary}) misses {sorted(expected - found)}"
    strays = sorted(rid for rid in found if not _mentions(demo_site.records[rid], name))
    assert not strays, f"{name!r} also lists records that only share a part of it: {strays}"


def test_a_part_of_a_hyphenated_name_finds_it(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """The last part (`api` of `billing-api`) is not a prefix, yet it still finds the name."""
    name, expected = _busiest_hyphenated_service(demo_site)
    last = name.rsplit("-", 1)[1]
    assert_finds(tab, demo_server, last, expected)
    titles = tab.page.locator(".md-search-result__item article").all_inner_texts()
    assert any(name in text for text in titles), f"{name!r} is not shown: {titles[:3]}"


def _flags(site: BuiltSite) -> dict[str, set[str]]:
    """Each flag of the demo's commands (a word starting with "-"), with the records whose
    commands hold it as a word of its own."""
    users: dict[str, set[str]] = {}
    for record in site.records.values():
        for command in record.commands() + record.commands(rollback=True):
            for word in command["run"].split():
                if re.fullmatch(r"--?[A-Za-z][\w=.-]*", word):
                    users.setdefault(word, set()).add(record.id)
    return users


@pytest.mark.parametrize("kind", ["short", "long with a value"])
def test_a_flag_is_text_not_an_operator(
    demo_site: BuiltSite, demo_server: str, tab: Tab, kind: str
) -> None:
    """`-t` or `--dry-run=server` finds the records whose commands pass that flag: a leading
    "-" is not "must not contain", and records without the flag are not listed."""
    flags = _flags(demo_site)
    if kind == "short":
        candidates = [f for f in flags if re.fullmatch(r"-[A-Za-z]", f)]
    else:
        candidates = [f for f in flags if f.startswith("--") and "=" in f]
    assert candidates, f"the demo has no {kind} flag: the test cannot fail"
    flag = min(candidates, key=lambda f: (-len(flags[f]), f))
    assert_finds(tab, demo_server, flag, flags[flag])
    found = found_records(search(tab, demo_server, flag)[1])
    pattern = re.compile(rf"(?<!\S){re.escape(flag)}")
    strays = sorted(
        rid
        for rid in found
        if not any(
            pattern.search(c["run"])
            for c in demo_site.records[rid].commands()
            + demo_site.records[rid].commands(rollback=True)
        )
    )
    assert not strays, f"{flag!r} also lists records without it: {strays}"


@pytest.mark.parametrize("facet", ["service", "owner", "status", "tag", "year"])
def test_a_facet_narrows_to_the_records_that_have_it(
    demo_site: BuiltSite, demo_server: str, tab: Tab, facet: str
) -> None:
    """`service:billing` lists exactly the records of every service whose name holds
    "billing" (any part, any case), newest first, and no hand-written page."""
    records = list(demo_site.records.values())

    def values(record: RecordData) -> list[str]:
        if facet == "year":
            return [str(record.data["date"])[:4]]
        if facet == "tag":
            return list(record.data.get("tags", []))
        return [str(record.data.get(facet, "shipped"))]

    counts = Counter(v for r in records for v in values(r))
    value = min(counts, key=lambda v: (-counts[v], v))
    part = value if facet == "year" else value.split(" ")[0].split("-")[0].upper()
    expected = {r.id for r in records if any(part.lower() in v.lower() for v in values(r))}
    query = f'{facet}:"{part}"' if " " in part else f"{facet}:{part}"
    _, hrefs = search(tab, demo_server, query)
    listed = [rid for rid in (record_id_of(urlsplit(h).path) for h in hrefs) if rid]
    shown = shown_results(REPO_ROOT / "templates" / "runbook-search.js")
    assert len(hrefs) == len(listed) + (len(expected) > shown), f"{query!r}: {hrefs}"
    assert set(listed) <= expected and len(listed) == min(len(expected), shown), query
    dates = [str(demo_site.records[rid].data["date"]) for rid in listed]
    newest = sorted((str(demo_site.records[rid].data["date"]) for rid in expected), reverse=True)
    assert dates == newest[: len(dates)], f"{query!r} is not newest first"


# --- a runbook with more results than the worker lists -------------------------------------


def shown_results(worker: Path) -> int:
    """How many results runbook's search worker lists, as the worker's source says."""
    return int(re.search(r"const SHOWN = (\d+)", worker.read_text())[1])


def test_a_word_on_every_record_lists_the_first_and_counts_the_rest(
    large_site: BuiltSite, large_server: str, tab: Tab
) -> None:
    """Only the first SHOWN records are fetched and listed, highlighted; one more entry says
    how many others match and how to narrow them."""
    site_dir = large_site.site_dir
    shown = shown_results(site_dir / "assets/javascripts/workers/runbook-search.js")
    year = Counter(str(r.data["date"])[:4] for r in large_site.records.values()).most_common(1)
    value, count = year[0]
    assert count > shown
    search(tab, large_server, f"year:{value}")
    items = tab.page.locator(".md-search-result__item")
    assert items.count() == shown + 1
    assert items.nth(shown).inner_text().startswith(f"{count - shown} more changes match")
    search(tab, large_server, "owner")
    everyone = len(large_site.records)
    assert items.count() >= shown + 1  # and the hand-written pages that say "owner"
    assert items.nth(shown).inner_text().startswith(f"{everyone - shown} more changes match")
    assert items.first.locator("mark").count() > 0


# --- a runbook in two shards: the recent records and the archive ----------------------------


def test_a_path_only_archived_records_touched_is_found_in_the_archive(
    large_site: BuiltSite, sharded_server: str, tab: Tab
) -> None:
    oldest = large_site.records[newest_first(large_site.records)[-1]]
    path = oldest.data["files_touched"][0]
    _, hrefs = search(tab, sharded_server, path)
    found = {record_id_of(href) for href in hrefs} - {None}
    assert oldest.id in found
    assert all(path in large_site.records[rid].data["files_touched"] for rid in found)


def test_a_path_no_record_touched_lists_no_record(
    large_site: BuiltSite, sharded_server: str, tab: Tab
) -> None:
    """Pagefind retries a word no record has with its end cut off ("config/file-0..."): what
    that finds is not listed, in the recent shard or in the archive."""
    path = large_site.records[newest_first(large_site.records)[0]].data["files_touched"][0]
    missing = re.sub(r"\d+", lambda digits: "9" * (len(digits[0]) + 2), path)
    assert not any(missing in r.data["files_touched"] for r in large_site.records.values())
    summary, hrefs = search(tab, sharded_server, missing)
    assert not [href for href in hrefs if record_id_of(href)], summary


def test_a_word_on_every_record_is_answered_from_the_recent_shard(
    large_site: BuiltSite, sharded_server: str, tab: Tab
) -> None:
    """The archive is not ranked when the recent records fill the list: the newest records
    are listed, and the last line says older ones may match."""
    shown = shown_results(REPO_ROOT / "generator/templates/runbook-search.js")
    search(tab, sharded_server, "owner")
    items = tab.page.locator(".md-search-result__item")
    listed = [record_id_of(items.nth(i).locator("a").first.get_attribute("href") or "")
              for i in range(shown)]  # fmt: skip
    assert set(listed) == set(newest_first(large_site.records)[:shown])
    assert items.nth(shown).inner_text().startswith("Older changes may match too")


# --- hand-written pages: Material's own worker, only where they are ------------------------

MATERIAL_WORKER = re.compile(r"/assets/javascripts/workers/search\.[0-9a-f]+\.min\.js$")


def test_without_hand_written_pages_materials_worker_is_never_loaded(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """Material's index holds no page (docs/ is empty): records are found, and the 39.5 KB of
    Material's worker and Lunr are not fetched."""
    index = json.loads((demo_site.site_dir / "search" / "search_index.json").read_text())
    assert index["docs"] == []
    path = most_touched_path(demo_site)
    _, hrefs = search(tab, demo_server, path)
    assert found_records(hrefs) == touching(demo_site, path)
    assert not [url for url in tab.requests if MATERIAL_WORKER.search(urlsplit(url).path)]


def test_a_hand_written_page_is_found_beside_the_records(guide_server: str, tab: Tab) -> None:
    _, hrefs = search(tab, guide_server, GUIDE_WORD)
    assert [urlsplit(href).path for href in hrefs] == ["/pager-guide/"]
    assert [url for url in tab.requests if MATERIAL_WORKER.search(urlsplit(url).path)]
    _, hrefs = search(tab, guide_server, "nginx")
    assert found_records(hrefs)  # records still come first, through Pagefind
