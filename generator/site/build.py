"""Build the site atomically: into a temporary folder beside the target, swapped in on success.

`mkdocs build` empties site/ first, so a failed or interrupted build leaves a broken site
behind. `runbook build` never does: the previous site stays in place until the new one is
complete, and a failed build removes only its own temporary folder.

When the previous site was built from exactly what this build would read, it is left as it
is and nothing is built. When it was built from the same configuration, templates and docs
pages, the new one starts from a copy of it and MkDocs' dirty mode renders only the pages
whose Markdown changed (site/incremental.py decides both).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

from ..check.cache import CACHE_FOLDER
from ..config import ConfigurationError
from ..repository_files import make_folders
from .build_inputs import build_inputs
from .build_lock import build_lock, log
from .incremental import IncrementalBuild, read_manifest
from .output import check_output_folder, write_atomically
from .pages import log_at_levels
from .plugin import RunbookPlugin, site_options

SPARE_NAME = "site-spare"  # in the build cache: the site the last build replaced

# How a build went: built in full, built from the previous site, or nothing to build.
BuildKind = Literal["full", "incremental", "unchanged"]


def build_site(
    config_file: str | None,
    *,
    site_dir: str | None = None,
    strict: bool = False,
    full: bool = False,
) -> tuple[Path, BuildKind]:
    """Build through MkDocs' own lifecycle (startup, build, shutdown) and swap the result in.

    Returns the site folder and how it was built. A site left as it is has its build's
    diagnostics logged again: every build says the same about the same records. A site
    folder whose replacement would delete part of the repository is refused before anything
    moves. The
    repository's build lock is held from before the previous site is read until the new one
    is in place (site/build_lock.py).
    """
    # MkDocs keeps plugins that have startup hooks across config loads in one process (that is
    # how `mkdocs serve` carries state between rebuilds); each `runbook build` is a build of
    # its own, as in a fresh `mkdocs build`, and must not inherit a previous one's state.
    MkDocsConfig.plugins.plugin_cache.clear()
    config = load_config(config_file=config_file, strict=strict)
    require_runbook_plugin(config)
    options = site_options(config)
    target = check_output_folder(site_dir or config.site_dir, options, what="site folder")
    # Said as a warning, so that `runbook build -q` says why it waits; MkDocs, which counts
    # warnings under --strict, is not running yet.
    with build_lock(options.root, announce=log.warning):
        # Hashed once, before anything is read: the plugin writes it into the manifest.
        inputs = build_inputs(config, options)
        # The previous site's manifest, read once; None when this build starts afresh.
        previous = None if full else read_manifest(target)
        if previous is not None:
            logged = IncrementalBuild.unchanged(target, previous, inputs)
            if logged is not None:
                log_at_levels(logged)
                return target, "unchanged"
            if not IncrementalBuild.can_start_from(previous, config, options.templates_dir):
                previous = None
        RunbookPlugin.hand_inputs(config, inputs)
        spare = spare_folder(options.root, target)
        _build_atomically(config, target, spare, previous)
    return target, "full" if previous is None else "incremental"


def _build_atomically(
    config: MkDocsConfig, target: Path, spare: Path | None, previous: dict[str, Any] | None
) -> None:
    """MkDocs' build into a staging folder, started from the previous site when its
    manifest (`previous`) is given; the site it replaces is kept as `spare` for the next
    build (site/site_copy.py)."""
    incremental = previous is not None

    def build_into(folder: Path) -> None:
        if previous is not None:
            IncrementalBuild.start_from(target, previous, folder, spare)
        config.site_dir = str(folder)
        config.plugins.on_startup(command="build", dirty=incremental)
        try:
            with quiet_dirty_warning():
                mkdocs_build(config, dirty=incremental)
        finally:
            config.plugins.on_shutdown()

    write_atomically(target, build_into, spare=spare)


def spare_folder(root: Path, target: Path) -> Path | None:
    """Where the replaced site is kept: in the build cache, when that is a real folder inside
    the repository on the site's file system (a rename cannot cross file systems); else the
    replaced site is deleted (None)."""
    cache = root / CACHE_FOLDER
    try:
        make_folders(cache, inside=root)
        if os.stat(cache).st_dev != os.stat(target.parent).st_dev:
            return None
    except OSError:
        return None
    return cache / SPARE_NAME


def require_runbook_plugin(config: MkDocsConfig) -> None:
    """A mkdocs.yml without the plugin builds a site with no runbook pages at all: refuse."""
    if "runbook" not in config.plugins:
        raise ConfigurationError(
            f"{config.config_file_path or 'mkdocs.yml'} does not enable the runbook plugin, so "
            "no runbook page would be built: add `- runbook` under `plugins:` (with `- search`)"
        )


@contextmanager
def quiet_dirty_warning() -> Iterator[None]:
    """MkDocs warns that dirty builds may leave stale navigation; ours are fingerprinted, and
    the warning would fail --strict builds."""

    def keep(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "'dirty' build" not in message and "contains stale files" not in message

    logger = logging.getLogger("mkdocs.commands.build")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)
