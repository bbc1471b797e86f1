"""`runbook init`: a runbook repository that validates, builds and publishes, never
overwriting anything that exists."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from importlib.metadata import distribution, version
from pathlib import Path

import yaml

from ..check.files import discover
from ..config import (
    DEFAULT_CONFIG_FILE,
    ConfigurationError,
    RunbookOptions,
    inherit_chain,
    read_options,
)
from ..render.settings import RenderSettings
from ..render.slugs import slugify
from .editor import schema_mapping, write_editor_settings, write_schemas
from .git import author, current_branch, origin_url
from .mkdocs_yml import (
    BY_HAND,
    NavEdit,
    PluginEdit,
    add_runbook_plugin,
    add_runbook_section,
    nav_lines,
)
from .writing import TextFile, WriteReport, write_new

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
    target.mkdir(parents=True, exist_ok=True)  # the folder named: everything else is checked
    config = target / DEFAULT_CONFIG_FILE
    existing = config.is_file()
    if existing:
        _add_plugin(target, config, report)
    branch = current_branch(target) or "main"
    values = {
        "@VERSION@": version("runbook-generator"),
        "@REQUIREMENT@": runbook_requirement(),
        "@BRANCH@": branch,
        "@SITE_URL@": _pages_url(target),
    }
    options = _options_after(config) if existing else None
    if options is not None and not report.failed:  # the nav waits for the plugin
        _add_nav_section(target, config, options, report)
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
            _add_missing_lines(target, target / relative, text, report)
            continue
        destination = target / relative
        if relative.startswith("templates/") and options is not None:
            destination = options.templates_dir / source.name
        write_new(destination, text, report, root=target)
    checklists = options.checklists_dir if options else target / "checklists"
    for checklist in map(Path, discover(PACKAGE_DATA / "checklists", recursive=False)):
        write_new(checklists / checklist.name, checklist.read_text("utf-8"), report, root=target)
    records = options.records_dir if options else target / "records"
    write_new(
        records / str(today.year) / f"{today.isoformat()}-start-a-runbook.yaml",
        _starter_record(target, today),
        report,
        root=target,
    )
    write_schemas(target, report)
    write_editor_settings(target, schema_mapping(target, records, checklists), report)
    if existing:
        report.notes.append(
            "the existing site and its docs are unchanged: the runbook's pages are one Runbook "
            "section at the end of a hand-written nav; .github/workflows/runbook-publish.yml "
            "was not written (publish the site the way this repository already does)"
        )
    return report


def runbook_requirement() -> str:
    """How CI installs the runbook that is running: from the git repository and commit it was
    installed from (pip records it), else the release of this version on PyPI."""
    try:
        origin = json.loads(distribution("runbook-generator").read_text("direct_url.json") or "")
        vcs = origin.get("vcs_info", {})
        if vcs.get("vcs") == "git" and vcs.get("commit_id") and "://" in origin.get("url", ""):
            url = origin["url"]
            if not url.startswith("file:"):  # a clone on this machine is no address for CI
                return f"runbook-generator @ git+{url}@{vcs['commit_id']}"
    except (ValueError, AttributeError, TypeError):
        pass
    return f"runbook-generator=={version('runbook-generator')}"


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


def _add_plugin(root: Path, config: Path, report: WriteReport) -> None:
    """The runbook plugin in the team's mkdocs.yml, in place; else the exact lines to add.

    With `INHERIT:`, the plugin goes where MkDocs takes the plugin list from: the nearest file
    of the chain that has one (a `plugins:` added to a child would replace the parent's)."""
    edit, current = PluginEdit(), None
    try:
        config = _chain_file(config, "plugins")
        current = TextFile.read(config)
        edit = add_runbook_plugin(current.text)
        if edit.text is not None:
            current.replace(config, edit.text, root=root)
    except ValueError as exc:  # UnicodeDecodeError
        edit = PluginEdit(problem=f"it cannot be read as UTF-8 text ({exc})")
    except OSError as exc:
        edit = PluginEdit(problem=f"it cannot be written ({exc})")
    if edit.enabled:
        report.skipped.append(config)
    elif edit.text is not None:
        report.updated.append(config)
    else:
        report.failed = True
        report.notes.append(
            f"could not add the runbook plugin to {config.name} safely: {edit.problem}. "
            f"Add it by hand, under plugins: keep the ones there and add these two:\n"
            f"{BY_HAND}  (until then `runbook build` refuses to build a site without it)"
        )


def _add_nav_section(
    root: Path, config: Path, options: RunbookOptions, report: WriteReport
) -> None:
    """The runbook's index pages as one Runbook section at the end of a hand-written nav (a
    build puts any page the nav lacks there too, so a failed edit is only a note)."""
    pages = runbook_nav(options)
    try:
        config = _chain_file(config, "nav")
        current = TextFile.read(config)
        edit = add_runbook_section(current.text, pages)
        if edit.text is not None:
            current.replace(config, edit.text, root=root)
    except ValueError:  # not UTF-8: adding the plugin said so already
        return
    except OSError as exc:
        edit = NavEdit(problem=f"it cannot be written ({exc})")
    if edit.text is not None:
        if config in report.skipped:
            report.skipped.remove(config)
        if config not in report.updated:
            report.updated.append(config)
    elif edit.problem:
        report.notes.append(
            f"the runbook's pages were not added to the nav of {config.name}: {edit.problem}. "
            f"Builds list them in a Runbook section at its end; to order them yourself, add "
            f"under nav:\n{nav_lines(pages)}"
        )


def runbook_nav(options: RunbookOptions) -> list[tuple[str, str]]:
    """The runbook's index pages (title, path) as a new site's nav lists them, with Recent
    changes where this site puts it (changes/ when docs/ has a home page of its own)."""
    text = (STARTER / "mkdocs.yml").read_text(encoding="utf-8")
    starter = yaml.safe_load(text.replace("@SITE_URL@", "''"))
    home = RenderSettings.for_options(options).home_uri
    entries = [next(iter(item.items())) for item in starter["nav"]]
    return [
        (title, home if path == "index.md" else path)
        for title, path in entries
        if path != "about.md"
    ]


def _chain_file(config: Path, key: str) -> Path:
    """The file of config's INHERIT chain whose `key` (`plugins`, `nav`) MkDocs uses (config
    itself when none has one)."""
    try:
        chain = inherit_chain(config)
    except ConfigurationError:  # unreadable: the edit itself says why
        return config
    return next((path for path, settings in chain if key in settings), config)


def _options_after(config: Path) -> RunbookOptions | None:
    """The folders the (edited) mkdocs.yml configures, when it enables the plugin."""
    try:
        return read_options(str(config))
    except ConfigurationError:
        return None


def _add_missing_lines(root: Path, path: Path, text: str, report: WriteReport) -> None:
    """Append the lines of `text` that an existing file lacks (a .gitignore), never removing;
    a file that is not UTF-8 is left alone, with the lines to add."""
    wanted = [line for line in text.splitlines() if line and not line.startswith("#")]
    try:
        current = TextFile.read(path)
    except ValueError:
        report.notes.append(
            f"{path.name} is not UTF-8 text and was left as it is; add these lines to it:\n  "
            + "\n  ".join(wanted)
        )
        return
    present = {_ignore_pattern(line) for line in current.text.splitlines()}
    missing = [line for line in wanted if _ignore_pattern(line) not in present]
    if not missing:
        report.skipped.append(path)
        return
    separator = "" if not current.text or current.text.endswith("\n") else "\n"
    current.replace(path, current.text + separator + "\n".join(missing) + "\n", root=root)
    report.updated.append(path)


def _ignore_pattern(line: str) -> str:
    """A .gitignore line as what it matches for a folder at the top: `/site/`, `site/` and
    `site` all ignore the built site."""
    return line.strip().strip("/")
