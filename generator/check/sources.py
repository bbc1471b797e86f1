"""The sources of an aggregating runbook, each validated as the runbook it is, then merged.

A source is read from what the cache holds (authoring/sources.py syncs it) or, for a `path:`
source, in place. Its mkdocs.yml is data (config.read_source_options: its runbook options and
nothing else), its files must really lie in its checkout, and it is validated with its own
checklists and options. In the aggregate its record `ID` is `SOURCE/ID`, its checklist `ID`
is `SOURCE/ID` (two sources' `security` checklists stay apart) and its paths are the files'
paths in its repository.

A source that does not validate shows its last good commit; one that never validated, or a
path source that does not, is left out. Either way the aggregate builds, and the source's
`problem` says why in one line (on the command line and on its pages).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..config import ConfigurationError, RunbookOptions, read_source_options
from ..formats import text_line
from ..models import ChangeRecord, RecordSource, Runbook, SourcedChecklist, SourcedRecord
from ..source_cache import checkout_folder, read_state, redacted, write_state
from ..source_options import SourceOption
from .validate import newest_first, validate_runbook

# Forges whose web pages show a file at a commit: host → the path between repository and commit.
FORGE_FILE_PATHS = {"github.com": "blob", "gitlab.com": "-/blob"}
_FORGE_REPOSITORY = re.compile(
    r"(?:https://|ssh://git@|git@)(?P<host>[\w.-]+)[/:](?P<repository>[\w.-]+/[\w.-]+?)(?:\.git)?/?"
)


class SourceProblem(Exception):
    """Why one commit of a source cannot be shown: one line."""


def with_sources(own: Runbook, options: RunbookOptions, *, jobs: int | None = None) -> Runbook:
    """The aggregate: its own records and checklists with every source's, newest first."""
    if not options.sources:
        return own
    records, checklists = list(own.records), dict(own.checklists)
    sources = []
    for source in options.sources:
        shown, status = _gather(source, options, jobs)
        records += shown.records
        checklists.update(shown.checklists)
        sources.append(status)
    records.sort(key=newest_first, reverse=True)
    return Runbook(records, checklists, sources)


def source_problems(runbook: Runbook) -> list[str]:
    """One line per source that is shown stale or not at all."""
    return [f"source {s.name}: {s.problem}" for s in runbook.sources if s.problem]


def _gather(
    source: SourceOption, options: RunbookOptions, jobs: int | None
) -> tuple[Runbook, RecordSource]:
    """A source's records and checklists as the aggregate shows them, and its status."""
    if source.path is not None:
        location = source.path
        try:
            shown = _read(source, options.root / source.path, None, location, options, jobs)
        except SourceProblem as exc:
            return Runbook(), RecordSource(source.name, location, problem=f"{exc}: left out")
        return shown, shown.sources[0]
    state = read_state(options.root, source.name)
    location = redacted(source.git or "")
    fetch_problem = f"cannot fetch ({state.problem})" if state.problem else None
    tried: list[str] = []
    for commit in dict.fromkeys(c for c in (state.commit, state.good) if c is not None):
        checkout = checkout_folder(options.root, source.name, commit)
        try:
            shown = _read(source, checkout, commit, location, options, jobs)
        except SourceProblem as exc:
            tried.append(f"commit {commit[:12]} {exc}")
            continue
        if commit != state.good:
            write_state(options.root, source.name, dataclasses.replace(state, good=commit))
        if tried or fetch_problem:
            problem = "; ".join([*filter(None, [fetch_problem]), *tried])
            status = dataclasses.replace(
                shown.sources[0], problem=f"{problem}; showing commit {commit[:12]}"
            )
            shown = _with_status(shown, status)
        return shown, shown.sources[0]
    reasons = [*filter(None, [fetch_problem]), *tried] or ["never synced (runbook sources sync)"]
    return Runbook(), RecordSource(source.name, location, problem="; ".join(reasons) + ": left out")


def _read(
    source: SourceOption,
    checkout: Path,
    commit: str | None,
    location: str,
    options: RunbookOptions,
    jobs: int | None,
) -> Runbook:
    """One checkout of a source, validated and named as the aggregate shows it."""
    if not checkout.is_dir():
        raise SourceProblem(f"{checkout} is not a folder")
    try:
        own = read_source_options(checkout, source, options)
    except ConfigurationError as exc:
        raise SourceProblem(f"has an unusable mkdocs.yml: {exc}") from None
    for folder in (own.records_dir, own.checklists_dir):
        leaving = next(_links_leaving(folder, checkout), None)
        if leaving is not None:
            raise SourceProblem(
                f"{_in_repository(leaving, checkout)} is a link leading outside the source"
            )
    report = validate_runbook(own, jobs=jobs)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if errors:
        first = dataclasses.replace(errors[0], path=_in_repository(errors[0].path, checkout))
        count = f"{len(errors)} errors, the first" if len(errors) > 1 else "an error"
        raise SourceProblem(f"has {count}: {text_line(first)}")
    file_url = _file_url(source.git, commit) if commit else None
    status = RecordSource(
        source.name, location, commit, file_url, records=len(report.runbook.records)
    )
    prefix = f"{source.name}/"
    records = [
        SourcedRecord(
            prefix + entry.id,
            _in_repository(entry.path, checkout),
            _prefixed_checklists(entry, prefix),
            status,
        )
        for entry in report.runbook.records
    ]
    checklists = {
        prefix + cid: SourcedChecklist(
            prefix + cid, _in_repository(sc.path, checkout), sc.checklist
        )
        for cid, sc in report.runbook.checklists.items()
    }
    return Runbook(records, checklists, [status])


def _with_status(shown: Runbook, status: RecordSource) -> Runbook:
    records = [dataclasses.replace(entry, source=status) for entry in shown.records]
    return Runbook(records, shown.checklists, [status])


def _prefixed_checklists(entry: SourcedRecord, prefix: str) -> ChangeRecord:
    """The record, its checklist references named as the aggregate names the checklists."""
    record = entry.record
    if not record.checklists:
        return record
    return record.model_copy(
        update={"checklists": {prefix + cid: s for cid, s in record.checklists.items()}}
    )


def _links_leaving(folder: Path, checkout: Path) -> Iterator[str]:
    """Links under `folder` (itself included) whose target lies outside `checkout`."""
    inside = os.path.realpath(checkout) + os.sep
    for current, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = os.path.join(current, name)
            if os.path.islink(path) and not os.path.realpath(path).startswith(inside):
                yield path


def _in_repository(path: str, checkout: Path) -> str:
    """A file's path in its source's repository (POSIX), as its pages show it."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(checkout))
    return Path(relative).as_posix()


def _file_url(git: str | None, commit: str) -> str | None:
    """Where a forge shows the source's files at `commit` (a file's path is appended)."""
    found = _FORGE_REPOSITORY.fullmatch(git or "")
    if found is None or found["host"] not in FORGE_FILE_PATHS:
        return None
    host, repository = found["host"], found["repository"]
    return f"https://{host}/{repository}/{FORGE_FILE_PATHS[host]}/{commit}/"
