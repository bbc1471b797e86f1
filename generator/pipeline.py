"""load → validate → index → render, in one direction: what the CLI and the plugin both run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import RunbookOptions
from .diagnostics import has_errors
from .indexes import build_index
from .render import Page, RenderedBefore, RenderSettings, make_environment, render_site
from .validate import ValidationReport, validate_runbook


@dataclass
class Generated:
    """The outcome of one run: every diagnostic, and the pages when there were no errors."""

    report: ValidationReport
    pages: list[Page] | None


def generate(
    options: RunbookOptions,
    settings: RenderSettings,
    *,
    jobs: int | None = None,
    rendered_before: RenderedBefore | None = None,
    deferred_blocks: dict[str, str] | None = None,
    validation_cache: Path | None = None,
    reuse_validation: bool = True,
) -> Generated:
    """Validate the whole runbook and, if it has no errors, render every page."""
    report = validate_runbook(
        options, jobs=jobs, cache_file=validation_cache, reuse_cached=reuse_validation
    )
    if has_errors(report.diagnostics):
        return Generated(report, None)
    environment = make_environment(
        options.templates_dir if options.templates_dir.is_dir() else None
    )
    pages = render_site(
        build_index(report.runbook),
        environment,
        settings,
        rendered_before=rendered_before,
        deferred_blocks=deferred_blocks,
    )
    return Generated(report, pages)
