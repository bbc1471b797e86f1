"""The one Jinja environment every page is rendered with, built in `make_environment`.

Record text only ever arrives as template data: autoescape is on everywhere, plain text goes
through `text` (HTML- and Markdown-inert) and Markdown fields through `markdown` (converted on
their own and sanitised). Templates are read once (`auto_reload` off): a build never edits
them, and `runbook serve` starts a new environment for each rebuild. Compiling runbook's
templates and the theme's took 1.6 s of a 30 s one-record rebuild at 5,000 records (profiled),
so their compiled code is kept in this user's cache folder (never the repository: it is loaded
as code), keyed by each template's file and source.
"""

from __future__ import annotations

import contextlib
import hashlib
from importlib import resources
from pathlib import Path

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
)
from jinja2.bccache import Bucket

from ..config import user_cache_folder
from ..models import moment_text
from .charts import MetricChange, format_number, metric_chart
from .escape import data_json, escape_text, fence, front_matter_string
from .index import ChecklistUse, checklist_as_it_was
from .markdown_fields import markdown_field
from .slugs import anchor_for_path
from .timeline import rollout_text

DEFAULT_TEMPLATES = Path(str(resources.files("generator") / "templates"))
STATUS_ICONS = {"done": "✓", "n/a": "○", "skipped": "↷"}


def make_environment(templates_dir: Path | None) -> Environment:
    """The Jinja environment: the user's templates_dir first, then the shipped defaults."""
    folders = [templates_dir] if templates_dir is not None and templates_dir.is_dir() else []
    loaders = [FileSystemLoader(str(folder)) for folder in [*folders, DEFAULT_TEMPLATES]]
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        auto_reload=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=compiled_templates_cache("runbook"),
    )
    environment.filters.update(FILTERS)
    environment.globals.update(GLOBALS)
    return environment


def compiled_templates_cache(environment: str) -> BytecodeCache | None:
    """Where one environment's compiled templates are kept between runs; None (compile each
    run) when this user's cache folder cannot be made. Each environment has a folder of its
    own: compiled code depends on its settings (autoescape, trimming), not only the source."""
    folder = user_cache_folder() / "templates" / environment
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return _KeptWhereWritable(str(folder))


class _KeptWhereWritable(FileSystemBytecodeCache):
    """Jinja's file cache without its one failure: a compiled template that cannot be written
    (a read-only or full disk, the folder removed during the build) is only compiled again
    next run, never a failed build."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def uses_by_status(uses: list[ChecklistUse]) -> dict[str, list[ChecklistUse]]:
    """The uses of a checklist item by status (done, n/a, skipped), in one pass."""
    grouped: dict[str, list[ChecklistUse]] = {status: [] for status in STATUS_ICONS}
    for use in uses:
        grouped[use.status.status].append(use)
    return grouped


def counted(count: int, noun: str) -> str:
    """'1 change', '2 changes', '1,024 files': a count with its noun."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# What templates may call besides Jinja's own: escaping for each place text lands, and the
# small helpers of metrics and checklists.
FILTERS = {
    "text": escape_text,
    "data_json": data_json,
    "markdown": markdown_field,
    "fence": fence,
    "front_matter": front_matter_string,
    "number": format_number,
    "anchor": anchor_for_path,
    "verdict": lambda metric: MetricChange(metric).verdict,
    "counted": counted,
    "moment": moment_text,
}
GLOBALS = {
    "metric_change": MetricChange,
    "metric_chart": metric_chart,
    "status_icons": STATUS_ICONS,
    "by_status": uses_by_status,
    "checklist_as_it_was": checklist_as_it_was,
    "rollout_text": rollout_text,
}


def templates_fingerprint(environment: Environment) -> str:
    """Hash of every template file the environment can load (user overrides included)."""
    digest = hashlib.sha256()
    for loader in environment.loader.loaders:  # type: ignore[union-attr]
        for folder in loader.searchpath:
            for path in sorted(Path(folder).glob("*")):
                if path.is_file():
                    digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
