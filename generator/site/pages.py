"""The runbook's pages as MkDocs virtual files: the on_files job of the plugin.

Runs the same pipeline as `runbook validate` and `runbook render` (invalid records fail the
build with the same diagnostics), then adds every page with `File.generated`, listed in the
navigation or not as its page source says (record pages stay out of it, so builds grow
linearly), plus the stylesheet; a rebuild leaves out the pages the site already holds as it
would write them (withheld_pages.py).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_build_date

from ..check.sources import source_problems
from ..config import RunbookOptions
from ..diagnostics import fails
from ..formats import text_line
from ..pipeline import Generated, generate
from ..render.environment import DEFAULT_TEMPLATES, templates_fingerprint
from ..render.index import RunbookIndex
from ..render.links import Links, site_path
from ..render.pages import Page as RenderedPage
from ..render.search_documents import search_document_html, shown_names_of
from .incremental import IncrementalBuild
from .search import document_path
from .withheld_pages import linked_pages, sitemap_entries, with_left_out

log = logging.getLogger("mkdocs.plugins.runbook")
NAV_SECTION = "Runbook"  # where a hand-written nav gets the index pages it leaves out
STYLESHEET_URI = "assets/runbook.css"
PAGES_SCRIPT_URI = "assets/javascripts/runbook-pages.js"  # on every page: loads the next one
PAGES_MAIN_SCRIPT_URI = "assets/javascripts/runbook-pages-main.js"
# Search documents by path: the key of what each shows, and how to render it.
SearchDocuments = dict[str, tuple[str, Callable[[], str]]]


class GeneratedPages:
    """Generate the runbook's pages into a build's files, and keep what later hooks need:
    which files are generated, the index pages for the navigation, and the records by page."""

    def __init__(self, options: RunbookOptions, incremental: IncrementalBuild) -> None:
        self.options = options
        self.incremental = incremental
        self.uris: set[str] = set()
        self.nav_uris: list[str] = []
        self.files: Files | None = None
        self.positions: dict[str, int] = {}  # every generated page, by its place in the build
        self.withheld: dict[str, str] = {}  # pages not handed to MkDocs, with their outputs

    def add_to(
        self,
        files: Files,
        config: MkDocsConfig,
        *,
        search_documents: Callable[[SearchDocuments], None] | None = None,
    ) -> Files:
        """Add the generated pages to `files`; `search_documents`, if given, is handed the
        records' search documents as soon as the runbook is indexed (before any page renders),
        so that the search index builds while the pages do."""

        # The docs pages and theme files, by path, taken once: generated pages never replace
        # them (a lookup in `files` per page normalises each path again).
        existing = {file.src_uri for file in files}

        def indexed(index: RunbookIndex, environment: Environment) -> None:
            if search_documents is not None:
                search_documents(self._search_documents(index, environment, existing, config))

        generated = generate(
            self.options,
            rendered_before=self.incremental.rendered_before,
            unit_before=self.incremental.unit_before,
            hide_html=True,
            validation_cache=self.incremental.validation_cache,
            reuse_validation=self.incremental.reuse,
            related_cache=self.incremental.related_cache,
            indexed=indexed,
        )
        self.incremental.logged = _log_diagnostics(generated, self.options.strict)
        assert generated.pages is not None and generated.index is not None
        # A warning, so that MkDocs' --strict (and only it) fails the build on a stale source.
        for problem in source_problems(generated.index.runbook):
            log.warning(f"runbook: {problem}")
        self._hand_to_mkdocs(generated.pages, files, config, existing)
        self.incremental.kept_all()
        self.incremental.unshare(files, self.uris)
        self.files = files
        for uri in (STYLESHEET_URI, PAGES_SCRIPT_URI, PAGES_MAIN_SCRIPT_URI):
            if files.get_file_from_path(uri) is None:
                source = self._asset(uri.rsplit("/", 1)[1])
                files.append(File.generated(config, uri, abs_src_path=str(source)))
        return files

    def _hand_to_mkdocs(
        self, pages: Iterable[RenderedPage], files: Files, config: MkDocsConfig, existing: set[str]
    ) -> None:
        """Keep each generated page in the page cache and add it to MkDocs' files, in order,
        except those whose output the site holds as this build would write it: they are
        withheld (withheld_pages.py), unless a page MkDocs converts links to them; a
        hand-written page being converted may link to any, and then none is withheld."""
        may_withhold = self.incremental.reuse and not any(
            file.is_documentation_page() and file.is_modified() for file in files
        )
        placed: list[tuple[str, File | None]] = []  # every generated page, in order
        linked: set[str] = set()  # the pages that pages being converted link to
        for page in pages:
            source = self.incremental.keep(page)
            if page.uri in existing:
                log.warning(f"runbook: docs/{page.uri} exists; it replaces the generated page")
                continue
            self.positions[page.uri] = len(self.positions)
            if (
                may_withhold
                and not page.in_nav
                and page.content is None
                and self.incremental.built_from(page.uri, page.key)
            ):
                placed.append((page.uri, None))
                continue
            file = _generated_file(config, page.uri, source, page.in_nav)
            placed.append((page.uri, file))
            if page.in_nav:
                self.nav_uris.append(page.uri)
            if may_withhold and (page.content is not None or file.is_modified()):
                markdown = page.content if page.content is not None else file.content_string
                linked.update(linked_pages(markdown, page.uri))
        for uri, handed in placed:
            if handed is None and uri not in linked:
                self.withheld[uri] = self.incremental.built_pages[uri]
                continue
            if handed is None:  # a withheld page linked to: its Markdown is in the page cache
                source = self.incremental.page_cache.path_text(uri)
                handed = _generated_file(config, uri, source, in_nav=False)
            files.append(handed)
            self.uris.add(uri)

    def sitemap_pages(self, pages: list[Any], config: MkDocsConfig) -> list[Any]:
        """MkDocs' pages for its sitemap, with the withheld pages where MkDocs would list
        them, as MkDocs would list them (a site without site_url lists none)."""
        if not self.withheld or not config.site_url:
            return pages
        entries = sitemap_entries(
            self.withheld,
            site_url=config.site_url,
            directory_urls=config.use_directory_urls,
            date=get_build_date(),
        )
        left_out = [(self.positions[uri], entry) for uri, entry in entries.items()]
        return with_left_out(pages, self.positions, left_out)

    def _search_documents(
        self,
        index: RunbookIndex,
        environment: Environment,
        existing: set[str],
        config: MkDocsConfig,
    ) -> SearchDocuments:
        """Each record page's search document, newest first: its path (the page's URL), the
        key of what it shows (the record, its shown names, the templates) and how to render
        it. A record whose page a docs/ page of the same path replaces has none."""
        templates = templates_fingerprint(environment)
        links = Links(index)
        documents = {}
        for entry in index.records:
            uri = links.record(entry.id)
            if uri in existing:
                continue
            names = json.dumps(shown_names_of(entry, index.names), ensure_ascii=False)
            shown = f"{templates}\0{entry.digest}\0{names}"
            key = hashlib.sha256(shown.encode("utf-8")).hexdigest()
            render = functools.partial(search_document_html, environment, entry, index.names)
            documents[document_path(site_path(uri, config.use_directory_urls))] = (key, render)
        return documents

    def extend_nav(self, nav: Navigation, files: Files) -> Navigation:
        """Put the index pages a hand-written nav leaves out in its "Runbook" section (added
        at its end when it has none), so they stay reachable and together."""
        listed = {page.file.src_uri for page in nav.pages}
        missing = [
            file.page
            for file in map(files.get_file_from_path, self.nav_uris)
            if file is not None and file.page is not None and file.src_uri not in listed
        ]
        if not missing:
            return nav
        section = next(
            (item for item in nav.items if isinstance(item, Section) and item.title == NAV_SECTION),
            None,
        )
        if section is None:
            section = Section(NAV_SECTION, [])
            nav.items.append(section)
        for page in missing:
            page.parent = section
            section.children.append(page)
        nav.pages = list(_pages_in(nav.items))
        for previous, following in itertools.pairwise(nav.pages):
            previous.next_page, following.previous_page = following, previous
        return nav

    def _asset(self, name: str) -> Path:
        """runbook.css or a runbook-pages script: the templates_dir's own, else the default."""
        override = self.options.templates_dir / name
        return override if override.is_file() else DEFAULT_TEMPLATES / name


