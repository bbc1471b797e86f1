"""Where the runbook lives and how strict it is: the plugin's options, read from mkdocs.yml.

The MkDocs plugin and every CLI command read the same options from the same place, so
`runbook validate` in CI checks exactly what `mkdocs build` will build. The options are
declared once, in `PluginOptions`; the MkDocs side (site/plugin.py) derives its config class
from it. Reading them needs neither MkDocs nor any Python object built from mkdocs.yml: tags
such as `!!python/name:` (Material's emoji settings) and `!ENV` are read as inert values, so
`runbook validate` stays quick to start and never runs code named in a config file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .diagnostics import WARNING_CODES
from .names import Aliases
from .source_options import SourceOption

DEFAULT_CONFIG_FILE = "mkdocs.yml"
# The largest record or checklist read (max_file_bytes): the loader's default too.
DEFAULT_MAX_BYTES = 1024 * 1024


class ConfigurationError(Exception):
    """mkdocs.yml is missing, unreadable or has invalid runbook options (exit status 2)."""


class PluginOptions(BaseModel):
    """Options of the `runbook` plugin in mkdocs.yml; paths are relative to mkdocs.yml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    records_dir: str = Field("records", description="Folder of the change records.")
    checklists_dir: str = Field("checklists", description="Folder of the checklists.")
    templates_dir: str = Field(
        "templates", description="A file here overrides the default template of that name."
    )
    max_file_bytes: int = Field(DEFAULT_MAX_BYTES, gt=0, description="Larger files are refused.")
    review_max_age_days: int = Field(
        365, ge=0, description="last_reviewed older than this is a warning."
    )
    progress: bool = Field(True, description="Log build progress on large runbooks.")
    aliases: dict[Literal["services", "owners", "tags"], dict[str, str]] = Field(
        default_factory=dict,
        description="Renames without editing history: {services: {OLD: NEW}, owners: ..., "
        "tags: ...}; records that say OLD are shown under NEW and follow its required_for.",
    )

    sources: list[SourceOption] = Field(
        default_factory=list,
        description="Other runbooks gathered into this one: [{name, git: URL | path: DIR, "
        "ref, dir}]; their records are SOURCE/ID here.",
    )

    strict: bool | list[str] | None = Field(
        None,
        description="Which warnings fail the runbook, the same in every gate (runbook validate "
        "with or without --strict, the pre-commit hook, runbook build, mkdocs build): true "
        "(every warning), false (none: they are shown only) or a list of warning codes (those; "
        "the others are shown only). Unset: every warning under --strict, none without it.",
    )

    @field_validator("strict")
    @classmethod
    def _warning_codes(cls, value: bool | list[str] | None) -> bool | list[str] | None:
        if isinstance(value, list):
            unknown = [code for code in value if code not in WARNING_CODES]
            if unknown:
                raise ValueError(
                    f"{unknown[0]!r} is not a warning code (warning codes: "
                    f"{', '.join(WARNING_CODES)})"
                )
        return value

    @field_validator("sources")
    @classmethod
    def _distinct_names(cls, sources: list[SourceOption]) -> list[SourceOption]:
        names = [source.name for source in sources]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two sources are named {twice[0]!r}: each needs its own name")
        return sources

    @classmethod
    def parse(cls, options: Any, source: str) -> PluginOptions:
        """Validated options, or one ConfigurationError naming every bad option."""
        try:
            return cls.model_validate(options or {})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in error.errors()
            )
            raise ConfigurationError(
                f"{source}: invalid runbook plugin options: {problems}"
            ) from None


