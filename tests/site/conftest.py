"""Fixtures of the site tests: runbook repositories, real builds, a static server, Chromium.

The expensive things (site builds, the browser) are made once per session and shared; the
tests that need a build of their own (failed builds, template overrides) make small ones.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sitehelpers import (
    DATA,
    GUIDE_WORD,
    MINIMAL_MKDOCS_YML,
    REPO_ROOT,
    RICH_MKDOCS_YML,
    SNIPPET_MARKER,
    BuiltSite,
    Site,
    Tab,
    build,
    load_records,
    newest_first,
    record_url,
    run_cli,
    write_repo,
)

from benchmarks.corpus import write_corpus
from generator.check.cache import CACHE_FOLDER
from generator.site.search import document_path
from generator.site.search_index import PagefindIndex

SEARCH_WORKER = REPO_ROOT / "templates" / "runbook-search.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def make_repo(tmp_path: Path) -> Any:
    """Factory: `make_repo(records={...}, ...)` writes a repository under tmp_path."""
    counter = iter(range(1000))

    def make(**kwargs: Any) -> Path:
        return write_repo(tmp_path / f"repo{next(counter)}", **kwargs)

    return make


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The repository's demo records plus tests/site/data/extra, built once with the CLI.

    docs/ is empty on purpose: the generated home page must stand in for docs/index.md.
    """
    repo = write_repo(
        tmp_path_factory.mktemp("demo") / "runbook",
        records_tree=REPO_ROOT / "records",
        record_files=sorted((DATA / "extra").glob("*.yaml")),
    )
    result = build(repo)
    return BuiltSite(repo, Site(repo / "site"), load_records(repo / "records"), result.output)


@pytest.fixture(scope="session")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """A synthetic runbook (benchmarks/corpus.py) with three times as many records as runbook's
    search worker lists, so that a common word has results past the listed ones."""
    shown = re.search(r"const SHOWN = (\d+)", SEARCH_WORKER.read_text())
    repo = write_corpus(tmp_path_factory.mktemp("large") / "runbook", 3 * int(shown[1]))
    result = build(repo, "--quiet")
    return BuiltSite(repo, Site(repo / "site"), load_records(repo / "records"), result.output)


HOSTILE_CONFIGS = {"minimal": MINIMAL_MKDOCS_YML, "rich": RICH_MKDOCS_YML}


@pytest.fixture(scope="session", params=sorted(HOSTILE_CONFIGS))
def hostile_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The hostile corpus built once with the minimal mkdocs.yml and once with extras."""
    flavour = request.param
    repo = write_repo(
        tmp_path_factory.mktemp(f"hostile-{flavour}") / "runbook",
        mkdocs_yml=HOSTILE_CONFIGS[flavour],
        record_files=sorted((DATA / "hostile").glob("*.yaml")),
        extra_checklists=sorted((DATA / "hostile-checklists").glob("*.yaml")),
    )
    # What pymdownx.snippets would include if record text reached it (never, tested).
    (repo / ".env").write_text(f"{SNIPPET_MARKER}=do-not-publish\n", encoding="utf-8")
    result = build(repo)
    return BuiltSite(repo, Site(repo / "site"), load_records(repo / "records"), result.output)


# --- static HTTP server -------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_directory(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (ephemeral port); yields the base URL ending in /."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_server(demo_site: BuiltSite) -> Iterator[str]:
    with serve_directory(demo_site.site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def guide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo records and one hand-written page, which Material's own index searches."""
    repo = write_repo(
        tmp_path_factory.mktemp("guide") / "runbook",
        records_tree=REPO_ROOT / "records",
        docs={"pager-guide.md": f"# Pager guide\n\nWhen it pages, the {GUIDE_WORD} rings.\n"},
    )
    build(repo, "--quiet")
    with serve_directory(repo / "site") as url:
        yield url


@pytest.fixture(scope="session")
def large_server(large_site: BuiltSite) -> Iterator[str]:
    with serve_directory(large_site.site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def sharded_server(large_site: BuiltSite, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The large runbook's site with its records indexed in two shards, as a runbook past
    2 x RECENT records is: the newest SHOWN records, and the archive of the others."""
    site_dir = tmp_path_factory.mktemp("sharded") / "site"
    shutil.copytree(large_site.site_dir, site_dir)
    (documents,) = (large_site.repo / CACHE_FOLDER).glob("search-*[!.json]")
    shown = int(re.search(r"const SHOWN = (\d+)", SEARCH_WORKER.read_text())[1])
    index = PagefindIndex(tmp_path_factory.mktemp("cache"), reuse=False, recent=shown)
    paths = [document_path(record_url(rid)) for rid in newest_first(large_site.records)]
    index.start(documents, dict.fromkeys(paths, ""))  # no keys: named by their bytes
    index.finish(site_dir)
    assert len(index.shards) == 2 and len(index.shards[0].paths) == shown
    with serve_directory(site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The repository's own demo, as `make site` builds it (its mkdocs.yml, palette, docs/
    and templates/), served: what a reader of the published runbook sees."""
    repo = tmp_path_factory.mktemp("published") / "runbook"
    repo.mkdir()
    for name in ("records", "checklists", "docs", "templates"):
        shutil.copytree(REPO_ROOT / name, repo / name, symlinks=True)
    shutil.copy(REPO_ROOT / "mkdocs.yml", repo / "mkdocs.yml")
    build(repo, "--quiet")
    with serve_directory(repo / "site") as url:
        yield repo / "site", url


@pytest.fixture(scope="session")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """What `runbook init` scaffolds, built and served."""
    repo = tmp_path_factory.mktemp("scaffolded") / "runbook"
    repo.mkdir()
    assert run_cli(repo, "init").exit_code == 0
    # Served at the root of a local server, as Pages serves it at site_url's path: the 404
    # page's assets are root-absolute from site_url.
    config = repo / "mkdocs.yml"
    text = re.sub(r"(?m)^site_url: .*$", "site_url: http://127.0.0.1/", config.read_text())
    config.write_text(text, encoding="utf-8")
    build(repo, "--quiet")
    with serve_directory(repo / "site") as url:
        yield repo / "site", url


@pytest.fixture(scope="session")
def hostile_server(hostile_site: BuiltSite) -> Iterator[str]:
    with serve_directory(hostile_site.site_dir) as url:
        yield url


# --- Chromium -----------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skipped locally, fatal in CI if absent)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        _unavailable(f"playwright is not installed: {exc}")
    playwright = sync_playwright().start()
    try:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        _unavailable(f"Chromium does not start: {exc}")
    try:
        yield instance
    finally:
        instance.close()
        playwright.stop()


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    tab = Tab(page, [], [], [], [])

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda message: tab.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("request", lambda request: tab.requests.append(request.url))
    try:
        yield tab
    finally:
        context.close()
