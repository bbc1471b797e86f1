"""Render the indexed runbook into pages: Markdown for every record and index, plus the Atom
feed and the JSON export. Engine-independent: MkDocs, `runbook render --out` and any other
Markdown site engine get the same bytes.

One Jinja environment, built in `make_environment`. Record text only ever arrives as template
data: autoescape is on everywhere, plain text goes through `text` (HTML- and Markdown-inert)
and Markdown fields through `markdown` (sanitised after conversion).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .charts import MetricChange, format_number, metric_chart, months_chart
from .escape import escape_text, fence, front_matter_string, markdown_block
from .indexes import ChecklistUse, RunbookIndex, folder_of
from .resources import data_dir
from .slugs import anchor_for_path
from .validate import SourcedRecord

FEED_SIZE = 50
RECENT_ON_HOME = 50
STATUS_ICONS = {"done": "✓", "n/a": "○", "skipped": "↷"}


@dataclass(frozen=True)
class Page:
    """One generated file: its path in the docs tree, its content and, for record pages, the
    key of its inputs (see render_site)."""

    uri: str
    content: str
    key: str = ""


@dataclass(frozen=True)
class RenderSettings:
    """What the renderer needs to know about the site it renders for."""

    home_uri: str = "index.md"
    site_url: str = ""
    site_name: str = "Runbook"
    directory_urls: bool = True


def make_environment(templates_dir: Path | None) -> Environment:
    """The Jinja environment: the user's templates_dir first, then the shipped defaults."""
    loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(FileSystemLoader(str(data_dir("templates"))))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        text=escape_text,
        markdown=markdown_block,
        fence=fence,
        front_matter=front_matter_string,
        number=format_number,
        anchor=anchor_for_path,
        verdict=lambda metric: MetricChange(metric).verdict,
    )
    environment.globals.update(
        metric_change=MetricChange,
        metric_chart=metric_chart,
        status_icons=STATUS_ICONS,
        by_status=uses_by_status,
    )
    return environment


def uses_by_status(uses: list[ChecklistUse]) -> dict[str, list[ChecklistUse]]:
    """The uses of a checklist item by status (done, n/a, skipped), in one pass."""
    grouped: dict[str, list[ChecklistUse]] = {status: [] for status in STATUS_ICONS}
    for use in uses:
        grouped[use.status.status].append(use)
    return grouped


class _Links:
    """Relative links between generated pages, as Markdown .md paths every engine resolves."""

    def __init__(self, index: RunbookIndex) -> None:
        self.index = index

    def record(self, record_id: str) -> str:
        return f"changes/{record_id}.md"

    def service(self, name: str) -> str:
        return f"services/{self.index.services[name].slug}.md"

    def owner(self, name: str) -> str:
        return f"owners/{self.index.owners[name].slug}.md"

    def tag(self, name: str) -> str:
        return f"tags/{self.index.tags[name].slug}.md"

    def metric(self, name: str) -> str:
        return f"metrics/{self.index.metrics[name].slug}.md"

    def checklist(self, checklist_id: str) -> str:
        return f"checklists/{checklist_id}.md"

    def file(self, path: str) -> str:
        folder = folder_of(path)
        return f"files/{self.index.folder_slugs[folder]}.md#{anchor_for_path(path)}"

    def folder(self, folder: str) -> str:
        return f"files/{self.index.folder_slugs[folder]}.md"


def _relative_to(page_uri: str) -> Callable[[str], str]:
    """A function turning a docs-root path into a link relative to `page_uri`."""
    depth = page_uri.count("/")
    prefix = "../" * depth
    return lambda target: prefix + target


def site_path(uri: str, directory_urls: bool) -> str:
    """Where the engine publishes docs page `uri` (anchor kept), relative to the site root.

    Raw HTML is not rewritten by Markdown engines, so the big tables of index pages, written
    as HTML, link to published paths: `changes/x.md` is `changes/x/` or `changes/x.html`.
    """
    path, hash_mark, anchor = uri.partition("#")
    stem = path.removesuffix(".md")
    if not directory_urls:
        published = f"{stem}.html"
    elif stem == "index":
        published = ""
    else:
        published = stem.removesuffix("index") if stem.endswith("/index") else f"{stem}/"
    return published + hash_mark + anchor


