"""An aggregating runbook at scale: sync cost of unchanged and changed sources, and the build.

    python -m benchmarks.sources [--sources N] [--records N] [--folder DIR]

Each source is a git repository of the synthetic corpus (benchmarks/corpus.py). Prints the
seconds of: the first sync, a sync with no source changed (one ls-remote each), a sync after
one source gained one commit with one record, a full `runbook build` and a `--no-sync`
rebuild with nothing changed. Figures go to the report of the change, not RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from .corpus import write_corpus

RUNBOOK = str(Path(sys.executable).parent / "runbook")


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def _team(folder: Path, records: int, seed: int) -> Path:
    write_corpus(folder, records, seed=seed)
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "add", "-A")
    _git(folder, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "corpus")
    return folder


def _timed(org: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([RUNBOOK, *args], cwd=org, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"runbook {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=5)
    parser.add_argument("--records", type=int, default=600, help="records per source")
    parser.add_argument("--folder", type=Path, default=None)
    given = parser.parse_args()
    folder = given.folder or Path(tempfile.mkdtemp(prefix="runbook-sources-bench-"))
    teams = [
        _team(folder / f"team-{i}", given.records, seed=1000 + i) for i in range(given.sources)
    ]
    org = folder / "org"
    org.mkdir(exist_ok=True)
    sources = [{"name": team.name, "git": team.as_uri()} for team in teams]
    settings = {
        "site_name": "Organisation",
        "theme": {"name": "material"},
        "plugins": ["search", {"runbook": {"sources": sources}}],
    }
    (org / "mkdocs.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1798761600")
    figures = {"first sync": _timed(org, "sources", "sync")}
    figures["sync, nothing changed"] = _timed(org, "sources", "sync")
    record = next((teams[0] / "records").rglob("*.yaml"))
    shutil.copy(record, record.with_name("2099-01-01-one-more.yaml"))
    text = record.with_name("2099-01-01-one-more.yaml").read_text()
    record.with_name("2099-01-01-one-more.yaml").write_text(
        text.replace(text.split("date: ", 1)[1].split("\n", 1)[0], "2099-01-01", 1)
    )
    _git(teams[0], "add", "-A")
    _git(teams[0], "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "one more")
    figures["sync, one source one commit"] = _timed(org, "sources", "sync")
    figures["build (full)"] = _timed(org, "build", "-q", "--no-sync", "--full")
    figures["build --no-sync, nothing changed"] = _timed(org, "build", "-q", "--no-sync")
    total = given.sources * given.records
    print(f"{given.sources} sources x {given.records} records ({total}) in {folder}")
    for name, seconds in figures.items():
        print(f"  {name:34} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
