"""The `runbook` command line: each command a few lines that call the pipeline.

This is the only module that turns problems into exit codes: 0 fine, 1 errors found (or
warnings under --strict), 2 usage or configuration error. MkDocs is imported only by the
commands that build (build, serve), and each command imports what only it needs (authoring,
rendering), so `runbook validate` and the pre-commit hook start fast.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, get_args, get_origin

import click

from .authoring.when import WHEN_FORMATS
from .check.files import YAML_SUFFIXES, has_yaml_files
from .check.paths import display_path, location
from .config import ConfigurationError, RunbookOptions, read_options
from .diagnostics import has_errors, printable, summary_line
from .formats import FORMATS, format_diagnostics
from .store.access import store_path

if TYPE_CHECKING:
    from .authoring.notify import Credential, Request
    from .authoring.remote import DeliveryReport
    from .authoring.writing import WriteReport
    from .models import NewOption, RecordOption, SourcedRecord
    from .render.change_events import EventSettings, ServiceChange

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
Found = TypeVar("Found")


def timeout_option(parameter: str, seconds: float, explained: str) -> Callable[..., Any]:
    """`--timeout SECONDS` (into `parameter`): how long a command waits on another system."""
    return click.option(
        "--timeout",
        parameter,
        default=seconds,
        show_default=True,
        type=click.FloatRange(min=0.01),
        metavar="SECONDS",
        help=explained,
    )


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


def _runbook_here(options: RunbookOptions) -> None:
    """A command that reads the records refuses, with exit 2 and one line, to run where there
    is no runbook: a CI step in the wrong folder must fail, not pass on 0 files."""
    if options.config_file is None:
        _usage_error(
            f"no mkdocs.yml in {Path.cwd()}: run this in the runbook's folder, "
            "or name its config with -f FILE"
        )
    records = options.records_dir
    if options.sources and not has_yaml_files(records, recursive=True):
        return  # an aggregating runbook needs no records of its own
    if not records.is_dir():
        what = "is not a folder" if records.exists() else "does not exist"
        _usage_error(f"records_dir {display_path(records)} {what} (set records_dir in mkdocs.yml)")
    if not has_yaml_files(records, recursive=True):
        _usage_error(
            f"no record files (*.yaml, *.yml) under {display_path(records)}: "
            "write one with `runbook new TITLE`"
        )


no_sync_option = click.option(
    "--no-sync",
    is_flag=True,
    help="Build from the sources as last synced (an aggregating runbook syncs them first).",
)


def _sync_sources(options: RunbookOptions, *, quiet: bool) -> None:
    """Sync an aggregate's git sources before a build: what was fetched is said here; a
    source that could not be is said once, by the build, with what it shows instead."""
    from .authoring.sources import sync_sources

    for result in sync_sources(options.root, options.sources):
        if result.changed and not quiet:
            click.echo(f"runbook: source {result.line()}", err=True)


def _valid_records(
    config_file: str | None, done: str
) -> tuple[RunbookOptions, list[SourcedRecord]]:
    """The runbook's options and its valid records (newest first: its own read from the
    record store, then an aggregate's sources), for commands that read them; invalid records
    are left out, said in one line (they are not `done`)."""
    from .authoring.listing import Filters

    options = _options(config_file)
    _runbook_here(options)
    return options, _listed(options, Filters(), done)


def _listed(options: RunbookOptions, filters: Any, done: str) -> list[SourcedRecord]:
    """The valid records matching `filters` (authoring.listing.Filters: imported when a
    command reads records), newest first: the runbook's own by one query of
    the record store, and an aggregate's sources' as they were last synced. What kept others
    out is said in one line each (they are not `done`)."""
    from .store.listing import listed_records

    records = _said(listed_records(options, store_path(options), filters), done)
    if not options.sources:
        return records
    from .authoring.listing import select_records
    from .check.sources import source_problems, with_sources
    from .check.validate import newest_first
    from .models import Runbook

    merged = with_sources(Runbook(), options)
    for problem in source_problems(merged):
        click.echo(f"runbook: {printable(problem)}", err=True)
    records += select_records(merged.records, filters, options.aliases)
    return sorted(records, key=newest_first, reverse=True)


def _said(answer: tuple[list[Found], int, list[str]], done: str) -> list[Found]:
    """What the record store found (store/listing.py), its notes and its count of errors
    said."""
    found, errors, notes = answer
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if errors:
        click.echo(f"runbook: {errors} errors; invalid records are not {done}", err=True)
    return found


def _usage_error(message: str) -> NoReturn:
    """One line, its unprintable characters escaped (it may quote what was typed), exit 2."""
    click.echo(f"runbook: {printable(message)}", err=True)
    sys.exit(EXIT_USAGE)


class _Commands(click.Group):
    """The command group. `new` and `schema` are made when asked for (run, or listed by
    --help): their options come from the record models, which other commands leave
    unimported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made_later: dict[str, Callable[[], click.Command]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.made_later})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        make = self.made_later.get(cmd_name)
        if make is not None and cmd_name not in self.commands:
            self.add_command(make(), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="runbook-generator")
