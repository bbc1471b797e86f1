"""Where the runbook lives and how strict it is: the plugin's options, read from mkdocs.yml.

The MkDocs plugin and every CLI command read the same options from the same place, so
`runbook validate` in CI checks exactly what `mkdocs build` will build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.utils.yaml import yaml_load

from .loader import DEFAULT_MAX_BYTES

DEFAULT_CONFIG_FILE = "mkdocs.yml"


class ConfigurationError(Exception):
    """mkdocs.yml is missing, unreadable or has invalid runbook options (exit status 2)."""


class RunbookPluginConfig(base.Config):
    """Options of the `runbook` plugin in mkdocs.yml; paths are relative to mkdocs.yml."""

    records_dir = c.Type(str, default="records")
    checklists_dir = c.Type(str, default="checklists")
    templates_dir = c.Type(str, default="templates")
    max_file_bytes = c.Type(int, default=DEFAULT_MAX_BYTES)
    review_max_age_days = c.Type(int, default=365)
    progress = c.Type(bool, default=True)


@dataclass(frozen=True)
class RunbookOptions:
    """Resolved options: absolute folders and limits."""

    root: Path
    records_dir: Path
    checklists_dir: Path
    templates_dir: Path
    max_file_bytes: int = DEFAULT_MAX_BYTES
    review_max_age_days: int = 365
    docs_dir: Path | None = None
    site_name: str = "Runbook"
    site_url: str = ""
    use_directory_urls: bool = True

    @classmethod
    def from_plugin_config(
        cls, config: RunbookPluginConfig, root: Path, site: dict[str, Any] | None = None
    ) -> RunbookOptions:
        site = site or {}
        return cls(
            docs_dir=root / str(site.get("docs_dir") or "docs"),
            site_name=str(site.get("site_name") or "Runbook"),
            site_url=str(site.get("site_url") or ""),
            use_directory_urls=bool(site.get("use_directory_urls", True)),
            root=root,
            records_dir=root / config.records_dir,
            checklists_dir=root / config.checklists_dir,
            templates_dir=root / config.templates_dir,
            max_file_bytes=config.max_file_bytes,
            review_max_age_days=config.review_max_age_days,
        )


def read_options(config_file: str | None) -> RunbookOptions:
    """Options from mkdocs.yml; defaults when the default file is absent."""
    path = Path(config_file or DEFAULT_CONFIG_FILE)
    if not path.is_file():
        if config_file is None:
            return RunbookOptions.from_plugin_config(_validated({}, path), Path.cwd())
        raise ConfigurationError(f"config file not found: {path}")
    try:
        with path.open(encoding="utf-8") as stream:
            mkdocs_config = yaml_load(stream) or {}
    except Exception as exc:  # any YAML or I/O problem in the user's mkdocs.yml
        raise ConfigurationError(f"{path}: cannot read config: {exc}") from exc
    if not isinstance(mkdocs_config, dict):
        raise ConfigurationError(f"{path}: expected a mapping of settings")
    options = _runbook_plugin_options(mkdocs_config.get("plugins"))
    return RunbookOptions.from_plugin_config(
        _validated(options, path), path.parent.resolve(), mkdocs_config
    )


def _runbook_plugin_options(plugins: Any) -> dict[str, Any]:
    entries = (
        plugins.items()
        if isinstance(plugins, dict)
        else [
            next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
            for entry in plugins or []
        ]
    )
    for name, options in entries:
        if name == "runbook":
            return dict(options or {})
    return {}


def _validated(options: dict[str, Any], path: Path) -> RunbookPluginConfig:
    config = RunbookPluginConfig(config_file_path=str(path))
    config.load_dict(options)
    failed, _warnings = config.validate()
    if failed:
        problems = "; ".join(f"{key}: {error}" for key, error in failed)
        raise ConfigurationError(f"{path}: invalid runbook plugin options: {problems}")
    return config
