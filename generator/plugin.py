"""The `runbook` MkDocs plugin: adds the generated pages as virtual files.

`mkdocs build`, `mkdocs serve`, `runbook build` and `runbook serve` all come through here and
run the same pipeline as `runbook validate`; invalid records fail the build with the same
diagnostics. Generated HTML is sanitised before the search plugin indexes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page as MkDocsPage

from .config import RunbookOptions, RunbookPluginConfig
from .diagnostics import has_errors
from .incremental import (
    CACHE_FOLDER,
    PageCache,
    fingerprint,
    read_manifest,
    read_search_index,
    remove_stale_outputs,
    rewrite_search_index,
    write_manifest,
)
from .output_guard import UnsafeOutputFolder, check_output_folder
from .pipeline import generate
from .progress import BuildProgress
from .render import DEFERRED_MARKER, RenderSettings
from .resources import data_dir
from .sanitize import sanitize_html
from .search_sections import search_view
from .search_worker import add_search_worker, route_search_worker
from .site_config import configure_site

log = logging.getLogger("mkdocs.plugins.runbook")

STYLESHEET_URI = "assets/runbook.css"
RECORD_PAGES = "changes/"
NAV_PAGES = (
    "services/index.md",
    "owners/index.md",
    "files/index.md",
    "checklists/index.md",
    "metrics/index.md",
    "tags/index.md",
    "rollback-readiness.md",
)


class RunbookPlugin(BasePlugin[RunbookPluginConfig]):
    """Validate records and checklists, and render them into the site."""

    def __init__(self) -> None:
        self.options: RunbookOptions | None = None
        self.generated_uris: set[str] = set()
        self.explicit_nav = False
        # Set by `runbook build` (or `mkdocs serve --dirty`) when only changed pages rebuild.
        self.incremental = False
        self.files: Files | None = None
        self.fingerprint = ""
        self.previous_manifest: dict[str, Any] = {}
        self.previous_search_index: dict[str, Any] | None = None
        self.rebuilt_urls: set[str] = set()
        self.progress: BuildProgress | None = None
        self.nav: Navigation | None = None
        self.sanitizer: ThreadPoolExecutor | None = None
        self.sanitizing: list[tuple[MkDocsPage, Future[str]]] = []
        self.unsearched_content: tuple[MkDocsPage, str] | None = None
        self.material_worker: str | None = None
        self.deferred_blocks: dict[str, str] = {}
        self.page_cache: PageCache | None = None

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.incremental = dirty

    def options_templates_dir(self, config: MkDocsConfig) -> Path:
        """The templates folder from the plugin options, before on_config has run."""
        root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        return root / self.config.templates_dir

    @event_priority(100)  # before the search plugin reads its separator
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        self.options = RunbookOptions.from_plugin_config(self.config, root, config)
        try:  # `mkdocs build` empties site_dir next: never when it holds the runbook
            check_output_folder(config.site_dir, self.options, what="site_dir")
        except UnsafeOutputFolder as exc:
            raise PluginError(f"runbook: {exc}") from exc
        self.explicit_nav = config.nav is not None
        configure_site(config, STYLESHEET_URI)
        return config

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.options is not None
        home_uri = "changes/index.md" if files.get_file_from_path("index.md") else "index.md"
        settings = RenderSettings(
            home_uri=home_uri,
            site_url=config.site_url or "",
            site_name=config.site_name,
            directory_urls=config.use_directory_urls,
        )
        cache_root = self.options.root / CACHE_FOLDER
        cache = PageCache.for_settings(cache_root, settings)
        reuse = cache.rendered_before if self.incremental else None
        self.deferred_blocks = {}
        generated = generate(
            self.options,
            settings,
            rendered_before=reuse,
            deferred_blocks=self.deferred_blocks,
            validation_cache=cache_root / "validated.pickle",
            reuse_validation=self.incremental,
        )
        for diagnostic in generated.report.diagnostics:
            level = logging.ERROR if diagnostic.severity == "error" else logging.WARNING
            log.log(level, diagnostic.as_text())
        if generated.pages is None or has_errors(generated.report.diagnostics):
            errors = sum(d.severity == "error" for d in generated.report.diagnostics)
            raise PluginError(f"runbook: {errors} errors in records or checklists (listed above)")
        self.generated_uris = set()
        in_nav = {home_uri, *NAV_PAGES}
        for page in generated.pages:
            if files.get_file_from_path(page.uri) is not None:
                log.warning(f"runbook: docs/{page.uri} exists; it replaces the generated page")
                continue
            inclusion = InclusionLevel.INCLUDED if page.uri in in_nav else InclusionLevel.NOT_IN_NAV
            source = cache.store(page.uri, page.content)
            files.append(
                File.generated(config, page.uri, abs_src_path=str(source), inclusion=inclusion)
            )
            self.generated_uris.add(page.uri)
        cache.prune(self.generated_uris)
        cache.keep_blocks(
            self.deferred_blocks,
            {
                digest
                for page in generated.pages
                if not page.uri.startswith(RECORD_PAGES)
                for digest in DEFERRED_MARKER.findall(page.content)
            },
        )
        self.page_cache = cache
        if self.incremental:
            _unshare_outputs_to_rebuild(files, self.generated_uris)
        cache.save_keys({page.uri: page.key for page in generated.pages if page.key})
        self.files = files
        self.fingerprint = fingerprint(config, self.options.templates_dir)
        site_dir = Path(config.site_dir)
        self.previous_manifest = read_manifest(site_dir) if self.incremental else {}
        self.previous_search_index = read_search_index(site_dir) if self.incremental else None
        self.rebuilt_urls = set()
        pages_to_build = len(files.documentation_pages())
        self.progress = BuildProgress(pages_to_build, enabled=self.config.progress)
        if files.get_file_from_path(STYLESHEET_URI) is None:
            stylesheet = self._stylesheet_path()
            files.append(File.generated(config, STYLESHEET_URI, abs_src_path=str(stylesheet)))
        self.material_worker = add_search_worker(files, config)
        return files

    def _stylesheet_path(self) -> Path:
        assert self.options is not None
        override = self.options.templates_dir / "runbook.css"
        return override if override.is_file() else data_dir("templates") / "runbook.css"

    def _deferred_block(self, marker: re.Match[str]) -> str:
        """The HTML a marker stands for: rendered in this build, or kept from the one that
        rendered the (unchanged, reused) page; a marker with neither is dropped."""
        digest = marker[1]
        block = self.deferred_blocks.get(digest)
        if block is None and self.page_cache is not None:
            block = self.page_cache.block(digest)
        return block or ""

    @event_priority(100)  # first, so that no plugin sees a page before it is sanitised
    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        """Put the sanitised HTML of every generated page in place (see on_page_content),
        and have the templates name runbook's search worker (search_worker.py).

        Incremental builds skip unchanged pages: read the nav ones, whose titles all show.
        """
        if self.material_worker is not None:
            route_search_worker(env, self.material_worker)
        for page, sanitized in self.sanitizing:
            page.content = sanitized.result()
        self.sanitizing = []
        if self.sanitizer is not None:
            self.sanitizer.shutdown()
            self.sanitizer = None
        if self.incremental and self.nav is not None:
            for page in self.nav.pages:
                if page.markdown is None:
                    page.read_source(config)
        return env

    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        """With a hand-written nav, append the runbook's index pages so they stay reachable."""
        self.nav = nav
        if not self.explicit_nav:
            return nav
        listed = {page.file.src_uri for page in nav.pages}
        for uri in NAV_PAGES:
            file = files.get_file_from_path(uri)
            if file is not None and uri not in listed and file.page is not None:
                nav.items.append(file.page)
        return nav

    @event_priority(-100)  # last, so that the sanitiser sees what every plugin made of it
    def on_page_content(self, html: str, page: MkDocsPage, **kwargs: Any) -> str:
        """Start sanitising a generated page's HTML; on_env puts the result in place.

        nh3 releases the GIL, so the sanitiser runs on another core while MkDocs converts
        the next pages' Markdown; nothing reads page.content before on_env.
        """
        self.rebuilt_urls.add(page.url)
        if self.progress is not None:
            self.progress.advance()
        if page.file.src_uri in self.generated_uris:
            html = DEFERRED_MARKER.sub(self._deferred_block, html)
            if self.sanitizer is None:
                workers = max(1, (os.cpu_count() or 2) - 1)
                self.sanitizer = ThreadPoolExecutor(workers, thread_name_prefix="runbook-nh3")
            self.sanitizing.append((page, self.sanitizer.submit(sanitize_html, html)))
        return html

    @event_priority(100)  # before the search plugin indexes the page
    def _show_search_its_view(
        self, context: dict[str, Any], *, page: MkDocsPage, **kwargs: Any
    ) -> dict[str, Any]:
        uri = page.file.src_uri
        if uri in self.generated_uris and uri.startswith(RECORD_PAGES) and page.content:
            self.unsearched_content = (page, page.content)
            page.content = search_view(page.content)
        return context

    @event_priority(-100)  # after it, so that the whole page is written
    def _restore_the_whole_page(
        self, context: dict[str, Any], *, page: MkDocsPage, **kwargs: Any
    ) -> dict[str, Any]:
        if self.unsearched_content is not None and self.unsearched_content[0] is page:
            page.content = self.unsearched_content[1]
        self.unsearched_content = None
        return context

    on_page_context = CombinedEvent(_show_search_its_view, _restore_the_whole_page)

    @event_priority(-100)  # after the search plugin has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        assert self.files is not None
        site_dir = Path(config.site_dir)
        generated = {
            file.src_uri: file.dest_uri
            for file in self.files
            if file.src_uri in self.generated_uris
        }
        if self.incremental:
            pages = [f.page for f in self.files.documentation_pages() if f.page is not None]
            rewrite_search_index(
                site_dir,
                previous_index=self.previous_search_index,
                rebuilt=self.rebuilt_urls,
                order=[page.url for page in pages],
            )
            remove_stale_outputs(site_dir, self.previous_manifest, generated)
        write_manifest(site_dir, self.fingerprint, generated)

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        assert self.options is not None
        for folder in (
            self.options.records_dir,
            self.options.checklists_dir,
            self.options.templates_dir,
        ):
            if folder.is_dir():
                server.watch(str(folder))
        return server


def _unshare_outputs_to_rebuild(files: Files, generated_uris: set[str]) -> None:
    """Remove the outputs a dirty build is about to rewrite, before it opens them.

    `runbook build` starts an incremental build from hard links to the previous site's
    generated pages (site_build.clone_site); writing through one would change the live
    site. Unlinked, the output is simply missing, which MkDocs also reads as "rebuild".
    """
    for file in files:
        if file.src_uri in generated_uris and file.is_modified():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(file.abs_dest_path)
