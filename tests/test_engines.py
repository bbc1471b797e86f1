"""The plugin under both engines: MkDocs and ProperDocs (the drop-in fork of MkDocs 1.x).

`properdocs build` makes `mkdocs` an alias of the `properdocs` package before any plugin loads
(properdocs/replacement.py), so the plugin's `mkdocs.*` imports and Material's resolve to
ProperDocs whether or not MkDocs is installed. These tests build the demo runbook with each
engine, as a user runs it, and compare what they write; build each engine in an environment
that lacks the other; and check that a site built by another engine, or another version of
one, is not where `runbook build` starts an incremental build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import distribution, version
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO = ("mkdocs.yml", "records", "checklists", "docs", "templates")
SOURCE_DATE_EPOCH = "1798761600"
# The one line the engines write differently: Material's base.html names the engine in
# `mkdocs-{{ mkdocs_version }}`, which MkDocs sets to "1.6.1" and ProperDocs to
# "ProperDocs 1.6.7" (properdocs/commands/build.py).
GENERATOR_TAG = re.compile(rb'<meta name="generator" content="mkdocs-([^,"]+), mkdocs-material-')
ENGINE_IN_TAG = {"mkdocs": version("mkdocs"), "properdocs": f"ProperDocs {version('properdocs')}"}
MANIFEST = ".runbook-manifest.json"


def copy_demo(folder: Path) -> Path:
    """This repository's demo runbook, copied so that builds leave the checkout untouched."""
    folder.mkdir(parents=True)
    for name in DEMO:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy(source, folder / name)
    return folder


def run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
    return result


def command(name: str) -> Path:
    """An installed console script of this environment (`mkdocs`, `properdocs`)."""
    return Path(sys.executable).with_name(name)


def environment(
    folder: Path, *, without: str | None = None, relabel: tuple[str, str] | None = None
) -> Path:
    """A virtual environment holding this one's packages (linked, not installed) except the
    distribution `without`; `relabel` = (distribution, version) gives one of them another
    version in its metadata. Returns its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    where = [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    packages = Path(
        subprocess.run(where, capture_output=True, text=True, check=True).stdout.strip()
    )
    ours = Path(sysconfig.get_path("purelib"))
    left_out = set(top_level_entries(without)) if without else set()
    for entry in ours.iterdir():
        if entry.name not in left_out:
            (packages / entry.name).symlink_to(entry)
    if relabel:
        name, new_version = relabel
        dist_info = next(n for n in top_level_entries(name) if n.endswith(".dist-info"))
        (packages / dist_info).unlink()
        shutil.copytree(ours / dist_info, packages / dist_info)
        metadata = packages / dist_info / "METADATA"
        text = metadata.read_text(encoding="utf-8")
        text = re.sub(r"^Version: .*$", f"Version: {new_version}", text, count=1, flags=re.M)
        metadata.write_text(text, encoding="utf-8")
    return python


def top_level_entries(name: str) -> list[str]:
    """The files and folders a distribution put at the top of site-packages."""
    files = distribution(name).files or []
    return sorted({file.parts[0] for file in files if file.parts[0] != ".."})


def site_contents(site: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every file of a built site, by path, as it is compared across engines; and the engine
    names found in the pages' generator tags.

    Left out of the comparison, each for a reason that is not the engine's: the fingerprint in
    the manifest (it names the engine on purpose, see site/incremental.py) and the files inside
    each Pagefind bundle, whose chunks Pagefind names by hashes that differ from one run to the
    next of the same engine. The bundles are still compared by name: pagefind/shards.json and
    each bundle's folder are named by the digest of the search documents.
    """
    contents: dict[str, bytes] = {}
    engines: set[str] = set()
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(site).as_posix()
        data = path.read_bytes()
        if name.startswith("pagefind/") and name.count("/") > 1:
            contents["/".join(name.split("/")[:2]) + "/"] = b"a Pagefind bundle"
            continue
        if name == MANIFEST:
            manifest = json.loads(data)
            for what_built_it in ("fingerprint", "inputs", "folder"):
                assert manifest.pop(what_built_it)
            data = json.dumps(manifest, sort_keys=True).encode()
        elif name.endswith(".html"):
            engines.update(tag.decode() for tag in GENERATOR_TAG.findall(data))
            data = GENERATOR_TAG.sub(
                b'<meta name="generator" content="mkdocs-ENGINE, mkdocs-material-', data
            )
        contents[name] = data
    return contents, engines


