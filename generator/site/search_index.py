"""The records' Pagefind index, in two shards: the newest records, and all the others.

Pagefind ranks a query over every page its words are on: a word on every record cost ~0.9 s
at 10,000 records and 12 s at 30,000, and any new record re-indexed the whole runbook. So the
newest 1,000-1,999 records (RECENT) are a bundle of their own, the archive another:

- the worker (templates/runbook-search.js) searches the recent shard first and the archive
  only when the recent records give fewer results than it lists: a word on many records costs
  the ranking of at most 2 x RECENT records, whatever the size of the runbook, and a rare word
  (a path, a flag) is cheap in both;
- a shard is named by the digest of its search documents and built once: adding a record
  re-indexes the recent shard only, and the archive once every RECENT records (a backfilled
  old record changes the archive);
- two shards, not many: every shard costs a query one more index chunk (~20 KB) when it is
  searched, which a freshly opened page pays on top of the whole page list (RESULTS.md);
- the site's `pagefind/` holds one folder per shard and `shards.json` (newest first).

Pagefind runs as separate processes, one shard after the other, started as soon as the
search documents are written (on_files) and collected after MkDocs wrote the site
(on_post_build): on two cores the index is built while MkDocs renders pages.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from mkdocs.exceptions import PluginError

BUNDLE_FOLDER = "pagefind"
SHARDS_FILE = "shards.json"
RECENT = 1000  # the recent shard holds RECENT to 2 x RECENT - 1 records (all, if fewer)
BUNDLES_FOLDER = "pagefind-shards"  # in the cache: one finished bundle per shard digest


@dataclass(frozen=True)
class Shard:
    """Consecutive records' search documents (paths under the documents folder)."""

    name: str
    paths: tuple[str, ...]


def plan_shards(
    documents: Path, newest_first: list[str], engine: str, recent: int = RECENT
) -> list[Shard]:
    """The shards of these search documents, newest first: the recent shard, then the
    archive when there are 2 x RECENT records or more. The archive grows by whole blocks of
    RECENT records, so a new record changes the recent shard alone; a shard is named by its
    documents' bytes and the Pagefind version (`engine`), so it keeps its name and bundle
    while they are unchanged."""
    archived = max(0, (len(newest_first) - recent) // recent * recent)
    oldest_first = newest_first[::-1]
    parts = [oldest_first[archived:], oldest_first[:archived]]
    return [_shard(documents, paths, engine) for paths in parts if paths]


def _shard(documents: Path, paths: list[str], engine: str) -> Shard:
    digest = hashlib.sha256(engine.encode("utf-8") + b"\0")
    for path in paths:
        digest.update(path.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256((documents / path).read_bytes()).digest())
    return Shard(digest.hexdigest()[:16], tuple(paths))


class PagefindIndex:
    """The shards' Pagefind runs, into the built site.

    `start` indexes, in the background, the shards without a bundle in the cache (every shard
    unless `reuse`, MkDocs' dirty flag: a full build builds everything); `finish` waits and
    puts every shard's bundle in the site's `pagefind/` folder (a failed run fails the build
    with Pagefind's own message); `abort` stops it when the build fails first.
    """

    def __init__(self, cache_root: Path, *, reuse: bool, recent: int = RECENT) -> None:
        self.bundles = cache_root / BUNDLES_FOLDER
        self.reuse = reuse
        self.recent = recent
        self.shards: list[Shard] = []
        self.failure: str | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()

    def start(self, documents: Path, newest_first: list[str]) -> None:
        try:
            from pagefind_bin import get_executable

            executable = str(get_executable())
            engine = importlib.metadata.version("pagefind_bin")
        except (ImportError, FileNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
            hint = "pip install 'pagefind[bin]'"
            raise PluginError(f"runbook: search needs Pagefind ({hint}): {exc}") from exc
        self.shards = plan_shards(documents, newest_first, engine, self.recent)
        missing = [
            shard
            for shard in self.shards
            if not (self.reuse and (self.bundles / shard.name).is_dir())
        ]
        if not missing:
            return
        self.bundles.mkdir(parents=True, exist_ok=True)
        atexit.register(self.abort)  # a signalled build leaves no Pagefind running
        self._thread = threading.Thread(
            target=self._index, args=(executable, documents, missing), daemon=True
        )
        self._thread.start()

    def _index(self, executable: str, documents: Path, shards: list[Shard]) -> None:
        for shard in shards:
            if self._stopped.is_set():
                return
            with tempfile.TemporaryDirectory(prefix="shard-", dir=self.bundles) as scratch:
                source, output = Path(scratch) / "documents", Path(scratch) / "bundle"
                for path in shard.paths:  # a folder of this shard's documents alone
                    (source / path).parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(documents / path, source / path)
                command = [executable, "--site", str(source), "--output-path", str(output)]
                self._process = subprocess.Popen(
                    [*command, "--force-language", "en", "--silent"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                _, errors = self._process.communicate()
                code = self._process.returncode
                if self._stopped.is_set():
                    return
                if code != 0:
                    message = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
                    self.failure = f"runbook: Pagefind failed (exit {code}): {message[0]}"
                    return
                shutil.rmtree(self.bundles / shard.name, ignore_errors=True)  # not reused
                output.rename(self.bundles / shard.name)

    def finish(self, site_dir: Path) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            atexit.unregister(self.abort)
        if self.failure is not None:
            raise PluginError(self.failure)
        bundle = site_dir / BUNDLE_FOLDER  # the previous site's, when the build started from it
        if bundle.is_dir() and not bundle.is_symlink():
            shutil.rmtree(bundle)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(bundle)
        self._prune()
        if not self.shards:
            return  # no records yet: no bundle (Pagefind refuses an empty folder)
        for shard in self.shards:
            shutil.copytree(
                self.bundles / shard.name, bundle / shard.name, copy_function=_link_or_copy
            )
        names = [shard.name for shard in self.shards]
        (bundle / SHARDS_FILE).write_text(json.dumps({"shards": names}), encoding="utf-8")

    def _prune(self) -> None:
        """Drop the bundles of shards this runbook no longer has."""
        keep = {shard.name for shard in self.shards}
        if self.bundles.is_dir():
            for path in self.bundles.iterdir():
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)

    def abort(self) -> None:
        self._stopped.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _link_or_copy(source: str | Path, destination: str | Path) -> None:
    """Bundles and documents are written once and never modified in place: link them."""
    try:
        os.link(source, destination)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, destination)
