"""The records' Pagefind index, in shards: the newest records, and the archive in blocks.

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
- the archive in blocks of ARCHIVE_BLOCK records, oldest first, not one shard: Pagefind holds
  a shard's whole index in memory while it builds it, about 150 KiB per record (780 MiB for
  5,000), so one archive of 100,000 records would need 15 GiB; a block needs at most 1.5 GiB,
  and blocks of older records keep their names (and bundles) as the runbook grows. Few
  shards, not many: every shard costs a query one more index chunk (~20 KB) when it is
  searched, which a freshly opened page pays on top of the whole page list (RESULTS.md);
- the site's `pagefind/` holds one folder per shard and `shards.json` (newest first).

Pagefind runs as separate processes, the recent shard beside the archive's blocks, which run
one after another (memory, above; one run keeps ~1.4 cores busy: the two shards of 5,000
records took 4.5 s side by side, 5.1 s one after the other), started as soon as the runbook
is indexed, before any page is rendered (on_files), and collected after MkDocs wrote the site
(on_post_build): on two cores the index is built while the pages render.
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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mkdocs.exceptions import PluginError

from .output import process_is_running

BUNDLE_FOLDER = "pagefind"
SHARDS_FILE = "shards.json"
RECENT = 1000  # the recent shard holds RECENT to 2 x RECENT - 1 records (all, if fewer)
ARCHIVE_BLOCK = 10 * RECENT  # an archive shard holds at most this many records
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
    documents: Path,
    newest_first: Mapping[str, str],
    engine: str,
    recent: int = RECENT,
    archive_block: int = ARCHIVE_BLOCK,
) -> list[Shard]:
    """The shards of these search documents (path: key, newest first), newest first: the
    recent shard, then the archive's blocks (of `archive_block` records, counted from the
    oldest) when there are 2 x RECENT records or more. The archive grows by whole multiples
    of RECENT records, so a new record changes the recent shard alone, and the newest block
    when RECENT more have come; a shard is named by its documents and the Pagefind version
    (`engine`), so it keeps its name and bundle while they are unchanged.

    A document is known by its key, the digest of what it shows (which the documents'
    cache writes it by), or by its bytes when it has none: reading and hashing every
    document again was 3 s of each build at 100,000 records."""
    paths = list(newest_first)
    archived = max(0, (len(paths) - recent) // recent * recent)
    oldest_first = paths[::-1]
    blocks = [
        oldest_first[start : min(start + archive_block, archived)]
        for start in range(0, archived, archive_block)
    ]
    parts = [oldest_first[archived:], *reversed(blocks)]
    return [_shard(documents, newest_first, paths, engine) for paths in parts if paths]


def _shard(documents: Path, keys: Mapping[str, str], paths: list[str], engine: str) -> Shard:
    digest = hashlib.sha256(engine.encode("utf-8") + b"\0")
    for path in paths:
        key = keys[path]
        digest.update(path.encode("utf-8") + b"\0")
        if key:
            digest.update(b"key\0" + key.encode("utf-8"))
        else:
            digest.update(b"bytes\0" + hashlib.sha256((documents / path).read_bytes()).digest())
    return Shard(digest.hexdigest()[:16], tuple(paths))


@dataclass(frozen=True)
class _Run:
    """A shard's Pagefind process, the folder it runs in and the file its messages go to."""

    shard: Shard
    scratch: Path
    process: subprocess.Popen[bytes]
    log: IO[bytes]


