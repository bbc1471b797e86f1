"""Aggregating runbooks for tests: real git repositories of runbooks, and an aggregate that
lists them as sources (file:// URLs and plain paths)."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import yaml
from cli_run import run_cli
from git_repos import git, new_repository
from record_files import EPOCH, write_record


def team_runbook(folder: Path, service: str, record_ids: list[str]) -> Path:
    """A runbook made by `runbook init` in a new git repository, with one record of
    `service` per id (its starter record removed), committed."""
    new_repository(folder)
    assert run_cli(folder, "init", epoch=EPOCH).exit_code == 0
    starter = next((folder / "records").rglob("*.yaml"))
    os.replace(starter, folder / "starter.yaml")
    for record_id in record_ids:
        add_record(folder, record_id, service)
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "runbook")
    return folder


def add_record(folder: Path, record_id: str, service: str, *, commit: bool = False) -> Path:
    """A valid record of `service` in the team's runbook (committed if asked)."""
    (folder / "records" / record_id[:4]).mkdir(parents=True, exist_ok=True)
    path = write_record(
        folder, record_id, "", service=service, title=f"{service}: {record_id[11:]}"
    )
    if commit:
        git(folder, "add", "-A")
        git(folder, "commit", "-qm", record_id)
    return path


def aggregate(
    folder: Path, sources: list[dict[str, str]], theme: str = "theme:\n  name: material\n"
) -> Path:
    """An aggregating runbook with no records of its own, listing `sources`."""
    folder.mkdir(parents=True, exist_ok=True)
    options = {"sources": sources}
    plugin = textwrap.indent(yaml.safe_dump([{"runbook": options}], sort_keys=False), "  ")
    (folder / "mkdocs.yml").write_text(
        f"site_name: Organisation\n{theme}plugins:\n  - search\n{plugin}", encoding="utf-8"
    )
    return folder


def counting_git(folder: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `git` is a wrapper that logs each invocation to a file, then
    runs the real git: what a sync cost, counted."""
    log = folder / "git-calls.log"
    wrapper = folder / "bin" / "git"
    wrapper.parent.mkdir(parents=True)
    real = next(
        Path(p) / "git" for p in os.environ["PATH"].split(os.pathsep) if (Path(p) / "git").is_file()
    )
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}, log