class _RecordRows:
    """The HTML table rows of records, each rendered once per depth of the page it is on.

    A record is listed on a dozen index pages (its service, owner, tags, files, checklists,
    rollback readiness...); rendering its row once and joining rows makes those pages cost
    little more than their size.
    """

    def __init__(self, environment: Environment, links: _Links, settings: RenderSettings):
        self.template = environment.get_template("_record_row.html.j2")
        self.links = links
        self.settings = settings
        self.rendered: dict[tuple[str, str], str] = {}

    def for_page(self, root: str) -> Callable[[list[SourcedRecord]], Markup]:
        """The row-joining function for a page `root` ("../..") away from the site root."""
        url = self.url_from(root)

        def rows(records: list[SourcedRecord]) -> Markup:
            joined = []
            for entry in records:
                row = self.rendered.get((entry.id, root))
                if row is None:
                    row = self.template.render(
                        entry=entry, record=entry.record, links=self.links, url=url
                    ).strip()
                    self.rendered[(entry.id, root)] = row
                joined.append(row)
            return Markup("\n".join(joined))

        return rows

    def url_from(self, root: str) -> Callable[[str], str]:
        """A function turning a docs-root path into a published URL relative to the page."""
        directory_urls = self.settings.directory_urls
        return lambda target: root + site_path(target, directory_urls)


# A record page rendered earlier from the same inputs: (uri, key) -> content, or None.
RenderedBefore = Callable[[str, str], str | None]
DEFERRED_MARKER = re.compile(r"<!-- runbook-deferred ([0-9a-f]{40}) -->")


class _Deferrer:
    """`{% call deferred() %}...{% endcall %}` in a template: the HTML inside, or a marker.

    Index pages hold tables of thousands of rows. Written as HTML they need no Markdown, yet a
    Markdown engine still parses every tag to find where the block ends (html.parser, in
    Python: most of an incremental build). With a `blocks` dict, the HTML is kept there and
    the page gets a marker naming its digest, which the MkDocs plugin swaps for the HTML after
    conversion; the digest changes the page's Markdown whenever the HTML changes.
    """

    def __init__(self, blocks: dict[str, str] | None) -> None:
        self.blocks = blocks

    def __call__(self, caller: Callable[[], str]) -> Markup:
        html = caller()
        if self.blocks is None:
            return Markup(html)
        digest = hashlib.sha1(html.encode("utf-8"), usedforsecurity=False).hexdigest()
        self.blocks[digest] = html
        return Markup(f"<!-- runbook-deferred {digest} -->")


def render_site(
    index: RunbookIndex,
    environment: Environment,
    settings: RenderSettings,
    *,
    rendered_before: RenderedBefore | None = None,
    deferred_blocks: dict[str, str] | None = None,
) -> list[Page]:
    """Every generated page of the runbook, in a stable order.

    Record pages and the big index pages carry a key of everything they show; with
    `rendered_before`, a page whose key is unchanged is taken as it was instead of being
    rendered again (incremental builds: one new record changes a few dozen pages, not the
    5,000 others). With `deferred_blocks`, the big HTML blocks of index pages go there (see
    _Deferrer).
    """
    links = _Links(index)
    pages: list[Page] = []
    shared = _shared_inputs(index, settings, _templates_fingerprint(environment))
    serialised = {entry.id: entry.record.model_dump_json() for entry in index.records}
    digests = {
        record_id: hashlib.sha256(text.encode("utf-8")).hexdigest()
        for record_id, text in serialised.items()
    }
    record_rows = _RecordRows(environment, links, settings)
    deferrer = _Deferrer(deferred_blocks)

    def listed(records: list[SourcedRecord]) -> list[tuple[str, str]]:
        return [(entry.id, digests[entry.id]) for entry in records]

    def render(uri: str, template: str, key_inputs: Any = None, **context: Any) -> None:
        """Render `template` into page `uri`, or take it as rendered before from the same
        inputs (`key_inputs`, plus everything every page shares)."""
        key = ""
        if key_inputs is not None:
            digest = hashlib.sha256(shared)
            digest.update(json.dumps([template, key_inputs]).encode("utf-8"))
            key = digest.hexdigest()
            previous = rendered_before(uri, key) if rendered_before else None
            if previous is not None:
                pages.append(Page(uri, previous, key))
                return
        root = "../" * site_path(uri, settings.directory_urls).count("/")
        content = environment.get_template(template).render(
            index=index,
            links=links,
            to=_relative_to(uri),
            url=record_rows.url_from(root),
            record_rows=record_rows.for_page(root),
            deferred=deferrer,
            settings=settings,
            **context,
        )
        pages.append(Page(uri, content, key))

    render(
        settings.home_uri,
        "home.md.j2",
        months_chart=months_chart(index.months),
        recent=index.records[:RECENT_ON_HOME],
    )
    for entry in index.records:
        record = entry.record
        page_links = [
            links.owner(record.owner),
            links.service(record.service),
            *(links.tag(tag) for tag in record.tags),
            *(links.metric(metric.name) for metric in record.metrics),
            *(links.file(path) for path in record.files_touched),
        ]
        render(
            links.record(entry.id),
            "record.md.j2",
            key_inputs=[entry.path, digests[entry.id], listed(index.related[entry.id]), page_links],
            entry=entry,
            record=record,
            related=index.related[entry.id],
        )
    for kind, groups in (("service", index.services), ("owner", index.owners), ("tag", index.tags)):
        render(f"{kind}s/index.md", "groups.md.j2", kind=kind, groups=groups)
        for group in groups.values():
            render(
                f"{kind}s/{group.slug}.md",
                "group.md.j2",
                key_inputs=[kind, group.name, listed(group.records)],
                kind=kind,
                group=group,
            )
    folder_changes = {
        folder: len({entry.id for path in paths for entry in index.files[path]})
        for folder, paths in index.files_in_folder.items()
    }
    render("files/index.md", "folders.md.j2", folder_changes=folder_changes)
    for folder, paths in index.files_in_folder.items():
        render(
            links.folder(folder),
            "files.md.j2",
            key_inputs=[folder, [(path, listed(index.files[path])) for path in paths]],
            folder=folder,
            paths=paths,
        )
    render("checklists/index.md", "checklists.md.j2")
    for checklist_id, sourced in index.runbook.checklists.items():
        uses = index.checklist_uses[checklist_id]
        render(
            links.checklist(checklist_id),
            "checklist.md.j2",
            key_inputs=[
                checklist_id,
                {
                    item: listed([use.record for use in item_uses])
                    for item, item_uses in uses.items()
                },
            ],
            checklist_id=checklist_id,
            checklist=sourced.checklist,
            uses=uses,
        )
    render("metrics/index.md", "metrics.md.j2")
    for name, group in index.metrics.items():
        uses = index.metric_uses[name]
        render(
            links.metric(name),
            "metric.md.j2",
            key_inputs=[name, listed([use.record for use in uses])],
            group=group,
            uses=uses,
        )
    render(
        "rollback-readiness.md",
        "rollback-readiness.md.j2",
        key_inputs=listed(index.untested_rollbacks),
    )
    render(
        "feed.xml",
        "feed.xml.j2",
        entries=index.records[:FEED_SIZE],
        page_url=lambda e: _page_url(settings, links.record(e.id)),
    )
    pages.append(Page("records.json", records_json(index, serialised)))
    return pages