def cli() -> None:
    """Validate change records and build them into a searchable runbook site."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(list(FORMATS)), default="text")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on warnings too (mkdocs.yml's `strict` option, when set, decides which).",
)
@click.option(
    "--changed",
    metavar="REV",
    default=None,
    help="Report only records and checklists changed since REV (cross-record rules still "
    "see the whole runbook).",
)
@click.option(
    "--require-record",
    "required_patterns",
    multiple=True,
    metavar="PATTERN",
    help="With --changed: fail when files matching this gitignore-style glob changed and no "
    "changed record lists them in files_touched (a commit trailer 'Runbook-Record: none' or "
    "RUNBOOK_SKIP_RECORD lets it pass). Repeatable.",
)
@click.option(
    "--only-runbook-files",
    is_flag=True,
    help="Of the PATHs, check only those under records_dir or checklists_dir (the pre-commit "
    "hook passes every staged YAML file).",
)
@config_file_option
def validate(
    paths: tuple[Path, ...],
    output_format: str,
    strict: bool,
    changed: str | None,
    required_patterns: tuple[str, ...],
    only_runbook_files: bool,
    config_file: str | None,
) -> None:
    """Check records and checklists; print every problem as PATH:LINE:COL."""
    options = _options(config_file)
    if required_patterns and changed is None:
        _usage_error("--require-record needs --changed REV (what the pull request changed)")
    if only_runbook_files and paths:
        paths = tuple(_in_runbook_folders(options, paths))
        if not paths:
            sys.exit(EXIT_OK)  # a commit that touches no record or checklist
    if not paths:
        _runbook_here(options)
    only: list[Path] | None = list(paths) or None
    if changed is not None:
        changed_files = _changed_runbook_files(options, changed, "validating every record instead")
        if changed_files is None:
            changed_files = [options.records_dir, options.checklists_dir]
        only = (only or []) + changed_files
    from .store.validation import validate_with_store

    report = validate_with_store(options, store_path(options), only=only)
    output = format_diagnostics(report.diagnostics, output_format)
    if output:
        click.echo(output)
    if output_format == "text":
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(summary_line(report.diagnostics, report.files_checked), err=True)
    failing = options.failing_warnings(strict)
    uncovered = changed is not None and _records_missing(options, changed, required_patterns)
    if uncovered or has_errors(report.diagnostics, strict=failing):
        sys.exit(EXIT_PROBLEMS)
    sys.exit(EXIT_OK)


def _records_missing(options: RunbookOptions, revision: str, patterns: tuple[str, ...]) -> bool:
    """Say in one line which files matching --require-record changed with no record listing
    them; True when there are any."""
    from .authoring.require_record import SKIP_VARIABLE, check_coverage

    if not patterns:
        return False
    coverage = check_coverage(options, revision, patterns)
    if coverage.note:
        click.echo(f"runbook: --require-record: {coverage.note}; cannot tell", err=True)
        return True
    if coverage.skipped:
        click.echo(f"runbook: no record required: {coverage.skipped}", err=True)
    if not coverage.uncovered:
        return False
    shown = ", ".join(printable(path) for path in coverage.uncovered)
    click.echo(
        f"runbook: changed since {revision} with no record listing them in files_touched: "
        f"{shown} (add or edit a record that lists them; if none is needed, a commit trailer "
        f"'Runbook-Record: none' or {SKIP_VARIABLE}=1)",
        err=True,
    )
    return True


def _in_runbook_folders(options: RunbookOptions, paths: Iterable[Path]) -> list[Path]:
    """The YAML files among `paths` that a full run checks as records or checklists: under
    records_dir, or in checklists_dir. A file is where it sits: a record that is a link to a
    file elsewhere is a record, as it is in a full run (its folder's links are followed)."""
    records, checklists = options.records_dir.resolve(), options.checklists_dir.resolve()
    selected = []
    for candidate in paths:
        path = Path(location(candidate))
        if (
            path.name.lower().endswith(YAML_SUFFIXES)
            and os.path.lexists(path)  # a dangling link is reported, as in a full run
            and not path.is_dir()
            and (path.is_relative_to(records) or path.parent == checklists)
        ):
            selected.append(path)
    return selected


def _changed_runbook_files(
    options: RunbookOptions, revision: str, instead: str
) -> list[Path] | None:
    """YAML files under records/ or checklists/ changed since REV (committed, staged or not);
    None (after a note saying what is done `instead`) when git cannot tell."""
    from .authoring.git import changed_files_since

    changes = changed_files_since(options.root, revision)
    if changes.note:
        click.echo(f"runbook: {changes.note}; {instead}", err=True)
        return None
    selected = _in_runbook_folders(options, [changes.root / name for name in changes.paths])
    if not selected:
        click.echo(f"runbook: no record or checklist changed since {revision}", err=True)
    return selected


def _schema_command() -> click.Command:
    """`runbook schema`, made when first asked for: its choices are the models'."""
    from .authoring.schema import SCHEMA_MODELS, json_schema
    from .authoring.writing import WriteReport

    @click.command()
    @click.argument("kind", type=click.Choice(sorted(SCHEMA_MODELS)), default="record")
    @click.option(
        "--write",
        is_flag=True,
        help="Refresh this runbook's schemas/*.schema.json (both kinds) and the editors' mapping "
        "of its folders to them in .vscode/settings.json, instead of printing.",
    )
    @config_file_option
    def schema(kind: str, write: bool, config_file: str | None) -> None:
        """Print the JSON Schema of records or checklists (for editors and tools), or with
        --write refresh the committed copies after an upgrade."""
        from .authoring.editor import schema_mapping, write_editor_settings, write_schemas

        if not write:
            click.echo(json.dumps(json_schema(kind), indent=2, ensure_ascii=False))
            return
        options = _options(config_file)
        _runbook_here(options)
        report = WriteReport()
        with _write_failures("schema --write stopped"):
            write_schemas(options.root, report, refresh=True)
            mapping = schema_mapping(options.root, options.records_dir, options.checklists_dir)
            write_editor_settings(options.root, mapping, report)
        _print_report(report, skipped="unchanged {path}")

    return schema


@cli.command()
@click.option("--site-dir", type=click.Path(file_okay=False), default=None, help="Output folder.")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on MkDocs' warnings and the runbook's (mkdocs.yml's `strict` option, when set, "
    "decides which of the runbook's).",
)
@click.option("-q", "--quiet", is_flag=True, help="Only print warnings and errors.")
@click.option(
    "--full", is_flag=True, help="Render every page, even if an incremental build is possible."
)
@no_sync_option
@config_file_option
def build(
    site_dir: str | None,
    strict: bool,
    quiet: bool,
    full: bool,
    no_sync: bool,
    config_file: str | None,
) -> None:
    """Validate, render and build the site; the previous site stays until the new one is done."""
    from .site.build import build_site
    from .site.logs import setup_logging

    setup_logging(quiet=quiet)
    options = _options(config_file)
    _ensure_docs_dir(options)
    if not no_sync:
        _sync_sources(options, quiet=quiet)
    with _mkdocs_failures("build failed", "; the previous site was left in place"):
        target, kind = build_site(config_file, site_dir=site_dir, strict=strict, full=full)
    if quiet:
        return
    if kind == "unchanged":
        click.echo(
            f"runbook: nothing changed since the last build; {display_path(target)} left as it is",
            err=True,
        )
    else:
        how = "incrementally" if kind == "incremental" else "in full"
        click.echo(f"runbook: site built {how} in {display_path(target)}", err=True)


@contextmanager
def _mkdocs_failures(what: str, consequence: str = "") -> Iterator[None]:
    """Configuration errors (an unsafe site folder included) exit 2; failed builds (invalid
    records, a full disk included) exit 1."""
    from mkdocs.exceptions import Abort
    from mkdocs.exceptions import ConfigurationError as MkDocsConfigurationError

    try:
        yield
    except ConfigurationError as exc:
        click.echo(f"runbook: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except MkDocsConfigurationError as exc:
        click.echo(f"runbook: configuration error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except Abort as exc:
        click.echo(f"runbook: {what}: {exc}{consequence}", err=True)
        sys.exit(EXIT_USAGE if "configuration error" in str(exc) else EXIT_PROBLEMS)
    except OSError as exc:  # a full disk or an unwritable folder: say so, no traceback
        click.echo(f"runbook: {what}: {_os_error_text(exc)}{consequence}", err=True)
        sys.exit(EXIT_PROBLEMS)


@contextmanager
def _write_failures(what: str) -> Iterator[None]:
    """A file an authoring command cannot write (a `.vscode` that is a file, a read-only
    folder): one line naming it, exit 1, no traceback."""
    try:
        yield
    except OSError as exc:
        click.echo(f"runbook: {what}: {_os_error_text(exc)}", err=True)
        sys.exit(EXIT_PROBLEMS)


def _os_error_text(error: OSError) -> str:
    """One line for a file system error; shutil.Error lists every file it could not copy."""
    failures = error.args[0] if isinstance(error, shutil.Error) and error.args else None
    if isinstance(failures, list) and failures and len(failures[0]) == 3:
        source, _, reason = failures[0]
        more = f" (and {len(failures) - 1} more files)" if len(failures) > 1 else ""
        return f"cannot copy {display_path(source)}: {reason}{more}"
    return str(error)


def _ensure_docs_dir(options: RunbookOptions) -> None:
    """MkDocs refuses to run without docs_dir; a runbook may have no hand-written pages."""
    if options.docs_dir is not None and not options.docs_dir.exists():
        options.docs_dir.mkdir(parents=True)
        click.echo(f"runbook: created an empty {display_path(options.docs_dir)}/", err=True)


@cli.command()
@click.option("-a", "--dev-addr", default=None, metavar="HOST:PORT", help="Address to serve on.")
@no_sync_option
@config_file_option
def serve(dev_addr: str | None, no_sync: bool, config_file: str | None) -> None:
    """Live preview that rebuilds when a record, checklist or template changes."""
    from .site.logs import setup_logging
    from .site.serve import serve_site

    setup_logging(quiet=False)
    options = _options(config_file)
    _ensure_docs_dir(options)
    if not no_sync:
        _sync_sources(options, quiet=False)
    with _mkdocs_failures("serve failed"):
        serve_site(config_file, dev_addr=dev_addr)


@cli.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@config_file_option
def render(out_dir: Path, config_file: str | None) -> None:
    """Write the generated Markdown pages, feed and export to a folder (for any engine)."""
    # Rendering is imported here: `runbook validate` (the pre-commit hook) never pays for it.
    from .check.sources import source_problems
    from .pipeline import generate
    from .render.pages import write_pages
    from .site.output import RENDER_MARKERS, check_output_folder, write_atomically

    options = _options(config_file)
    try:
        target = check_output_folder(out_dir, options, what="output folder", markers=RENDER_MARKERS)
    except ConfigurationError as exc:
        click.echo(f"runbook: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    generated = generate(options)
    output = format_diagnostics(generated.report.diagnostics, "text")
    if output:
        click.echo(output, err=True)
    if generated.pages is None or generated.index is None:
        sys.exit(EXIT_PROBLEMS)
    for problem in source_problems(generated.index.runbook):
        click.echo(f"runbook: {printable(problem)}", err=True)
    pages = generated.pages
    written = 0

    def write(folder: Path) -> None:
        nonlocal written
        written = write_pages(pages, folder)

    write_atomically(target, write)
    click.echo(f"runbook: {written} files written to {out_dir}", err=True)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Scaffold a runbook repository, or add the runbook to an existing MkDocs one; never
    overwrites a file (mkdocs.yml and .gitignore only gain lines)."""
    from .authoring.scaffold import init_repository

    with _write_failures("init stopped"):
        report = init_repository(directory)
    _print_report(report, skipped="skipped {path} (exists)")
    if report.failed:
        sys.exit(EXIT_PROBLEMS)
    click.echo("next: runbook validate && runbook build, then commit and push", err=True)


def _print_report(report: WriteReport, *, skipped: str) -> None:
    """One line per file written, updated or left as it was (`skipped` says how), then the
    notes."""
    for path in report.written:
        click.echo(f"wrote   {display_path(path)}")
    for path in report.updated:
        click.echo(f"updated {display_path(path)}")
    for path in report.skipped:
        click.echo(skipped.format(path=display_path(path)))
    for note in report.notes:
        click.echo(f"note: {note}", err=True)


def _record_field(path: str, option: NewOption) -> Callable[..., Any]:
    """A click callback refusing what `runbook validate` would refuse in the record field at
    `path` (a repeated option is checked as the list it becomes); None when not given."""

    def check(context: click.Context, parameter: click.Parameter, value: Any) -> Any:
        from .authoring.draft import checked, screened

        if value is None or value == ():
            return None
        given = list(value) if isinstance(value, tuple) else value
        try:
            screened(path, given)
            if option.read is not None:
                return option.read(given)
            result = checked(path, given)
        except ValueError as exc:
            _usage_error(f"Invalid value for {parameter.get_error_hint(context)}: {exc}")
        return result if option.parsed else given

    return check


def _record_parameter(field: RecordOption) -> Callable[[Any], Any]:
    """The click option (or argument) of a record field: repeatable for a list or a mapping,
    a flag for a bool, a choice for a Literal, else text checked as the field."""
    option, annotation = field.option, field.info.annotation
    declarations = (option.flag, field.parameter)
    if not option.flag.startswith("-"):  # TITLE: optional, --from-git can name its commit's
        return click.argument(
            field.parameter, required=False, callback=_record_field(field.path, option)
        )
    if annotation is bool:
        return click.option(*declarations, is_flag=True, help=option.help)
    if get_origin(annotation) is Literal:
        return click.option(
            *declarations, type=click.Choice(get_args(annotation)), help=option.help
        )
    repeatable = get_origin(annotation) in (list, dict)
    return click.option(
        *declarations,
        multiple=repeatable,
        metavar=option.metavar,
        callback=_record_field(field.path, option),
        help=" ".join(filter(None, (option.help, "Repeatable."))) if repeatable else option.help,
    )


def _record_options(
    fields: list[RecordOption],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for field in reversed(fields):
            command = _record_parameter(field)(command)
        return command

    return decorate


def _new_command() -> click.Command:
    """`runbook new`, made when first asked for: its options are the record model's fields
    that have a NewOption, in the model's order."""
    from .models import ChangeRecord, new_options

    record_options = new_options(ChangeRecord)

    @click.command()
    @_record_options(record_options)
    @click.option(
        "--from-git",
        "revision",
        default=None,
        metavar="REV",
        help="Take files, commit and time from this commit or A..B range (default files: staged, "
        "else HEAD); without TITLE, the title is the subject of the commit (of B's, for A..B).",
    )
    @click.option(
        "-C",
        "git_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        metavar="DIR",
        help="Read git in DIR (the code's repository) instead of here.",
    )
    @click.option("--edit", is_flag=True, help="Open the new record in $EDITOR.")
    @config_file_option
    def new(
        revision: str | None,
        git_dir: Path | None,
        edit: bool,
        config_file: str | None,
        **given: Any,
    ) -> None:
        """Write a prefilled record for a change just shipped and print its path. Every field a
        backfill script needs is an option; each is checked before anything is written."""
        from .authoring.draft import Draft, new_record, title_from_git

        options = _options(config_file)
        if given["title"] is None:
            if revision is None:
                _usage_error("new: give a TITLE, or --from-git REV to take the commit's subject")
            try:
                given["title"] = title_from_git(git_dir or options.root, revision)
            except ValueError as exc:
                _usage_error(f"new: {exc}")
        draft = Draft(
            {
                field.path: value
                for field in record_options
                if (value := given[field.parameter]) is not None and value is not False
            }
        )
        problem = draft.problem()
        if problem:
            _usage_error(problem)
        try:
            with _write_failures("new stopped"):
                path, report = new_record(options, draft, revision=revision, git_dir=git_dir)
        except ValueError as exc:
            _usage_error(str(exc))
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(display_path(path))
        if edit:
            click.edit(filename=str(path))

    return new


def _when(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> dt.date | dt.datetime | None:
    from .authoring.when import parse_when

    if value is None:
        return None
    try:
        bound = parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if bound.note:
        click.echo(f"note: {bound.note}", err=True)
    return bound.value


@cli.command(name="list")
@click.option("--service", default=None, help="Any part of the service's name.")
@click.option("--owner", default=None, help="Any part of the owner's name.")
@click.option("--file", "file_path", default=None, metavar="PATH", help="Any part of a path.")
@click.option("--tag", default=None, help="Any part of a tag.")
@click.option("--status", default=None, help="planned, shipped, verified or rolled-back.")
@click.option("--since", default=None, metavar="WHEN", callback=_when, help=WHEN_FORMATS)
@click.option("--until", default=None, metavar="WHEN", callback=_when, help=WHEN_FORMATS)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--utc", is_flag=True, help="Show times in UTC rather than the local zone (TZ) in the table."
)
@config_file_option
def list_records(
    service: str | None,
    owner: str | None,
    file_path: str | None,
    tag: str | None,
    status: str | None,
    since: dt.date | dt.datetime | None,
    until: dt.date | dt.datetime | None,
    output_format: str,
    utc: bool,
    config_file: str | None,
) -> None:
    """Query records, newest first: filters are case-insensitive substrings; --since and
    --until take a date, a time (with its offset, or read in the local zone) or a time back
    from now such as 90m, 3d or "2 days ago" (both ends included). The table shows times in
    one zone, named on its first line; JSON keeps each time with its own offset."""
    from .authoring.listing import (
        Filters,
        LocalZone,
        Window,
        format_json,
        format_table,
        listed_row,
    )
    from .store.listing import listed_rows

    options = _options(config_file)
    _runbook_here(options)
    filters = Filters(service, owner, file_path, tag, status, Window(since, until))
    if output_format == "table" and not options.sources:
        # The table's columns are the store's own: no record is read back.
        rows = _said(listed_rows(options, store_path(options), filters), "listed")
    else:
        records = _listed(options, filters, "listed")
        if output_format == "json":
            if not records:
                click.echo("no records match", err=True)
            click.echo(format_json(records))
            return
        rows = [listed_row(entry) for entry in records]
    if not rows:
        click.echo("no records match", err=True)
        return
    here = LocalZone("UTC", dt.timezone.utc) if utc else LocalZone.of_this_system()
    click.echo(format_table(rows, here))


@cli.command()
@click.option("--service", default=None, help="Any part of the service's name.")
@click.option("--since", default=None, metavar="WHEN", callback=_when, help=WHEN_FORMATS)
@click.option("--until", default=None, metavar="WHEN", callback=_when, help=WHEN_FORMATS)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@config_file_option
def dora(
    service: str | None,
    since: dt.date | dt.datetime | None,
    until: dt.date | dt.datetime | None,
    output_format: str,
    config_file: str | None,
) -> None:
    """DORA's four keys per month, for the whole runbook and per service: deployments,
    change failure rate, median lead time and time to restore (hours), with how many
    deployments lacked what a figure needs. --since and --until select deployments as
    `runbook list` selects records."""
    from .authoring.dora import dora_figures, format_json, format_table
    from .authoring.listing import Window
    from .store.listing import delivery_rows

    options = _options(config_file)
    _runbook_here(options)
    rows = _said(delivery_rows(options, store_path(options)), "counted")
    figures = dora_figures(rows, options, service, Window(since, until))
    if not figures:
        click.echo("no deployments match", err=True)
        if output_format == "table":
            return
    out = sys.stdout
    for text in format_json(figures) if output_format == "json" else format_table(figures):
        out.write(text)
    out.write("\n")
    out.flush()


@cli.command()
@click.option(
    "--grafana-url",
    required=True,
    metavar="URL",
    help="Grafana's base URL (http or https; no user name or password in it).",
)
@click.option(
    "--token-env",
    default="GRAFANA_TOKEN",
    show_default=True,
    metavar="VAR",
    help="The environment variable holding a Grafana service account token.",
)
@click.option("--since", default=None, metavar="WHEN", callback=_when, help=WHEN_FORMATS)
@click.option("--dashboard-uid", default=None, metavar="UID", help="Annotate this dashboard.")
@timeout_option(
    "deadline_seconds",
    20.0,
    "Give up on a request to Grafana after this long in all (connecting, sending and "
    "reading the whole answer).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each annotation that would be posted, one JSON object per line (JSON Lines), "
    "and post nothing; needs no token and asks Grafana nothing, so records already posted "
    "are printed too.",
)
@config_file_option
def annotate(
    grafana_url: str,
    token_env: str,
    since: dt.date | dt.datetime | None,
    dashboard_uid: str | None,
    deadline_seconds: float,
    dry_run: bool,
    config_file: str | None,
) -> None:
    """Post records as Grafana annotations; records already posted are skipped."""
    from .authoring.annotate import (
        Grafana,
        annotate_records,
        grafana_base_url,
        planned_annotations,
    )
    from .authoring.listing import Filters, Window, select_records
    from .authoring.remote import UnusableSetting, checked_token
    from .render.index import shown_names

    token = "" if dry_run else os.environ.get(token_env, "").strip()
    if not dry_run and not token:
        raise click.UsageError(f"set {token_env} to a Grafana token (or name another --token-env)")
    try:
        url = grafana_base_url(grafana_url)
        token = token and checked_token(token, token_env)
    except UnusableSetting as exc:
        _usage_error(f"annotate: {exc}")
    options, valid = _valid_records(config_file, "annotated")
    bodies = planned_annotations(
        select_records(valid, Filters(window=Window(since))),
        site_url=options.site_url,
        directory_urls=options.use_directory_urls,
        dashboard_uid=dashboard_uid,
        names=shown_names(valid, options.aliases),
    )
    if dry_run:
        for body in bodies.values():
            click.echo(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        click.echo(
            f"runbook annotate: would post {len(bodies)}; not checked against Grafana "
            "(a dry run asks it nothing), so records already posted are listed too",
            err=True,
        )
        return
    result = annotate_records(Grafana(url, token, dashboard_uid, deadline_seconds), bodies)
    _report_delivery("annotate", result, already="already on Grafana")


@cli.group()
def notify() -> None:
    """Send the records' deployments and rollbacks as change events to the tools on call;
    an event already delivered is never sent again (the ledger in .runbook-cache)."""


def _notify_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every sink takes: which records (--since, --changed), --dry-run,
    --timeout, --source and the config file."""
    options = [
        click.option(
            "--since",
            default=None,
            metavar="WHEN",
            callback=_when,
            help=f"Only records shipped since WHEN. {WHEN_FORMATS}",
        ),
        click.option(
            "--changed",
            metavar="REV",
            default=None,
            help="Only records whose file changed since REV (as `validate --changed`), and "
            "the rollbacks they record.",
        ),
        click.option(
            "--source",
            default=None,
            metavar="URI",
            help="Where the events come from (CDEvents' context source, PagerDuty's "
            "payload source); default: the site_url of mkdocs.yml, else /runbook.",
        ),
        timeout_option("deadline_seconds", 20.0, "Give up on a request after this long in all."),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Print each request that would be sent, one JSON object per line, credentials "
            "as ${VARIABLE}; sends nothing, needs no network and no credential.",
        ),
        config_file_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _service_changes(
    config_file: str | None,
    since: dt.date | dt.datetime | None,
    changed: str | None,
    source: str | None,
) -> tuple[RunbookOptions, EventSettings, list[ServiceChange]]:
    """The runbook's options, what every event shares, and the deployments and rollbacks of
    the records --since and --changed pick, oldest first."""
    from .authoring.listing import Window
    from .authoring.notify import select_changes
    from .check.paths import location as file_location
    from .render.change_events import EventSettings, service_changes
    from .render.index import shown_names

    if source is not None and not (
        source.isascii() and source.isprintable() and source.split() == [source]
    ):
        _usage_error("notify: --source takes a URI reference (ASCII, no space or control)")
    options, valid = _valid_records(config_file, "notified")
    names = shown_names(valid, options.aliases)
    site_url = options.site_url
    settings = EventSettings(
        source or site_url or "/runbook", site_url, options.use_directory_urls, names
    )
    window = Window(since)
    files = None
    if changed is not None:
        found = _changed_runbook_files(options, changed, "taking every record instead")
        files = None if found is None else {str(path) for path in found}
    changes = select_changes(
        service_changes(valid, names),
        lambda entry: window.holds(entry) and (files is None or file_location(entry.path) in files),
    )
    return options, settings, changes


def _credential(variable: str, dry_run: bool) -> Credential:
    """The credential in `variable`, checked (never echoed); a usage error when a run that
    sends lacks it."""
    from .authoring.notify import Credential
    from .authoring.remote import UnusableSetting, checked_token

    value = os.environ.get(variable, "").strip() or None
    if value is None and not dry_run:
        _usage_error(f"notify: set {variable}: credentials are read from the environment only")
    try:
        return Credential(variable, value and checked_token(value, variable))
    except UnusableSetting as exc:
        _usage_error(f"notify: {exc}")


def _endpoint(url: str, credential_option: str, credential: str) -> str:
    from .authoring.remote import UnusableSetting, checked_url

    try:
        return checked_url(
            url, "--url", base=False, credential_option=credential_option, credential=credential
        )
    except UnusableSetting as exc:
        _usage_error(f"notify: {exc}")


def _send_or_print(
    sink_name: str,
    options: RunbookOptions,
    url: str,
    requests: list[Request],
    dry_run: bool,
    deadline_seconds: float,
) -> NoReturn:
    """A dry run prints each request the ledger does not hold (JSON Lines); a run sends them."""
    from .authoring.notify import SINKS, deliver, unsent
    from .authoring.sent_ledger import SentLedger

    sink = SINKS[sink_name]
    try:
        ledger = SentLedger(options.root)
    except OSError as exc:
        _usage_error(f"notify: cannot read the ledger: {exc}")
    if ledger.skipped_lines:
        click.echo(
            f"note: skipped {ledger.skipped_lines} lines of {display_path(ledger.path)} that "
            "are not ledger entries",
            err=True,
        )
    if not dry_run:
        with ledger, _write_failures(f"notify {sink_name} stopped"):
            report = deliver(sink, url, requests, ledger, deadline_seconds)
        _report_delivery(f"notify {sink_name}", report, already="sent before")
    todo, already = unsent(sink, requests, ledger)
    for request in todo:
        click.echo(json.dumps(request.shown, ensure_ascii=False, separators=(",", ":")))
    unknown = sum(request.destination is None for request in todo)
    note = f"would send {len(todo)}, {already} sent before"
    if unknown:
        note += (
            f"; {unknown} not checked against the ledger (their routing key's variable is not "
            "set), so some may have been sent before"
        )
    click.echo(f"runbook notify {sink_name}: {note}", err=True)
    sys.exit(EXIT_OK)


@notify.command()
@click.option("--url", default=None, metavar="URL", help="The CloudEvents endpoint to POST to.")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each event to DIR/ID.PREDICATE.json instead of sending it (no ledger).",
)
@click.option(
    "--token-env",
    default=None,
    metavar="VAR",
    help="Send `Authorization: Bearer` with the token in this environment variable.",
)
@_notify_options
def cdevents(
    url: str | None,
    out_dir: Path | None,
    token_env: str | None,
    since: dt.date | dt.datetime | None,
    changed: str | None,
    source: str | None,
    deadline_seconds: float,
    dry_run: bool,
    config_file: str | None,
) -> None:
    """CDEvents v0.5 (service.deployed, service.rolledback) as CloudEvents over HTTP (binary
    content mode), or as JSON files with --out."""
    from .authoring.notify import cdevents_requests, write_cdevents

    if (url is None) == (out_dir is None):
        _usage_error("notify cdevents: give --url URL to send, or --out DIR to write files")
    if out_dir is not None and (dry_run or token_env):
        _usage_error("notify cdevents: --out writes files and sends nothing (no --dry-run)")
    endpoint = url and _endpoint(url, "--token-env", "token")
    credential = _credential(token_env, dry_run) if token_env else None
    options, settings, changes = _service_changes(config_file, since, changed, source)
    if out_dir is not None:
        with _write_failures("notify cdevents stopped"):
            for path in write_cdevents(changes, settings, out_dir):
                click.echo(f"wrote   {display_path(path)}")
        click.echo(f"runbook notify cdevents: {len(changes)} events written", err=True)
        return
    assert endpoint  # given when --out is not
    requests = cdevents_requests(changes, settings, endpoint, credential)
    _send_or_print("cdevents", options, endpoint, requests, dry_run, deadline_seconds)


@notify.command()
@click.option(
    "--routing-key-env",
    default="PAGERDUTY_ROUTING_KEY",
    show_default=True,
    metavar="VAR",
    help="The environment variable holding the routing key of an Events API v2 integration, "
    "for the services --service-key-env does not name.",
)
@click.option(
    "--service-key-env",
    "service_keys",
    multiple=True,
    metavar="SERVICE=VAR",
    help="Route SERVICE's events (any spelling or alias of it) with the routing key in VAR. "
    "Repeatable.",
)
@click.option(
    "--url",
    default="https://events.pagerduty.com/v2/change/enqueue",
    show_default=True,
    metavar="URL",
    help="The change events endpoint (https://events.eu.pagerduty.com/... in the EU).",
)
@_notify_options
def pagerduty(
    routing_key_env: str,
    service_keys: tuple[str, ...],
    url: str,
    since: dt.date | dt.datetime | None,
    changed: str | None,
    source: str | None,
    deadline_seconds: float,
    dry_run: bool,
    config_file: str | None,
) -> None:
    """PagerDuty change events (Events API v2), routed per service."""
    from .authoring.notify import Routes, pagerduty_requests

    endpoint = _endpoint(url, "--routing-key-env", "routing key")
    options, settings, changes = _service_changes(config_file, since, changed, source)
    try:
        routes = Routes.read(routing_key_env, service_keys, settings.names.aliases)
    except ValueError as exc:
        _usage_error(f"notify pagerduty: {exc}")
    for service in routes.unused(changes):
        click.echo(f"note: --service-key-env {service}: no event of that service to send", err=True)
    credentials = {
        variable: _credential(variable, dry_run)
        for variable in sorted({routes.variable(change) for change in changes})
    }
    requests = pagerduty_requests(
        changes, settings, endpoint, lambda change: credentials[routes.variable(change)]
    )
    _send_or_print("pagerduty", options, endpoint, requests, dry_run, deadline_seconds)


def _report_delivery(command: str, report: DeliveryReport, *, already: str) -> NoReturn:
    """What `annotate` or `notify` posted, one id a line on stdout, problems and the summary
    on stderr; exit 1 when anything was refused or the run stopped."""
    for record_id in report.posted:
        click.echo(f"posted {record_id}")
    for record_id, problem in report.refused:
        click.echo(f"runbook {command}: {record_id} not posted: {problem}", err=True)
    if report.stopped:
        click.echo(f"runbook {command}: {report.stopped}", err=True)
    if report.stopped and not (report.posted or report.refused):
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"runbook {command}: {report.summary(already)}", err=True)
    sys.exit(EXIT_PROBLEMS if report.stopped or report.refused else EXIT_OK)


@cli.group()
def sources() -> None:
    """An aggregating runbook's sources (the `sources` plugin option)."""


@sources.command(name="sync")
@timeout_option("timeout_seconds", 120.0, "Give up on a git command that takes longer than this.")
@config_file_option
def sync_command(timeout_seconds: float, config_file: str | None) -> None:
    """Fetch each git source's ref into the cache (only what changed); one line per source.
    Exit 1 when a source could not be synced (it keeps the commit it had)."""
    from .authoring.sources import sync_sources

    options = _options(config_file)
    if not options.sources:
        _usage_error("no sources in the runbook plugin's options (see `sources:` in README)")
    results = sync_sources(options.root, options.sources, timeout=timeout_seconds)
    for source in options.sources:
        if source.path is not None:
            click.echo(f"{source.name}: read in place from {printable(source.path)}")
    for result in results:
        click.echo(result.line())
    if any(result.problem for result in results):
        sys.exit(EXIT_PROBLEMS)


cli.made_later.update(new=_new_command, schema=_schema_command)


def main(args: list[str] | None = None) -> None:
    """Run one command (ARGS, or the process's arguments); it ends in SystemExit with its
    status."""
    try:
        with _signals_end_the_run():
            cli(args, prog_name="runbook")
    finally:
        # The interpreter's last cycle collections at exit walk every object a command made:
        # 1.2 s of a 7 s rebuild of 5,000 records, after the site was in place. Frozen, they
        # are freed with the process (files and logs are closed by then, nothing waits on it).
        gc.freeze()


@contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) end a run the way Ctrl-C
    does: as an exception, so that every `finally` runs (a build's staging folder is removed,
    validation workers are stopped) before the process exits with 128 + the signal."""

    def interrupt(number: int, frame: object) -> None:
        raise _Signalled(number)

    previous = {number: signal.signal(number, interrupt) for number in _ENDING_SIGNALS}
    try:
        yield
    except _Signalled as signalled:
        click.echo(f"runbook: stopped by {signal.Signals(signalled.number).name}", err=True)
        sys.exit(128 + signalled.number)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Signalled(BaseException):
    """Raised by the SIGTERM and SIGHUP handlers; BaseException, so nothing catches it on the
    way out but cleanup."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


# As far as the platform has them: Windows has no SIGHUP.
_ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
