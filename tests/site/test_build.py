"""Integration tests of the built site: real `runbook build` (and `mkdocs build`) runs.

Expected values come from the records' YAML, read here independently of the generator.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml
from sitehelpers import (
    DATA,
    MINIMAL_MKDOCS_YML,
    REPO_ROOT,
    SOURCE_DATE_EPOCH,
    BuiltSite,
    Node,
    RecordData,
    Site,
    build,
    folder_of,
    load_records,
    newest_first,
    norm,
    parse_html,
    record_id_of,
    record_url,
    resolve,
    run_cli,
    write_repo,
)

from benchmarks.search_bundle import page_numbered, search_fragments
from generator.names import name_key

FIXTURE_IDS = sorted({*load_records(REPO_ROOT / "records"), *load_records(DATA / "extra")})
CHECKLISTS = {
    path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted((REPO_ROOT / "checklists").glob("*.yaml"))
}
FEED_SIZE = 50
RELATED_LIMIT = 6
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?")


# --- helpers ------------------------------------------------------------------------------


def article(doc: Node) -> Node:
    node = doc.find("article", cls="md-content__inner")
    assert node is not None, "page has no article"
    return node


def section(doc: Node, heading_id: str) -> list[Node]:
    heading = article(doc).find(id=heading_id)
    assert heading is not None, f"no #{heading_id} section"
    return heading.section()


def descendants(nodes: list[Node], tag: str) -> list[Node]:
    """Elements named `tag` among `nodes` and inside them, in document order."""
    found = []
    for node in nodes:
        if node.tag == tag:
            found.append(node)
        found += node.find_all(tag)
    return found


def code_blocks(nodes: list[Node]) -> list[str]:
    return [code.text for code in descendants(nodes, "code") if code.parent.tag == "pre"]


def links_to_records(page_url: str, nodes: list[Node]) -> list[str]:
    ids = []
    for anchor in descendants(nodes, "a"):
        if "href" in anchor.attrs and not urlsplit(anchor.attrs["href"]).netloc:
            target, _ = resolve(page_url, anchor.attrs["href"])
            record_id = record_id_of(target)
            if record_id:
                ids.append(record_id)
    return ids


def summary_facts(doc: Node) -> dict[str, Node]:
    """The record page's summary: each labelled fact by its label ("Owner", "Shipped", ...)."""
    facts = article(doc).find("p", cls="rb-facts")
    assert facts is not None, "record page has no summary"
    items = {}
    for fact in facts.find_all("span", cls="rb-fact"):
        label = fact.find("span", cls="rb-label")
        assert label is not None
        items[norm(label.text)] = fact
    return items


def fact_value(fact: Node) -> str:
    label = fact.find("span", cls="rb-label")
    assert label is not None
    return norm(fact.text[len(label.text) :])


def shipped_text(record: dict) -> str:
    """What the summary says for when a record shipped (its time in its own offset)."""
    shipped = record.get("shipped_at")
    if shipped is None:
        return record["date"].isoformat()
    if isinstance(shipped, str):
        shipped = dt.datetime.fromisoformat(shipped.replace("Z", "+00:00"))
    offset = shipped.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return f"{shipped:%Y-%m-%d %H:%M} {zone}"


def parse_number(text: str) -> float:
    match = NUMBER.search(text)
    assert match, f"no number in {text!r}"
    return float(match.group().replace(",", ""))


def strip_markdown(text: str) -> str:
    return norm(re.sub(r"[`*]", "", text))


def group_page(site: BuiltSite, record_id: str, label: str) -> tuple[str, Node]:
    """Follow the metadata link (Owner, Service) of a record page to its group page."""
    page_url = record_url(record_id)
    link = summary_facts(site.site.page(page_url))[label].find("a")
    assert link is not None, f"{label} is not linked"
    target, _ = resolve(page_url, link.attrs["href"])
    return target, site.site.page(target)


def table_records(page_url: str, doc: Node) -> list[str]:
    return links_to_records(page_url, [article(doc)])


def record_of(site: BuiltSite, record_id: str) -> RecordData:
    assert record_id in site.records, f"fixture lost record {record_id}"
    return site.records[record_id]


def folded(name: str) -> str:
    """DESIGN.md's grouping of names: case, spaces, `_` and `-` folded."""
    return re.sub(r"[\s_-]+", "-", name.casefold()).strip("-")


def names_of(record: RecordData, key: str) -> list[str]:
    values = record.data.get(key, [])
    return [values] if isinstance(values, str) else list(values)


def name_groups(site: BuiltSite, key: str) -> dict[str, tuple[str, set[str]]]:
    """Folded name → (the spelling the site shows: most used, ties to the earliest record;
    the ids of every record using any spelling)."""
    uses: dict[str, list[tuple[str, object, str]]] = {}
    for record in site.records.values():
        for name in dict.fromkeys(names_of(record, key)):
            uses.setdefault(folded(name), []).append((name, record.data["date"], record.id))
    groups = {}
    for group, members in uses.items():
        counts = {name: sum(1 for n, _, _ in members if n == name) for name, _, _ in members}
        earliest = {name: min((d, i) for n, d, i in members if n == name) for name in counts}
        shown = min(counts, key=lambda name: (-counts[name], earliest[name]))
        groups[group] = (shown, {record_id for _, _, record_id in members})
    return groups


