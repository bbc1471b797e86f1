"""What a built site depends on, as two digests that site/incremental.py decides from.

- The fingerprint: what every page's HTML depends on besides its own Markdown (the code and
  versions that render it, mkdocs.yml, runbook's and the theme's templates, the set of docs
  pages). A previous site with the same fingerprint is a valid start for a dirty build.
- The inputs: the fingerprint and everything else a build reads (each record, checklist,
  docs and hook file by its stamp, an aggregate's sources (a path source's files by their
  stamps, a git source's synced commit), the configuration as MkDocs loads it, the plugins'
  versions, runbook's code and default templates, the day validation counts from,
  strictness). A previous site built from the same inputs is the site this build would
  make, so `runbook build` leaves it as it is. Stamps, not contents: listing and stating
  100,000 files takes half a second, reading them many times that.
"""

from __future__ import annotations

import hashlib
import os
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from typing import Any

import mkdocs
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.utils.yaml import yaml_load

from ..check.files import discover, file_stamp
from ..config import RunbookOptions, reference_date
from ..render.environment import DEFAULT_TEMPLATES
from ..source_cache import read_state
from ..store.trust import code_digest

# The distributions whose code shapes every page. MkDocs and ProperDocs are both listed and
# either may be absent: each can build the site without the other.
FINGERPRINTED_DISTRIBUTIONS = (
    "runbook-generator",
    "mkdocs",
    "properdocs",
    "mkdocs-material",
    "pymdown-extensions",
)


def _installed_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def site_fingerprint(config: MkDocsConfig, templates_dir: Path) -> str:
    """Hash of what every page's HTML depends on besides its own Markdown."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED_DISTRIBUTIONS:
        digest.update(f"{name}={_installed_version(name)}\n".encode())
    # The engine running this build: `properdocs build` makes `mkdocs` an alias of the
    # `properdocs` package (properdocs/replacement.py), whose pages name ProperDocs in their
    # generator tag. A site one engine built is no start for the other's.
    digest.update(f"engine={mkdocs.__name__} {mkdocs.__version__}\n".encode())
    if config.config_file_path and os.path.isfile(config.config_file_path):
        digest.update(Path(config.config_file_path).read_bytes())
    folders = [(templates_dir, True), (Path(config.docs_dir), False)]
    if config.theme.custom_dir:  # theme overrides shape every page
        folders.append((Path(config.theme.custom_dir), True))
    for folder, with_content in folders:
        _hash_folder(digest, folder, with_content=with_content)
    return digest.hexdigest()


def _hash_folder(digest: Any, folder: Path, *, with_content: bool) -> None:
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                if with_content:
                    digest.update(path.read_bytes())


def build_inputs(config: MkDocsConfig, options: RunbookOptions) -> str:
    """Hash of everything a build of this configuration reads (see the module docstring).

    Taken before the build reads any file: a file edited during the build has another stamp
    by the next one, which then builds again."""
    digest = hashlib.sha256()
    digest.update(site_fingerprint(config, options.templates_dir).encode())
    # In a checkout, runbook's version stays while its code and default templates change
    # (pages are keyed by their templates, so an incremental build need not know).
    digest.update(f"code={code_digest()}\n".encode())
    _hash_folder(digest, DEFAULT_TEMPLATES, with_content=True)
    digest.update(_loaded_configuration(config).encode())
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # MkDocs' sitemap dates follow it
    # Diagnostics name paths relative to the working folder and count days from today.
    reading = f"strict={config.strict} epoch={epoch} day={reference_date()} cwd={os.getcwd()}"
    digest.update(f"\0{reading}\0".encode())
    digest.update(f"plugins={_plugin_versions(config)}\0".encode())
    files = [
        *discover(options.checklists_dir, recursive=False),
        *discover(options.records_dir, recursive=True),
        *_every_file(Path(config.docs_dir)),
        *(hook.__file__ for hook in config.hooks.values() if getattr(hook, "__file__", None)),
    ]
    for source in options.sources:  # an aggregate's: a path's files, a git one's synced state
        if source.path is not None:
            files += _every_file(options.root / source.path)
        else:
            # The commit synced: what is shown of it (it, or the last good one) follows from
            # it and the build before, which marked it good or not.
            commit = read_state(options.root, source.name).commit
            digest.update(f"source {source.name}={commit}\0".encode())
    for path in files:
        digest.update(f"{path}\0{file_stamp(path)}\0".encode())
    return digest.hexdigest()


def _plugin_versions(config: MkDocsConfig) -> list[str]:
    """The distribution and version of every plugin this build runs (an upgraded plugin may
    write other pages from the same Markdown)."""
    distributions = packages_distributions()
    found = set()
    for plugin in config.plugins.values():
        package = type(plugin).__module__.split(".", 1)[0]
        for name in distributions.get(package, [package]):
            found.add(f"{name}={_installed_version(name)}")
    return sorted(found)


def _loaded_configuration(config: MkDocsConfig) -> str:
    """mkdocs.yml as MkDocs reads it: its INHERIT chain merged and `!ENV` values resolved.
    A value whose repr differs from run to run (one made by a custom tag) means inputs that
    never match: the site is then always built."""
    if not config.config_file_path or not os.path.isfile(config.config_file_path):
        return ""
    with open(config.config_file_path, "rb") as file:
        loaded = yaml_load(file)
    return repr(loaded)


def _every_file(folder: Path) -> list[str]:
    """Every file under `folder`, in a stable order (docs pages, their assets, overrides)."""
    found = []
    for parent, folders, names in os.walk(folder):
        folders.sort()
        found.extend(os.path.join(parent, name) for name in sorted(names))
    return found
