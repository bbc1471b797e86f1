"""Search over the runbook: records through Pagefind, hand-written pages through Material.

Material builds a Lunr index of every page in the reader's browser on every page load (6 MB
and 1.5-2.3 s before the first result at 5,000 records, growing with the runbook). Records are
therefore indexed by Pagefind instead, whose static index is split into chunks: a query fetches
only the chunks of its words and the few results it shows. Hand-written pages (few, prose) stay
in Material's index. runbook's worker (templates/runbook-search.js) answers Material's search
box from both, so the box, its keyboard shortcut and the phone layout stay Material's own.

Material names its worker in the page's config through MkDocs' `url` filter; rerouting that one
value swaps the worker without overriding a single Material template, so a user's theme
overrides keep working.

The Pagefind index itself is built in shards by search_index.py.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ..render.environment import DEFAULT_TEMPLATES

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


def keep_out_of_material_index(page: Page) -> None:
    """Generated pages are found through Pagefind (records) or the navigation (indexes)."""
    page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}


def document_path(url: str) -> str:
    """Where a page's search document goes so that Pagefind gives it the page's URL."""
    return f"{url}index.html" if url == "" or url.endswith("/") else url