# --- record pages -------------------------------------------------------------------------


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_every_record_has_a_page_at_a_stable_url(demo_site: BuiltSite, record_id: str) -> None:
    record = record_of(demo_site, record_id)
    page = demo_site.site_dir / "changes" / record_id / "index.html"
    assert page.is_file()
    assert norm(article(demo_site.site.page(record_url(record_id))).find("h1").text) == norm(
        record.data["title"]
    )


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_record_page_summary(demo_site: BuiltSite, record_id: str) -> None:
    """Under the title, one compact summary: status, when it shipped (with its offset),
    service, environment, owner, commit and the tags as chips linked to their pages."""
    record = record_of(demo_site, record_id).data
    doc = demo_site.site.page(record_url(record_id))
    facts = summary_facts(doc)
    expected = {
        "Shipped": shipped_text(record),
        "Service": record["service"],
        "Environment": record.get("environment", "production"),
        "Owner": record["owner"],
    }
    if record.get("commit"):
        expected["Commit"] = str(record["commit"])
    if record.get("started_at") and record.get("shipped_at"):
        minutes = int((record["shipped_at"] - record["started_at"]).total_seconds()) // 60
        took = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
        expected["Rollout"] = f"from {record['started_at']:%H:%M}, rolled out over {took}"
    assert {label: fact_value(facts[label]) for label in facts} == {
        label: norm(value) for label, value in expected.items()
    }
    status = article(doc).find("span", cls="rb-status")
    assert status is not None and norm(status.text) == record.get("status", "shipped")
    for label, key in (("Owner", "owner"), ("Service", "service")):
        target, group = group_page(demo_site, record_id, label)
        shown, _ = name_groups(demo_site, key)[folded(record[key])]
        assert norm(article(group).find("h1").text) == f"{label}: {norm(shown)}"
        assert record_id in table_records(target, group)
    chips = article(doc).find_all("a", cls="rb-chip")
    assert [norm(chip.text) for chip in chips] == [norm(t) for t in record.get("tags", [])]
    for chip in chips:
        target, _ = resolve(record_url(record_id), chip.attrs["href"])
        assert target.startswith("tags/"), target
    about = section(doc, "about-this-record")
    reviewers = [span.text for node in about for span in node.find_all("span", cls="rb-reviewer")]
    assert reviewers == record.get("reviewers", [])
    about_text = norm(" ".join(node.text for node in about))
    if record.get("last_reviewed"):
        assert f"Last reviewed: {record['last_reviewed'].isoformat()}" in about_text


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_files_touched_link_to_their_history(demo_site: BuiltSite, record_id: str) -> None:
    record = record_of(demo_site, record_id).data
    page_url = record_url(record_id)
    items = descendants(section(demo_site.site.page(page_url), "files-touched"), "li")
    assert [norm(item.find("code").text) for item in items] == record["files_touched"]
    for item, path in zip(items, record["files_touched"], strict=True):
        link = item.find("a")
        assert link is not None, f"{path} is not linked to its history"
        target, fragment = resolve(page_url, link.attrs["href"])
        assert fragment, f"link to the history of {path} has no anchor"
        history = demo_site.site.page(target)
        heading = history.find(id=fragment)
        assert heading is not None, f"{target}#{fragment} does not exist"
        assert norm(heading.text) == path
        table = heading.next_element()
        assert table is not None and table.tag == "table", f"no history table for {path}"
        touching = {r.id for r in demo_site.records.values() if path in r.data["files_touched"]}
        assert set(links_to_records(target, [table])) == touching


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_commands_are_code_blocks_with_their_notes(demo_site: BuiltSite, record_id: str) -> None:
    record = record_of(demo_site, record_id)
    nodes = section(demo_site.site.page(record_url(record_id)), "commands")
    commands = record.commands()
    assert code_blocks(nodes) == [c["run"].rstrip() + "\n" for c in commands]
    # each command with its own note after it, never above as the previous one's caption
    blocks = [n for node in nodes for n in node.iter() if "rb-command" in n.classes]
    assert len(blocks) == len(commands)
    for block, command in zip(blocks, commands, strict=True):
        parts = [n for n in block.iter() if n.tag in ("pre", "p")]
        expected = ["pre"] + (["p"] if command.get("note") else [])
        assert [n.tag for n in parts] == expected, command
        if command.get("note"):
            assert norm(parts[1].text) == norm(command["note"])


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_links_section_lists_every_link(demo_site: BuiltSite, record_id: str) -> None:
    record = record_of(demo_site, record_id).data
    doc = demo_site.site.page(record_url(record_id))
    if not record.get("links"):
        assert article(doc).find(id="links") is None
        return
    anchors = descendants(section(doc, "links"), "a")
    assert [(norm(a.text), a.attrs.get("href")) for a in anchors] == [
        (norm(link["title"]), link["url"]) for link in record["links"]
    ]


