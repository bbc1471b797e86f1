"""`runbook init` as a team meets it: in a new repository (home page, About, nav, workflows
that validate against GitHub's schema and pin this version) and in an existing MkDocs
repository (the plugin added in place, or the exact lines printed and `build` refusing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from cli_run import run_cli
from git_repos import git, new_repository

from generator.config import parse_settings

VENV_BIN = Path(sys.executable).parent
EPOCH = "1798761600"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return new_repository(tmp_path / "ops-runbook", branch="trunk")


def built_pages(repo: Path) -> set[str]:
    return {p.parent.relative_to(repo / "site").as_posix() for p in repo.glob("site/**/index.html")}


def test_a_new_runbook_opens_on_recent_changes_with_an_about_page_and_a_nav(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:Acme/ops-runbook.git")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    config = parse_settings((repo / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_url"] == "https://acme.github.io/ops-runbook/"
    nav = [next(iter(entry.items())) for entry in config["nav"]]
    assert nav[0] == ("Recent changes", "index.md")
    assert nav[-1] == ("About", "about.md")
    assert not (repo / "docs" / "index.md").exists()

    built = run_cli(repo, "build", "--strict", "-q", epoch=EPOCH)
    assert built.exit_code == 0, built.output
    home = (repo / "site" / "index.html").read_text(encoding="utf-8")
    assert "Keep a runbook of every change we ship" in home  # the starter record, listed
    tabs = [line for line in home.splitlines() if "md-tabs__link" in line]
    assert len(tabs) == len(nav)
    assert {"about", "timeline", "services", "changes/" + _starter_id(repo)} <= built_pages(repo)
    record = yaml.safe_load(next((repo / "records").rglob("*.yaml")).read_text("utf-8"))
    assert record["service"] == "ops-runbook" and record["owner"] == "Ada Lovelace"
    assert "runbook" not in record.get("tags", [])


def _starter_id(repo: Path) -> str:
    return next((repo / "records").rglob("*.yaml")).stem


def test_the_workflows_are_valid_github_workflows_pinned_to_this_version(repo: Path) -> None:
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    workflows = sorted((repo / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["runbook-check.yml", "runbook-publish.yml"]
    checked = subprocess.run(
        [
            str(VENV_BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflows),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    check, publish = (yaml.safe_load(w.read_text(encoding="utf-8")) for w in workflows)
    # the version that wrote it, from where it came (this checkout: the release on PyPI)
    pinned = f'pip install "runbook-generator=={version("runbook-generator")}"'
    for workflow in (check, publish):
        runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
        assert pinned in runs
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on"
    assert set(check[True]) == {"pull_request"}
    steps = check["jobs"]["validate"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert any("--changed" in s.get("run", "") and "sarif" in s.get("run", "") for s in steps)
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in steps)
    assert check["permissions"]["security-events"] == "write"

    assert publish[True]["push"]["branches"] == ["trunk"]  # the branch init ran on
    build_steps = publish["jobs"]["build"]["steps"]
    assert "runbook build --strict" in [s.get("run") for s in build_steps]
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact@") for s in build_steps)
    deploy = publish["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


@pytest.mark.parametrize(
    "existing",
    [
        "site_name: Team docs\ntheme:\n  name: material\n",
        "site_name: Team docs\ntheme:\n  name: material\nplugins:\n  - search\n  - tags\n"
        "# our plugins end here\nnav:\n  - Home: index.md\n",
        "site_name: Team docs\ntheme: {name: material}\nplugins: [search, tags]\n"
        "extra:\n  analytics: !ENV [ANALYTICS_KEY, none]\n",
        "site_name: Team docs\ntheme:\n  name: material\nplugins:\n  search: {}\n"
        "markdown_extensions:\n  - pymdownx.superfences:\n      custom_fences:\n"
        "        - name: mermaid\n          class: mermaid\n"
        "          format: !!python/name:pymdownx.superfences.fence_code_format\n",
    ],
    ids=["no-plugins", "block-list-and-nav", "flow-list-and-env", "mapping-and-python-tag"],
)
def test_init_in_an_existing_mkdocs_repository_adds_the_plugin_in_place(
    repo: Path, existing: str
) -> None:
    (repo / "mkdocs.yml").write_text(existing, encoding="utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "index.md").write_text("# Team docs\n", encoding="utf-8")
    (repo / ".gitignore").write_text("node_modules/\n", encoding="utf-8")
    result = run_cli(repo, "init", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    assert "updated mkdocs.yml" in result.stdout
    text = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    before, after = parse_settings(existing), parse_settings(text)
    assert {k: v for k, v in after.items() if k not in ("plugins", "nav")} == {
        k: v for k, v in before.items() if k not in ("plugins", "nav")
    }
    if "nav" in before:  # the runbook's pages: one section at the end of the team's nav
        assert after["nav"][:-1] == before["nav"]
        assert [next(iter(p.values())) for p in after["nav"][-1]["Runbook"]][:2] == [
            "changes/index.md",
            "timeline.md",
        ]
    names = [p if isinstance(p, str) else next(iter(p)) for p in after["plugins"]]
    assert "runbook" in names and "search" in names
    assert text.startswith(existing.split("plugins", 1)[0])  # untouched up to the plugins
    assert "# our plugins end here" in text or "# our plugins" not in existing
    assert (repo / "docs" / "index.md").read_text(encoding="utf-8") == "# Team docs\n"
    assert not (repo / ".github" / "workflows" / "runbook-publish.yml").exists()
    assert (repo / ".gitignore").read_text(encoding="utf-8").startswith("node_modules/\n")
    assert "/.site.*" in (repo / ".gitignore").read_text(encoding="utf-8")

    built = run_cli(repo, "build", "-q", epoch=EPOCH)
    assert built.exit_code == 0, built.output
    assert "changes/" + _starter_id(repo) in built_pages(repo)
    home = (repo / "site" / "index.html").read_text(encoding="utf-8")
    assert "Team docs" in home  # the team's own home page stays theirs
    assert 'href="changes/"' in home  # and Recent changes is in its navigation

    again = run_cli(repo, "init", epoch=EPOCH)
    assert "updated" not in again.stdout and "wrote" not in again.stdout


def test_init_prints_the_lines_when_it_cannot_edit_and_build_refuses_until_added(
    repo: Path,
) -> None:
    existing = "site_name: Team docs\nplugins:\nnav:\n  - index.md\n"
    (repo / "mkdocs.yml").write_text(existing, encoding="utf-8")
    result = run_cli(repo, "init", epoch=EPOCH)
    assert result.exit_code == 1
    assert "could not add the runbook plugin to mkdocs.yml" in result.stderr
    assert "plugins:\n  - search\n  - runbook\n" in result.stderr
    assert (repo / "mkdocs.yml").read_text(encoding="utf-8") == existing
    built = run_cli(repo, "build", epoch=EPOCH)
    assert built.exit_code == 2
    assert "does not enable the runbook plugin" in built.stderr
    assert not (repo / "site").exists()


def test_init_with_an_unreadable_mkdocs_yml_says_so_and_leaves_it(repo: Path) -> None:
    (repo / "mkdocs.yml").write_bytes(b"site_name: \xff\xfe Team\n")
    result = run_cli(repo, "init", epoch=EPOCH)
    assert result.exit_code == 1
    assert "cannot be read as UTF-8 text" in result.stderr
    assert (repo / "mkdocs.yml").read_bytes() == b"site_name: \xff\xfe Team\n"


def test_the_workflows_install_runbook_from_the_git_commit_it_was_installed_from(
    tmp_path: Path,
) -> None:
    """pip records where a package came from (direct_url.json): a team that installed
    runbook from its git repository gets workflows that install that very commit."""
    info = tmp_path / "site" / "runbook_generator-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: runbook-generator\nVersion: 0.1.0\n"
    )
    commit = "0123456789abcdef0123456789abcdef01234567"
    origin = {
        "url": "https://git.example.com/tools/runbook.git",
        "vcs_info": {"vcs": "git", "commit_id": commit},
    }
    (info / "direct_url.json").write_text(json.dumps(origin))
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r})\n"
        "from generator.authoring.scaffold import runbook_requirement\n"
        "print(runbook_requirement())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert (
        result.stdout.strip()
        == f"runbook-generator @ git+https://git.example.com/tools/runbook.git@{commit}"
    )


HAND_WRITTEN_NAV = """\
site_name: Team docs
theme:
  name: material
