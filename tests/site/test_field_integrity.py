"""Property: whatever a Markdown field or a command contains, it stays inside its own block.

Hypothesis writes records whose reason, expected result, rollback plan, checklist note and
commands are made of the lines that break pages (fences of backticks and tildes, include
lines of pymdownx.snippets, HTML, attr_list braces, escaped Markdown); each example is built
for real, with snippets enabled, and the page must keep every section, every command as a
code block with its exact text, and no file of the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitehelpers import RICH_MKDOCS_YML, SNIPPET_MARKER, build, parse_html, write_repo

from benchmarks.search_bundle import search_fragments

DANGEROUS_LINES = [
    "```",
    "```html",
    "~~~",
    "````",
    '--8<-- ".env"',
    ';--8<-- ".env"',
    "--8<--",
    "<script>window.__pwned=1</script>",
    '</div></div><h2 id="x">x</h2>',
    '{: onclick="window.__pwned=1" }',
    r"\*escaped\* \_too\_",
    "[link](https://example.com)",
    "!!! warning",
    "{{ 7*7 }} {% raw %}",
    "    indented code",
    "",
    "plain words",
]
field_text = st.lists(st.sampled_from(DANGEROUS_LINES), min_size=1, max_size=6).map(
    lambda lines: "\n".join(["Start of the field.", *lines])
)
command_text = st.lists(st.sampled_from(DANGEROUS_LINES), min_size=1, max_size=4).map(
    lambda lines: "\n".join(["echo start"] + [line for line in lines if line])
)
SECTIONS = ("reason", "files-touched", "commands", "checklists", "rollback")


def record_yaml(index: int, fields: dict[str, str], commands: list[str]) -> str:
    data = {
        "title": f"Field integrity {index}",
        "date": f"2026-04-{index + 1:02d}",
        "owner": "Prop Owner",
        "service": "props",
        "reason": fields["reason"],
        "expected_result": fields["expected"],
        "files_touched": ["scripts/prop.sh"],
        "commands": [{"run": command} for command in commands],
        "metrics": [{"name": "m", "unit": "", "before": 1, "after": 2, "better": "higher"}],
        "rollback": {"plan": fields["plan"], "commands": [commands[0]], "tested": True},
        "checklists": {
            "safe-change": {
                item: ({"status": "skipped", "note": fields["note"]} if i == 0 else "done")
                for i, item in enumerate(SAFE_CHANGE_ITEMS)
            }
        },
    }
    return json.dumps(data)  # JSON is YAML, and quotes every string exactly


SAFE_CHANGE_ITEMS = [
    "inputs-validated",
    "permissions-checked",
    "retry-safe",
    "expected-response",
    "failure-mode",
]


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(
        st.tuples(
            st.fixed_dictionaries(
                {
                    "reason": field_text,
                    "expected": field_text,
                    "plan": field_text,
                    "note": field_text,
                }
            ),
            st.lists(command_text, min_size=1, max_size=3),
        ),
        min_size=3,
        max_size=3,
    )
)
def test_every_field_stays_in_its_block(
    tmp_path_factory: object, records: list[tuple[dict[str, str], list[str]]]
) -> None:
    root = tmp_path_factory.mktemp("integrity") / "runbook"  # type: ignore[attr-defined]
    repo = write_repo(
        root,
        {
            f"2026-04-{i + 1:02d}-integrity-{i}.yaml": record_yaml(i, fields, commands)
            for i, (fields, commands) in enumerate(records)
        },
        mkdocs_yml=RICH_MKDOCS_YML,
    )
    (repo / ".env").write_text(f"{SNIPPET_MARKER}=x\n", encoding="utf-8")
    build(repo, "-q")
    for i, (_, commands) in enumerate(records):
        page = repo / "site" / "changes" / f"2026-04-{i + 1:02d}-integrity-{i}" / "index.html"
        html = page.read_text(encoding="utf-8")
        assert SNIPPET_MARKER not in html
        doc = parse_html(html)
        article = doc.find("article", cls="md-content__inner")
        assert article is not None
        for heading in SECTIONS:
            assert article.find(id=heading) is not None, f"#{heading} was swallowed"
        blocks = [
            element.text
            for node in article.find(id="commands").section()
            for element in ([node] if node.tag == "code" else node.find_all("code"))
            if element.parent is not None and element.parent.tag == "pre"
        ]
        assert blocks == [command.rstrip() + "\n" for command in commands]
        command_nodes = article.find(id="commands").section()
        assert [a for node in command_nodes for a in node.find_all("a")] == []
    index = (repo / "site" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert SNIPPET_MARKER not in index
    assert SNIPPET_MARKER not in json.dumps(search_fragments(repo / "site"))
    assert not Path(repo / "site" / ".env").exists()