def _expected_percent(before: float, after: float) -> float | None:
    return None if before == 0 else (after - before) / abs(before) * 100


def _expected_verdict(metric: dict[str, object]) -> str:
    delta = float(metric["after"]) - float(metric["before"])  # type: ignore[arg-type]
    if delta == 0:
        return "unchanged"
    return "improved" if (delta < 0) == (metric["better"] == "lower") else "regressed"


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_metrics_table_shows_delta_percent_and_verdict(
    demo_site: BuiltSite, record_id: str
) -> None:
    record = record_of(demo_site, record_id).data
    doc = demo_site.site.page(record_url(record_id))
    if not record.get("metrics"):
        assert article(doc).find(id="metrics") is None
        return
    tables = descendants(section(doc, "metrics"), "table")
    assert len(tables) == 1
    rows = tables[0].find("tbody").find_all("tr")
    assert len(rows) == len(record["metrics"])
    for row, metric in zip(rows, record["metrics"], strict=True):
        cells = [norm(cell.text) for cell in row.find_all("td")]
        name, before, after, change, result = cells
        assert name == norm(metric["name"])
        unit = norm(metric.get("unit", ""))
        for cell, value in ((before, metric["before"]), (after, metric["after"])):
            assert math.isclose(parse_number(cell), value, rel_tol=1e-3, abs_tol=1e-9), cell
            assert cell.endswith(unit)
        delta = metric["after"] - metric["before"]
        delta_text, _, percent_text = change.partition("(")
        assert math.isclose(parse_number(delta_text), delta, rel_tol=1e-3, abs_tol=1e-9), change
        percent = _expected_percent(metric["before"], metric["after"])
        if percent is None:  # from zero: no percentage, and no "(n/a)" noise
            assert percent_text == "" and "n/a" not in change, change
        else:
            assert percent_text.rstrip(")").endswith("%"), change
            assert abs(parse_number(percent_text) - percent) <= 0.051, change
            if percent:
                assert percent_text.startswith("+" if percent > 0 else "-"), change
        verdict = _expected_verdict(metric)
        assert result.split()[0] == verdict, f"{metric['name']}: {result}"
        assert result.endswith(f"({metric['better']} is better)"), result


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_how_to_undo_it_comes_right_after_the_summary(demo_site: BuiltSite, record_id: str) -> None:
    """The rollback is the first thing after the summary, before the reason; a tested one and
    one that is NOT differ in colour (admonition kind), icon and words."""
    record = record_of(demo_site, record_id)
    rollback = record.data["rollback"]
    page = article(demo_site.site.page(record_url(record_id)))
    summary = page.find("div", cls="rb-summary")
    assert summary is not None
    heading = summary.next_element()
    assert heading is not None and heading.tag == "h2" and heading.attrs.get("id") == "rollback"
    (undo,) = [node for node in heading.section() if "rb-undo" in node.classes]
    tested = rollback.get("tested", False)
    assert ("success" if tested else "danger") in undo.classes, undo.classes
    assert ("rb-undo-tested" if tested else "rb-undo-untested") in undo.classes
    title = norm(undo.find("p", cls="admonition-title").text)
    assert ("NOT tested" in title) == (not tested), title
    first_line = strip_markdown(rollback["plan"].strip().splitlines()[0])
    assert first_line in norm(undo.text)
    assert code_blocks([undo]) == [c["run"].rstrip() + "\n" for c in record.commands(rollback=True)]
    headings = [node.attrs.get("id") for node in page.elements if node.tag == "h2"]
    # What the change caused and what it fixes come next, before why it was made.
    caused = (
        ["incidents-and-fixes"] if record.data.get("incidents") or record.data.get("fixes") else []
    )
    assert headings[: 2 + len(caused)] == ["rollback", *caused, "reason"]


@pytest.mark.parametrize("record_id", FIXTURE_IDS)
def test_related_changes_share_files_first(demo_site: BuiltSite, record_id: str) -> None:
    records = demo_site.records
    record = record_of(demo_site, record_id).data
    files = set(record["files_touched"])
    tags = {folded(tag) for tag in record.get("tags", [])}

    def shares_files(other: RecordData) -> bool:
        return bool(files & set(other.data["files_touched"]))

    def is_related(other: RecordData) -> bool:
        return (
            shares_files(other)
            or folded(other.data["service"]) == folded(record["service"])
            or bool(tags & {folded(tag) for tag in other.data.get("tags", [])})
        )

    others = [r for r in records.values() if r.id != record_id]
    candidates = [r.id for r in others if is_related(r)]
    doc = demo_site.site.page(record_url(record_id))
    if not candidates:
        assert article(doc).find(id="related-changes") is None
        return
    related = links_to_records(record_url(record_id), section(doc, "related-changes"))
    assert related, "no related changes although some records share files, service or tags"
    assert record_id not in related
    assert len(related) == len(set(related)) <= RELATED_LIMIT
    assert set(related) <= set(candidates)
    sharing = [r.id for r in others if shares_files(r)]
    flags = [other in sharing for other in related]
    assert flags == sorted(flags, reverse=True), "records sharing files must come first"
    if len(sharing) <= RELATED_LIMIT:
        assert set(sharing) <= set(related)
    assert len(related) == min(RELATED_LIMIT, len(candidates))


