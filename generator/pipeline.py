"""load → validate → index → render, in one direction: what the CLI and the plugin both run.

    check/      bytes → YAML with positions → models → rules → diagnostics (validate_runbook)
    render/     the validated runbook → an index of it → pages (render_site)
    site/       MkDocs: the plugin adds those pages to a build (the only package that knows it)
    authoring/  init, new, list, schema: commands that write or query a runbook

`generate` is the whole flow for one runbook: validation reports every problem; pages are
rendered only when there is no error. An aggregating runbook's sources join before indexing,
each validated on its own (a failing source is reported, never an error of the aggregate).
`runbook render --out` writes exactly these pages, and the plugin hands exactly these to MkDocs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from .check.gc_pause import collector_paused
from .check.sources import with_sources
from .check.validate import ValidationReport, validate_runbook
from .config import RunbookOptions
from .diagnostics import has_errors
from .render.environment import make_environment
from .render.index import RunbookIndex, build_index
from .render.pages import Page, RenderedBefore, UnitBefore, render_site
from .render.related import RelatedLists
from .render.settings import RenderSettings
from .store.trust import read_signed_json, write_signed_json


@dataclass
class Generated:
    """The outcome of one run: every diagnostic, and when there were no errors, the pages
    (rendered as they are read, once) with the index and environment they come from."""

    report: ValidationReport
    settings: RenderSettings
    pages: Iterator[Page] | None = None
    index: RunbookIndex | None = None
    environment: Environment | None = None


def generate(
    options: RunbookOptions,
    *,
    jobs: int | None = None,
    rendered_before: RenderedBefore | None = None,
    unit_before: UnitBefore | None = None,
    hide_html: bool = False,
    validation_cache: Path | None = None,
    reuse_validation: bool = True,
    related_cache: Path | None = None,
    indexed: Callable[[RunbookIndex, Environment], None] | None = None,
) -> Generated:
    """Validate the whole runbook and, if it has no errors, render every page (with every
    source's records, for an aggregating runbook: see check/sources.py).

    `indexed` is called with the index before the pages are rendered: the plugin starts the
    search index from it, which then builds while the pages render. `related_cache`: where
    builds keep the related lists (render/related.py), read when `reuse_validation`.
    """
    settings = RenderSettings.for_options(options)
    report = validate_runbook(
        options, jobs=jobs, cache_file=validation_cache, reuse_cached=reuse_validation
    )
    if has_errors(report.diagnostics):
        return Generated(report, settings)
    environment = make_environment(options.templates_dir)
    runbook = with_sources(report.runbook, options, jobs=jobs)
    with collector_paused():
        kept = read_signed_json(related_cache) if related_cache and reuse_validation else None
        before = RelatedLists.from_json(kept) if kept is not None else None
        index = build_index(runbook, options.aliases, related_before=before)
    if related_cache is not None and index.related_lists != before:
        assert index.related_lists is not None
        write_signed_json(related_cache, index.related_lists.as_json())
    if indexed is not None:
        indexed(index, environment)
    pages = render_site(
        index,
        environment,
        settings,
        rendered_before=rendered_before,
        unit_before=unit_before,
        hide_html=hide_html,
    )
    return Generated(report, settings, pages, index, environment)