@dataclass(frozen=True)
class RunbookOptions:
    """Resolved options: absolute folders and limits, and the site settings pages need."""

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
    aliases: Aliases = field(default_factory=Aliases)
    config_file: Path | None = None
    # mkdocs.yml's `strict`: True, False, the warning codes that fail, or None when unset.
    strict: bool | frozenset[str] | None = None
    sources: tuple[SourceOption, ...] = ()

    def failing_warnings(self, strict_flag: bool) -> bool | frozenset[str]:
        """Which warnings fail this run: mkdocs.yml's `strict` when it is set (whatever the
        command line says, so that every gate agrees), else all under --strict, none without."""
        return strict_flag if self.strict is None else self.strict

    @classmethod
    def resolve(
        cls,
        options: PluginOptions,
        root: Path,
        site: Any = None,
        config_file: Path | None = None,
    ) -> RunbookOptions:
        """Options relative to `root` (the folder of mkdocs.yml) with the site's settings
        (`site`: mkdocs.yml's top level, or MkDocs' own config, which reads the same)."""
        site = site or {}
        for name in ("records_dir", "checklists_dir", "templates_dir"):
            _not_above(root, name, getattr(options, name))
        return cls(
            docs_dir=root / str(site.get("docs_dir") or "docs"),
            site_name=str(site.get("site_name") or "Runbook"),
            site_url=str(site.get("site_url") or ""),
            use_directory_urls=bool(site.get("use_directory_urls", True)),
            root=root,
            records_dir=root / options.records_dir,
            checklists_dir=root / options.checklists_dir,
            templates_dir=root / options.templates_dir,
            max_file_bytes=options.max_file_bytes,
            review_max_age_days=options.review_max_age_days,
            aliases=Aliases.from_option(options.aliases),
            config_file=config_file,
            strict=(
                frozenset(options.strict) if isinstance(options.strict, list) else options.strict
            ),
            sources=tuple(options.sources),
        )


def _not_above(root: Path, name: str, folder: str) -> None:
    """A folder runbook reads every YAML file under must not hold the repository itself: `..`
    or `/` would read the whole disk (and a hostile mkdocs.yml would have runbook quote
    files from anywhere in its diagnostics)."""
    real_root, real_folder = Path(os.path.realpath(root)), Path(os.path.realpath(root / folder))
    if real_root.is_relative_to(real_folder) and real_root != real_folder:
        raise ConfigurationError(
            f"{name} {folder!r} holds the folder of mkdocs.yml ({root}): runbook would read "
            f"every file under {real_folder}; name the folder that holds the {name[:-4]}"
        )


def user_cache_folder() -> Path:
    """This user's runbook cache (XDG), outside every repository: what is kept there (the
    validation cache's signing key, compiled templates) is loaded as code, and a repository
    must never be able to supply it."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "runbook"


def read_options(config_file: str | None) -> RunbookOptions:
    """Options from mkdocs.yml (and the files it inherits from); defaults when the default
    file is absent."""
    path = Path(config_file or DEFAULT_CONFIG_FILE)
    if not path.is_file():
        if config_file is None:
            return RunbookOptions.resolve(PluginOptions(), Path.cwd())
        raise ConfigurationError(f"config file not found: {path}")
    mkdocs_config = read_settings(path)
    options = PluginOptions.parse(_runbook_plugin_options(mkdocs_config.get("plugins")), str(path))
    return RunbookOptions.resolve(options, path.parent.resolve(), mkdocs_config, path.resolve())


MAX_INHERIT_DEPTH = 10
MAX_SETTINGS_BYTES = 1024 * 1024


def read_settings(path: Path) -> dict[str, Any]:
    """mkdocs.yml's settings as MkDocs reads them: a file naming a parent with `INHERIT:`
    is merged over the parent's settings (mappings key by key, anything else replaced)."""
    merged: dict[str, Any] = {}
    for _, settings in reversed(inherit_chain(path)):
        merged = _merged(merged, settings)
    return merged


def inherit_chain(
    path: Path, *, inside: Path | None = None, loader: type[yaml.SafeLoader] | None = None
) -> list[tuple[Path, dict[str, Any]]]:
    """Each file of the INHERIT chain, starting at `path`, with its own settings. With
    `inside` (a source's checkout), every file must be a regular file of at most
    MAX_SETTINGS_BYTES that really lies in that folder."""
    files: list[tuple[Path, dict[str, Any]]] = []
    while True:
        if inside is not None:
            _confined(path, inside, "mkdocs.yml" if not files else "INHERIT")
        try:
            with path.open("rb") as stream:
                text = stream.read(MAX_SETTINGS_BYTES + 1)
            if len(text) > MAX_SETTINGS_BYTES:
                raise ConfigurationError(f"{path}: larger than {MAX_SETTINGS_BYTES} bytes")
            settings = parse_settings(text, loader) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
            raise ConfigurationError(f"{path}: cannot read config: {_one_line(exc)}") from exc
        if not isinstance(settings, dict):
            raise ConfigurationError(f"{path}: expected a mapping of settings")
        parent = settings.pop("INHERIT", None)
        files.append((path, settings))
        if parent is None:
            return files
        if not isinstance(parent, str) or len(files) > MAX_INHERIT_DEPTH:
            raise ConfigurationError(f"{path}: INHERIT must name one parent file (not a loop)")
        path = path.parent / parent
        if not path.is_file():
            raise ConfigurationError(f"{files[-1][0]}: the inherited file {path} does not exist")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _confined(path: Path, inside: Path, what: str) -> None:
    """A source's file or folder must really lie in its checkout: no `..`, no absolute
    path, no link that leads out (ConfigurationError naming what leads where)."""
    real, real_inside = Path(os.path.realpath(path)), Path(os.path.realpath(inside))
    if not real.is_relative_to(real_inside):
        raise ConfigurationError(f"{what} leads outside the source's checkout (to {real})")


