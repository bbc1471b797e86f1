"""The `runbook` MkDocs plugin: each hook hands its work to one named object.

`mkdocs build`, `mkdocs serve`, `runbook build` and `runbook serve` all come through here and
run the same pipeline as `runbook validate`:

    on_startup        remember MkDocs' dirty flag (what may be reused)
    on_config         options, output guard, build lock,    (mkdocs_config, guard,
                      site settings                          build_lock)
    on_files          validate, render, add virtual files   (GeneratedPages, IncrementalBuild)
                      (not those the site holds as built),
                      start indexing records for search     (PagefindIndex)
    on_nav            index pages a hand-written nav omits  (GeneratedPages, IncrementalBuild)
    on_page_content   hidden HTML unwrapped, sanitising      (PageSanitizer)
                      started, the HTML parked compressed on disk
    on_page_context   its sanitised HTML handed back;        (PageSanitizer, search)
                      generated pages out of Material's index
    on_post_page      the written page's HTML let go         (PageSanitizer)
    on_env            search worker                          (search)
    on_template_context  the sitemap lists the pages withheld  (GeneratedPages)
                      from MkDocs as well
    on_post_build     search bundle, stale outputs, manifest (PagefindIndex, IncrementalBuild),
                      build lock released
    on_build_error    stop indexing and sanitising,          (PagefindIndex, PageSanitizer)
                      build lock released
    on_shutdown       build lock released (if a build ended without either)
    on_serve          watch records, checklists, templates; a failed rebuild never
                      holds requests nor empties the site (rebuilds)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from ..check.gc_pause import release_frozen
from ..config import ConfigurationError, PluginOptions, RunbookOptions
from ..render.environment import compiled_templates_cache
from ..render.settings import RenderSettings
from . import build_lock
from .incremental import IncrementalBuild
from .mkdocs_config import configure_site
from .output import check_output_folder
from .pages import PAGES_SCRIPT_URI, STYLESHEET_URI, GeneratedPages, SearchDocuments
from .progress import BuildProgress
from .rebuilds import StagedRebuilds, SurvivingBuilder, surviving_failures
from .sanitizing import PageSanitizer
from .search import add_search_worker, keep_out_of_material_index, route_search_worker
from .search_index import PagefindIndex


def _mkdocs_option(default: Any) -> c.BaseConfigOption[Any]:
    """Any value (PluginOptions validates it); MkDocs takes a None default as "required"."""
    return c.Optional(c.Type(object)) if default is None else c.Type(object, default=default)


# MkDocs' view of the options declared in config.PluginOptions (which validates them).
RunbookPluginConfig = type(
    "RunbookPluginConfig",
    (base.Config,),
    {
        name: _mkdocs_option(field.get_default(call_default_factory=True))
        for name, field in PluginOptions.model_fields.items()
    },
)


def site_options(config: MkDocsConfig) -> RunbookOptions:
    """The runbook's options in this MkDocs configuration (defaults without the plugin)."""
    plugin = config.plugins.get("runbook")
    given = dict(plugin.config) if isinstance(plugin, RunbookPlugin) else {}
    options = PluginOptions.parse(given, str(config.config_file_path or "mkdocs.yml"))
    config_file = Path(config.config_file_path or "mkdocs.yml").resolve()
    return RunbookOptions.resolve(options, config_file.parent, config, config_file)