def _templates_fingerprint(environment: Environment) -> str:
    """Hash of every template file the environment can load (user overrides included)."""
    digest = hashlib.sha256()
    for loader in environment.loader.loaders:  # type: ignore[union-attr]
        for folder in loader.searchpath:
            for path in sorted(Path(folder).glob("*")):
                if path.is_file():
                    digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _shared_inputs(index: RunbookIndex, settings: RenderSettings, templates: str) -> bytes:
    """What the key of every page includes: settings, templates, checklists, and the slugs
    every link between pages is made of."""
    checklists = {
        checklist_id: sourced.checklist.model_dump(mode="json")
        for checklist_id, sourced in index.runbook.checklists.items()
    }
    slugs = {
        kind: {name: group.slug for name, group in groups.items()}
        for kind, groups in (
            ("services", index.services),
            ("owners", index.owners),
            ("tags", index.tags),
            ("metrics", index.metrics),
        )
    }
    inputs = {
        "settings": dataclasses.asdict(settings),
        "templates": templates,
        "checklists": checklists,
        "slugs": {**slugs, "folders": index.folder_slugs},
    }
    return json.dumps(inputs, sort_keys=True).encode("utf-8")


def _page_url(settings: RenderSettings, uri: str) -> str:
    """The published URL of a generated page, absolute when site_url is known."""
    path = site_path(uri, settings.directory_urls)
    return settings.site_url.rstrip("/") + "/" + path if settings.site_url else path


def record_export(entry: SourcedRecord) -> dict[str, Any]:
    """One record as plain JSON data, with its id and source file."""
    return {"id": entry.id, "path": entry.path, **entry.record.model_dump(mode="json")}


def records_json(index: RunbookIndex, serialised: dict[str, str]) -> str:
    """Every validated record, newest first, as stable JSON for tools and scripts.

    `serialised` is each record as pydantic-core wrote it (model_dump_json, in the models'
    field order), which is ten times faster than json.dumps over model_dump at 5,000 records;
    each gets its id and path first.
    """
    export = [
        f'{{"id":{json.dumps(entry.id)},"path":{json.dumps(entry.path, ensure_ascii=False)},'
        + serialised[entry.id][1:]
        for entry in index.records
    ]
    return "[" + ",".join(export) + "]\n"