class PagefindIndex:
    """The shards' Pagefind runs, into the built site.

    `start` indexes, in the background, the shards without a bundle in the cache (every shard
    unless `reuse`, MkDocs' dirty flag: a full build builds everything); `finish` waits and
    puts every shard's bundle in the site's `pagefind/` folder (a failed run fails the build
    with Pagefind's own message); `abort` stops it when the build fails first.
    """

    def __init__(
        self,
        cache_root: Path,
        *,
        reuse: bool,
        recent: int = RECENT,
        archive_block: int = ARCHIVE_BLOCK,
    ) -> None:
        self.bundles = cache_root / BUNDLES_FOLDER
        self.reuse = reuse
        self.recent = recent
        self.archive_block = archive_block
        self.shards: list[Shard] = []
        self.failure: str | None = None
        self._thread: threading.Thread | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._scratches: list[Path] = []  # each shard's documents (linked) and bundle
        self._lock = threading.Lock()  # `abort` and `_run` agree on which processes exist
        self._stopped = threading.Event()

    def start(self, documents: Path, newest_first: Mapping[str, str]) -> None:
        try:
            from pagefind_bin import get_executable

            executable = str(get_executable())
            engine = importlib.metadata.version("pagefind_bin")
        except (ImportError, FileNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
            hint = "pip install 'pagefind[bin]'"
            raise PluginError(f"runbook: search needs Pagefind ({hint}): {exc}") from exc
        self.shards = plan_shards(documents, newest_first, engine, self.recent, self.archive_block)
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
        """Index the shards: the recent one (small) beside the others, which run one at a
        time (each holds its whole index in memory); stop at the first failure."""
        beside = shards[:1] if shards and len(shards[0].paths) < 2 * self.recent else []
        with contextlib.ExitStack() as logs:

            def start(shard: Shard) -> _Run | None:
                # A file, not a pipe, for what it says: no run waits for another to be read.
                log = logs.enter_context(tempfile.TemporaryFile())
                return self._start_run(executable, documents, shard, log)

            started = [start(shard) for shard in beside]
            going = None not in started
            for shard in shards[len(beside) :]:
                run = start(shard) if going else None
                going = run is not None and self._collected(run)
            for run in started:
                going = going and run is not None and self._collected(run)
        # Thousands of folders of links (0.6 s at 5,000 records), deleted in this thread:
        # while MkDocs renders pages, unless the build is waiting for the index already.
        for scratch in self._scratches:
            shutil.rmtree(scratch, ignore_errors=True)

    def _start_run(
        self, executable: str, documents: Path, shard: Shard, log: IO[bytes]
    ) -> _Run | None:
        """Pagefind started on a scratch folder of the shard's documents; None once stopped."""
        prefix = f"{SCRATCH_PREFIX}{os.getpid()}-"
        scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=self.bundles))
        self._scratches.append(scratch)
        _link_documents(documents, scratch / "documents", shard.paths)
        process = self._run(executable, scratch, log)
        return None if process is None else _Run(shard, scratch, process, log)

    def _collected(self, run: _Run) -> bool:
        """Wait for a run and keep its bundle; False when it failed or the build stopped."""
        code = run.process.wait()
        if self._stopped.is_set():
            return False
        if code != 0:
            self.failure = f"runbook: Pagefind failed (exit {code}): {_last_line(run.log)}"
            self.abort_runs()
            return False
        shutil.rmtree(self.bundles / run.shard.name, ignore_errors=True)  # not reused
        (run.scratch / "bundle").rename(self.bundles / run.shard.name)
        return True

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
        self._prune()
        bundle = site_dir / BUNDLE_FOLDER  # the previous site's, when the build started from it
        if bundle.is_symlink() or (bundle.exists() and not bundle.is_dir()):
            os.unlink(bundle)
        if not self.shards:
            shutil.rmtree(bundle, ignore_errors=True)
            return  # no records yet: no bundle (Pagefind refuses an empty folder)
        bundle.mkdir(parents=True, exist_ok=True)
        names = [shard.name for shard in self.shards]
        _keep_only(bundle, set(names))
        for name in names:
            if not (bundle / name).is_dir():
                # Copied under another name first: a build stopped halfway leaves no part of a
                # shard under its own name, which the next build would keep.
                partial = bundle / f"{SCRATCH_PREFIX}{name}"
                shutil.copytree(self.bundles / name, partial, copy_function=_link_or_copy)
                partial.rename(bundle / name)
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


def _keep_only(bundle: Path, names: set[str]) -> None:
    """Remove from the site's bundle folder all but these shards' folders. A shard's name is
    made from its documents and Pagefind's version, so a folder kept under its name holds
    that shard's bundle: at 100,000 records, deleting and linking all of them again was
    some 120,000 files per build where one added record changes one small shard."""
    for path in bundle.iterdir():
        if path.name in names and path.is_dir() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()  # shards.json too: written anew, never through a link to the old site


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
