"""Build the site atomically: into a temporary folder beside the target, swapped in on success.

`mkdocs build` empties site/ first, so a failed or interrupted build leaves a broken site
behind. `runbook build` never does: the previous site stays in place until the new one is
complete, and a failed build removes only its own temporary folder.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig


def build_site(
    config_file: str | None, *, site_dir: str | None = None, strict: bool = False
) -> Path:
    """Run a full MkDocs build (through the runbook plugin) and swap the result into place."""
    config = load_config(config_file=config_file, strict=strict)
    target = Path(site_dir or config.site_dir).resolve()

    def build_into(folder: Path) -> None:
        config.site_dir = str(folder)
        mkdocs_build(config)

    write_atomically(target, build_into)
    return target


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
    """Live preview; the plugin's on_serve watches records, checklists and templates."""
    from mkdocs.commands.serve import serve

    options = {"dev_addr": dev_addr} if dev_addr else {}
    serve(config_file=config_file, **options)


def loaded_config(config_file: str | None) -> MkDocsConfig:
    """The full MkDocs configuration, for commands that need site settings."""
    return load_config(config_file=config_file)
