"""The `runbook` command line: each command a few lines that call the pipeline.

This is the only module that turns problems into exit codes: 0 fine, 1 errors found (or
warnings under --strict), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import ConfigurationError, RunbookOptions, read_options
from .diagnostics import OUTPUT_FORMATS, format_diagnostics, has_errors, summary_line
from .schema import SCHEMA_MODELS, json_schema
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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="runbook")
