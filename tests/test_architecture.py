"""The package's boundaries hold: only site/, cli.py and config.py know MkDocs, and what
`runbook render --out` writes is exactly what the plugin feeds MkDocs."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run_cli

from generator.check.validate import validate_runbook
from generator.config import PluginOptions, RunbookOptions
from generator.diagnostics import CODES

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DATA = REPO_ROOT / "tests" / "data"
FIXED_EPOCH = "1798761600"

PACKAGE = REPO_ROOT / "generator"
MKDOCS_FREE = ("check", "render", "authoring")
MKDOCS_ALLOWED_MODULES = {"cli.py", "config.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "module",
    sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.parts[len(PACKAGE.parts)] != "site"
        and path.relative_to(PACKAGE).as_posix() not in MKDOCS_ALLOWED_MODULES
    ),
)
def test_only_site_cli_and_config_import_mkdocs(module: str) -> None:
    """No module outside site/ (and cli.py, config.py) names mkdocs in an import."""
    mkdocs = {name for name in imported_modules(PACKAGE / module) if name.split(".")[0] == "mkdocs"}
    assert mkdocs == set(), f"{module} imports {sorted(mkdocs)}"


@pytest.mark.parametrize(
    "entry",
    [
        "generator.pipeline",
        "generator.check.validate",
        "generator.render.pages",
        "generator.authoring.scaffold",
        "generator.cli",
    ],
)
def test_checking_and_rendering_never_load_mkdocs(entry: str) -> None:
    """Not even through another module: `runbook validate` and the pre-commit hook start
    without MkDocs, and rendering works for any engine."""
    probe = f"import sys, {entry}; print(sorted(m for m in sys.modules if m.startswith('mkdocs')))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_validate_starts_without_requests_jinja_pool_or_plugin_discovery(
    tmp_path: Path,
) -> None:
    """One record in a pre-commit hook: `runbook validate` loads neither requests with urllib3
    (which detect-secrets imports only to verify secrets online) nor Jinja, nor the process
    pool it starts only for many records, nor what only other commands use (rendering,
    drafting and listing records), and pydantic does not scan every installed distribution
    for plugins."""
    record = REPO_ROOT / "records" / "2026" / "2026-01-13-add-invoices-customer-index.yaml"
    probe = (
        "import sys, runpy; sys.argv = ['runbook', 'validate', '-f', sys.argv[1], sys.argv[2]]\n"
        "try:\n    runpy.run_module('generator', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "import os; loaded = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        "others = {'generator.render', 'generator.authoring.draft',"
        " 'generator.authoring.listing'}\n"
        "print(sorted(loaded & {'urllib3', 'jinja2', 'mkdocs', 'multiprocessing.pool', *others}),"
        " os.environ.get('PYDANTIC_DISABLE_PLUGINS'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(REPO_ROOT / "mkdocs.yml"), str(record)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["[]", "__all__"], result.stdout


def test_a_deferred_module_loads_when_first_used() -> None:
    probe = (
        "import sys\n"
        "from generator.startup import start_light\n"
        "start_light('validate')\n"
        "from generator.check.secrets import find_secrets\n"
        "assert 'urllib3' not in sys.modules\n"
        "import requests, requests.adapters\n"
        "print(requests.get.__module__, requests.adapters.HTTPAdapter.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["requests.api", "HTTPAdapter"]


@pytest.mark.parametrize(
    "command", [["build", "--help"], ["serve", "--help"], ["render", "--help"], ["--version"]]
)
def test_commands_that_run_other_packages_get_them_as_they_are(command: list[str]) -> None:
    """The start-up switches of `validate` (a deferred `requests`, pydantic's plugin scan
    off) never reach a process where MkDocs and its other plugins run, nor the processes it
    starts: they see `requests` and the environment as the user left them."""
    probe = (
        "import os, sys, runpy\n"
        f"sys.argv = ['runbook', *{command!r}]\n"
        "try:\n    runpy.run_module('generator', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "import generator.site.plugin, generator.check.secrets\n"
        "requests = sys.modules.get('requests')\n"
        "print(type(requests).__name__ if requests else 'absent',"
        " os.environ.get('PYDANTIC_DISABLE_PLUGINS'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] in (["module", "None"], ["absent", "None"]), result.stdout


def test_each_package_says_what_it_is_for() -> None:
    for package in ("check", "render", "site", "authoring"):
        docstring = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
        assert docstring and len(docstring.split()) > 20, package


def fed_to_mkdocs(repo: Path) -> dict[str, str]:
    """The pages the plugin gave MkDocs in the last build: its page cache, with each deferred
    block put back where its marker stands."""
    (pages,) = [
        folder
        for folder in (repo / ".runbook-cache").glob("pages-*")
        if folder.is_dir() and not folder.name.endswith("-blocks")
    ]
    blocks = pages.with_name(pages.name + "-blocks")

    def block(marker: re.Match[str]) -> str:
        return (blocks / f"{marker[1]}.html").read_text(encoding="utf-8")

    return {
        path.relative_to(pages).as_posix(): re.sub(
            r"<!-- runbook-deferred ([0-9a-f]{40}) -->", block, path.read_text(encoding="utf-8")
        )
        for path in pages.rglob("*")
        if path.is_file()
    }


def written_by_render(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.mark.parametrize("with_docs_index", [True, False])
def test_render_writes_what_the_plugin_feeds_mkdocs(tmp_path: Path, with_docs_index: bool) -> None:
    repo = tmp_path / "runbook"
    assert run_cli(tmp_path, "init", str(repo), epoch=FIXED_EPOCH).exit_code == 0
    example = REPO_ROOT / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    (repo / "records" / "2026").mkdir(parents=True, exist_ok=True)
    (repo / "records" / "2026" / example.name).write_bytes(example.read_bytes())
    if with_docs_index:  # a hand-written home page: Recent changes moves to changes/
        (repo / "docs" / "index.md").write_text("# Our runbook\n", encoding="utf-8")

    build = run_cli(repo, "build", "--full", "-q", epoch=FIXED_EPOCH)
    assert build.exit_code == 0, build.output
    render = run_cli(repo, "render", "--out", "out", epoch=FIXED_EPOCH)
    assert render.exit_code == 0, render.output

    plugin_pages = fed_to_mkdocs(repo)
    render_pages = written_by_render(repo / "out")
    assert sorted(render_pages) == sorted(plugin_pages)
    home = "changes/index.md" if with_docs_index else "index.md"
    assert home in render_pages and "Recent changes" in render_pages[home]
    assert [uri for uri in render_pages if plugin_pages[uri] != render_pages[uri]] == []


def test_every_code_is_registered_and_documented() -> None:
    """diagnostics.CODES is the one list: what the corpus of bad input reports is in it, and
    the README's list of codes names each of them."""
    invalid = TESTS_DATA / "invalid"
    options = RunbookOptions.resolve(
        PluginOptions(records_dir="records", checklists_dir="checklists"), invalid
    )
    reported = {d.code for d in validate_runbook(options).diagnostics}
    assert reported - set(CODES) == set()
    assert len(reported) > 30
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    codes_paragraph = readme[readme.index("Codes: loading") :].split("\n\n", 1)[0]
    assert {code for code in CODES if f"`{code}`" not in codes_paragraph} == set()


