"""`runbook init`: a runbook repository that validates, builds and publishes, never
overwriting anything that exists."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from importlib.metadata import version
from pathlib import Path

from ..check.files import discover
from ..config import DEFAULT_CONFIG_FILE, ConfigurationError, RunbookOptions, read_options
from ..render.slugs import slugify
from .editor import schema_mapping, write_editor_settings, write_schemas
from .git import author, current_branch, origin_url
from .mkdocs_yml import BY_HAND, PluginEdit, add_runbook_plugin
from .writing import WriteReport, replace_file, write_new

PACKAGE_DATA = Path(str(resources.files("generator")))
STARTER = PACKAGE_DATA / "starter"
PLACED_BY_OPTIONS = {"example-record.yaml"}  # written under records_dir, not copied
NEW_SITES_ONLY = {"mkdocs.yml", "docs/about.md", ".github/workflows/runbook-publish.yml"}
GITHUB_REMOTE = re.compile(r"github\.com[:/](?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?/?$")


def init_repository(target: Path, *, today: dt.date | None = None) -> WriteReport:
    """Scaffold a runbook: mkdocs.yml with an explicit nav (home: recent changes), an About
    page, records/ (one record), checklists/, templates/, schemas and their editor mapping,
    the pull-request check and the Pages workflow pinned to this version, pre-commit and
    .gitignore.

    Into a repository that has a mkdocs.yml already, the plugin is added to it (or the exact
    lines printed), and its site, pages and publishing are left alone."""
    report = WriteReport()
    today = today or dt.date.today()
    config = target / DEFAULT_CONFIG_FILE
    existing = config.is_file()
    if existing:
        _add_plugin(config, report)
    branch = current_branch(target) or "main"
    values = {
        "@VERSION@": version("runbook-generator"),
        "@BRANCH@": branch,
        "@SITE_URL@": _pages_url(target),
    }
    options = _options_after(config) if existing else None
    for source in sorted(STARTER.rglob("*")):
        relative = source.relative_to(STARTER).as_posix()
        if not source.is_file() or relative in PLACED_BY_OPTIONS:
            continue
        if existing and relative in NEW_SITES_ONLY:
            continue
        text = source.read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        if relative == ".gitignore" and (target / relative).is_file():
            _add_missing_lines(target / relative, text, report)
            continue
        destination = target / relative
        if relative.startswith("templates/") and options is not None:
            destination = options.templates_dir / source.name
        write_new(destination, text, report)
    checklists = options.checklists_dir if options else target / "checklists"
    for checklist in map(Path, discover(PACKAGE_DATA / "checklists", recursive=False)):
        write_new(checklists / checklist.name, checklist.read_text("utf-8"), report)
    records = options.records_dir if options else target / "records"
    write_new(
        records / str(today.year) / f"{today.isoformat()}-start-a-runbook.yaml",
        _starter_record(target, today),
        report,
    )
    write_schemas(target, report)
    write_editor_settings(target, schema_mapping(target, records, checklists), report)
    if existing:
        report.notes.append(
            "the existing site, its docs and nav are unchanged: the runbook's pages join a "
            "hand-written nav at its end; .github/workflows/runbook-publish.yml was not "
            "written (publish the site the way this repository already does)"
        )
    return report


def _starter_record(target: Path, today: dt.date) -> str:
    """The first record: adopting the runbook, by whoever git says, for this repository."""
    owner = author(target) or "runbook maintainers"
    service = slugify(target.resolve().name) or "team-runbook"
    text = (STARTER / "example-record.yaml").read_text(encoding="utf-8")
    text = text.replace("{date}", today.isoformat())
    for placeholder, value in (("owner", owner), ("service", service)):
        text = text.replace(f"{{{placeholder}}}", json.dumps(value, ensure_ascii=False))
    return text


def _pages_url(target: Path) -> str:
    """The GitHub Pages address of the `origin` remote, else a placeholder to replace."""
    match = GITHUB_REMOTE.search(origin_url(target) or "")
    if match is None:
        return "https://example.github.io/runbook/  # TODO: the published address"
    owner, name = match["owner"], match["name"]
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{name}/"


def _add_plugin(config: Path, report: WriteReport) -> None:
    """The runbook plugin in the team's mkdocs.yml, in place; else the exact lines to add."""
    try:
        edit = add_runbook_plugin(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        edit = PluginEdit(problem=f"it cannot be read as UTF-8 text ({exc})")
    if edit.enabled:
        report.skipped.append(config)
    elif edit.text is not None:
        replace_file(config, edit.text)
        report.updated.append(config)
    else:
        report.failed = True
        report.notes.append(
            f"could not add the runbook plugin to {config.name} safely: {edit.problem}. "
            f"Add it by hand, under plugins: keep the ones there and add these two:\n"
            f"{BY_HAND}  (until then `runbook build` refuses to build a site without it)"
        )


def _options_after(config: Path) -> RunbookOptions | None:
    """The folders the (edited) mkdocs.yml configures, when it enables the plugin."""
    try:
        return read_options(str(config))
    except ConfigurationError:
        return None


def _add_missing_lines(path: Path, text: str, report: WriteReport) -> None:
    """Append the lines of `text` that an existing file lacks (a .gitignore), never removing."""
    current = path.read_text(encoding="utf-8")
    present = set(current.splitlines())
    missing = [line for line in text.splitlines() if line and line not in present]
    if not any(not line.startswith("#") for line in missing):
        report.skipped.append(path)
        return
    separator = "" if not current or current.endswith("\n") else "\n"
    replace_file(path, current + separator + "\n".join(missing) + "\n")
    report.updated.append(path)