# --- index pages --------------------------------------------------------------------------


def test_home_page_is_generated_without_docs_index(demo_site: BuiltSite) -> None:
    assert not (demo_site.repo / "docs" / "index.md").exists()
    doc = demo_site.site.page("")
    assert norm(article(doc).find("h1").text) == "Recent changes"
    assert table_records("", doc) == newest_first(demo_site.records)[:50]


@pytest.mark.parametrize(
    ("kind", "key"), [("services", "service"), ("owners", "owner"), ("tags", "tags")]
)
def test_group_indexes_list_every_name_with_its_records(
    demo_site: BuiltSite, kind: str, key: str
) -> None:
    groups = name_groups(demo_site, key)
    index_url = f"{kind}/"
    doc = demo_site.site.page(index_url)
    listed = {}
    for anchor in article(doc).find("table").find_all("a"):
        listed[norm(anchor.text)] = resolve(index_url, anchor.attrs["href"])[0]
    assert set(listed) == {norm(shown) for shown, _ in groups.values()}
    assert len(set(listed.values())) == len(listed), "two names share one page"
    for shown, members in groups.values():
        target = listed[norm(shown)]
        page = demo_site.site.page(target)
        assert norm(article(page).find("h1").text).endswith(f": {norm(shown)}")
        assert set(table_records(target, page)) == members


def test_files_index_lists_every_folder_and_file(demo_site: BuiltSite) -> None:
    paths = {p for r in demo_site.records.values() for p in r.data["files_touched"]}
    folders = {folder_of(p) or "(top level)" for p in paths}
    doc = demo_site.site.page("files/")
    listed = {
        norm(a.text): resolve("files/", a.attrs["href"])[0]
        for a in article(doc).find("table").find_all("a")
    }
    assert set(listed) == folders
    shown = set()
    for target in listed.values():
        shown |= {norm(h.text) for h in article(demo_site.site.page(target)).find_all("h2")}
    assert shown == paths


def test_metrics_index_and_pages(demo_site: BuiltSite) -> None:
    """One page per (service, metric name), grouped by service on the index; each page lists
    that service's changes of the metric and draws their trend."""
    services = name_groups(demo_site, "service")  # one service under any spelling
    uses: dict[tuple[str, str], set[str]] = {}
    for record in demo_site.records.values():
        service = services[folded(record.data["service"])][0]
        for metric in record.data.get("metrics", []):
            uses.setdefault((service, metric["name"]), set()).add(record.id)
    doc = article(demo_site.site.page("metrics/"))
    listed = {}
    for heading in doc.find_all("h2"):
        for row in descendants(heading.section(), "tr")[1:]:
            listed[(norm(heading.text), norm(row.find("td").text))] = row
    assert set(listed) == {(norm(s), norm(m)) for s, m in uses}
    for (service, name), ids in uses.items():
        row = listed[(norm(service), norm(name))]
        target, _ = resolve("metrics/", row.find("a").attrs["href"])
        page = demo_site.site.page(target)
        assert set(table_records(target, page)) == ids
        assert norm(article(page).find("h1").text) == f"{norm(name)} — {norm(service)}"
        trend = article(page).find("svg", cls="rb-trend")
        # a dot per change, y ticks with the unit, dates under the steps (first and last)
        assert trend is not None and len(trend.find_all("circle", cls="rb-point")) == len(ids)
        unit = next(
            m["unit"]
            for rid in ids
            for m in demo_site.records[rid].data["metrics"]
            if m["name"] == name
        )
        axis = [norm(t.text) for t in trend.find_all("text", cls="rb-axis")]
        assert not unit or any(text.endswith(f" {norm(unit)}") for text in axis), axis
        dates = sorted(demo_site.records[rid].date.isoformat() for rid in ids)
        assert {dates[0], dates[-1]} <= set(axis), axis


