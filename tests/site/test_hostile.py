"""The hostile corpus in a real browser: nothing a record says may run, and all of it shows.

Every record in tests/site/data/hostile is VALID (it passes validation) and carries attacks
in every text field; each attack, if it ran, would bump `window.__pwned` or set the title
to PWNED. The corpus is built twice (minimal mkdocs.yml, and one with attr_list, superfences,
tags...) and every generated page is loaded in headless Chromium.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import feedparser
import pytest
import yaml
from sitehelpers import (
    DATA,
    SEARCH_ANSWERED,
    SNIPPET_MARKER,
    BuiltSite,
    Tab,
    load_records,
    newest_first,
    norm,
    record_url,
    run_cli,
)

HOSTILE_IDS = sorted(load_records(DATA / "hostile"))
PAYLOAD_MARKERS = ("pwned", "PWNED")


# Run in the page: everything that would mean record text became markup or code.
INSPECT_JS = r"""
() => {
  const problems = [];
  if (typeof window.__pwned !== "undefined") problems.push("window.__pwned = " + window.__pwned);
  if (document.title.includes("PWNED")) problems.push("document.title = " + document.title);
  const materialInline = /__md_|location\.hash\.slice\(1\)/;
  for (const script of document.querySelectorAll("script")) {
    const src = script.getAttribute("src");
    let ok;
    if (src !== null) {
      const url = new URL(src, location.href);
      ok = url.origin === location.origin &&
        /\/assets\/javascripts\/[\w.\/-]+\.js$/.test(url.pathname);
    } else if (script.id === "__config") {
      ok = script.type === "application/json";
    } else {
      ok = materialInline.test(script.textContent);
    }
    if (!ok || script.closest(".md-content")) {
      problems.push("foreign script: " + script.outerHTML.slice(0, 160));
    }
  }
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "srcdoc",
                         "background", "poster", "srcset", "codebase", "cite", "ping"];
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) {
        problems.push(`<${element.localName} ${name}="${attribute.value.slice(0, 80)}">`);
      }
      if (urlAttributes.includes(name)) {
        const value = attribute.value.replace(/[\u0000-\u0020\u007f]+/g, "").toLowerCase();
        if (/^(javascript|data|vbscript):/.test(value)) {
          problems.push(`<${element.localName} ${name}="${attribute.value.slice(0, 80)}">`);
        }
      }
      if (name === "style" && element.closest(".md-content")) {
        problems.push(`<${element.localName} style="${attribute.value.slice(0, 80)}"> in content`);
      }
    }
  }
  for (const link of document.querySelectorAll("a[href]")) {
    const protocol = link.protocol;
    if (!["http:", "https:", "mailto:"].includes(protocol)) {
      problems.push(`link with ${protocol} URL: ${link.getAttribute("href").slice(0, 80)}`);
    }
  }
  const content = document.querySelector(".md-content");
  if (content === null) {
    problems.push("no .md-content");
  } else {
    const forbidden = "iframe, object, embed, style, frame, frameset, form, link, meta, base, " +
      "applet, portal, noscript, template, math, svg script, svg foreignObject, svg use, " +
      "svg animate, svg set";
    for (const element of content.querySelectorAll(forbidden)) {
      problems.push(`<${element.localName}> in content: ${element.outerHTML.slice(0, 120)}`);
    }
  }
  return problems;
}
"""

# Run on a record page: what a reader sees, field by field.
RECORD_VIEW_JS = r"""
() => {
  const article = document.querySelector("article.md-content__inner");
  const text = (node) => {
    if (!node) return null;
    const copy = node.cloneNode(true);
    copy.querySelectorAll(".headerlink").forEach((link) => link.remove());
    return copy.textContent;
  };
  const section = (id) => {
    const heading = article.querySelector(`h2#${id}`);
    if (!heading) return null;
    const nodes = [];
    for (let node = heading.nextElementSibling; node && node.tagName !== "H2";
         node = node.nextElementSibling) nodes.push(node);
    return nodes;
  };
  const within = (nodes, selector) => nodes === null ? null :
    nodes.flatMap((node) => [...(node.matches(selector) ? [node] : []),
                             ...node.querySelectorAll(selector)]);
  const meta = {};
  for (const fact of article.querySelectorAll(".rb-facts .rb-fact")) {
    const label = fact.querySelector(":scope > .rb-label");
    meta[label.textContent] = fact.textContent.slice(label.textContent.length);
  }
  meta.Tags = [...article.querySelectorAll(".rb-chips .rb-chip")].map((a) => a.textContent);
  meta.Reviewers = within(section("about-this-record") || [], ".rb-reviewer")
    .map((span) => span.textContent);
  const commands = section("commands");
  const rollback = section("rollback");
  const warning = rollback && rollback.find((n) => n.matches(".admonition.rb-undo"));
  const metrics = section("metrics");
  const links = section("links");
  return {
    documentTitle: document.title,
    h1: text(article.querySelector("h1")),
    meta,
    headings: [...article.querySelectorAll("h2[id]")].map((h) => h.id),
    files: within(section("files-touched"), "li code")?.map((c) => c.textContent) ?? null,
    commandCode: within(commands, "pre > code")?.map((c) => c.textContent) ?? null,
    commandNotes: within(commands, "p")?.map((p) => p.textContent) ?? null,
    rollbackCode: warning ? within([warning], "pre > code").filter((c) => !c.closest(".rb-text"))
      .map((c) => c.textContent) : null,
    rollbackNotes: warning ? within([warning], "p").map((p) => p.textContent) : null,
    metricRows: within(metrics, "tbody > tr")?.map(
      (row) => [...row.querySelectorAll("td")].map((td) => td.textContent)) ?? null,
    links: within(links, "a")?.map((a) => [a.textContent, a.getAttribute("href")]) ?? null,
    tagLinks: [...article.querySelectorAll(".rb-chips a[href*='tags/']")].map((a) => a.textContent),
  };
}
"""


def _inspect(tab: Tab, url: str) -> list[str]:
    tab.reset()
    tab.page.goto(url, wait_until="load")
    tab.page.wait_for_timeout(30)  # let late handlers (img onerror, svg onload) fire
    problems = list(tab.page.evaluate(INSPECT_JS))
    problems += [f"dialog: {d}" for d in tab.dialogs]
    problems += [f"page error: {e}" for e in tab.errors]
    problems += [
        f"console {kind}: {text[:160]}"
        for kind, text in tab.console
        if any(marker in text for marker in PAYLOAD_MARKERS)
    ]
    problems += [f"request leaves the machine: {r}" for r in tab.requests if "127.0.0.1" not in r]
    return problems


@pytest.mark.browser
def test_no_generated_page_runs_or_embeds_record_markup(
    hostile_site: BuiltSite, hostile_server: str, tab: Tab
) -> None:
    pages = hostile_site.site.html_pages()
    expected = {record_url(rid) for rid in hostile_site.records}
    expected |= {"", "services/", "owners/", "files/", "checklists/", "metrics/", "tags/"}
    expected |= {"rollback-readiness/", "checklists/hostile-checks/"}
    assert expected <= set(pages), f"pages missing: {sorted(expected - set(pages))}"
    assert len([p for p in pages if p.startswith("tags/")]) > 5
    report = {}
    for page_url in pages:
        problems = _inspect(tab, hostile_server + page_url)
        if problems:
            report[page_url or "/"] = problems
    assert not report, json.dumps(report, indent=1)


@pytest.mark.browser
def test_search_with_hostile_queries_runs_nothing(
    hostile_site: BuiltSite, hostile_server: str, tab: Tab
) -> None:
    title_record = hostile_site.records["2026-03-01-script-everywhere"].data
    queries = [
        "<script>window.__pwned=(window.__pwned||0)+1</script>",
        '"><img src=x onerror=window.__pwned=1>',
        "<svg onload=window.__pwned=1>",
        "javascript:window.__pwned=1",
        "{{ 7*7 }}",
        "script",
        "pwned",
        title_record["title"],
    ]
    report = {}
    found_any = False
    for query in queries:
        tab.reset()
        tab.page.goto(hostile_server, wait_until="load")
        search_box = tab.page.locator(".md-search__input")
        search_box.click()
        search_box.press_sequentially(query, delay=5)
        meta = tab.page.locator(".md-search-result__meta")
        meta.filter(has_text=SEARCH_ANSWERED).wait_for()
        tab.page.wait_for_timeout(300)
        found_any |= tab.page.locator(".md-search-result__item").count() > 0
        problems = list(tab.page.evaluate(INSPECT_JS))
        problems += [f"dialog: {d}" for d in tab.dialogs]
        problems += [f"page error: {e}" for e in tab.errors]
        if problems:
            report[query] = problems
    assert found_any, "no hostile query returned results, so nothing was rendered"
    assert not report, json.dumps(report, indent=1)


@pytest.mark.browser
def test_search_highlight_of_a_hostile_query_runs_nothing(
    hostile_site: BuiltSite, hostile_server: str, tab: Tab
) -> None:
    report = {}
    for payload in ("<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=1</script>"):
        for record_id in ("2026-03-01-script-everywhere", "2026-03-02-img-svg-handlers"):
            url = f"{hostile_server}{record_url(record_id)}?h={quote(payload)}"
            problems = _inspect(tab, url)
            if problems:
                report[url] = problems
    assert not report, json.dumps(report, indent=1)


def _record_params() -> list[Any]:
    return [pytest.param(rid, id=rid) for rid in HOSTILE_IDS]


@pytest.mark.browser
@pytest.mark.parametrize("record_id", _record_params())
def test_hostile_record_shows_every_field_as_text(
    hostile_site: BuiltSite, hostile_server: str, tab: Tab, record_id: str
) -> None:
    record = hostile_site.records[record_id]
    data = record.data
    tab.page.goto(hostile_server + record_url(record_id), wait_until="load")
    view = tab.page.evaluate(RECORD_VIEW_JS)

    title = norm(data["title"])
    assert norm(view["h1"]) == title
    assert norm(view["documentTitle"]).startswith(title)
    meta = {
        key: value if isinstance(value, list) else norm(value)
        for key, value in view["meta"].items()
    }
    assert meta["Owner"] == norm(data["owner"])
    assert meta["Service"] == norm(data["service"])
    assert meta["Environment"] == norm(data.get("environment", "production"))
    for label, key in (("Tags", "tags"), ("Reviewers", "reviewers")):
        if data.get(key):
            assert [norm(v) for v in meta[label]] == [norm(v) for v in data[key]]
    # Every tag links to its tag page, whatever its text (no tag, no link).
    assert sorted(norm(t) for t in view["tagLinks"]) == sorted(
        norm(t) for t in data.get("tags", [])
    )

    for heading in ("rollback", "reason", "files-touched", "commands", "about-this-record"):
        assert heading in view["headings"], f"section #{heading} is gone"
    assert view["files"] == data["files_touched"]
    assert view["commandCode"] == [c["run"].rstrip() + "\n" for c in record.commands()]
    notes = [norm(n) for n in view["commandNotes"]]
    for command in record.commands():
        if command.get("note"):
            assert norm(command["note"]) in notes
    assert view["rollbackCode"] == [
        c["run"].rstrip() + "\n" for c in record.commands(rollback=True)
    ], "rollback commands are not in the undo box under the summary"
    rollback_notes = [norm(n) for n in view["rollbackNotes"]]
    for command in record.commands(rollback=True):
        if command.get("note"):
            assert norm(command["note"]) in rollback_notes

    if data.get("metrics"):
        rows = view["metricRows"]
        assert rows is not None and len(rows) == len(data["metrics"])
        for row, metric in zip(rows, data["metrics"], strict=True):
            assert norm(row[0]) == norm(metric["name"])
            if metric.get("unit"):
                assert norm(row[1]).endswith(norm(metric["unit"]))
    if data.get("links"):
        assert [norm(text) for text, _ in view["links"]] == [
            norm(link["title"]) for link in data["links"]
        ]
        assert [unquote(href) for _, href in view["links"]] == [
            unquote(link["url"]) for link in data["links"]
        ]


@pytest.mark.browser
def test_hostile_checklist_shows_as_text(
    hostile_site: BuiltSite, hostile_server: str, tab: Tab
) -> None:
    checklist = yaml.safe_load(
        (DATA / "hostile-checklists" / "hostile-checks.yaml").read_text(encoding="utf-8")
    )
    tab.page.goto(hostile_server + "checklists/hostile-checks/", wait_until="load")
    article = tab.page.locator("article.md-content__inner")
    tab.page.evaluate("document.querySelectorAll('.headerlink').forEach((a) => a.remove())")
    assert norm(article.locator("h1").text_content()) == f"Checklist: {norm(checklist['title'])}"
    headings = [norm(h) for h in article.locator("h2").all_text_contents()]
    assert headings == [norm(item["text"]) for item in checklist["items"]]
    body = norm(article.text_content())
    assert norm(checklist["items"][0]["why"]) in body
    note = hostile_site.records["2026-03-08-checked-service"].checklist_statuses()
    assert "*emphasis* kept" in note["hostile-checks"]["first"]["note"]
    assert "emphasis kept" in body, "the skipped item's note is not shown"
    assert article.locator("em", has_text="emphasis").count() == 1


def test_hostile_corpus_is_valid(hostile_site: BuiltSite) -> None:
    result = run_cli(hostile_site.repo, "validate")
    assert result.exit_code == 0, result.output
    assert ": error:" not in result.output


def test_hostile_feed_and_export_keep_the_text(hostile_site: BuiltSite) -> None:
    feed = feedparser.parse((hostile_site.site_dir / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    order = newest_first(hostile_site.records)
    assert len(feed.entries) == len(order)
    for entry, record_id in zip(feed.entries, order, strict=True):
        data = hostile_site.records[record_id].data
        assert entry.title == data["title"]
        assert entry.author == data["owner"]
        assert [tag.term for tag in entry.get("tags", [])] == data.get("tags", [])
    export = json.loads((hostile_site.site_dir / "records.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in export] == order
    for entry in export:
        data = hostile_site.records[entry["id"]].data
        for key in ("title", "owner", "service", "reason", "files_touched", "tags"):
            assert entry[key] == data.get(key, []), key


def test_record_text_never_reaches_an_include_or_opens_a_fence(hostile_site: BuiltSite) -> None:
    """With pymdownx.snippets enabled (the rich site), `--8<--` lines in commands, Markdown
    fields and checklist notes stay text, and a fence line inside a paragraph neither
    swallows the sections after it nor turns a command into markup."""
    for path in hostile_site.site_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml"):
            assert SNIPPET_MARKER not in path.read_text(encoding="utf-8"), path
    record_id = "2026-03-11-includes-and-inline-fences"
    html = (hostile_site.site_dir / "changes" / record_id / "index.html").read_text()
    assert 'href="https://example.com"' not in html
    doc = hostile_site.site.page(record_url(record_id))

    def section_text(heading_id: str) -> str:
        heading = doc.find(id=heading_id)
        assert heading is not None, f"#{heading_id} was swallowed"
        return " ".join(node.text for node in heading.section())

    reason = section_text("reason")
    assert "```" in reason and '--8<-- ".env"' in reason and "*escaped emphasis*" in reason
    assert '--8<-- "mkdocs.yml"' in section_text("rollback")
    checklists = section_text("checklists")
    assert "*not emphasis*" in checklists and '--8<-- ".env"' in checklists