def test_mkdocs_and_properdocs_build_the_same_pages(tmp_path: Path) -> None:
    """Every generated page (the records' under changes/, the index pages), every export
    (records.json, feed.xml, annotations.json) and every other file of the demo site is the
    same byte for byte, but for the generator tag that names the engine."""
    by_mkdocs = copy_demo(tmp_path / "mkdocs")
    by_properdocs = copy_demo(tmp_path / "properdocs")
    run([command("mkdocs"), "build", "-d", tmp_path / "mkdocs-site"], by_mkdocs)
    run(
        [command("properdocs"), "build", "-f", "mkdocs.yml", "-d", tmp_path / "properdocs-site"],
        by_properdocs,
    )

    mkdocs_site, mkdocs_engines = site_contents(tmp_path / "mkdocs-site")
    properdocs_site, properdocs_engines = site_contents(tmp_path / "properdocs-site")

    assert mkdocs_engines == {ENGINE_IN_TAG["mkdocs"]}
    assert properdocs_engines == {ENGINE_IN_TAG["properdocs"]}
    generated = set(json.loads(mkdocs_site[MANIFEST])["pages"].values())
    records = sorted((REPO_ROOT / "records").rglob("*.yaml"))
    assert {
        *(f"changes/{record.stem}/index.html" for record in records),
        *(f"{index}/index.html" for index in ("services", "owners", "files", "tags", "metrics")),
        *("index.html", "timeline/index.html", "records.json", "feed.xml", "annotations.json"),
    } <= generated
    assert generated <= set(mkdocs_site)  # all compared below, with every other file
    assert sorted(properdocs_site) == sorted(mkdocs_site)
    differing = [name for name in mkdocs_site if mkdocs_site[name] != properdocs_site[name]]
    assert differing == []


@pytest.mark.parametrize(("engine", "absent"), [("properdocs", "mkdocs"), ("mkdocs", "properdocs")])
def test_each_engine_builds_the_demo_without_the_other(
    tmp_path: Path, engine: str, absent: str
) -> None:
    """The build fingerprint reads the version of each engine that is installed: with only one
    of them, a build through the plugin completes and writes its manifest."""
    python = environment(tmp_path / "environment", without=absent)
    probe = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; m.version({absent!r})"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PackageNotFoundError" in probe.stderr, "the environment must lack " + absent
    demo = copy_demo(tmp_path / "demo")

    run([python, "-m", engine, "build", "-f", "mkdocs.yml", "-d", "built"], demo)

    site, engines = site_contents(demo / "built")
    assert engines == {ENGINE_IN_TAG[engine]}
    assert json.loads((demo / "built" / MANIFEST).read_text(encoding="utf-8"))["fingerprint"]
    for record in (REPO_ROOT / "records").rglob("*.yaml"):
        assert f"changes/{record.stem}/index.html" in site


def test_another_engine_or_engine_version_means_a_full_build(tmp_path: Path) -> None:
    """`runbook build` starts from the previous site only when the same engine, at the same
    version, built it: pages it does not rebuild would keep the other's output."""
    demo = copy_demo(tmp_path / "demo")
    runbook = ["-m", "generator", "build"]

    record = next((demo / "records").rglob("*.yaml"))
    assert "site built in full" in run([sys.executable, *runbook], demo).stderr
    os.utime(record)  # else nothing changed, and nothing is built
    assert "site built incrementally" in run([sys.executable, *runbook], demo).stderr

    # The same versions installed, another engine running.
    run([command("properdocs"), "build", "-f", "mkdocs.yml"], demo)
    assert "site built in full" in run([sys.executable, *runbook], demo).stderr

    newer_mkdocs = environment(tmp_path / "newer-mkdocs", relabel=("mkdocs", "1.6.99"))
    assert "site built in full" in run([newer_mkdocs, *runbook], demo).stderr
    os.utime(record)
    assert "site built incrementally" in run([newer_mkdocs, *runbook], demo).stderr
