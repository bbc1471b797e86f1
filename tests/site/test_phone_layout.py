"""The on-call pages read on a phone at 3 am (390 x 844) as on a desktop (1300 x 900): no
command cut off or under its copy button, no table scrolling its columns out of sight, the
first change of the timeline on the first screen, tap targets of WCAG 2.2's 2.5.8 size.

Checked on the published demo (its mkdocs.yml has Material's copy buttons), light and dark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": (390, 844), "desktop": (1300, 900)}


def on_call_pages(site_dir: Path) -> dict[str, str]:
    def first(folder: str, having: str = "") -> str:
        for page in sorted((site_dir / folder).glob("*/index.html")):
            if having in page.read_text(encoding="utf-8"):
                return f"{folder}/{page.parent.name}/"
        raise AssertionError(f"no page under {folder}/ with {having!r}")

    return {
        "record": first("changes", "rb-commands"),
        "record with untested rollback": first("changes", "rb-rollback-untested"),
        "home": "",
        "timeline": "timeline/",
        "files": "files/",
        "folder": first("files"),
        "rollback readiness": "rollback-readiness/",
        "delivery": "delivery/",
        "metrics": "metrics/",
        "metric": first("metrics"),
        "services": "services/",
        "checklists": "checklists/",
    }


@contextlib.contextmanager
def opened(browser: Any, viewport: str) -> Iterator[Any]:
    """A page of the given viewport's size (the browser is the session's, started before the
    test: its processes are not the test's)."""
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        yield context.new_page()
    finally:
        context.close()


COMMANDS_CLEAR = """() => [...document.querySelectorAll(
    ".rb-undo pre > code, .rb-commands pre > code")].flatMap(code => {
  const problems = []
  if (code.scrollWidth > code.clientWidth + 1)
    problems.push(`scrolls: ${code.textContent.trim()}`)
  const button = code.parentElement.querySelector(".md-code__button")
  if (!button)
    return ["no copy button"]
  const b = button.getBoundingClientRect()
  if (b.width < 24 || b.height < 24)
    problems.push(`copy button of ${b.width} x ${b.height} px`)
  const range = document.createRange()
  range.selectNodeContents(code)
  for (const line of range.getClientRects())
    if (line.width && line.left < b.right && b.left < line.right
        && line.top < b.bottom && b.top < line.bottom)
      problems.push(`under the copy button: ${code.textContent.trim()}`)
  return problems
})"""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_commands_wrap_clear_of_their_copy_button(
    browser: Any, published_demo: tuple[Path, str], viewport: str
) -> None:
    site_dir, url = published_demo
    with opened(browser, viewport) as page:
        for kind in ("record", "record with untested rollback"):
            page.goto(url + on_call_pages(site_dir)[kind], wait_until="load")
            assert page.locator(".rb-commands pre > code").count()
            assert page.evaluate(COMMANDS_CLEAR) == [], kind


TABLES_FIT = """() => [...document.querySelectorAll("article table")].flatMap(table => {
  const box = table.getBoundingClientRect()
  return table.scrollWidth > table.clientWidth + 1 || box.right > innerWidth + 0.5
    ? [`${table.querySelector("tr").textContent.trim()}: ${table.scrollWidth} px wide`] : []
})"""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_table_fits_the_screen(
    browser: Any, published_demo: tuple[Path, str], viewport: str
) -> None:
    """On a phone the tables of changes and metrics stack their rows, each value under its
    column's name; none hides a column past the screen's edge."""
    site_dir, url = published_demo
    with opened(browser, viewport) as page:
        found = {}
        for kind, path in on_call_pages(site_dir).items():
            page.goto(url + path, wait_until="load")
            if problems := page.evaluate(TABLES_FIT):
                found[kind] = problems
        assert found == {}
        if viewport == "phone":
            page.goto(url, wait_until="load")
            cell = page.locator("article td[data-label='Service']").first
            label = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert label == '"Service"'


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_the_first_change_of_the_timeline_is_on_the_first_screen(
    browser: Any, published_demo: tuple[Path, str], viewport: str
) -> None:
    _, url = published_demo
    with opened(browser, viewport) as page:
        page.goto(url + "timeline/", wait_until="load")
        page.locator(".rb-timeline-controls").wait_for()
        box = page.locator(".rb-change").first.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= page.viewport_size["height"], box


# WCAG 2.2 2.5.8 Target Size (Minimum): a target is at least 24 x 24 px, or a 24 px circle
# centred on it meets no other target nor another small target's circle; a link inside a
# sentence is exempt (its size is the text's).
TARGETS_TOO_SMALL = """() => {
  const targets = [...document.querySelectorAll(
      "article a[href], article button, article select, article input")]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  const inSentence = el => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline")
      return false
    const block = el.closest("p, li, td, th, dd, figcaption")
    return block && block.textContent.trim().length > el.textContent.trim().length
  }
  const boxes = targets.map(el => el.getBoundingClientRect())
  const small = boxes.map((b, i) => (b.width < 24 || b.height < 24) && !inSentence(targets[i]))
  const centre = b => [b.left + b.width / 2, b.top + b.height / 2]
  const meets = ([x, y], b) => {
    const dx = Math.max(b.left - x, 0, x - b.right), dy = Math.max(b.top - y, 0, y - b.bottom)
    return dx * dx + dy * dy < 144
  }
  const problems = []
  targets.forEach((el, i) => {
    if (!small[i])
      return
    const c = centre(boxes[i])
    const other = boxes.findIndex((b, j) => j !== i && (meets(c, b) || (small[j]
      && Math.hypot(c[0] - centre(b)[0], c[1] - centre(b)[1]) < 24)))
    if (other >= 0)
      problems.push(`${el.tagName} "${el.textContent.trim().slice(0, 40)}" `
        + `${Math.round(boxes[i].width)} x ${Math.round(boxes[i].height)} px, `
        + `near "${targets[other].textContent.trim().slice(0, 40)}"`)
  })
  return problems
}"""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_tap_targets_are_big_enough_or_far_enough_apart(
    browser: Any, published_demo: tuple[Path, str], viewport: str
) -> None:
    site_dir, url = published_demo
    with opened(browser, viewport) as page:
        found = {}
        for kind, path in on_call_pages(site_dir).items():
            page.goto(url + path, wait_until="load")
            if problems := page.evaluate(TARGETS_TOO_SMALL):
                found[kind] = problems
        assert found == {}
        page.goto(url + "files/", wait_until="load")
        for box in page.locator("article table a").evaluate_all(
            "links => links.map(a => a.getBoundingClientRect().toJSON())"
        ):
            assert box["width"] >= 24 and box["height"] >= 24, box