def test_checklists_index_and_skipped_items_show_their_note(demo_site: BuiltSite) -> None:
    doc = demo_site.site.page("checklists/")
    titles = {norm(a.text) for a in article(doc).find("table").find_all("a")}
    assert titles == {c["title"] for c in CHECKLISTS.values()}
    skipped = [
        (record, checklist_id, item_id, status["note"])
        for record in demo_site.records.values()
        for checklist_id, items in record.checklist_statuses().items()
        for item_id, status in items.items()
        if status["status"] == "skipped"
    ]
    assert skipped, "the fixture needs a skipped checklist item"
    for record, checklist_id, item_id, note in skipped:
        item_text = next(i["text"] for i in CHECKLISTS[checklist_id]["items"] if i["id"] == item_id)
        page_url = f"checklists/{checklist_id}/"
        heading = article(demo_site.site.page(page_url)).find(
            "h2", where=lambda h, t=item_text: norm(h.text) == norm(t)
        )
        assert heading is not None, f"{page_url} has no section for {item_id}"
        entries = [
            li
            for li in descendants(heading.section(), "li")
            if record.id in links_to_records(page_url, [li])
        ]
        assert entries, f"{record.id} not listed under {checklist_id}.{item_id}"
        assert strip_markdown(note) in norm(entries[0].text)
        # and on the record page, next to the item
        record_doc = demo_site.site.page(record_url(record.id))
        items = [
            li
            for li in descendants(section(record_doc, "checklists"), "li")
            if norm(item_text) in norm(li.text)
        ]
        assert items and "skipped" in norm(items[0].text)
        assert strip_markdown(note) in norm(items[0].text)


def test_rollback_readiness_lists_untested_rollbacks(demo_site: BuiltSite) -> None:
    untested = [
        rid
        for rid in newest_first(demo_site.records)
        if not demo_site.records[rid].data["rollback"].get("tested", False)
    ]
    assert untested, "the fixture needs an untested rollback"
    doc = demo_site.site.page("rollback-readiness/")
    assert table_records("rollback-readiness/", doc) == untested


def test_record_pages_are_not_in_the_navigation(demo_site: BuiltSite) -> None:
    for page_url in ("", record_url(FIXTURE_IDS[0]), "services/"):
        doc = demo_site.site.page(page_url)
        navs = doc.find_all("nav", cls="md-nav--primary")
        assert navs, f"{page_url or 'home'} has no primary navigation"
        assert not links_to_records(page_url, navs), f"records listed in the nav of {page_url}"
        outside = [
            node
            for node in doc.find_all("a")
            if not any(a.tag == "article" for a in node.ancestors())
        ]
        assert not (set(links_to_records(page_url, outside)) - {record_id_of(page_url)})
    home_nav = norm(demo_site.site.page("").find("nav", cls="md-nav--primary").text)
    for label in ("Services", "Owners", "Files", "Checklists", "Metrics", "Tags"):
        assert label in home_nav


# --- feed and export ----------------------------------------------------------------------


