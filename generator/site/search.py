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

Pagefind runs as a separate process, started as soon as the records' search documents are
written (on_files) and collected after MkDocs wrote the site (on_post_build): on two cores the
index is built while MkDocs renders pages, instead of after it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ..render.environment import DEFAULT_TEMPLATES

MATERIAL_WORKER = re.compile(r"assets/javascripts/workers/search\.[0-9a-f]+\.min\.js")
RUNBOOK_WORKER_URI = "assets/javascripts/workers/runbook-search.js"
BUNDLE_FOLDER = "pagefind"
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


class PagefindIndex:
    """One Pagefind run over the records' search documents, into the built site.

    `start` launches it in the background; `finish` waits for it and swaps its bundle in as the
    site's `pagefind/` folder (a failed run fails the build with Pagefind's own message);
    `abort` stops it when the build fails first.
    """

    def __init__(self, cache_root: Path) -> None:
        self.cache_root = cache_root
        self.process: subprocess.Popen[bytes] | None = None
        self.output: Path | None = None

    def start(self, documents: Path) -> None:
        try:
            from pagefind_bin import get_executable

            executable = get_executable()
        except (ImportError, FileNotFoundError) as exc:
            hint = "pip install 'pagefind[bin]'"
            raise PluginError(f"runbook: search needs Pagefind ({hint}): {exc}") from exc
        if next(documents.rglob("*.html"), None) is None:
            return  # no records yet: nothing to index (Pagefind refuses an empty folder)
        self.cache_root.mkdir(parents=True, exist_ok=True)
        self.output = Path(tempfile.mkdtemp(prefix="pagefind-", dir=self.cache_root))
        command = [str(executable), "--site", str(documents), "--output-path", str(self.output)]
        atexit.register(self.abort)  # a signalled build leaves no Pagefind running
        self.process = subprocess.Popen(
            [*command, "--force-language", "en", "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def finish(self, site_dir: Path) -> None:
        output = self._wait()
        bundle = site_dir / BUNDLE_FOLDER  # the previous site's, when the build started from it
        if bundle.is_dir() and not bundle.is_symlink():
            shutil.rmtree(bundle)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(bundle)
        if output is not None:
            shutil.move(str(output), str(bundle))

    def _wait(self) -> Path | None:
        """The finished bundle, or None when there was nothing to index."""
        if self.process is None or self.output is None:
            return None
        _, errors = self.process.communicate()
        output, self.output, code = self.output, None, self.process.returncode
        self.process = None
        atexit.unregister(self.abort)
        if code != 0:
            shutil.rmtree(output, ignore_errors=True)
            message = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise PluginError(f"runbook: Pagefind failed (exit {code}): {message[0]}")
        return output

    def abort(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
        if self.output is not None:
            shutil.rmtree(self.output, ignore_errors=True)
            self.output = None
