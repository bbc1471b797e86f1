"""Incremental builds: what a build may reuse is decided here, and only here.

A site built from exactly the inputs this build would read (build_inputs.py: every record,
checklist and docs file by its stamp, the configuration, templates, code and versions) is
left as it is: `runbook build` and `runbook serve`'s rebuilds then build nothing
(`unchanged`). Otherwise these are reused, each by one rule:

- Validation results of unchanged record files (check/cache.py, keyed by file stamp and the
  context digest; this object only names its file and says whether it may be read), and the
  related changes no change reached (render/related.py decides which; this object names the
  file they are kept in).
- Generated pages: render/pages.py keys each page by everything it shows; the PageCache keeps
  the pages with their keys and rewrites a page's file only when its bytes change, so its
  modification time tells MkDocs' dirty mode which pages to convert again. A unit of pages
  (a group's, a metric's, a checklist's, a folder's: site_pages.PageUnit) is keyed by its
  inputs, and the pages (uri, key) each unit made are kept, signed, beside the cache: a unit
  whose key is unchanged gives its pages without their specs or keys being made again.
- Search documents (what Pagefind indexes of each record): kept in a PageCache of their own
  under a key of their record and the templates, so a build renders only the documents of
  changed records, in every build (the key covers everything a document shows, and is known
  before any page is rendered: the index builds while the pages render).
- The previous site's outputs: `runbook build` starts the new site from the previous one
  (generated pages hard-linked, `start_from`) when its manifest's fingerprint (mkdocs.yml,
  templates, code and versions, the engine that built it, the set of docs pages) matches; `unshare`
  unlinks exactly the outputs MkDocs is about to rewrite, so no write reaches the live site
  through a shared inode; and `finish` removes outputs of pages that are gone, carries the
  search entries of untouched pages over into Material's index (a dirty build indexes only
  what it rebuilt) and writes the manifest.
- The previous site's pages themselves: the manifest names the key each generated page's
  output was built from; a page whose key is the same is not handed to MkDocs at all
  (withheld_pages.py). A folder keeps its manifest only while no build is writing into it: a
  build that fails or is stopped leaves none, so the next one trusts none of its outputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation

from ..check.cache import CACHE_FOLDER
from ..config import RunbookOptions
from ..render.pages import Page
from ..render.settings import RenderSettings
from ..repository_files import WritesInside, make_folders, write_file
from ..store.trust import read_signed_json, write_signed_json
from .build_inputs import build_inputs, site_fingerprint
from .site_copy import clone_site, empty_folder, take_spare, update_copy

MANIFEST_NAME = ".runbook-manifest.json"
KEY_CHARACTERS = 32  # of a page's key in the manifest: enough to tell keys apart
SEARCH_INDEX = Path("search") / "search_index.json"


class PageCache:
    """Generated pages on disk, rewritten only when their bytes change (mtime = last change),
    with the key of each page's inputs so unchanged pages need not be rendered again."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder
        self.folder_text = str(folder)
        self.root = root  # the repository: nothing is written outside it
        self.writes = WritesInside(root)  # a cache lives for one build (IncrementalBuild)
        self.keys_file = folder.with_name(folder.name + "-keys.json")
        self._keys: dict[str, str] | None = None
        self.listed = False  # whether the keys file named every page kept (_stored_keys)
        self._files: set[str] | None = None  # the pages on disk (_present), once asked

    @classmethod
    def for_settings(
        cls, cache_root: Path, settings: RenderSettings, kind: str = "pages"
    ) -> PageCache:
        """The cache of `kind` rendered with these settings. `runbook serve` renders with the
        dev server's URL: one shared cache would make the next build render every page."""
        digest = hashlib.sha256(repr(settings).encode("utf-8")).hexdigest()[:12]
        return cls(cache_root / f"{kind}-{digest}", cache_root.parent)

    def _stored_keys(self) -> dict[str, str]:
        """Every page the last build kept, with its key ("" for a page rendered every time);
        {} when unknown (then `listed` is False)."""
        if self._keys is None:
            try:
                keys = json.loads(self.keys_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                keys = None
            self.listed = isinstance(keys, dict)
            self._keys = keys if isinstance(keys, dict) else {}
        return self._keys

    def is_current(self, uri: str, key: str) -> bool:
        """Whether `uri` is stored from inputs with this key (without reading it). In strings:
        a Path per page cost a second of each rebuild of 20,000 records."""
        return bool(key) and self._stored_keys().get(uri) == key and uri in self._present()

    def _present(self) -> set[str]:
        """The pages the cache holds as files, found by one listing of each of its folders
        when first asked (a folder linked in is not followed: its pages are made again).
        A stat per page was more than a second of each rebuild of 100,000 records."""
        if self._files is None:
            self._files = set()
            pending = [("", self.folder_text)]
            while pending:
                prefix, folder = pending.pop()
                try:
                    with os.scandir(folder) as entries:
                        for entry in entries:
                            if entry.is_dir(follow_symlinks=False):
                                pending.append((f"{prefix}{entry.name}/", entry.path))
                            elif entry.is_file():
                                self._files.add(prefix + entry.name)
                except OSError:  # missing (no cache yet) or unreadable: nothing is current
                    continue
        return self._files

    def path_text(self, uri: str) -> str:
        """Where `uri` is stored, as a string."""
        return os.path.join(self.folder_text, uri)

    def save_keys(self, keys: dict[str, str]) -> None:
        write_file(self.keys_file, json.dumps(keys, sort_keys=True), inside=self.root)

    def store(self, uri: str, content: str) -> Path:
        path = self.folder / uri
        if not _holds(path, content):
            self.writes.write(path, content)
        if self._files is not None:
            self._files.add(uri)
        return path

    def prune(self, keep: set[str]) -> None:
        """Remove cached pages that are no longer generated: those the last build kept (its
        keys file names every one) that this one does not. Without that list, those the cache's
        own listing finds (_present); a walk of 100,000 files on every rebuild cost seconds."""
        stored = self._stored_keys()
        if self.listed:
            inside = os.path.realpath(self.folder_text) + os.sep
            for uri in stored.keys() - keep:
                # A planted keys file names nothing outside the cache (".." or a linked
                # folder on the way) nor anything no path can be (a NUL): the file, or the
                # link at its place, goes; nothing else.
                with contextlib.suppress(OSError, ValueError):
                    path = self.path_text(uri)
                    parent = os.path.realpath(os.path.dirname(path)) + os.sep
                    if parent.startswith(inside) and os.path.basename(path) not in ("", ".", ".."):
                        os.unlink(path)
        else:
            for uri in self._present() - keep:
                os.unlink(self.path_text(uri))
        self._files = None  # listed again if asked after this


# How much of a page is compared with its file at a time (see _holds).
COMPARED_CHARACTERS = 1 << 20


def _holds(path: Path, content: str) -> bool:
    """Whether the file at `path` holds exactly `content` in UTF-8, compared a slice at a
    time: records.json is 2 KiB per record (200 MB at 100,000), and its bytes and the file's
    read whole were two more copies of it at the build's busiest moment."""
    try:
        with open(path, "rb") as stream:
            if os.fstat(stream.fileno()).st_size < len(content):  # at least a byte a character
                return False
            for start in range(0, len(content), COMPARED_CHARACTERS):
                part = content[start : start + COMPARED_CHARACTERS].encode("utf-8")
                if stream.read(len(part)) != part:
                    return False
            return stream.read(1) == b""
    except OSError:
        return False


def read_manifest(site_dir: Path) -> dict[str, Any]:
    """The manifest of a built site, or {} when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((site_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _write_manifest(
    site_dir: Path, build: IncrementalBuild, pages: dict[str, str], keys: dict[str, str]
) -> None:
    """Record what the next build decides from: the fingerprint and inputs this site was
    built from, the folder it was built in (a rename keeps it; a copy or a restored backup
    does not), the diagnostics the build logged, per generated page its source URI and
    output URL, and the key of what each cached page's output shows."""
    folder = os.stat(site_dir)
    manifest = {
        "fingerprint": build.fingerprint,
        "inputs": build.inputs,
        "folder": [folder.st_dev, folder.st_ino],
        "diagnostics": build.logged,
        "pages": dict(sorted(pages.items())),
        "keys": dict(sorted(keys.items())),
    }
    (site_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _remove_stale_outputs(
    site_dir: Path, previous: dict[str, Any], current: dict[str, str]
) -> None:
    """Delete the HTML of pages that were generated last time and are not any more."""
    for uri, dest in previous.get("pages", {}).items():
        if uri in current or not isinstance(dest, str):
            continue
        path = (site_dir / dest).resolve()
        if path.is_relative_to(site_dir.resolve()) and path.is_file():
            path.unlink()
            if path.parent != site_dir.resolve() and not any(path.parent.iterdir()):
                path.parent.rmdir()


def _rewrite_search_index(
    site_dir: Path,
    *,
    previous_index: dict[str, Any] | None,
    rebuilt: set[str],
    order: list[str],
    generated: set[str],
) -> None:
    """Finish Material's search index after a dirty build: carry over the entries of the
    hand-written pages it did not render, in page order (generated pages are never in it,
    whatever an older build put there)."""
    path = site_dir / SEARCH_INDEX
    if not path.is_file():
        return
    current = json.loads(path.read_text(encoding="utf-8"))
    by_page: dict[str, list[dict[str, Any]]] = {}
    for entry in (previous_index or {}).get("docs", []):
        page = entry["location"].split("#", 1)[0]
        if page not in rebuilt and page not in generated:
            by_page.setdefault(page, []).append(entry)
    for entry in current.get("docs", []):
        by_page.setdefault(entry["location"].split("#", 1)[0], []).append(entry)
    current["docs"] = [entry for url in order for entry in by_page.get(url, [])]
    path.write_text(json.dumps(current, separators=(",", ":")), encoding="utf-8")


def _read_search_index(site_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((site_dir / SEARCH_INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class IncrementalBuild:
    """What this build reuses: pages, validation results and the previous site's outputs.

    `reuse` is MkDocs' dirty flag (on_startup): `runbook build` sets it only after
    `can_start_from` agreed, `mkdocs serve` sets it for every rebuild after the first.
    """

    def __init__(
        self,
        options: RunbookOptions,
        config: MkDocsConfig,
        settings: RenderSettings,
        *,
        reuse: bool,
        inputs: str | None = None,
    ) -> None:
        self.reuse = reuse
        # Taken before anything is read (see build_inputs), written with the site: by
        # `runbook build` before it decided to build (`inputs`), else here.
        self.fingerprint = site_fingerprint(config, options.templates_dir)
        self.inputs = inputs if inputs is not None else build_inputs(config, options)
        self.logged: list[tuple[int, str]] = []  # the diagnostics this build logged, by level
        cache_root = options.root / CACHE_FOLDER
        self.cache_root = cache_root
        self.page_cache = PageCache.for_settings(cache_root, settings)
        self.search_documents = PageCache.for_settings(cache_root, settings, kind="search")
        self.validation_cache = cache_root / "validated.pickle"
        self.related_cache = cache_root / "related.json"
        site_dir = Path(config.site_dir)
        self.previous_manifest = read_manifest(site_dir) if reuse else {}
        self.previous_search_index = _read_search_index(site_dir) if reuse else None
        # The folder's outputs are about to change: until this build has finished, the
        # manifest would vouch for outputs it no longer describes.
        with contextlib.suppress(OSError):
            (site_dir / MANIFEST_NAME).unlink()
        built = self.previous_manifest.get("keys")
        pages = self.previous_manifest.get("pages")
        self._built_keys: dict[str, str] = built if isinstance(built, dict) else {}
        self.built_pages: dict[str, str] = pages if isinstance(pages, dict) else {}
        self.rebuilt_urls: set[str] = set()
        self._kept: set[str] = set()
        self._kept_keys: dict[str, str] = {}
        # The pages each unit of pages made (site_pages.PageUnit), by the unit's key: those
        # of the last build (read when first asked) and those of this one.
        page_folder = self.page_cache.folder
        self.units_file = page_folder.with_name(page_folder.name + "-units.json")
        self._units_before: dict[str, Any] | None = None
        self._units: dict[str, list[list[str]]] = {}

    @staticmethod
    def can_start_from(manifest: dict[str, Any], config: MkDocsConfig, templates_dir: Path) -> bool:
        """Whether the site whose manifest this is was built from the same configuration and
        templates."""
        return manifest.get("fingerprint") == site_fingerprint(config, templates_dir)

    @staticmethod
    def unchanged(
        site: Path, manifest: dict[str, Any], inputs: str
    ) -> list[tuple[int, str]] | None:
        """The diagnostics the build of `site` (whose manifest this is) logged, if that build
        read exactly what this one would (so it made the site this one would make) and `site`
        is still the folder it built; else None. The manifest is passed in: a build reads it
        once for this, can_start_from and start_from (at 100,000 records each read costs
        0.15 s)."""
        try:
            folder = os.stat(site)
        except OSError:
            return None
        if manifest.get("folder") != [folder.st_dev, folder.st_ino]:
            return None
        if manifest.get("inputs") != inputs:
            return None
        logged = manifest.get("diagnostics")
        return [(level, line) for level, line in logged] if isinstance(logged, list) else None

    @staticmethod
    def start_from(site: Path, manifest: dict[str, Any], staging: Path, spare: Path | None) -> None:
        """Fill the staging folder from the previous site (whose manifest this is): the spare
        brought up to date when there is one, else a clone (see site_copy.py)."""
        linked = set(manifest.get("pages", {}).values())
        if spare is not None and take_spare(spare, staging):
            try:
                update_copy(site, staging, linked=linked)
                return
            except OSError:
                empty_folder(staging)  # cloned afresh below
        clone_site(site, staging, linked=linked)

    def built_from(self, uri: str, key: str) -> bool:
        """Whether the output of generated page `uri` in this build's site folder was built
        from inputs with this key (and this build may reuse it)."""
        return (
            bool(key)
            and self._built_keys.get(uri) == key[:KEY_CHARACTERS]
            and isinstance(self.built_pages.get(uri), str)
        )

    def rendered_before(self, uri: str, key: str) -> bool:
        """Whether the page cache holds `uri` rendered from inputs with this key (and this
        build may reuse it): then it is neither rendered nor read again."""
        return self.reuse and self.page_cache.is_current(uri, key)

    def unit_before(self, unit: str) -> list[tuple[str, str]] | None:
        """The pages (uri, key) a unit of pages with this key made in the last build, if the
        page cache holds each as made (and this build may reuse them); else None."""
        if not self.reuse:
            return None
        if self._units_before is None:
            kept = read_signed_json(self.units_file)
            self._units_before = kept if isinstance(kept, dict) else {}
        pages = self._units_before.get(unit)
        try:
            if pages and all(self.page_cache.is_current(uri, key) for uri, key in pages):
                return pages
        except (TypeError, ValueError):  # not a list of pairs of strings
            pass
        return None

    def keep(self, page: Page) -> str:
        """Store one page of this build for the next one; its source file (for MkDocs). The
        pages come one at a time and are let go: `kept_all` finishes the cache after the last."""
        self._kept_keys[page.uri] = page.key
        self._kept.add(page.uri)
        if page.unit:
            self._units.setdefault(page.unit, []).append([page.uri, page.key])
        if page.content is None:  # kept by an earlier build, and current
            return self.page_cache.path_text(page.uri)
        return str(self.page_cache.store(page.uri, page.content))

    def kept_all(self) -> None:
        """Drop the cached pages this build did not make, and keep the keys of every page
        and the pages of every unit."""
        self.page_cache.prune(self._kept)
        self.page_cache.save_keys(self._kept_keys)
        if self._units != self._units_before:
            write_signed_json(self.units_file, self._units)

    def keep_search_documents(self, documents: dict[str, tuple[str, Callable[[], str]]]) -> Path:
        """Write the search documents (path: key and how to render it) whose key changed,
        drop those of removed records; the folder that holds them all."""
        cache = self.search_documents
        for path, (key, render) in documents.items():
            if not key or not cache.is_current(path, key):
                cache.store(path, render())
        cache.prune(set(documents))
        cache.save_keys({path: key for path, (key, _) in documents.items()})
        make_folders(cache.folder, inside=cache.root)
        return cache.folder

    def read_nav_sources(self, nav: Navigation, config: MkDocsConfig) -> None:
        """A dirty build converts only changed pages, but the navigation shows the title of
        every page in it: read the sources of the (few) nav pages it would skip."""
        if self.reuse:
            for page in nav.pages:
                if page.markdown is None:
                    page.read_source(config)

    def unshare(self, files: Files, generated_uris: set[str]) -> None:
        """Remove the outputs a dirty build is about to rewrite, before it opens them: they
        may be hard links into the live site. Missing, an output also reads as "rebuild"."""
        if not self.reuse:
            return
        for file in files:
            if file.src_uri in generated_uris and file.is_modified():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(file.abs_dest_path)

    def finish(
        self,
        config: MkDocsConfig,
        files: Files,
        generated_uris: set[str],
        withheld: dict[str, str],
    ) -> None:
        """After the search plugin wrote its index: complete it, drop stale outputs, and
        write the manifest the next build decides from. `withheld`: the generated pages not
        handed to MkDocs, with their outputs."""
        site_dir = Path(config.site_dir)
        generated = {f.src_uri: f.dest_uri for f in files if f.src_uri in generated_uris}
        generated.update(withheld)
        keys = {
            uri: key[:KEY_CHARACTERS]
            for uri, key in self._kept_keys.items()
            if key and uri in generated
        }
        if self.reuse:
            pages = [f.page for f in files.documentation_pages() if f.page is not None]
            _rewrite_search_index(
                site_dir,
                previous_index=self.previous_search_index,
                rebuilt=self.rebuilt_urls,
                order=[page.url for page in pages],
                generated={f.url for f in files if f.src_uri in generated_uris},
            )
            _remove_stale_outputs(site_dir, self.previous_manifest, generated)
        _write_manifest(site_dir, self, generated, keys)
