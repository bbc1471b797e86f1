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

Pagefind runs as separate processes, every shard at once (one run keeps ~1.4 cores busy:
the two shards of 5,000 records took 4.5 s side by side, 5.1 s one after the other), started
as soon as the runbook is indexed, before any page is rendered (on_files), and collected after
MkDocs wrote the site (on_post_build): on two cores the index is built while the pages render.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mkdocs.exceptions import PluginError

from .output import process_is_running

BUNDLE_FOLDER = "pagefind"
SHARDS_FILE = "shards.json"
RECENT = 1000  # the recent shard holds RECENT to 2 x RECENT - 1 records (all, if fewer)
BUNDLES_FOLDER = "pagefind-shards"  # in the cache: one finished bundle per shard digest
SCRATCH_PREFIX = "shard-"  # beside the bundles: a shard's documents and bundle while it runs
# A scratch folder's name carries the pid of its build: `shard-PID-XXXXXXXX`.
SCRATCH_NAME = re.compile(rf"{SCRATCH_PREFIX}(?:(\d+)-)?[a-z0-9_]{{8}}")


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
        self._processes: list[subprocess.Popen[bytes]] = []
        self._scratches: list[Path] = []  # each shard's documents (linked) and bundle
        self._lock = threading.Lock()  # `abort` and `_run` agree on which processes exist
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
        runs = []
        with contextlib.ExitStack() as logs:
            for shard in shards:
                prefix = f"{SCRATCH_PREFIX}{os.getpid()}-"
                scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=self.bundles))
                self._scratches.append(scratch)
                _link_documents(documents, scratch / "documents", shard.paths)
                # A file, not a pipe, for what it says: no run waits for another to be read.
                log = logs.enter_context(tempfile.TemporaryFile())
                process = self._run(executable, scratch, log)
                if process is None:
                    break
                runs.append((shard, scratch, process, log))
            for shard, scratch, process, log in runs:
                code = process.wait()
                if self._stopped.is_set():
                    break
                if code != 0:
                    self.failure = f"runbook: Pagefind failed (exit {code}): {_last_line(log)}"
                    self.abort_runs()
                    break
                shutil.rmtree(self.bundles / shard.name, ignore_errors=True)  # not reused
                (scratch / "bundle").rename(self.bundles / shard.name)
        # Thousands of folders of links (0.6 s at 5,000 records), deleted in this thread:
        # while MkDocs renders pages, unless the build is waiting for the index already.
        for scratch in self._scratches:
            shutil.rmtree(scratch, ignore_errors=True)

    def _run(
        self, executable: str, scratch: Path, log: IO[bytes]
    ) -> subprocess.Popen[bytes] | None:
        """Pagefind on the scratch folder's documents, into its bundle; None once stopped."""
        command = [executable, "--site", str(scratch / "documents")]
        command += ["--output-path", str(scratch / "bundle"), "--force-language", "en"]
        with self._lock:
            if self._stopped.is_set():
                return None
            process = subprocess.Popen(
                [*command, "--silent"], stdout=subprocess.DEVNULL, stderr=log
            )
            self._processes.append(process)
            return process

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
        """Drop the bundles of shards this runbook no longer has, and the scratch folders of
        builds that are gone (killed before they could delete them); this build's own are
        deleted already, and those of a build that still runs are left to it."""
        keep = {shard.name for shard in self.shards}
        if self.bundles.is_dir():
            for path in self.bundles.iterdir():
                if not path.name.startswith(SCRATCH_PREFIX):
                    if path.name not in keep:
                        shutil.rmtree(path, ignore_errors=True)
                elif path not in self._scratches and _owner_is_gone(path.name):
                    shutil.rmtree(path, ignore_errors=True)

    def abort(self) -> None:
        self.abort_runs()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def abort_runs(self) -> None:
        """Stop every Pagefind run, and start no other."""
        with self._lock:
            self._stopped.set()
            for process in self._processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _link_documents(documents: Path, folder: Path, paths: tuple[str, ...]) -> None:
    """Link these documents into `folder` at the same paths, in string calls: Path objects for
    each of 5,000 documents were half the time it took."""
    source_root, target_root = str(documents), str(folder)
    made: set[str] = set()
    for path in paths:
        target = os.path.join(target_root, path)
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        _link_or_copy(os.path.join(source_root, path), target)


def _owner_is_gone(name: str) -> bool:
    """Whether the build that made the scratch folder `name` has ended. A name without a pid
    is from a runbook that took no build lock: as this build holds it, none such runs."""
    match = SCRATCH_NAME.fullmatch(name)
    if match is None:
        return False  # not a folder runbook made: leave it
    pid = match.group(1)
    return pid is None or not process_is_running(int(pid))


def _last_line(log: IO[bytes]) -> str:
    """The last line a finished run wrote to its log (Pagefind's own message)."""
    log.seek(0)
    lines = log.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def _link_or_copy(source: str | Path, destination: str | Path) -> None:
    """Bundles and documents are written once and never modified in place: link them."""
    try:
        os.link(source, destination)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, destination)
