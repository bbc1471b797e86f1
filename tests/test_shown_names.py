"""Wherever a service, owner or tag is shown or filtered (search documents, the timeline and
its month files, annotations.json and `runbook annotate`), it is its group's name: the name
its own page has (alias target, most used spelling), for any aliases and spellings; the
timeline is the same bytes whatever Python's hash seed; composed and decomposed paths find
each other."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.authoring.annotate import annotation_body
from generator.models import ChangeRecord, Runbook, SourcedRecord
from generator.names import Aliases, NameKind, ShownNames
from generator.render.environment import make_environment
from generator.render.index import RunbookIndex, build_index, shown_names
from generator.render.pages import RenderSettings, render_site
from generator.render.search_documents import search_document_html

REPO_ROOT = Path(__file__).resolve().parent.parent

# Spellings of a few names (one group each, but for the aliases' old names), with the
# separators and cases name keys fold, a no-break space and a quote.
BASES = ["uploads api", "edge", 'say "hi"', "billing", "old name", "legacy billing"]
spellings = st.builds(
    lambda base, upper, joiner: "".join(
        c.upper() if u else c for c, u in zip(base, upper + [False] * len(base), strict=False)
    ).replace(" ", joiner),
    st.sampled_from(BASES),
    st.lists(st.booleans(), max_size=8),
    st.sampled_from([" ", "_", "-", "\u00a0"]),
)
alias_tables = st.dictionaries(
    st.sampled_from(["old name", "Legacy_Billing", "edge"]),
    st.sampled_from(["Billing API", "billing", "Edge Proxy", 'Edge "beta"']),
    max_size=2,
)
record_data = st.fixed_dictionaries(
    {
        "day": st.integers(0, 40),
        "service": spellings,
        "owner": spellings,
        "tags": st.lists(spellings, max_size=3),
        "environment": st.sampled_from(["production", "staging"]),
    }
)


def runbook_of(rows: list[dict]) -> Runbook:
    records = []
    for number, row in enumerate(rows):
        date = dt.date(2026, 1, 1) + dt.timedelta(days=row["day"])
        record = ChangeRecord.model_validate(
            {
                "title": f"Change {number}",
                "date": date,
                "shipped_at": dt.datetime(date.year, date.month, date.day, 9, tzinfo=dt.UTC),
                "owner": row["owner"],
                "service": row["service"],
                "environment": row["environment"],
                "reason": "Why.",
                "files_touched": ["app/x.conf"],
                "commands": ["make deploy"],
                "rollback": {"plan": "Revert."},
                "tags": row["tags"],
            }
        )
        records.append(SourcedRecord(f"{date.isoformat()}-change-{number}", "x.yaml", record))
    records.sort(key=lambda entry: (entry.record.date, entry.id), reverse=True)
    return Runbook(records=records)


def group_name(index: RunbookIndex, kind: NameKind, word: str) -> str:
    """What the group page of the record's word is titled (the reference)."""
    groups = {"service": index.services, "owner": index.owners, "tag": index.tags}[kind]
    return groups[index.group_key(kind, word)].name


def filter_values(document: str, name: str) -> list[str]:
    found = re.findall(rf'<span data-pagefind-filter="{name}">(.*?)</span>', document)
    return [
        re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m[1], 16)), html.unescape(value))
        for value in found
    ]


def meta_value(document: str, name: str) -> str:
    return html.unescape(re.search(rf'<span data-pagefind-meta="{name}">(.*?)</span>', document)[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record_data, min_size=1, max_size=10), alias_tables, alias_tables)
def test_every_shown_or_filtered_name_is_its_pages_name(
    rows: list[dict], service_aliases: dict[str, str], tag_aliases: dict[str, str]
) -> None:
    aliases = Aliases.from_option(
        {"services": service_aliases, "owners": service_aliases, "tags": tag_aliases}
    )
    runbook = runbook_of(rows)
    index = build_index(runbook, aliases)
    environment = make_environment(None)
    pages = {page.uri: page.content for page in render_site(index, environment, RenderSettings())}

    rows_by_id = {}
    for uri, content in pages.items():
        if uri.startswith("timeline/"):
            rows_by_id |= {row["id"]: row for row in json.loads(content)}
    timeline = pages["timeline.md"]
    listed = re.findall(r'<li class="rb-change" data-service="([^"]*)"', timeline)
    choices = json.loads(html.unescape(re.search(r'data-services="([^"]*)"', timeline)[1]))
    assert choices == sorted(
        {g.name for g in index.services.values()}, key=lambda n: (n.casefold(), n)
    )
    annotations = {a["id"]: a for a in json.loads(pages["annotations.json"])}
    whole_runbook = shown_names(runbook.records, aliases)

    for entry in runbook.records:
        record = entry.record
        service = group_name(index, "service", record.service)
        owner = group_name(index, "owner", record.owner)
        tags = list(dict.fromkeys(group_name(index, "tag", tag) for tag in record.tags))

        document = search_document_html(environment, entry, index.names)
        assert meta_value(document, "service") == service
        assert meta_value(document, "owner") == owner
        assert filter_values(document, "service") == [service]
        assert filter_values(document, "owner") == [owner]
        assert filter_values(document, "tag") == tags

        assert (rows_by_id[entry.id]["service"], rows_by_id[entry.id]["owner"]) == (service, owner)

        expected_tags = list(dict.fromkeys([service, record.environment, record.status, *tags]))
        assert annotations[entry.id]["tags"] == expected_tags
        assert f"({service}, {owner}, " in annotations[entry.id]["text"]
        # `runbook annotate --since`: a few records, named as the whole runbook names them
        body = annotation_body(entry, "", True, None, whole_runbook)
        assert body["tags"][2:] == expected_tags
    for value in listed:
        assert json.loads(html.unescape(value)) in choices


