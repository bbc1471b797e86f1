"""The on-call pages that answer "when" and "where": the timeline (the latest changes day by
day with their times, narrowed by service and environment, and "what changed in the 24 hours /
7 days before ..." read from the months the window covers) and the files index's finder."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sitehelpers import BuiltSite, RecordData, Tab, newest_first, record_id_of

pytestmark = pytest.mark.browser

HOUR = dt.timedelta(hours=1)


def shipped(record: RecordData) -> dt.datetime | None:
    value = record.data.get("shipped_at")
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def listed(tab: Tab) -> list[str]:
    links = tab.page.locator(".rb-change:not([hidden]) a").evaluate_all(
        "links => links.map(a => a.href)"
    )
    return [record_id_of(href) for href in links]


def open_timeline(tab: Tab, base_url: str) -> None:
    tab.page.goto(base_url + "timeline/", wait_until="load")
    tab.page.locator(".rb-timeline-controls").wait_for()


def test_the_page_lists_the_latest_changes_newest_first(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """Without any query: the runbook's last 7 days, and whole older days up to 10 changes."""
    order = newest_first(demo_site.records)
    newest = demo_site.records[order[0]].date
    expected = [rid for rid in order if demo_site.records[rid].date > newest - dt.timedelta(7)]
    for rid in order[len(expected) :]:
        day = demo_site.records[rid].date
        if len(expected) >= 10 and day != demo_site.records[expected[-1]].date:
            break
        expected.append(rid)
    open_timeline(tab, demo_server)
    assert listed(tab) == expected
    first = demo_site.records[expected[0]]
    time_shown = tab.page.locator(".rb-change .rb-time").first.inner_text()
    moment = shipped(first)
    if moment is None:
        assert time_shown == "time not recorded"
    else:  # in the record's own offset
        assert time_shown.startswith(f"{moment:%H:%M} "), time_shown


@pytest.mark.parametrize("hours", [24, 168])
def test_what_changed_before_a_time_is_exact_to_the_minute(
    demo_site: BuiltSite, demo_server: str, tab: Tab, hours: int
) -> None:
    timed = [r for r in demo_site.records.values() if shipped(r) is not None]
    anchor = max(timed, key=lambda r: shipped(r))
    to = shipped(anchor).astimezone(dt.timezone.utc).replace(second=0) + dt.timedelta(minutes=1)
    start = to - hours * HOUR
    expected = set()
    for record in demo_site.records.values():
        moment = shipped(record)
        if moment is None:
            if start.date() <= record.date <= to.date():
                expected.add(record.id)
        elif start <= moment <= to:
            expected.add(record.id)
    context = tab.page.context.browser.new_context(timezone_id="UTC")
    page = context.new_page()
    try:
        page.goto(demo_server + "timeline/", wait_until="load")
        page.locator(".rb-timeline-controls").wait_for()
        page.fill("input[type=datetime-local]", f"{to:%Y-%m-%dT%H:%M}")
        page.locator(".rb-timeline-controls select").nth(2).select_option(str(hours))
        page.click(".rb-timeline-controls .md-button--primary")
        page.locator(".rb-timeline-status").filter(has_text=re.compile("before")).wait_for()
        found = page.locator(".rb-change:not([hidden]) a").evaluate_all(
            "links => links.map(a => a.href)"
        )
    finally:
        context.close()
    assert {record_id_of(href) for href in found} == expected
    assert anchor.id in expected


def test_a_service_filter_narrows_the_list(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    open_timeline(tab, demo_server)
    everything = listed(tab)
    service = demo_site.records[everything[-1]].data["service"]
    tab.page.locator(".rb-timeline-controls select").first.select_option(service)
    narrowed = listed(tab)
    assert narrowed == [r for r in everything if demo_site.records[r].data["service"] == service]
    assert tab.page.locator(".rb-timeline-status").inner_text().startswith(f"{len(narrowed)} ")


def test_any_part_of_a_path_finds_the_file_on_the_files_index(
    demo_site: BuiltSite, demo_server: str, tab: Tab
) -> None:
    """Typing part of a path (any case) lists every touched file holding it, each linked to
    its history at a readable anchor: the path itself."""
    paths = sorted({p for r in demo_site.records.values() for p in r.data["files_touched"]})
    part = paths[len(paths) // 2].split("/")[-1][:6]
    expected = [p for p in paths if part.lower() in p.lower()]
    tab.page.goto(demo_server + "files/", wait_until="load")
    tab.page.fill("#rb-file-finder input", part.upper())
    found = tab.page.locator(".rb-file-matches code")
    found.first.wait_for()
    assert found.all_inner_texts() == expected
    link = tab.page.locator(".rb-file-matches a").first
    assert link.get_attribute("href").endswith(f"#{expected[0]}")
    link.click()
    tab.page.wait_for_load_state("load")
    heading = tab.page.evaluate(
        "document.getElementById(decodeURIComponent(location.hash.slice(1))).textContent"
    )
    assert heading.strip() == expected[0]
