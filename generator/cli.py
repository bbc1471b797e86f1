"""The `runbook` command line: each command a few lines that call the pipeline.

This is the only module that turns problems into exit codes: 0 fine, 1 errors found (or
warnings under --strict), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from mkdocs.exceptions import Abort
from mkdocs.exceptions import ConfigurationError as MkDocsConfigurationError

from .config import ConfigurationError, RunbookOptions, read_options
from .diagnostics import OUTPUT_FORMATS, format_diagnostics, has_errors, summary_line
from .logs import setup_logging
from .pipeline import generate
from .render import RenderSettings
from .schema import SCHEMA_MODELS, json_schema
from .site_build import build_site, serve_site, write_atomically
from .validate import validate_runbook

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

config_file_option = click.option(
    "-f",
    "--config-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="mkdocs.yml to read the runbook options from (default: ./mkdocs.yml).",
)


def _options(config_file: str | None) -> RunbookOptions:
    try:
        return read_options(config_file)
    except ConfigurationError as exc:
        click.echo(f"runbook: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="runbook-generator")
def cli() -> None:
    """Validate change records and build them into a searchable runbook site."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default="text")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@config_file_option
def validate(
    paths: tuple[Path, ...], output_format: str, strict: bool, config_file: str | None
) -> None:
    """Check records and checklists; print every problem as PATH:LINE:COL."""
    report = validate_runbook(_options(config_file), only=paths or None)
    output = format_diagnostics(report.diagnostics, output_format)
    if output:
        click.echo(output)
    if output_format == "text":
        click.echo(summary_line(report.diagnostics, report.files_checked), err=True)
    sys.exit(EXIT_PROBLEMS if has_errors(report.diagnostics, strict=strict) else EXIT_OK)


@cli.command()
@click.argument("kind", type=click.Choice(sorted(SCHEMA_MODELS)), default="record")
def schema(kind: str) -> None:
    """Print the JSON Schema of records or checklists (for editors and tools)."""
    click.echo(json.dumps(json_schema(kind), indent=2, ensure_ascii=False))


@cli.command()
@click.option("--site-dir", type=click.Path(file_okay=False), default=None, help="Output folder.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("-q", "--quiet", is_flag=True, help="Only print warnings and errors.")
@config_file_option
def build(site_dir: str | None, strict: bool, quiet: bool, config_file: str | None) -> None:
    """Validate, render and build the site; the previous site stays until the new one is done."""
    setup_logging(quiet=quiet)
    try:
        target = build_site(config_file, site_dir=site_dir, strict=strict)
    except MkDocsConfigurationError as exc:
        click.echo(f"runbook: configuration error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except Abort as exc:
        click.echo(f"runbook: build failed: {exc}; the previous site was left in place", err=True)
        sys.exit(EXIT_PROBLEMS)
    if not quiet:
        click.echo(f"runbook: site built in {target}", err=True)


@cli.command()
@click.option("-a", "--dev-addr", default=None, metavar="HOST:PORT", help="Address to serve on.")
@config_file_option
def serve(dev_addr: str | None, config_file: str | None) -> None:
    """Live preview that rebuilds when a record, checklist or template changes."""
    setup_logging(quiet=False)
    try:
        serve_site(config_file, dev_addr=dev_addr)
    except MkDocsConfigurationError as exc:
        click.echo(f"runbook: configuration error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except Abort as exc:
        click.echo(f"runbook: {exc}", err=True)
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@config_file_option
def render(out_dir: Path, config_file: str | None) -> None:
    """Write the generated Markdown pages, feed and export to a folder (for any engine)."""
    options = _options(config_file)
    settings = RenderSettings(
        site_url=options.site_url,
        site_name=options.site_name,
        directory_urls=options.use_directory_urls,
    )
    generated = generate(options, settings)
    output = format_diagnostics(generated.report.diagnostics, "text")
    if output:
        click.echo(output, err=True)
    if generated.pages is None:
        sys.exit(EXIT_PROBLEMS)
    pages = generated.pages

    def write_pages(folder: Path) -> None:
        for page in pages:
            destination = folder / page.uri
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(page.content, encoding="utf-8")

    write_atomically(out_dir.resolve(), write_pages)
    click.echo(f"runbook: {len(pages)} files written to {out_dir}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="runbook")
