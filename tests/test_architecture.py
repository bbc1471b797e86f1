"""The package's boundaries hold: only site/, cli.py and config.py know MkDocs, and what
`runbook render --out` writes is exactly what the plugin feeds MkDocs."""

from __future__ import annotations

import ast
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run_cli

from generator.check.validate import validate_runbook
from generator.config import PluginOptions, RunbookOptions
from generator.diagnostics import CODES
from generator.render.pages import HIDDEN_HTML

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


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """Each module of the package: the package's modules it imports anywhere (functions
    included), each with the line of its first import. `from . import name` counts when
    name is a module."""
    modules = {module_name(path, package): path for path in package.rglob("*.py")}
    graph = {}
    for module, path in sorted(modules.items()):
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        found: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                source = ".".join([*base, *([node.module] if node.module else [])])
                names = [source, *(f"{source}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in names:
                if name in modules and name != module:
                    found.setdefault(name, node.lineno)
        graph[module] = found
    return graph


def import_cycle(graph: dict[str, dict[str, int]]) -> list[str]:
    """One circle of imports (as [a, b, a]), or []."""
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str]:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module not in done:
            for imported in graph[module]:
                cycle = visit(imported, [*trail, module])
                if cycle:
                    return cycle
            done.add(module)
        return []

    for module in graph:
        cycle = visit(module, [])
        if cycle:
            return cycle
    return []


IMPORTS = import_graph(PACKAGE)


def test_the_package_has_no_import_cycles() -> None:
    """Modules import downwards only: a circle means two modules that are one job, or a
    shared piece that wants its own module."""
    cycle = import_cycle(IMPORTS)
    steps = [f"{a} -> {b} (line {IMPORTS[a][b]})" for a, b in itertools.pairwise(cycle)]
    assert cycle == [], "import cycle: " + ", ".join(steps)


def test_the_cycle_finder_sees_relative_imports_inside_functions(tmp_path: Path) -> None:
    package = tmp_path / "generator"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from .sub.b import x\n", encoding="utf-8")
    (package / "sub" / "b.py").write_text("def x():\n    from .. import a\n", encoding="utf-8")
    (package / "c.py").write_text("import generator.a\n", encoding="utf-8")
    assert import_cycle(import_graph(package)) == ["generator.a", "generator.sub.b", "generator.a"]


def reached_from(module: str) -> set[str]:
    seen: set[str] = set()
    pending = [module]
    while pending:
        for imported in IMPORTS[pending.pop()]:
            if imported not in seen:
                seen.add(imported)
                pending.append(imported)
    return seen


@pytest.mark.parametrize("module", ["generator.diagnostics", "generator.config"])
def test_low_modules_import_nothing_above_them(module: str) -> None:
    """What every stage reads (diagnostics, the options) imports no stage, not even through
    another module: checking, rendering, the site and authoring sit on top of them."""
    above = ("check", "render", "site", "authoring")
    reached = {name for name in reached_from(module) if name.split(".")[1] in above}
    assert reached == set(), f"{module} imports {sorted(reached)}"


def test_diagnostics_are_made_only_where_they_are_made_safe() -> None:
    """check/problems.py masks credentials and escapes what a terminal would act on: no other
    module of the package builds a Diagnostic itself."""
    builders = {
        module
        for module, path in ((module_name(path), path) for path in PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Diagnostic"
    }
    assert builders == {"generator.check.problems"}


def test_validate_offers_every_output_format() -> None:
    from generator.cli import cli
    from generator.formats import FORMATS

    (option,) = [p for p in cli.commands["validate"].params if p.name == "output_format"]
    assert list(option.type.choices) == list(FORMATS)


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


@pytest.mark.parametrize("command", [["list", "--since", "2026-01-01"], ["dora"]])
def test_list_and_dora_over_an_unchanged_runbook_import_no_record_model(
    tmp_path: Path, command: list[str]
) -> None:
    """Once the record store holds every record file as it is, `runbook list` and `dora`
    answer from its rows: neither the record models nor the secret scanning (detect-secrets)
    nor anything a file check needs is imported."""
    runbook = tmp_path / "runbook"
    shutil.copytree(REPO_ROOT / "records", runbook / "records")
    shutil.copytree(REPO_ROOT / "checklists", runbook / "checklists")
    shutil.copy(REPO_ROOT / "mkdocs.yml", runbook / "mkdocs.yml")
    probe = (
        "import sys, runpy; sys.argv = ['runbook', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('generator', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        "heavy = {'generator.models', 'detect_secrets', 'generator.check.file_check',"
        " 'generator.check.loader', 'jinja2'}\n"
        "print('loaded:', sorted(heavy & set(sys.modules)))"
    )
    first, second = (
        subprocess.run(
            [sys.executable, "-c", probe, *command],
            cwd=runbook,
            env={**os.environ, "SOURCE_DATE_EPOCH": "1790000000"},  # one reference day
            capture_output=True,
            text=True,
            check=True,
        )
        for _ in range(2)
    )
    # The first run checked every record file.
    assert "generator.models" in first.stdout.splitlines()[-1]
    assert second.stdout.splitlines()[-1] == "loaded: []", second.stdout[-300:]


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
    """The pages the plugin gave MkDocs in the last build: its page cache, with the HTML it
    hid from Markdown unwrapped."""
    (pages,) = [
        folder
        for folder in (repo / ".runbook-cache").glob("pages-*")
        if folder.is_dir() and not folder.name.endswith("-keys.json")
    ]
    return {
        path.relative_to(pages).as_posix(): HIDDEN_HTML.sub(
            lambda hidden: hidden[1], path.read_text(encoding="utf-8")
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
        os.utime(runbook_repo / "records" / example.name)  # else the next build builds nothing
    assert events.read_text().splitlines() == [
        "startup build dirty=False",
        "shutdown",
        "startup build dirty=True",
        "shutdown",
    ]
