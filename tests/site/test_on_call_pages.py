"""The on-call pages that answer "when" and "where": the timeline (the latest changes day by
day with their times, narrowed by service and environment, and "what changed in the 24 hours /
7 days before ..." read from the months the window covers) and the files index's finder."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sitehelpers import BuiltSite, RecordData, Tab, newest_first, norm, record_id_of

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


def offset_text(moment: dt.datetime) -> str:
    """`UTC+05:30`, or `UTC`, as the timeline says a zone."""
    offset = moment.strftime("%z")
    return "UTC" if offset == "+0000" else f"UTC{offset[:3]}:{offset[3:]}"


def in_zone_order(records: dict[str, RecordData], ids: list[str], zone: ZoneInfo) -> list[str]:
    """The ids as the timeline lists them in a reader's zone: by the day there (a change
    without a time on its record's day), newest first, those without a time last."""

    def order(rid: str) -> tuple[dt.date, float]:
        moment = shipped(records[rid])
        if moment is None:
            return records[rid].date, float("-inf")
        return moment.astimezone(zone).date(), moment.timestamp()

    return sorted(ids, key=order, reverse=True)  # stable: ties keep the site's order


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Los_Angeles"])
def test_the_page_lists_the_latest_changes_newest_first(
    demo_site: BuiltSite, demo_server: str, browser: Any, zone: str
) -> None:
    """Without any query: the runbook's last 7 days, and whole older days up to 10 changes,
    by day and time in the reader's zone, which is said once above the list."""
    order = newest_first(demo_site.records)
    newest = demo_site.records[order[0]].date
    expected = [rid for rid in order if demo_site.records[rid].date > newest - dt.timedelta(7)]
    for rid in order[len(expected) :]:
        day = demo_site.records[rid].date
        if len(expected) >= 10 and day != demo_site.records[expected[-1]].date:
            break
        expected.append(rid)
    expected = in_zone_order(demo_site.records, expected, ZoneInfo(zone))
    context = browser.new_context(timezone_id=zone)
    try:
        page = context.new_page()
        page.goto(demo_server + "timeline/", wait_until="load")
        page.locator(".rb-timeline-controls").wait_for()
        links = page.locator(".rb-change:not([hidden]) a").evaluate_all(
            "links => links.map(a => a.href)"
        )
        times = page.locator(".rb-change .rb-time").all_inner_texts()
        days = page.locator(".rb-day-title").all_inner_texts()
        note = page.locator(".rb-timeline-zone").inner_text()
    finally:
        context.close()
    assert [record_id_of(href) for href in links] == expected
    # in the reader's zone, its offset said once above the list, as at the newest change
    # listed; a time at another offset (across a daylight saving change) says its own
    newest = next(m for rid in expected if (m := shipped(demo_site.records[rid])))
    said = offset_text(newest.astimezone(ZoneInfo(zone)))
    assert note.startswith(f"Times in {said}"), note
    for rid, time_shown in zip(expected, times, strict=True):
        moment = shipped(demo_site.records[rid])
        if moment is None:
            assert time_shown == "time not recorded"
            continue
        local = moment.astimezone(ZoneInfo(zone))
        own = "" if offset_text(local) == said else f" ({offset_text(local)})"
        assert time_shown == f"{local:%H:%M}{own}", (rid, time_shown)
    assert all(re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}", d)
               for d in days), days  # fmt: skip


def test_the_page_without_its_script_says_its_times_are_utc(demo_site: BuiltSite) -> None:
    """A build cannot know its reader's zone: the page is written in UTC and says so once;
    its days are written as the script writes them."""
    doc = demo_site.site.page("timeline/")
    assert norm(doc.find(cls="rb-timeline-zone").text) == "Times in UTC."
    for item in doc.find_all("li", cls="rb-change"):
        moment = shipped(demo_site.records[record_id_of(item.find("a").attrs["href"])])
        time_shown = norm(item.find(cls="rb-time").text)
        if moment is None:
            assert time_shown == "time not recorded"
            continue
        utc = moment.astimezone(dt.timezone.utc)
        assert time_shown == f"{utc:%H:%M}"
        heading = next(n for n in item.ancestors() if "rb-day" in n.classes).find("h2")
        assert norm(heading.text) == f"{utc:%a} {utc.day} {utc:%b %Y}"


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