EDGE_RECORDS = {
    f"2026-03-0{n}-edge-{n}.yaml": (name, owner)
    for n, (name, owner) in enumerate(
        [("Edge", "Ops"), ("edge", "ops"), ("EDGE", "Ops Team"), ("Edge\u00a0Proxy", "ops team"),
         ("edge proxy", "OPS"), ("Edge", "ops")],
        start=1,
    )
}  # fmt: skip


def write_repository(root: Path) -> Path:
    root.mkdir()
    (root / "mkdocs.yml").write_text(
        "site_name: Seeds\ntheme: {name: material}\nplugins:\n  - search\n  - runbook:\n"
        "      aliases: {services: {EDGE: edge}}\n",
        encoding="utf-8",
    )
    (root / "checklists").mkdir()
    records = root / "records"
    records.mkdir()
    for name, (service, owner) in EDGE_RECORDS.items():
        day = name[:10]
        (records / name).write_text(
            f"title: {json.dumps(service + ' change')}\ndate: {day}\n"
            f"shipped_at: {day}T10:00:00Z\nowner: {owner}\nservice: {json.dumps(service)}\n"
            "reason: Why.\nfiles_touched: [app/x.conf]\ncommands: [make]\n"
            "rollback: {plan: Revert.}\ntags: [Edge, edge, EDGE]\n",
            encoding="utf-8",
        )
    return root


def test_the_timeline_and_exports_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    repo = write_repository(tmp_path / "repo")
    outputs = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"out-{seed}"
        environment = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1700000000"}
        done = subprocess.run(
            [sys.executable, "-m", "generator", "render", "--out", str(out)],
            cwd=repo, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.*")})
    assert "timeline.md" in outputs[0] and "annotations.json" in outputs[0]
    assert outputs[0] == outputs[1] == outputs[2]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="aeiouAEIOUcnsyz", min_size=1, max_size=6))
def test_a_path_is_indexed_alike_composed_or_decomposed(stem: str) -> None:
    """The search document of a record is the same whichever form its path is written in
    (the worker makes typed queries composed, too: tests/site/test_search_names.py)."""
    accented = "".join(char + "\u0301" if char in "aeiouAEIOU" else char for char in stem)
    path = f"config/{accented}/r\u00e9glage.conf"
    documents = []
    for form in ("NFC", "NFD"):
        runbook = runbook_of([{"day": 0, "service": "s", "owner": "o", "tags": [],
                               "environment": "production"}])  # fmt: skip
        entry = runbook.records[0]
        entry.record.files_touched[0] = unicodedata.normalize(form, path)
        index = build_index(runbook)
        documents.append(search_document_html(make_environment(None), entry, index.names))
    assert documents[0] == documents[1]
    assert unicodedata.normalize("NFC", path) in documents[0]


def test_a_shown_name_asked_before_more_records_follows_them() -> None:
    """ShownNames remembers each word's shown name once asked (pages ask a million times at
    100,000 records); a record added afterwards can change which spelling most records use,
    and then the name shown for every spelling of it."""
    names = ShownNames(Aliases.from_option({"services": {"payments": "Billing"}}))
    day = dt.date(2026, 1, 1)
    names.add("service", "Billing", day, "a")
    assert names.shown("service", "billing") == "Billing"
    assert names.shown("service", "payments") == "Billing"
    assert names.shown("service", "edge") == "edge"  # no record says it: as written
    names.add("service", "billing", day, "b")
    names.add("service", "BILLING", day, "c")
    names.add("service", "billing", day, "d")
    names.add("service", "Edge", day, "e")
    assert names.shown("service", "Billing") == "billing"
    assert names.shown("service", "payments") == "billing"
    assert names.shown("service", "edge") == "Edge"
