"""The runbook's pages as MkDocs virtual files: the on_files job of the plugin.

Runs the same pipeline as `runbook validate` and `runbook render` (invalid records fail the
build with the same diagnostics), then adds every page with `File.generated`, listed in the
navigation or not as its page source says (record pages stay out of it, so builds grow
linearly), plus the stylesheet.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation

from ..config import RunbookOptions
from ..diagnostics import has_errors
from ..pipeline import Generated, generate
from ..render.environment import DEFAULT_TEMPLATES
from ..render.links import Links
from ..render.search_documents import search_document_html
from .incremental import IncrementalBuild
from .search import document_path

log = logging.getLogger("mkdocs.plugins.runbook")
STYLESHEET_URI = "assets/runbook.css"
PAGES_SCRIPT_URI = "assets/javascripts/runbook-pages.js"  # on every page: loads the next one
PAGES_MAIN_SCRIPT_URI = "assets/javascripts/runbook-pages-main.js"


class GeneratedPages:
    """Generate the runbook's pages into a build's files, and keep what later hooks need:
    which files are generated, the index pages for the navigation, and the records by page."""

    def __init__(self, options: RunbookOptions, incremental: IncrementalBuild) -> None:
        self.options = options
        self.incremental = incremental
        self.uris: set[str] = set()
        self.nav_uris: list[str] = []
        self.deferred_blocks: dict[str, str] = {}
        self.generated: Generated | None = None
        self.files: Files | None = None

    def add_to(self, files: Files, config: MkDocsConfig) -> Files:
        generated = generate(
            self.options,
            rendered_before=self.incremental.rendered_before,
            deferred_blocks=self.deferred_blocks,
            validation_cache=self.incremental.validation_cache,
            reuse_validation=self.incremental.reuse,
        )
        _log_diagnostics(generated)
        assert generated.pages is not None
        self.generated = generated
        sources = self.incremental.keep(generated.pages, self.deferred_blocks)
        for page in generated.pages:
            if files.get_file_from_path(page.uri) is not None:
                log.warning(f"runbook: docs/{page.uri} exists; it replaces the generated page")
                continue
            inclusion = InclusionLevel.INCLUDED if page.in_nav else InclusionLevel.NOT_IN_NAV
            source = str(sources[page.uri])
            files.append(File.generated(config, page.uri, abs_src_path=source, inclusion=inclusion))
            self.uris.add(page.uri)
        self.nav_uris = [p.uri for p in generated.pages if p.in_nav and p.uri in self.uris]
        self.incremental.unshare(files, self.uris)
        self.files = files
        for uri in (STYLESHEET_URI, PAGES_SCRIPT_URI, PAGES_MAIN_SCRIPT_URI):
            if files.get_file_from_path(uri) is None:
                source = self._asset(uri.rsplit("/", 1)[1])
                files.append(File.generated(config, uri, abs_src_path=str(source)))
        return files

    def search_documents(self, files: Files) -> dict[str, tuple[str, Callable[[], str]]]:
        """Each record page's search document: its path (the page's URL), the key of its
        page (which covers everything the document shows) and how to render it."""
        generated = self.generated
        if generated is None or generated.index is None or generated.pages is None:
            return {}
        links = Links(generated.index)
        keys = {page.uri: page.key for page in generated.pages}
        documents = {}
        for entry in generated.index.records:
            file = files.get_file_from_path(links.record(entry.id))
            if file is not None and file.src_uri in self.uris:
                render = functools.partial(search_document_html, generated.environment, entry)
                documents[document_path(file.url)] = (keys.get(file.src_uri, ""), render)
        return documents

    def extend_nav(self, nav: Navigation, files: Files) -> Navigation:
        """Append the index pages a hand-written nav leaves out, so they stay reachable."""
        listed = {page.file.src_uri for page in nav.pages}
        for uri in self.nav_uris:
            file = files.get_file_from_path(uri)
            if file is not None and uri not in listed and file.page is not None:
                nav.items.append(file.page)
        return nav

    def _asset(self, name: str) -> Path:
        """runbook.css or a runbook-pages script: the templates_dir's own, else the default."""
        override = self.options.templates_dir / name
        return override if override.is_file() else DEFAULT_TEMPLATES / name


def _log_diagnostics(generated: Generated) -> None:
    """Every diagnostic on the MkDocs log; any error fails the build after all are shown."""
    diagnostics = generated.report.diagnostics
    for diagnostic in diagnostics:
        level = logging.ERROR if diagnostic.severity == "error" else logging.WARNING
        log.log(level, diagnostic.as_text())
    if generated.pages is None or has_errors(diagnostics):
        errors = sum(d.severity == "error" for d in diagnostics)
        raise PluginError(f"runbook: {errors} errors in records or checklists (listed above)")