plugins:
  - search
# The order our readers know: keep it.
nav:
  - Home: index.md
  - Guides:
    - Deploying: guide.md  # the one everyone reads
  # more guides soon
extra:
  team: platform
"""


def test_init_puts_the_runbook_pages_in_one_section_at_the_end_of_a_hand_written_nav(
    repo: Path,
) -> None:
    (repo / "mkdocs.yml").write_text(HAND_WRITTEN_NAV, encoding="utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "index.md").write_text("# Team docs\n", encoding="utf-8")
    (repo / "docs" / "guide.md").write_text("# Deploying\n", encoding="utf-8")
    (repo / ".gitignore").write_text("site/\n", encoding="utf-8")
    assert run_cli(repo, "init", epoch=EPOCH).exit_code == 0
    text = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    head, tail = HAND_WRITTEN_NAV.split("extra:")
    assert text.startswith(head.replace("  - search\n", "  - search\n  - runbook\n"))
    assert text.endswith("extra:" + tail)  # comments, order and what follows survive
    section = parse_settings(text)["nav"][-1]["Runbook"]
    assert section[0] == {"Recent changes": "changes/index.md"}  # docs/ has its own home
    assert {"Rollback readiness": "rollback-readiness.md"} in section and len(section) == 10
    assert (repo / ".gitignore").read_text(encoding="utf-8").count("site/") == 1
    assert "/.site.*" in (repo / ".gitignore").read_text(encoding="utf-8")
    built = subprocess.run(
        [VENV_BIN / "mkdocs", "build"], cwd=repo, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    assert "not included in the" not in built.stderr


def test_a_hand_written_nav_without_the_pages_gets_them_in_a_runbook_section_silently(
    runbook_repo: Path,
) -> None:
    """Plugin added by hand, nav left as it was: the build puts the index pages in a Runbook
    section itself, and MkDocs does not call them left out of the nav."""
    (runbook_repo / "mkdocs.yml").write_text(
        HAND_WRITTEN_NAV.replace("  - search\n", "  - search\n  - runbook\n"), encoding="utf-8"
    )
    (runbook_repo / "docs").mkdir()
    (runbook_repo / "docs" / "index.md").write_text("# Team docs\n", encoding="utf-8")
    (runbook_repo / "docs" / "guide.md").write_text("# Deploying\n", encoding="utf-8")
    built = subprocess.run(
        [VENV_BIN / "mkdocs", "build"],
        cwd=runbook_repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
    )
    assert built.returncode == 0, built.stderr
    assert "not included in the" not in built.stderr
    page = (runbook_repo / "site" / "guide" / "index.html").read_text(encoding="utf-8")
    navigation = page[page.index("md-nav--primary") :]
    runbook_at = navigation.index("Runbook")
    assert navigation.index("Deploying") < runbook_at < navigation.index("Rollback readiness")
    assert 'href="../timeline/"' in navigation[runbook_at:]


@pytest.mark.parametrize(
    ("existing", "added"),
    [
        ("nav:\n- index.md\n", "nav:\n- index.md\n- Runbook:\n    - Timeline: timeline.md\n"),
        (
            "nav: [index.md]  # short\n",
            "nav: [index.md, {Runbook: [{Timeline: timeline.md}]}]  # short\n",
        ),
        ("nav:\n  - index.md\n  - Runbook:\n    - x.md\n", None),  # has one: left alone
        ("nav:\n  - Timeline: timeline.md\n", None),  # lists every page already
        ("site_name: x\n", None),  # no nav: MkDocs lists every page
    ],
)
def test_the_nav_edit_keeps_the_text_and_reads_as_the_nav_plus_the_section(
    existing: str, added: str | None
) -> None:
    from generator.authoring.mkdocs_yml import add_runbook_section

    edit = add_runbook_section(existing, [("Timeline", "timeline.md")])
    assert edit.text == added