def _merged(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The child's settings over the parent's, as MkDocs merges them (mergedeep's default)."""
    merged = dict(parent)
    for key, value in child.items():
        below = merged.get(key)
        merged[key] = (
            _merged(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
        )
    return merged


def parse_settings(source: Any, loader: type[yaml.SafeLoader] | None = None) -> Any:
    """mkdocs.yml's settings as plain data, without importing MkDocs or running any tag."""
    return yaml.load(source, Loader=loader or _InertTagsLoader)


class _InertTagsLoader(yaml.CSafeLoader):
    """Safe YAML where a tag builds nothing: `!ENV` reads the variable (as MkDocs does), any
    other tag (`!!python/name:...`, `!relative`) becomes its plain value."""


def _environment_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    names = (
        [loader.construct_scalar(node)]
        if isinstance(node, yaml.ScalarNode)
        else [str(item.value) for item in getattr(node, "value", [])]
    )
    *variables, default = names if len(names) > 1 else (*names, None)
    return next((os.environ[v] for v in variables if v in os.environ), default)


def _plain_value(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_InertTagsLoader.add_constructor("!ENV", _environment_value)
_InertTagsLoader.add_multi_constructor("", _plain_value)


class _SourceSettingsLoader(yaml.CSafeLoader):
    """A source's mkdocs.yml: every tag inert, `!ENV` too. Its default is used, never the
    aggregate's environment, which may hold tokens a hostile source would have quoted back
    in a diagnostic or a page."""


_SourceSettingsLoader.add_multi_constructor("", _plain_value)


def read_source_options(
    checkout: Path, source: SourceOption, limits: RunbookOptions
) -> RunbookOptions:
    """A source's runbook options, read as data from its mkdocs.yml (`runbook` options only:
    no plugin, hook or theme of it is loaded) and confined to its checkout. Its own `sources`
    are not followed, and its files are held to the aggregate's size cap at most."""
    root = checkout / source.dir
    _confined(root, checkout, f"dir {source.dir!r}")
    path = root / DEFAULT_CONFIG_FILE
    if not path.is_file():
        raise ConfigurationError(f"no {DEFAULT_CONFIG_FILE} in {source.dir or 'its top folder'}")
    merged: dict[str, Any] = {}
    for _, settings in reversed(inherit_chain(path, inside=checkout, loader=_SourceSettingsLoader)):
        merged = _merged(merged, settings)
    given = _runbook_plugin_options(merged.get("plugins"))
    if isinstance(given, dict):
        given = {key: value for key, value in given.items() if key != "sources"}
    options = PluginOptions.parse(given, f"{source.dir or '.'}/{DEFAULT_CONFIG_FILE}")
    for name in ("records_dir", "checklists_dir"):
        folder = getattr(options, name)
        if Path(folder).is_absolute() or ".." in Path(folder).parts:
            raise ConfigurationError(f"{name} {folder!r} leads outside the source's checkout")
        _confined(root / folder, checkout, f"{name} {folder!r}")
    resolved = RunbookOptions.resolve(options, root, merged, path)
    return dataclasses.replace(
        resolved, max_file_bytes=min(resolved.max_file_bytes, limits.max_file_bytes)
    )


def _runbook_plugin_options(plugins: Any) -> Any:
    entries = (
        plugins.items()
        if isinstance(plugins, dict)
        else [
            next(iter(entry.items())) if isinstance(entry, dict) and entry else (entry, None)
            for entry in plugins or []
        ]
    )
    for name, options in entries:
        if name == "runbook":
            return options
    return {}


def reference_date() -> dt.date:
    """Today, or the day of SOURCE_DATE_EPOCH so that reproducible builds agree."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date.today()
