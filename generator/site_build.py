"""Build the site atomically: into a temporary folder beside the target, swapped in on success.

`mkdocs build` empties site/ first, so a failed or interrupted build leaves a broken site
behind. `runbook build` never does: the previous site stays in place until the new one is
complete, and a failed build removes only its own temporary folder.

When the previous site was built from the same configuration, templates and docs pages (its
manifest's fingerprint), the new one starts from a copy of it (generated pages linked, see
clone_site) and MkDocs' dirty mode renders only the pages whose Markdown changed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config

from .config import RunbookOptions, RunbookPluginConfig
from .incremental import fingerprint, read_manifest
from .output_guard import check_output_folder
from .plugin import RunbookPlugin


def build_site(
    config_file: str | None,
    *,
    site_dir: str | None = None,
    strict: bool = False,
    full: bool = False,
) -> tuple[Path, bool]:
    """Build through the runbook plugin and swap the result into place.

    Returns the site folder and whether the build was incremental. A site folder whose
    replacement would delete part of the repository is refused before anything moves.
    """
    config = load_config(config_file=config_file, strict=strict)
    plugin = config.plugins.get("runbook")
    plugin_config = plugin.config if isinstance(plugin, RunbookPlugin) else RunbookPluginConfig()
    root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
    options = RunbookOptions.from_plugin_config(plugin_config, root, config)
    target = check_output_folder(site_dir or config.site_dir, options, what="site folder")
    incremental = (
        not full
        and isinstance(plugin, RunbookPlugin)
        and read_manifest(target).get("fingerprint")
        == fingerprint(config, plugin.options_templates_dir(config))
    )

    def build_into(folder: Path) -> None:
        if incremental:
            generated_outputs = set(read_manifest(target).get("pages", {}).values())
            clone_site(target, folder, linked=generated_outputs)
            plugin.incremental = True
        config.site_dir = str(folder)
        with _quiet_dirty_warning():
            mkdocs_build(config, dirty=incremental)

    write_atomically(target, build_into)
    return target, incremental


def clone_site(site: Path, folder: Path, *, linked: set[str]) -> None:
    """Copy the previous site into the staging folder; generated pages' outputs are hard links.

    Copying 5,000 record pages cost more than rebuilding the one that changed. A link is
    safe because only MkDocs' own dirty build writes those files, and only for pages whose
    source changed, and the plugin unlinks exactly those first (RunbookPlugin.on_files), so
    no write ever reaches the previous site through a shared inode.
    """
    prefix = len(str(folder)) + 1

    def copy(source: str, destination: str) -> None:
        if destination[prefix:] in linked:
            try:
                os.link(source, destination)
                return
            except OSError:  # a file system without hard links: copy, only slower
                pass
        shutil.copy2(source, destination)

    shutil.copytree(site, folder, dirs_exist_ok=True, copy_function=copy)


@contextmanager
def _quiet_dirty_warning() -> Iterator[None]:
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


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Call `write` on a fresh folder beside `target`; replace `target` with it only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(retired / target.name)
    staging.rename(target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def serve_site(config_file: str | None, *, dev_addr: str | None = None) -> None:
    """Live preview; the plugin's on_serve watches records, checklists and templates.

    Dirty rebuilds: after the first build, only pages whose Markdown changed re-render.
    """
    from mkdocs.commands.serve import serve

    options = {"dev_addr": dev_addr} if dev_addr else {}
    serve(config_file=config_file, build_type="dirty", **options)
