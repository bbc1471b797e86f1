"""`runbook serve`: MkDocs' live-reload server, made to keep answering while a record is broken.

MkDocs' server holds every page request until a rebuild succeeds, so one broken record made
the browser wait for as long as the record stayed broken, with the reason only in the
terminal. Here a failed rebuild leaves the last good site in place, and every page it serves
carries a banner with the diagnostics (before any build succeeded, an error page says the
same); the browser reloads on each rebuild, so fixing the record clears the banner. A
warning the previous build printed already is not printed again. A rebuild that would read
exactly what the last good one read (an editor's touch of a watched folder) builds nothing.
"""

from __future__ import annotations

import html
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.livereload import LiveReloadServer

from .build import quiet_dirty_warning, require_runbook_plugin
from .build_inputs import build_inputs
from .incremental import IncrementalBuild, read_manifest
from .plugin import RunbookPlugin, site_options
from .rebuilds import log, surviving_failures

BANNER_STYLE = (
    "position:sticky;top:0;z-index:1000;margin:0;padding:.8rem 1rem;max-height:50vh;"
    "overflow:auto;background:#fff3f3;color:#5c0000;border-bottom:3px solid #b00020;"
    "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap"
)
LAST_GOOD = "The last rebuild failed: this is the last good site."
NO_SITE = "The build failed: there is no site to show yet."
NOT_IN_LAST_GOOD = "The last rebuild failed: the last good site has no such page."


class PreviewServer(LiveReloadServer):
    """The live-reload server with the last failed build's diagnostics on every page."""

    problems: tuple[str, ...] = ()

    def banner(self, headline: str) -> bytes:
        lines = "\n".join(html.escape(line, quote=False) for line in self.problems)
        return (
            f'<pre role="alert" style="{BANNER_STYLE}"><strong>{headline} Fix the records and '
            f"save to rebuild.</strong>\n{lines}</pre>"
        ).encode()

    def _inject_js_into_html(self, content: bytes, epoch: int) -> bytes:
        content = super()._inject_js_into_html(content, epoch)
        if not self.problems:
            return content
        body = content.find(b"<body")
        start = content.find(b">", body) + 1 if body >= 0 else 0
        return content[:start] + self.banner(LAST_GOOD) + content[start:]

    def error_page(self, site_page: bytes | None) -> bytes | None:
        """While the last rebuild failed, a page of diagnostics that reloads itself instead
        of the site's own error page: before any build succeeded, and for a page the last
        good site lacks (a new record that is broken has no page yet)."""
        if not self.problems:
            return site_page
        headline = NO_SITE if site_page is None else NOT_IN_LAST_GOOD
        page = b"<!doctype html><title>runbook: build failed</title><body>%b</body>"
        return super()._inject_js_into_html(page % self.banner(headline), self._visible_epoch)


class _BuildLog(logging.Filter):
    """Collects one build's errors for the banner and drops warnings the previous build
    printed already (each serve rebuild would otherwise repeat every record warning)."""

    def __init__(self) -> None:
        super().__init__()
        self.previous: set[str] = set()
        self.current: set[str] = set()
        self.errors: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.errors.append(message)
            return True
        if record.levelno == logging.WARNING:
            self.current.add(message)
            return message not in self.previous
        return True

    @contextmanager
    def one_build(self) -> Iterator[None]:
        self.current, self.errors = set(), []
        try:
            yield
        finally:
            self.previous = self.current


@contextmanager
def _filtering(build_log: _BuildLog) -> Iterator[None]:
    """Filter at the handlers: records logged by MkDocs' child loggers skip logger filters."""
    handlers = logging.getLogger("mkdocs").handlers
    for handler in handlers:
        handler.addFilter(build_log)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(build_log)


def serve_site(config_file: str | None, *, dev_addr: str | None = None) -> None:
    """Serve a live preview until interrupted; rebuilds are dirty (only changed pages)."""
    site_dir = tempfile.mkdtemp(prefix="runbook-serve-")
    build_log = _BuildLog()

    def get_config() -> MkDocsConfig:
        options = {"dev_addr": dev_addr} if dev_addr else {}
        return load_config(config_file=config_file, site_dir=site_dir, **options)

    config = get_config()
    require_runbook_plugin(config)
    config.plugins.on_startup(command="serve", dirty=True)
    host, port = config.dev_addr
    mount_path = urlsplit(config.site_url or "/").path
    server = PreviewServer(
        builder=lambda: None, host=host, port=port, root=site_dir, mount_path=mount_path
    )
    serve_url = server.url

    def build_once(first: MkDocsConfig | None = None) -> None:
        config = first or get_config()
        config.site_url = serve_url
        inputs = build_inputs(config, site_options(config))
        if first is None:
            site = Path(site_dir)
            if IncrementalBuild.unchanged(site, read_manifest(site), inputs) is not None:
                log.info("runbook: nothing the site depends on changed; not rebuilt")
                return
        RunbookPlugin.hand_inputs(config, inputs)
        log.info("Building documentation...")
        with build_log.one_build():
            mkdocs_build(config, serve_url=serve_url, dirty=True)

    def keep(problems: tuple[str, ...]) -> None:
        server.problems = (*build_log.errors, *problems) if problems else ()

    builder = surviving_failures(build_once, keep)
    server.builder = builder
    server.error_handler = lambda code: server.error_page(_site_error_page(site_dir, code))
    try:
        with _filtering(build_log), quiet_dirty_warning():
            builder(config)
            server.watch(config.docs_dir)
            if config.config_file_path:
                server.watch(config.config_file_path)
            server = config.plugins.on_serve(server, config=config, builder=builder)
            for item in config.watch:
                server.watch(item)
            try:
                server.serve()
            except KeyboardInterrupt:
                log.info("Shutting down...")
            finally:
                server.shutdown()
    finally:
        config.plugins.on_shutdown()
        shutil.rmtree(site_dir, ignore_errors=True)


def _site_error_page(site_dir: str, code: int) -> bytes | None:
    """The site's own 404 page, as MkDocs serves it."""
    try:
        with open(f"{site_dir}/{code}.html", "rb") as page:
            return page.read()
    except OSError:
        return None