def _generated_file(config: MkDocsConfig, uri: str, source: str, in_nav: bool) -> File:
    """The MkDocs file of generated page `uri`, whose Markdown is at `source`."""
    # With a hand-written nav, extend_nav places the index pages it leaves out: MkDocs,
    # which checks the nav before plugins see it, would call them left out.
    listed = in_nav and config.nav is None
    inclusion = InclusionLevel.INCLUDED if listed else InclusionLevel.NOT_IN_NAV
    return File.generated(config, uri, abs_src_path=source, inclusion=inclusion)


def _pages_in(items: list[Any]) -> Iterator[Page]:
    """The pages of a navigation in reading order, sections opened."""
    for item in items:
        if isinstance(item, Page):
            yield item
        elif isinstance(item, Section):
            yield from _pages_in(item.children)


def _log_diagnostics(
    generated: Generated, strict: bool | frozenset[str] | None
) -> list[tuple[int, str]]:
    """Every diagnostic on the MkDocs log; any error fails the build after all are shown;
    what was logged, by level (a build that leaves this site as it is logs it again).

    With mkdocs.yml's `strict` set, it alone decides which warnings fail, with or without
    MkDocs' --strict (as in `runbook validate`): those fail the build, the others are logged
    as information, which MkDocs' --strict does not count. Unset, every warning is a MkDocs
    warning, which fails the build under --strict only."""
    diagnostics = generated.report.diagnostics
    logged = []
    for diagnostic in diagnostics:
        if diagnostic.severity == "error":
            level = logging.ERROR
        elif strict is None or fails(diagnostic, strict):
            level = logging.WARNING
        else:
            level = logging.INFO
        logged.append((level, text_line(diagnostic)))
    log_at_levels(logged)
    failing = [d for d in diagnostics if fails(d, strict or False)]
    if generated.pages is None or failing:
        errors = sum(d.severity == "error" for d in failing)
        warnings = f" and {len(failing) - errors} warnings mkdocs.yml's strict fails on" * (
            len(failing) > errors
        )
        raise PluginError(
            f"runbook: {errors} errors{warnings} in records or checklists (listed above)"
        )
    return logged


def log_at_levels(logged: list[tuple[int, str]]) -> None:
    """Log diagnostics at the levels `_log_diagnostics` chose."""
    for level, line in logged:
        log.log(level, line)
