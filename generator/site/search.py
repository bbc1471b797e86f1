"""Search over the runbook: Material's search plugin, given each record's search view and
runbook's worker, which wraps Material's own.

Material's worker highlights and posts back every result and splits paths and hyphenated names
into words that every record contains, which made a query on a 5,000-record runbook take
300-400 ms (templates/runbook-search.js says how the wrapper avoids both). Material names its
worker in the page's config through MkDocs' `url` filter; rerouting that one value swaps the
worker without overriding a single Material template, so a user's theme overrides keep working.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ..models import SourcedRecord
from ..render.environment import DEFAULT_TEMPLATES
from ..render.search_view import record_search_html

MATERIAL_WORKER = re.compile(r"assets/javascripts/workers/search\.[0-9a-f]+\.min\.js")
RUNBOOK_WORKER_URI = "assets/javascripts/workers/runbook-search.js"
_NAME_SLOT = "__MATERIAL_WORKER__"


def add_search_worker(files: Files, config: MkDocsConfig) -> str | None:
    """Add runbook's worker beside Material's; Material's worker URI, or None without one."""
    material = next((f.src_uri for f in files if MATERIAL_WORKER.fullmatch(f.src_uri)), None)
    if material is None or files.get_file_from_path(RUNBOOK_WORKER_URI) is not None:
        return None
    template = (DEFAULT_TEMPLATES / "runbook-search.js").read_text(encoding="utf-8")
    source = template.replace(_NAME_SLOT, material.rsplit("/", 1)[1])
    files.append(File.generated(config, RUNBOOK_WORKER_URI, content=source))
    return material


def route_search_worker(env: Any, material_worker: str) -> None:
    """Make the templates' `url` filter answer runbook's worker for Material's."""
    url = env.filters["url"]

    @functools.wraps(url)  # keeps the filter's pass-context marker
    def url_or_runbook_worker(context: Any, value: str) -> str:
        return url(context, RUNBOOK_WORKER_URI if value == material_worker else value)

    env.filters["url"] = url_or_runbook_worker


class SearchView:
    """Show the search plugin a record page's search view, then put the whole page back.

    Material indexes page.content in on_page_context; the view (render/search_view.py) is
    rendered only for the pages MkDocs converts in this build.
    """

    def __init__(self, environment: Environment | None, records: dict[str, SourcedRecord]):
        self.environment = environment
        self.records = records
        self.hidden: tuple[Page, str] | None = None

    def show(self, page: Page) -> None:
        entry = self.records.get(page.file.src_uri)
        if entry is not None and self.environment is not None and page.content:
            self.hidden = (page, page.content)
            page.content = record_search_html(self.environment, entry)

    def restore(self, page: Page) -> None:
        if self.hidden is not None and self.hidden[0] is page:
            page.content = self.hidden[1]
        self.hidden = None