class RunbookPlugin(BasePlugin[RunbookPluginConfig]):  # type: ignore[valid-type]
    """Validate records and checklists, and render them into the site."""

    def __init__(self) -> None:
        self.dirty = False
        self.options: RunbookOptions | None = None
        self.incremental: IncrementalBuild | None = None
        self.pages: GeneratedPages | None = None
        self.sanitizer: PageSanitizer | None = None
        self.pagefind: PagefindIndex | None = None
        self.progress: BuildProgress | None = None
        self.material_worker: str | None = None
        self.locked: Path | None = None  # the repository whose build lock this build holds
        self.staged: StagedRebuilds | None = None
        # What `runbook build` hashed of the build's inputs before deciding to build (read
        # once: each of `mkdocs serve`'s rebuilds hashes them itself).
        self.inputs_taken: str | None = None

    @staticmethod
    def hand_inputs(config: MkDocsConfig, inputs: str) -> None:
        """Give the build about to run the hash of its inputs that its caller took before
        deciding to build (build_inputs.py): hashing every record file's stamp once is
        enough."""
        plugin = config.plugins.get("runbook")
        if isinstance(plugin, RunbookPlugin):
            plugin.inputs_taken = inputs

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.dirty = dirty

    @event_priority(100)  # before other plugins read the configuration
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        try:
            self.options = site_options(config)
            # `mkdocs build` empties site_dir next: never when it holds the runbook.
            check_output_folder(config.site_dir, self.options, what="site_dir")
        except ConfigurationError as exc:
            raise PluginError(f"runbook: {exc}") from exc
        self._lock(self.options.root)
        if self.staged is not None:
            self.staged.redirect(config)
        settings = RenderSettings.for_options(self.options)
        inputs, self.inputs_taken = self.inputs_taken, None
        self.incremental = IncrementalBuild(
            self.options, config, settings, reuse=self.dirty, inputs=inputs
        )
        configure_site(config, STYLESHEET_URI, PAGES_SCRIPT_URI)
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.options is not None and self.incremental is not None
        self.pages = GeneratedPages(self.options, self.incremental)
        self.material_worker = add_search_worker(files, config)  # it reads the theme's files
        search = self._start_search if self.material_worker is not None else None
        files = self.pages.add_to(files, config, search_documents=search)
        self.sanitizer = PageSanitizer(self.incremental.cache_root)
        self.progress = BuildProgress(
            len(files.documentation_pages()), enabled=self.config.progress
        )
        return files

    def _start_search(self, documents: SearchDocuments) -> None:
        """Index the records' search documents (newest first) while the pages render."""
        assert self.incremental is not None
        folder = self.incremental.keep_search_documents(documents)
        self.pagefind = PagefindIndex(self.incremental.cache_root, reuse=self.incremental.reuse)
        self.pagefind.start(folder, {path: key for path, (key, _) in documents.items()})

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        assert self.pages is not None and self.incremental is not None
        if config.nav is not None:
            nav = self.pages.extend_nav(nav, files)
        # After extending it: the index pages placed in a hand-written nav show titles too.
        self.incremental.read_nav_sources(nav, config)
        return nav

    @event_priority(-100)  # last, so that the sanitiser sees what every plugin made of it
    def on_page_content(self, html: str, *, page: Page, **kwargs: Any) -> str:
        assert self.pages is not None and self.sanitizer is not None
        assert self.incremental is not None and self.progress is not None
        self.incremental.rebuilt_urls.add(page.url)
        self.progress.advance()
        if page.file.src_uri in self.pages.uris:
            html = self.sanitizer.submit(page, html)
        return html

    @event_priority(100)  # before the search plugin indexes the page
    def on_page_context(self, context: Any, *, page: Page, **kwargs: Any) -> Any:
        assert self.pages is not None and self.sanitizer is not None
        if page.file.src_uri in self.pages.uris:
            self.sanitizer.hand_back(page)
            keep_out_of_material_index(page)
        return context

    @event_priority(-100)  # last: every plugin has seen the page as written
    def on_post_page(self, output: str, *, page: Page, **kwargs: Any) -> str:
        assert self.pages is not None
        if page.file.src_uri in self.pages.uris:
            PageSanitizer.let_go(page)
        return output

    def on_template_context(self, context: Any, *, template_name: str, config: MkDocsConfig) -> Any:
        if template_name == "sitemap.xml" and self.pages is not None:
            context["pages"] = self.pages.sitemap_pages(context["pages"], config)
        return context

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        if self.material_worker is not None:
            route_search_worker(env, self.material_worker)
        if env.bytecode_cache is None:
            env.bytecode_cache = compiled_templates_cache("theme")
        return env

    @event_priority(-100)  # after the search plugin has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        assert self.incremental is not None and self.pages is not None
        assert self.options is not None and self.pages.files is not None
        try:
            if self.sanitizer is not None:
                self.sanitizer.close()
            if self.pagefind is not None:
                self.pagefind.finish(Path(config.site_dir))
            self.incremental.finish(config, self.pages.files, self.pages.uris, self.pages.withheld)
            if self.staged is not None:
                self.staged.swap_in()
        finally:
            self._unlock()
            release_frozen()

    def on_build_error(self, *, error: Exception) -> None:
        try:
            if self.sanitizer is not None:
                self.sanitizer.close()
            if self.pagefind is not None:
                self.pagefind.abort()
            if self.staged is not None:
                self.staged.discard()
        finally:
            self._unlock()
            release_frozen()

    def on_shutdown(self) -> None:
        try:
            if self.staged is not None:
                self.staged.discard()
        finally:
            self._unlock()

    def _lock(self, root: Path) -> None:
        """One build at a time in this repository (`mkdocs build` and every rebuild of a
        server included; `runbook build` holds the lock already and takes it again)."""
        self._unlock()  # a rebuild of `mkdocs serve` whose previous build never ended
        try:
            build_lock.acquire(root)
        except OSError as exc:
            raise PluginError(f"runbook: {exc}") from exc
        self.locked = root

    def _unlock(self) -> None:
        if self.locked is not None:
            root, self.locked = self.locked, None
            build_lock.release(root)

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        assert self.options is not None
        for folder in (
            self.options.records_dir,
            self.options.checklists_dir,
            self.options.templates_dir,
        ):
            if folder.is_dir():
                server.watch(str(folder))
        # Plain `mkdocs serve` would hold requests while a rebuild fails, and empties the
        # served folder first (unless --dirty); `runbook serve`'s builder survives failures
        # already, and its dirty rebuilds empty nothing.
        if not isinstance(server.builder, SurvivingBuilder) and not self.dirty:
            self.staged = StagedRebuilds(Path(config.site_dir))
        server.builder = surviving_failures(server.builder)
        return server