def window_ids(records: dict[str, RecordData], to: dt.datetime, hours: int) -> set[str]:
    """What changed in the `hours` before `to` (a change without a time: by its date)."""
    start = to - hours * HOUR
    found = set()
    for record in records.values():
        moment = shipped(record)
        if moment is None:
            if start.date() <= record.date <= to.date():
                found.add(record.id)
        elif start <= moment <= to:
            found.add(record.id)
    return found


def test_the_timelines_view_is_in_its_address_and_reopens_from_it(
    demo_site: BuiltSite, demo_server: str, browser: Any
) -> None:
    """A link to "the 24 hours before T, service S" pasted in an incident channel opens that
    view for a reader in any zone; changing the view changes the address."""
    timed = [r for r in demo_site.records.values() if shipped(r) is not None]
    anchor = max(timed, key=lambda r: shipped(r))
    to = shipped(anchor).astimezone(dt.timezone.utc).replace(second=0) + dt.timedelta(minutes=1)
    service = anchor.data["service"]
    expected = {
        rid
        for rid in window_ids(demo_site.records, to, 24)
        if demo_site.records[rid].data["service"].casefold() == service.casefold()
    }
    at = f"{to:%Y-%m-%dT%H:%M}Z"
    address = f"timeline/?window=24h&at={at}&service={service}"
    for zone in ("UTC", "Pacific/Auckland"):
        context = browser.new_context(timezone_id=zone)
        try:
            page = context.new_page()
            page.goto(demo_server + address, wait_until="load")
            status = page.locator(".rb-timeline-status")
            status.filter(has_text="in the 24 hours before").wait_for()
            found = page.locator(".rb-change:not([hidden]) a").evaluate_all(
                "links => links.map(a => a.href)"
            )
            assert {record_id_of(href) for href in found} == expected, zone
            assert anchor.id in expected
            selects = page.locator(".rb-timeline-controls select")
            assert selects.nth(0).input_value() == service
            assert selects.nth(2).input_value() == "24"
            local = to.astimezone(ZoneInfo(zone))
            assert status.inner_text().endswith(
                f"before {local:%a} {local.day} {local:%b %Y %H:%M}"
            ), status.inner_text()
            if zone != "UTC":
                continue
            # changing the view: the address follows
            selects.nth(2).select_option("168")
            page.click(".rb-timeline-controls .md-button--primary")
            status.filter(has_text="in the 7 days before").wait_for()
            assert "window=7d" in page.evaluate("location.search")
            assert f"at={at}" in page.evaluate("location.search")
            selects.nth(0).select_option("")
            assert "service=" not in page.evaluate("location.search")
            environment = selects.nth(1).locator("option").nth(1).get_attribute("value")
            selects.nth(1).select_option(environment)
            assert f"environment={environment}" in page.evaluate("decodeURI(location.search)")
            page.click('.rb-timeline-controls button:has-text("Latest changes")')
            assert "window=" not in page.evaluate("location.search")
            assert "at=" not in page.evaluate("location.search")
        finally:
            context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_untested_rollback_reads_on_the_timeline_as_on_its_record_page(
    demo_site: BuiltSite, demo_server: str, browser: Any, scheme: str
) -> None:
    """ "rollback NOT tested" in the record page's red and weight, not in the grey of the facts."""
    untested = next(
        rid
        for rid in newest_first(demo_site.records)
        if not demo_site.records[rid].data["rollback"].get("tested", False)
    )
    style = """element => { const s = getComputedStyle(element)
      return [s.color, s.fontWeight, element.textContent] }"""
    context = browser.new_context(color_scheme=scheme, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(demo_server + f"changes/{untested}/", wait_until="load")
        on_record = page.locator(".rb-undo .rb-rollback-untested").evaluate(style)
        page.goto(demo_server + "timeline/", wait_until="load")
        page.locator(".rb-timeline-controls").wait_for()
        item = page.locator(".rb-change", has=page.locator(f"a[href*='{untested}']"))
        on_timeline = item.locator(".rb-rollback").evaluate(style)
        facts = item.locator(".rb-change-facts").evaluate(style)
    finally:
        context.close()
    assert on_record[2] == on_timeline[2] == "rollback NOT tested"
    assert on_timeline[:2] == on_record[:2]
    assert on_timeline[0] != facts[0]