def test_runbook_build_sends_the_whole_plugin_lifecycle(runbook_repo: Path) -> None:
    """`runbook build` drives MkDocs as `mkdocs build` does: startup (with the dirty flag of
    an incremental build) before, shutdown after, for every plugin and hook."""
    events = runbook_repo / "events.txt"
    (runbook_repo / "lifecycle.py").write_text(
        "from pathlib import Path\n"
        f"EVENTS = Path({str(events)!r})\n"
        "def on_startup(command, dirty):\n"
        "    EVENTS.open('a').write(f'startup {command} dirty={dirty}\\n')\n"
        "def on_shutdown():\n"
        "    EVENTS.open('a').write('shutdown\\n')\n",
        encoding="utf-8",
    )
    mkdocs_yml = runbook_repo / "mkdocs.yml"
    mkdocs_yml.write_text(mkdocs_yml.read_text() + "hooks:\n  - lifecycle.py\n", encoding="utf-8")
    example = REPO_ROOT / "records" / "2026" / "2026-11-20-cap-upload-size.yaml"
    (runbook_repo / "records" / example.name).write_bytes(example.read_bytes())
    for _ in range(2):
        assert run_cli(runbook_repo, "build", "-q", epoch=FIXED_EPOCH).exit_code == 0
    assert events.read_text().splitlines() == [
        "startup build dirty=False",
        "shutdown",
        "startup build dirty=True",
        "shutdown",
    ]
