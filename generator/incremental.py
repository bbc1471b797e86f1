"""Incremental rebuilds: only pages whose Markdown changed are rendered again.

Generated pages are kept in a cache folder and rewritten only when their content changes,
so their modification times tell MkDocs' dirty mode which pages to rebuild. A fingerprint of
everything else a page's HTML depends on (mkdocs.yml, templates, versions, the set of docs
pages) decides whether an incremental build is safe at all; the site's manifest remembers
it. Material's search index of a dirty build holds only the rebuilt pages, so the entries of
the untouched ones are carried over from the previous index.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig

from .render import RenderSettings

CACHE_FOLDER = ".runbook-cache"
MANIFEST_NAME = ".runbook-manifest.json"
SEARCH_INDEX = Path("search") / "search_index.json"


class PageCache:
    """Generated pages on disk, rewritten only when their bytes change (mtime = last change),
    with the key of each page's inputs so unchanged pages need not be rendered again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys_file = folder.with_name(folder.name + "-keys.json")
        self._keys: dict[str, str] | None = None

    @classmethod
    def for_settings(cls, cache_root: Path, settings: RenderSettings) -> PageCache:
        """The cache of pages rendered with these settings. `runbook serve` renders with the
        dev server's URL: one shared cache would make the next build render every page."""
        digest = hashlib.sha256(repr(settings).encode("utf-8")).hexdigest()[:12]
        return cls(cache_root / f"pages-{digest}")

    def rendered_before(self, uri: str, key: str) -> str | None:
        """The cached content of `uri` if it was rendered from inputs with this key."""
        if self._keys is None:
            try:
                self._keys = json.loads(self.keys_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._keys = {}
        if not isinstance(self._keys, dict) or self._keys.get(uri) != key:
            return None
        try:
            return (self.folder / uri).read_text(encoding="utf-8")
        except OSError:
            return None

    def save_keys(self, keys: dict[str, str]) -> None:
        self.keys_file.parent.mkdir(parents=True, exist_ok=True)
        self.keys_file.write_text(json.dumps(keys, sort_keys=True), encoding="utf-8")

    def store(self, uri: str, content: str) -> Path:
        path = self.folder / uri
        data = content.encode("utf-8")
        try:
            if path.read_bytes() == data:
                return path
        except OSError:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def prune(self, keep: set[str]) -> None:
        """Remove cached pages that are no longer generated."""
        if not self.folder.is_dir():
            return
        for path in self.folder.rglob("*"):
            if path.is_file() and path.relative_to(self.folder).as_posix() not in keep:
                path.unlink()

    @property
    def blocks_folder(self) -> Path:
        return self.folder.with_name(self.folder.name + "-blocks")

    def keep_blocks(self, blocks: dict[str, str], referenced: set[str]) -> None:
        """Store the deferred HTML blocks the cached pages refer to, drop the others.

        A page taken from the cache keeps its markers; if MkDocs must convert it again (its
        output was deleted, say), its blocks come from here (see `block`).
        """
        self.blocks_folder.mkdir(parents=True, exist_ok=True)
        stored = {path.stem for path in self.blocks_folder.glob("*.html")}
        for digest in referenced - stored:
            if digest in blocks:
                (self.blocks_folder / f"{digest}.html").write_text(blocks[digest], "utf-8")
        for digest in stored - referenced:
            (self.blocks_folder / f"{digest}.html").unlink()

    def block(self, digest: str) -> str | None:
        try:
            return (self.blocks_folder / f"{digest}.html").read_text(encoding="utf-8")
        except OSError:
            return None


def fingerprint(config: MkDocsConfig, templates_dir: Path) -> str:
    """Hash of what every page's HTML depends on besides its own Markdown."""
    digest = hashlib.sha256()
    for name in ("runbook-generator", "mkdocs", "mkdocs-material", "pymdown-extensions"):
        digest.update(f"{name}={version(name)}\n".encode())
    if config.config_file_path and os.path.isfile(config.config_file_path):
        digest.update(Path(config.config_file_path).read_bytes())
    for folder, with_content in ((templates_dir, True), (Path(config.docs_dir), False)):
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    if with_content:
                        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_manifest(site_dir: Path) -> dict[str, Any]:
    """The manifest of a built site, or {} when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((site_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def write_manifest(site_dir: Path, site_fingerprint: str, pages: dict[str, str]) -> None:
    """Record the fingerprint and, per generated page, its source URI and output URL."""
    manifest = {"fingerprint": site_fingerprint, "pages": dict(sorted(pages.items()))}
    (site_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def remove_stale_outputs(site_dir: Path, previous: dict[str, Any], current: dict[str, str]) -> None:
    """Delete the HTML of pages that were generated last time and are not any more."""
    for uri, dest in previous.get("pages", {}).items():
        if uri in current or not isinstance(dest, str):
            continue
        path = (site_dir / dest).resolve()
        if path.is_relative_to(site_dir.resolve()) and path.is_file():
            path.unlink()
            if path.parent != site_dir.resolve() and not any(path.parent.iterdir()):
                path.parent.rmdir()


def rewrite_search_index(
    site_dir: Path,
    *,
    previous_index: dict[str, Any] | None,
    rebuilt: set[str],
    order: list[str],
) -> None:
    """Finish Material's search index after a dirty build: carry over the entries of the pages
    it did not render, in page order."""
    path = site_dir / SEARCH_INDEX
    if not path.is_file():
        return
    current = json.loads(path.read_text(encoding="utf-8"))
    by_page: dict[str, list[dict[str, Any]]] = {}
    for entry in (previous_index or {}).get("docs", []):
        page = entry["location"].split("#", 1)[0]
        if page not in rebuilt:
            by_page.setdefault(page, []).append(entry)
    for entry in current.get("docs", []):
        by_page.setdefault(entry["location"].split("#", 1)[0], []).append(entry)
    current["docs"] = [entry for url in order for entry in by_page.get(url, [])]
    path.write_text(json.dumps(current, separators=(",", ":")), encoding="utf-8")


def read_search_index(site_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((site_dir / SEARCH_INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
