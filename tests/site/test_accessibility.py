"""Every kind of generated page passes axe-core's WCAG 2 A and AA rules, light and dark, on a
phone and a desktop: on the published demo and on what `runbook init` scaffolds.

axe-core comes from npm (package.json; `make test` installs it) and is injected into each page
as it is served, after Material's scripts ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import serve_directory
from sitehelpers import REPO_ROOT, build

from benchmarks.corpus import write_corpus
from generator.render import long_lists

pytestmark = pytest.mark.browser

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa"]
VIEWPORTS = {"phone": (390, 844), "desktop": (1300, 900)}
RUN_AXE = """async (rules) => (await axe.run(document, {runOnly: {type: "tag", values: rules}}))
  .violations.map(v => `${v.id} (${v.nodes.length}): ${v.nodes[0].target.join(" ")}: `
    + (v.nodes[0].any[0] || v.nodes[0].all[0] || {}).message)"""


def page_kinds(site_dir: Path) -> dict[str, str]:
    """One page of each kind the runbook generates (the first of each), by kind."""

    def first(folder: str) -> str:
        pages = sorted(p.parent.name for p in (site_dir / folder).glob("*/index.html"))
        assert pages, f"no page under {folder}/"
        return f"{folder}/{pages[0]}/"

    kinds = {
        "home": "",
        "timeline": "timeline/",
        "record": first("changes"),
        "services": "services/",
        "service": first("services"),
        "owners": "owners/",
        "owner": first("owners"),
        "files": "files/",
        "folder": first("files"),
        "checklists": "checklists/",
        "checklist": first("checklists"),
        "metrics": "metrics/",
        "metric": first("metrics"),
        "tags": "tags/",
        "rollback readiness": "rollback-readiness/",
        "delivery": "delivery/",
        "not found": "404.html",
    }
    if any((site_dir / "tags").glob("*/index.html")):
        kinds["tag"] = first("tags")
    return kinds


def violations(browser: Any, url: str, scheme: str, viewport: tuple[int, int]) -> list[str]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make test` (it installs npm's axe-core)")
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.add_script_tag(path=str(AXE))
        return list(page.evaluate(RUN_AXE, RULES))
    finally:
        context.close()


def violations_on_every_viewport(
    browser: Any, url: str, kinds: dict[str, str], scheme: str
) -> dict[tuple[str, tuple[int, int]], list[str]]:
    """What axe finds on each page of `kinds` (kind: path under `url`) at every viewport."""
    found = {}
    for viewport in VIEWPORTS.values():
        for kind, path in kinds.items():
            if problems := violations(browser, url + path, scheme, viewport):
                found[kind, viewport] = problems
    return found


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_kind_of_page_of_the_demo_passes_wcag_aa(
    browser: Any, published_demo: tuple[Path, str], scheme: str, viewport: str
) -> None:
    site_dir, url = published_demo
    found = {
        kind: problems
        for kind, path in page_kinds(site_dir).items()
        if (problems := violations(browser, url + path, scheme, VIEWPORTS[viewport]))
    }
    assert found == {}, found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_kind_of_page_runbook_init_scaffolds_passes_wcag_aa(
    browser: Any, scaffolded: tuple[Path, str], scheme: str
) -> None:
    site_dir, url = scaffolded
    assert violations_on_every_viewport(browser, url, page_kinds(site_dir), scheme) == {}


def test_a_demo_record_page_has_a_violation_without_runbooks_stylesheet(
    browser: Any, published_demo: tuple[Path, str]
) -> None:
    """The check can fail: without runbook.css, Material's default palette and link styling
    break WCAG AA on a record page (tab contrast, links told apart by colour alone)."""
    site_dir, url = published_demo
    record = page_kinds(site_dir)["record"]
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        page = context.new_page()
        page.route("**/assets/runbook.css", lambda route: route.fulfill(body="", status=200))
        page.goto(url + record, wait_until="load")
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(RUN_AXE, RULES)
    finally:
        context.close()


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """200 synthetic records built with blocks of 10 changes and pages of about 5 files, so
    that every kind of long list is split (render/long_lists.py), served."""
    repo = write_corpus(tmp_path_factory.mktemp("paged") / "runbook", 200)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(long_lists, "BLOCK", 10)
        patch.setattr(long_lists, "FILES_PER_PART", 5)
        build(repo, "--quiet")
    with serve_directory(repo / "site") as url:
        yield repo / "site", url


def paged_kinds(site_dir: Path) -> dict[str, str]:
    """One page of each kind that a long list makes: a list's own page with its older pages
    linked, an older page, a split folder's page and one of its parts."""

    def first(pattern: str) -> str:
        pages = sorted(site_dir.glob(f"{pattern}/index.html"))
        assert pages, f"no page matches {pattern}"
        return pages[0].parent.relative_to(site_dir).as_posix() + "/"

    older_tag = first("tags/*/older-1")
    split_folder = first("files/*/part-1")
    return {
        "tag with older pages": older_tag.removesuffix("older-1/"),
        "older tag page": older_tag,
        "older service page": first("services/*/older-1"),
        "older checklist item page": first("checklists/*/*-older-1"),
        "older rollback readiness page": first("rollback-readiness/older-1"),
        "split folder": split_folder.removesuffix("part-1/"),
        "folder part": split_folder,
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_of_long_lists_pass_wcag_aa(
    browser: Any, paged_site: tuple[Path, str], scheme: str
) -> None:
    site_dir, url = paged_site
    assert violations_on_every_viewport(browser, url, paged_kinds(site_dir), scheme) == {}