def test_feed_parses_and_lists_newest_first(demo_site: BuiltSite) -> None:
    feed = feedparser.parse((demo_site.site_dir / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    expected = newest_first(demo_site.records)[:FEED_SIZE]
    assert len(feed.entries) == min(FEED_SIZE, len(demo_site.records))
    assert [record_id_of(entry.link) for entry in feed.entries] == expected
    for entry, record_id in zip(feed.entries, expected, strict=True):
        record = demo_site.records[record_id].data
        assert entry.title == record["title"]
        assert entry.author == record["owner"]
        updated = dt.date(*entry.updated_parsed[:3])
        assert updated == record["date"]


def test_feed_keeps_the_newest_fifty(make_repo) -> None:  # type: ignore[no-untyped-def]
    template = (DATA / "extra" / "2026-12-02-billing-lower-case.yaml").read_text(encoding="utf-8")
    start = dt.date(2025, 1, 1)
    records = {}
    for n in range(55):
        day = start + dt.timedelta(days=n * 3)
        text = re.sub(r"^date: .*$", f"date: {day.isoformat()}", template, flags=re.M)
        text = re.sub(r"^title: .*$", f"title: Synthetic change {n}", text, flags=re.M)
        records[f"{day.isoformat()}-synthetic-{n}.yaml"] = text
    repo = make_repo(records=records)
    result = run_cli(repo, "render", "--out", "out")
    assert result.exit_code == 0, result.output
    feed = feedparser.parse((repo / "out" / "feed.xml").read_bytes())
    assert not feed.bozo
    expected = newest_first(load_records(repo / "records"))[:FEED_SIZE]
    assert len(feed.entries) == FEED_SIZE
    assert [record_id_of(entry.link) for entry in feed.entries] == expected


def test_records_json_has_every_record_in_stable_order(demo_site: BuiltSite) -> None:
    export = json.loads((demo_site.site_dir / "records.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in export] == newest_first(demo_site.records)
    for entry in export:
        record = demo_site.records[entry["id"]]
        assert entry["path"] == record.path
        for key in ("title", "owner", "service", "files_touched", "reason"):
            assert entry[key] == record.data[key]
        assert entry["date"] == record.data["date"].isoformat()
        assert [c["run"] for c in entry["commands"]] == [c["run"] for c in record.commands()]


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_builds_are_deterministic(demo_site: BuiltSite) -> None:
    repo = demo_site.repo
    build(repo, "--site-dir", "site-again")
    first, second = _tree(demo_site.site_dir), _tree(repo / "site-again")
    for tree in (first, second):
        for name in [name for name in tree if page_numbered(name)]:
            del tree[name]
    assert first.keys() == second.keys()
    for name in (
        "feed.xml",
        "records.json",
        "annotations.json",
        "search/search_index.json",
        "pagefind/shards.json",
    ):
        assert first[name] == second[name], f"{name} differs between two builds"
    generated = [n for n in first if n.endswith(".html") and not n.startswith("assets/")]
    assert generated
    different = [n for n in generated if first[n] != second[n]]
    assert not different, f"pages differ between two builds: {different[:5]}"


def test_render_is_byte_identical_and_matches_the_build(demo_site: BuiltSite) -> None:
    repo = demo_site.repo
    for out in ("render-1", "render-2"):
        result = run_cli(repo, "render", "--out", out)
        assert result.exit_code == 0, result.output
    first, second = _tree(repo / "render-1"), _tree(repo / "render-2")
    assert first == second
    assert {f"changes/{rid}.md" for rid in demo_site.records} <= first.keys()
    built = _tree(demo_site.site_dir)
    assert first["records.json"] == built["records.json"]
    assert first["feed.xml"] == built["feed.xml"]


# --- failures, overrides, hostile names ---------------------------------------------------


BROKEN_RECORD = """\
title: A record with a wrong metric direction
date: 2026-12-09
owner: someone
service: something
reason: Broken on purpose.
files_touched: [a/b.conf]
commands: [echo hi]
metrics:
  - name: latency
    unit: ms
    before: 1
    after: 2
    better: down
rollback:
  plan: Nothing.
"""


def test_failed_build_reports_and_keeps_the_previous_site(make_repo) -> None:  # type: ignore[no-untyped-def]
    demo = sorted((REPO_ROOT / "records").rglob("*.yaml"))[:2]
    repo = make_repo(record_files=demo)
    build(repo)
    before = _tree(repo / "site")
    assert any(name.startswith("changes/") for name in before)
    (repo / "records" / "2026-12-09-broken.yaml").write_text(BROKEN_RECORD, encoding="utf-8")
    result = run_cli(repo, "build")
    assert result.exit_code == 1, result.output
    line_number = BROKEN_RECORD.splitlines().index("    better: down") + 1
    match = re.search(
        r"^records/2026-12-09-broken\.yaml:(\d+):(\d+): error: .*better", result.output, re.M
    )
    assert match, f"no PATH:LINE:COL diagnostic in:\n{result.output}"
    assert int(match.group(1)) == line_number
    assert int(match.group(2)) in (5, 13)  # the key or its value
    assert "Traceback" not in result.output
    assert _tree(repo / "site") == before, "a failed build changed the previous site"
    leftovers = [p.name for p in repo.iterdir() if p.name.startswith(".site")]
    assert not leftovers, f"temporary build folders left behind: {leftovers}"


def test_templates_dir_override_is_used(make_repo) -> None:  # type: ignore[no-untyped-def]
    demo = sorted((REPO_ROOT / "records").rglob("*.yaml"))[:2]
    repo = make_repo(
        record_files=demo,
        mkdocs_yml=(
            "site_name: Override\ntheme: {name: material}\n"
            "plugins:\n  - search\n  - runbook:\n      templates_dir: overrides\n"
        ),
    )
    (repo / "overrides").mkdir()
    (repo / "overrides" / "record.md.j2").write_text(
        "---\ntitle: {{ record.title | front_matter }}\n---\n\n"
        "# Custom: {{ record.title | text }}\n\n"
        '<p class="custom-marker">custom template for {{ entry.id }}</p>\n',
        encoding="utf-8",
    )
    build(repo)
    site = Site(repo / "site")
    records = load_records(repo / "records")
    for record_id, record in records.items():
        doc = site.page(record_url(record_id))
        assert norm(article(doc).find("h1").text) == f"Custom: {norm(record.data['title'])}"
        marker = article(doc).find("p", cls="custom-marker")
        assert marker is not None and norm(marker.text) == f"custom template for {record_id}"
        assert article(doc).find(id="rollback") is None
    assert norm(article(site.page("")).find("h1").text) == "Recent changes"


def test_jinja_syntax_in_a_record_shows_literally(demo_site: BuiltSite) -> None:
    jinja = [r for r in demo_site.records.values() if "{{ 7*7 }}" in r.data["title"]]
    assert jinja, "the fixture needs a record with Jinja syntax"
    for record in jinja:
        doc = demo_site.site.page(record_url(record.id))
        title = norm(article(doc).find("h1").text)
        assert title == norm(record.data["title"])
        assert "49" not in title
        reason = norm(" ".join(n.text for n in section(doc, "reason")))
        assert "{{ 7*7 }}" in reason and "{% raw %}" in reason
        assert "49" not in reason
        assert norm(doc.find("title").text).startswith(norm(record.data["title"]))


@pytest.mark.parametrize(
    ("label", "key", "index_url"),
    [("Service", "service", "services/"), ("Owner", "owner", "owners/"), ("Tag", "tags", "tags/")],
)
def test_spellings_of_one_name_share_its_page(
    demo_site: BuiltSite, label: str, key: str, index_url: str
) -> None:
    """`Billing` and `billing` (`Ops Team`, `ops team`; `Invoices`, `invoices`) are one name:
    one page, under the most used spelling, listing the records of every spelling."""
    variants = {
        group: (shown, members)
        for group, (shown, members) in name_groups(demo_site, key).items()
        if len(
            {n for r in demo_site.records.values() for n in names_of(r, key) if folded(n) == group}
        )
        > 1
    }
    assert variants, f"the fixture needs {key}s that differ only by case or spacing"
    doc = demo_site.site.page(index_url)
    links = {
        norm(a.text): resolve(index_url, a.attrs["href"])[0]
        for a in article(doc).find("table").find_all("a")
    }
    for shown, members in variants.values():
        page = demo_site.site.page(links[norm(shown)])
        assert norm(article(page).find("h1").text) == f"{label}: {norm(shown)}"
        assert set(table_records(links[norm(shown)], page)) == members
        spellings = {n for r in demo_site.records.values() for n in names_of(r, key)}
        assert [s for s in spellings if folded(s) == folded(shown) and norm(s) in links] == [shown]


def test_plain_mkdocs_build_works_through_the_plugin(tmp_path: Path) -> None:
    demo = sorted((REPO_ROOT / "records").rglob("*.yaml"))[-3:]
    repo = write_repo(
        tmp_path / "plain",
        record_files=demo,
        docs={"index.md": "# Welcome to our runbook\n\nHand-written home page.\n"},
    )
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    site = Site(repo / "site")
    assert norm(article(site.page("")).find("h1").text) == "Welcome to our runbook"
    assert norm(article(site.page("changes/")).find("h1").text) == "Recent changes"
    for path in demo:
        assert (repo / "site" / "changes" / path.stem / "index.html").is_file()
    for name in ("feed.xml", "records.json", "annotations.json", "timeline/index.html"):
        assert (repo / "site" / name).is_file()
    offenders = [
        p.relative_to(repo).as_posix()
        for p in (repo / "site").rglob("*.html")
        if "fonts.googleapis" in p.read_text(encoding="utf-8")
    ]
    assert not offenders, f"pages load Google Fonts: {offenders[:5]}"


def test_demo_site_loads_nothing_from_google_fonts(demo_site: BuiltSite) -> None:
    for path in demo_site.site_dir.rglob("*.html"):
        assert "fonts.googleapis" not in path.read_text(encoding="utf-8"), path
        assert "fonts.gstatic" not in path.read_text(encoding="utf-8"), path


# --- a Markdown field must not take the rest of the page with it --------------------------

MARKDOWN_CASES = {  # id suffix: reason
    "closed-fence-and-tags": "A closed fence:\n\n```\nnginx -t\n```\n\nand <b>bold</b> text.\n",
    "unclosed-fence": "Forgot to close the fence:\n\n```\nnginx -t\n",
    "unclosed-script": "Added a nonce to every <script> tag.\n",
    "unclosed-style": "Moved inline <style> blocks into the stylesheet.\n",
    "unclosed-title": "Fixed the <title> of the login page.\n",
}


def _markdown_case_record(reason: str) -> str:
    indented = "".join(f"  {line}\n" for line in reason.splitlines())
    return (
        "title: Markdown containment\ndate: 2026-06-01\nowner: docs-team\nservice: docs\n"
        f"reason: |\n{indented}"
        "expected_result: The rest of the page renders.\n"
        "files_touched: [deploy/containment.conf]\n"
        "commands: [echo shipped-after-reason]\n"
        "metrics: [{name: m, unit: ms, before: 2, after: 1, better: lower}]\n"
        "rollback:\n  plan: Revert it.\n  commands: [echo rolled-back]\n  tested: true\n"
    )


@pytest.fixture(scope="module")
def markdown_cases_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    records = {
        f"2026-06-01-{name}.yaml": _markdown_case_record(reason)
        for name, reason in MARKDOWN_CASES.items()
    }
    repo = write_repo(tmp_path_factory.mktemp("markdown-cases") / "runbook", records=records)
    result = build(repo)
    return BuiltSite(repo, Site(repo / "site"), load_records(repo / "records"), result.output)


@pytest.mark.parametrize("name", list(MARKDOWN_CASES))
def test_markdown_field_cannot_swallow_the_rest_of_the_page(
    markdown_cases_site: BuiltSite, name: str
) -> None:
    doc = markdown_cases_site.site.page(record_url(f"2026-06-01-{name}"))
    headings = [h.attrs.get("id") for h in article(doc).find_all("h2")]
    for heading in ("reason", "files-touched", "commands", "rollback"):
        assert heading in headings, f"section #{heading} is gone: {headings}"
    assert code_blocks(section(doc, "commands")) == ["echo shipped-after-reason\n"]
    reason = section(doc, "reason")
    assert [norm(h.text) for h in descendants(reason, "h3")][-1:] == ["Expected result"]
    assert "The rest of the page renders." in norm(" ".join(n.text for n in reason))
    warning = [n for n in section(doc, "rollback") if {"admonition", "rb-undo"} <= n.classes]
    assert warning and code_blocks(warning) == ["echo rolled-back\n"]


def test_records_are_searched_through_pagefind_and_pages_through_material(
    demo_site: BuiltSite,
) -> None:
    """Every record has its fragment in the Pagefind bundle; Material's index (loaded whole by
    every page) keeps only hand-written pages; the page config names runbook's worker."""
    site_dir = demo_site.site_dir
    fragments = search_fragments(site_dir)
    assert {record_url(rid) for rid in demo_site.records} <= set(fragments)
    assert not [url for url in fragments if not url.startswith("changes/")]
    index = json.loads((site_dir / "search" / "search_index.json").read_text())
    locations = {entry["location"].split("#")[0] for entry in index["docs"]}
    assert not [url for url in locations if url.startswith("changes/")]
    shards = json.loads((site_dir / "pagefind" / "shards.json").read_text())["shards"]
    assert shards and all((site_dir / "pagefind" / s / "pagefind.js").is_file() for s in shards)
    worker = site_dir / "assets/javascripts/workers/runbook-search.js"
    home = (site_dir / "index.html").read_text()
    config = json.loads(re.search(r'id="__config"[^>]*>(.*?)</script>', home, re.S)[1])
    assert config["search"] == "assets/javascripts/workers/runbook-search.js" and worker.is_file()


def strip_tags(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def squeeze(text: str) -> str:
    """Text without any whitespace, to compare what markup lays out differently."""
    return re.sub(r"\s+", "", text)


def test_search_holds_each_records_values_not_the_pages_labels(demo_site: BuiltSite) -> None:
    """A record's search text is its reason, files, commands and rollback, with its facts as
    metadata and facets, not its metrics, checklists, links or the page's labels."""
    fragments = search_fragments(demo_site.site_dir)
    for record_id in FIXTURE_IDS:
        fragment = fragments[record_url(record_id)]
        text = fragment["content"]
        words = squeeze(text)
        reason = section(demo_site.site.page(record_url(record_id)), "reason")[0]
        assert squeeze(reason.text)[:40] in words or squeeze(reason.text)[-40:] in words
        data = record_of(demo_site, record_id).data
        commands = data["commands"] + data["rollback"].get("commands", [])
        for run in (c if isinstance(c, str) else c["run"] for c in commands):
            assert squeeze(run) in words, (record_id, run)
        for path in data["files_touched"]:
            assert squeeze(path) in words, (record_id, path)
        meta = fragment["meta"]
        # names as the site shows them (tests/test_shown_names.py holds them to the pages)
        assert (name_key(meta["service"]), name_key(meta["owner"]), meta["status"]) == (
            name_key(data["service"]),
            name_key(data["owner"]),
            data.get("status", "shipped"),
        )
        assert fragment["filters"]["year"] == [str(data["date"])[:4]]
        assert sorted(map(name_key, fragment["filters"].get("tag", []))) == sorted(
            map(name_key, data.get("tags", []))
        )
        for boilerplate in ("Owner:", "Service:", "Files touched", "How to undo it"):
            assert boilerplate not in text, f"{boilerplate!r} matches every record"
        page = article(demo_site.site.page(record_url(record_id)))
        for unsearched in ("metrics", "checklists", "links", "related-changes"):
            heading = page.find(id=unsearched)
            if heading is not None:
                assert norm(heading.text) not in text, (record_id, unsearched)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_every_internal_link_of_every_page_resolves(
    make_repo,  # type: ignore[no-untyped-def]
    directory_urls: bool,
) -> None:
    """Index pages write their big tables as HTML with published URLs (put in after Markdown);
    with either URL style every link of every page must reach an existing page (and its
    anchor, when it has one)."""
    repo = make_repo(
        records_tree=REPO_ROOT / "records",
        mkdocs_yml=MINIMAL_MKDOCS_YML + f"use_directory_urls: {str(directory_urls).lower()}\n",
    )
    build(repo)
    root = repo / "site"
    checked = 0
    for page in sorted(root.rglob("*.html")):
        page_path = page.relative_to(root).as_posix()
        html = page.read_text(encoding="utf-8")
        assert "runbook-html" not in html, f"{page_path}: HTML hidden from Markdown stayed hidden"
        for anchor in descendants([parse_html(html)], "a"):
            href = anchor.attrs.get("href")
            if not href or urlsplit(href).scheme or href.startswith("#"):
                continue
            target, fragment = resolve(page_path, href)
            file = root / (target + "index.html" if target.endswith("/") or not target else target)
            assert file.is_file(), f"{page_path}: link {href!r} leads nowhere"
            if fragment:
                assert f'id="{fragment}"' in file.read_text(encoding="utf-8"), (page_path, href)
            checked += 1
    assert checked > 500
