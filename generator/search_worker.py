"""Point Material's search at runbook's worker, which wraps Material's own.

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

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from .resources import data_dir

MATERIAL_WORKER = re.compile(r"assets/javascripts/workers/search\.[0-9a-f]+\.min\.js")
RUNBOOK_WORKER_URI = "assets/javascripts/workers/runbook-search.js"
_NAME_SLOT = "__MATERIAL_WORKER__"


def add_search_worker(files: Files, config: MkDocsConfig) -> str | None:
    """Add runbook's worker beside Material's; Material's worker URI, or None without one."""
    material = next((f.src_uri for f in files if MATERIAL_WORKER.fullmatch(f.src_uri)), None)
    if material is None or files.get_file_from_path(RUNBOOK_WORKER_URI) is not None:
        return None
    template = (data_dir("templates") / "runbook-search.js").read_text(encoding="utf-8")
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
