"""The site of an aggregating runbook in a browser: `source:` narrows search to one team's
changes, and a SOURCE/ID page loads with where it came from."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from cli_run import run_cli
from conftest import serve_directory
from git_repos import git
from sitehelpers import Tab
from source_repos import add_record, aggregate, team_runbook
from test_accessibility import VIEWPORTS, violations
from test_search import search

pytestmark = pytest.mark.browser
PALETTES = """\
theme:
  name: material
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
"""


@pytest.fixture(scope="module")
def aggregate_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("aggregate")
    payments = team_runbook(
        tmp / "payments", "payments-api", ["2026-11-01-raise-limits", "2026-11-04-pool"]
    )
    search_team = team_runbook(tmp / "search", "search", ["2026-11-02-reindex"])
    org = aggregate(
        tmp / "org",
        [
            {"name": "payments", "git": payments.as_uri()},
            {"name": "search", "path": str(search_team)},
            {"name": "gone", "git": (tmp / "nowhere").as_uri()},
        ],
        theme=PALETTES,
    )
    built = run_cli(org, "build", "-q", epoch="1795000000")
    assert built.exit_code == 0, built.output
    # payments' next commit does not validate: its pages say they show the one before.
    broken = add_record(payments, "2026-11-06-broken", "payments-api")
    broken.write_text(broken.read_text() + "oops: 1\n")
    git(payments, "add", "-A")
    git(payments, "commit", "-qm", "broken")
    built = run_cli(org, "build", "-q", epoch="1795000000")
    assert built.exit_code == 0, built.output
    with serve_directory(org / "site") as url:
        yield url


def test_the_source_facet_lists_one_sources_changes(aggregate_server: str, tab: Tab) -> None:
    _, hrefs = search(tab, aggregate_server, "source:payments")
    paths = sorted(urlsplit(href).path for href in hrefs)
    assert paths == [
        "/changes/payments/2026-11-01-raise-limits/",
        "/changes/payments/2026-11-04-pool/",
    ]
    _, hrefs = search(tab, aggregate_server, "source:search")
    assert [urlsplit(href).path for href in hrefs] == ["/changes/search/2026-11-02-reindex/"]


def test_a_source_record_page_says_where_it_came_from(aggregate_server: str, tab: Tab) -> None:
    tab.page.goto(f"{aggregate_server}changes/payments/2026-11-04-pool/", wait_until="load")
    facts = tab.page.locator(".rb-facts").inner_text()
    assert "Source" in facts and "payments" in facts
    about = tab.page.locator("li", has_text="From:").inner_text()
    assert "payments" in about and "at commit" in about
    tab.page.locator(".rb-facts").get_by_role("link", name="payments", exact=True).click()
    tab.page.wait_for_url("**/sources/#source-payments")
    assert tab.errors == []


def test_a_stale_source_says_so_on_its_pages(aggregate_server: str, tab: Tab) -> None:
    tab.page.goto(f"{aggregate_server}changes/payments/2026-11-04-pool/", wait_until="load")
    note = tab.page.locator(".rb-source-stale").inner_text()
    assert "records/2026/2026-11-06-broken.yaml" in note and "showing commit" in note
    tab.page.goto(f"{aggregate_server}sources/", wait_until="load")
    gone = tab.page.locator("#source-gone").inner_text()
    assert "Not current" in gone and "left out" in gone


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", ["sources/", "changes/payments/2026-11-04-pool/"])
def test_the_sources_pages_pass_wcag_aa(
    aggregate_server: str, browser: Any, page: str, scheme: str, viewport: str
) -> None:
    assert violations(browser, aggregate_server + page, scheme, VIEWPORTS[viewport]) == []
