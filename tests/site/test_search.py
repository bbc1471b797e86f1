"""Material's search on the demo-based site finds records by file, command, owner and service.

Queries and expected record ids are derived from the records' YAML, not written by hand.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sitehelpers import (
    REPO_ROOT,
    BuiltSite,
    RecordData,
    Tab,
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
    meta.filter(has_text=re.compile("matching document")).wait_for()
    summary = meta.text_content() or ""
    if "No matching" not in summary:
        page.locator(".md-search-result__item").first.wait_for()
    # Material renders results in batches each time the list's end scrolls into view: leave
    # the end and come back until no more arrive.
    scrollwrap = page.locator(".md-search__scrollwrap")
    seen = -1
    while (count := page.locator(".md-search-result__item").count()) != seen:
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
    marked = tab.page.locator(".md-search-result__item mark").all_text_contents()
    assert any(m.lower() == name for m in marked), f"{name!r} is not highlighted: {marked[:5]}"


# --- a runbook with more results than the worker highlights --------------------------------


def highlighted_results(worker: Path) -> int:
    """How many results runbook's search worker highlights, as the worker's source says."""
    return int(re.search(r"const HIGHLIGHTED = (\d+)", worker.read_text())[1])


def pages_with_word_starting(site_dir: Path, prefix: str) -> set[str]:
    """The pages whose search entries hold a word starting with `prefix`, read from the index
    with its separator (hyphenated words also count by their parts)."""
    index = json.loads((site_dir / "search" / "search_index.json").read_text())
    separator = re.compile(index["config"]["separator"])
    pages = set()
    for doc in index["docs"]:
        text = html.unescape(re.sub(r"<[^>]+>", " ", doc["title"] + " " + doc["text"])).lower()
        words = [w for w in separator.split(text) if w]
        words += [part for w in words if "-" in w for part in w.split("-")]
        if any(w.startswith(prefix) for w in words):
            pages.add(doc["location"].split("#")[0])
    return pages


def test_a_word_on_every_record_lists_every_page_and_highlights_the_best(
    large_site: BuiltSite, large_server: str, tab: Tab
) -> None:
    site_dir, url = large_site.site_dir, large_server
    highlighted = highlighted_results(site_dir / "assets/javascripts/workers/runbook-search.js")
    expected = pages_with_word_starting(site_dir, "owner")
    assert len(expected) > highlighted + 10
    summary, hrefs = search(tab, url, "owner")
    assert summary.startswith(f"{len(expected)} matching"), summary
    found = {urlsplit(h).path.removeprefix(urlsplit(url).path) for h in hrefs}
    assert found == expected
    items = tab.page.locator(".md-search-result__item")
    assert items.first.locator("mark").count() > 0
    last = items.nth(items.count() - 1)
    assert last.locator("mark").count() == 0  # past the highlighted ones: an excerpt only
    assert 0 < len(last.locator("article").inner_html()) < 1000
