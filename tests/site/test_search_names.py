"""Search and the timeline in the browser with awkward names and text: a facet value holding
quotes, record text holding "<" and ">", a path written decomposed (NFD), a service holding a
no-break space, aliases, and more matches than are listed (the count line)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import serve_directory
from sitehelpers import BuiltSite, Site, Tab, build, load_records, record_id_of, write_repo
from test_search import search

pytestmark = pytest.mark.browser

QUOTED_SERVICE = 'Edge "beta"'
QUOTED_TAG = 'say "hi"'
NBSP_SERVICE = "Edge\u00a0Proxy"
DECOMPOSED_PATH = unicodedata.normalize("NFD", "config/café/réglage.conf")
COMMON_WORD = "bulkword"
COMMON = 14  # records with COMMON_WORD: more than the worker lists
MKDOCS_YML = """\
site_name: Names
theme:
  name: material
plugins:
  - search
  - runbook:
      aliases:
        services: {legacy-billing: Billing API}
"""


def record(day: int, service: str, *, reason: str = "Plain reason.", **fields: object) -> str:
    date = f"2026-03-{day:02d}"
    data = {
        "title": f"Change of day {day}",
        "date": date,
        "shipped_at": f"{date}T10:00:00Z",
        "owner": "Ana",
        "service": service,
        "reason": reason,
        "expected_result": "Fine.",
        "files_touched": ["app/x.conf"],
        "commands": ["make deploy"],
        "metrics": [{"name": "p95", "unit": "ms", "before": 2, "after": 1, "better": "lower"}],
        "rollback": {"plan": "Revert it.", "tested": True},
        **fields,
    }
    return "".join(
        f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in data.items()
    )


@pytest.fixture(scope="session")
def names_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    records = {
        "2026-03-01-legacy.yaml": record(1, "legacy-billing"),
        "2026-03-02-quoted.yaml": record(
            2, QUOTED_SERVICE, tags=[QUOTED_TAG], reason="When a > b and c < d & e, it is cold."
        ),
        "2026-03-03-decomposed.yaml": record(3, "files", files_touched=[DECOMPOSED_PATH]),
    }
    for day in range(4, 4 + COMMON):
        records[f"2026-03-{day:02d}-common.yaml"] = record(
            day, "bulk", reason=f"The {COMMON_WORD} is here."
        )
    for day in (20, 21):  # the newest: listed on the timeline as it opens
        records[f"2026-03-{day}-nbsp.yaml"] = record(day, NBSP_SERVICE)
    repo = write_repo(tmp_path_factory.mktemp("names") / "runbook", records, mkdocs_yml=MKDOCS_YML)
    result = build(repo)
    return BuiltSite(repo, Site(repo / "site"), load_records(repo / "records"), result.output)


@pytest.fixture(scope="session")
def names_server(names_site: BuiltSite) -> Iterator[str]:
    with serve_directory(names_site.site_dir) as url:
        yield url


def found(hrefs: list[str]) -> set[str]:
    return {rid for rid in (record_id_of(urlsplit(h).path) for h in hrefs) if rid}


@pytest.mark.parametrize(
    "query",
    [f'service:"{QUOTED_SERVICE}"', 'service:beta"', f'tag:"{QUOTED_TAG}"', "service:EDGE tag:hi"],
)
def test_a_facet_value_with_quotes_is_found(names_server: str, tab: Tab, query: str) -> None:
    summary, hrefs = search(tab, names_server, query)
    assert found(hrefs) == {"2026-03-02-quoted"}, summary


def test_an_alias_is_searched_and_shown_under_its_target(names_server: str, tab: Tab) -> None:
    _, hrefs = search(tab, names_server, 'service:"billing api"')
    assert found(hrefs) == {"2026-03-01-legacy"}
    facts = tab.page.locator(".runbook-result-facts").first.inner_text()
    assert "Billing API" in facts and "legacy" not in facts


def test_an_excerpt_shows_text_as_written(names_server: str, tab: Tab) -> None:
    search(tab, names_server, "cold")
    teaser = tab.page.locator(".md-search-result__item").first.inner_text()
    assert "When a > b and c < d & e, it is cold." in teaser
    assert "&gt;" not in teaser and "&lt;" not in teaser and "&amp;" not in teaser


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_a_decomposed_path_is_found_however_it_is_typed(
    names_server: str, tab: Tab, form: str
) -> None:
    for query in ("café/réglage.conf", "réglage"):
        _, hrefs = search(tab, names_server, unicodedata.normalize(form, query))
        assert found(hrefs) == {"2026-03-03-decomposed"}, query


def test_the_count_line_says_how_many_changes_match(names_server: str, tab: Tab) -> None:
    summary, hrefs = search(tab, names_server, COMMON_WORD)
    assert summary == f"{COMMON} changes"
    assert len(found(hrefs)) == 10  # listed; one more line counts the rest
    summary, _ = search(tab, names_server, "cold")
    assert summary == "1 change"


def test_a_service_with_a_no_break_space_is_chosen_on_the_timeline(
    names_server: str, tab: Tab
) -> None:
    page = tab.page
    page.goto(names_server + "timeline/", wait_until="load")
    page.locator(".rb-timeline-controls").wait_for()
    service = page.locator(".rb-timeline-controls select").first
    options = service.locator("option").all_inner_texts()
    assert options == ["all services", "Billing API", "bulk", QUOTED_SERVICE, NBSP_SERVICE, "files"]
    status = page.locator(".rb-timeline-status")
    service.select_option(NBSP_SERVICE)
    assert status.inner_text().startswith("2 changes")
    assert page.locator(".rb-change:not([hidden])").count() == 2
    # a window read from the month's file narrows the same way
    page.locator(".rb-timeline-controls input[type=datetime-local]").fill("2026-03-22T00:00")
    page.locator(".rb-timeline-controls select").nth(2).select_option("168")
    page.click(".rb-timeline-controls .md-button--primary")
    status.filter(has_text=re.compile("before")).wait_for()
    assert status.inner_text().startswith("2 changes")
    visible = page.locator(".rb-change:not([hidden]) .rb-change-facts").all_inner_texts()
    assert len(visible) == 2 and all(t.startswith("Edge\u00a0Proxy ·") for t in visible)
