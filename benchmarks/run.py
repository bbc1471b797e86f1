"""`make bench`: measure runbook against its floors in one run and write benchmarks/RESULTS.md.

Every figure is a ratio of two things measured in the same run on the same files, so the
table reproduces on another machine within noise even where absolute seconds differ:

- validate (both cores) against the floor: reading and C-parsing the same files, one core;
- `runbook build` against `mkdocs build` of the very pages runbook generates, written out as
  plain Markdown (same theme, extensions and navigation), and the generator's own share;
- an incremental rebuild after adding one record, against a full build;
- peak memory, search index bytes per record, and search latency in headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from benchmarks.corpus import MKDOCS_YML, make_record_file, write_corpus
from generator.config import read_options
from generator.plugin import NAV_PAGES
from generator.site_config import MATERIAL_FEATURES, REQUIRED_EXTENSIONS, SEARCH_SEPARATOR
from generator.validate import discover, validate_runbook

HERE = Path(__file__).resolve().parent
WORK = HERE / "corpus"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "CI": "true", "SOURCE_DATE_EPOCH": "1790000000"}


@dataclass
class Timing:
    """Seconds of repeated runs of one measurement."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def __str__(self) -> str:
        low, high = min(self.samples), max(self.samples)
        return f"{self.median:.2f} s ({low:.2f}–{high:.2f}, n={len(self.samples)})"


def timed(function: Callable[[], object], repeats: int) -> Timing:
    timing = Timing()
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timing.samples.append(time.perf_counter() - start)
    return timing


def run_child(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process; fails loudly if it fails."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty child never blocks
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=log, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss


def c_parse_floor(files: list[str]) -> None:
    for path in files:
        with open(path, "rb") as stream:
            yaml.load(stream.read(), Loader=yaml.CSafeLoader)


def measure_validation(count: int, repeats: int) -> dict[str, object]:
    root = write_corpus(WORK / f"validate-{count}", count)
    files = discover(root / "records", recursive=True)
    options = read_options(str(root / "mkdocs.yml"))
    floor, ours = Timing(), Timing()
    for _ in range(repeats):  # interleaved, so drift hits both alike
        floor.samples += timed(lambda: c_parse_floor(files), 1).samples
        ours.samples += timed(lambda: validate_runbook(options, keep_records=False), 1).samples
    return {"records": count, "floor": floor, "validate": ours, "ratio": ours.median / floor.median}


def plain_mkdocs_project(root: Path, target: Path) -> None:
    """The generated pages as plain Markdown files in a project without the runbook plugin."""
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(
        [str(BIN / "runbook"), "render", "--out", str(target / "docs")],
        cwd=root,
        env=ENV,
        check=True,
        capture_output=True,
    )
    shutil.copy(HERE.parent / "templates" / "runbook.css", target / "docs" / "runbook.css")
    config = yaml.safe_load(MKDOCS_YML)
    config["nav"] = ["index.md", *NAV_PAGES]
    config["extra_css"] = ["runbook.css"]
    config["markdown_extensions"] = list(REQUIRED_EXTENSIONS)
    config["theme"]["features"] = list(MATERIAL_FEATURES)
    config["plugins"] = [{"search": {"separator": SEARCH_SEPARATOR}}]
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")


def measure_build(count: int, repeats: int) -> dict[str, object]:
    root = write_corpus(WORK / f"build-{count}", count)
    plain = WORK / f"plain-{count}"
    plain_mkdocs_project(root, plain)
    ours, engine = Timing(), Timing()
    peak_rss = 0
    for _ in range(repeats):
        seconds, rss = run_child([str(BIN / "runbook"), "build", "--full", "-q"], root)
        ours.samples.append(seconds)
        peak_rss = max(peak_rss, rss)
        seconds, _ = run_child([str(BIN / "mkdocs"), "build", "-q"], plain)
        engine.samples.append(seconds)
    index_bytes = (root / "site" / "search" / "search_index.json").stat().st_size
    return {
        "records": count,
        "runbook": ours,
        "mkdocs": engine,
        "share": max(0.0, (ours.median - engine.median) / ours.median),
        "peak_rss_mib": peak_rss / 1024,
        "index_bytes_per_record": index_bytes / count,
        "root": root,
    }


def measure_incremental(root: Path, count: int, full: Timing) -> dict[str, object]:
    """Add one record that shares files with existing ones; rebuild; check affected pages."""
    new_id = make_record_file(root, count, count + 1)
    seconds, _ = run_child([str(BIN / "runbook"), "build", "-q"], root)
    site = root / "site"
    new_record = yaml.safe_load(next((root / "records").rglob(f"{new_id}.yaml")).read_text())
    checks = {
        "record page": (site / "changes" / new_id / "index.html").is_file(),
        "in search index": new_id in (site / "search" / "search_index.json").read_text(),
        "home lists it": new_id in (site / "index.html").read_text(),
        "service page lists it": any(
            new_id in p.read_text()
            for p in (site / "services").rglob("index.html")
            if new_record["service"] in p.read_text()
        ),
    }
    return {"seconds": seconds, "ratio": seconds / full.median, "checks": checks}


def measure_search_latency(root: Path) -> dict[str, float] | None:
    """Milliseconds to the first results in headless Chromium for what on-call people type:
    a file path, a command fragment, an owner and a service of a real record."""
    if not Path("/usr/bin/chromium").exists():
        return None
    from benchmarks.search_latency import search_latency_ms

    record = yaml.safe_load(next((root / "records").rglob("*.yaml")).read_text(encoding="utf-8"))
    queries = {
        "file path": record["files_touched"][0],
        "command fragment": "rollout undo",
        "owner": record["owner"],
        "service": record["service"],
    }
    return {
        f"{kind} `{query}`": search_latency_ms(root / "site", query)
        for kind, query in queries.items()
    }


def write_results(results: dict[str, object], path: Path) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {platform.node()} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), one run; times are medians with min–max and "
        "the number of runs.",
        "",
        "## Validation (target: at most 0.6 × the single-core C-parse floor at 10,000 records)",
        "",
        "| records | floor: read + C-parse, 1 core | runbook validate, 2 cores | ratio |",
        "|---:|---|---|---:|",
    ]
    for row in results["validation"]:
        lines.append(
            f"| {row['records']:,} | {row['floor']} | {row['validate']} | {row['ratio']:.2f} |"
        )
    lines += [
        "",
        "## Build (targets: generator share at most 5 %, t(5,000) / t(1,000) at most 5.5)",
        "",
        "| records | runbook build | mkdocs build of the same pages | generator share "
        "| peak RSS | search index per record |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for row in results["build"]:
        lines.append(
            f"| {row['records']:,} | {row['runbook']} | {row['mkdocs']} "
            f"| {row['share'] * 100:.1f} % | {row['peak_rss_mib']:.0f} MiB "
            f"| {row['index_bytes_per_record']:,.0f} B |"
        )
    builds = results["build"]
    if len(builds) == 2:
        growth = builds[1]["runbook"].median / builds[0]["runbook"].median
        small, large = builds[0]["records"], builds[1]["records"]
        lines += [
            "",
            f"Growth t({large:,}) / t({small:,}): **{growth:.2f}** "
            f"(linear would be {large / small:.1f}).",
        ]
    incremental = results.get("incremental")
    if incremental:
        checks = ", ".join(
            f"{name}: {'yes' if ok else 'NO'}" for name, ok in incremental["checks"].items()
        )
        lines += [
            "",
            "## Incremental rebuild after adding one record (target: at most 10 % of a full build)",
            "",
            f"{incremental['seconds']:.2f} s, **{incremental['ratio'] * 100:.1f} %** of the full "
            f"build. Affected pages correct: {checks}.",
        ]
    latency = results.get("search_latency_ms")
    largest_records = results["build"][-1]["records"]
    lines += ["", "## Search in headless Chromium (target: results in under 300 ms)", ""]
    if latency is None:
        lines.append("Not measured: no /usr/bin/chromium.")
    else:
        lines += [
            f"On the {largest_records:,}-record site, index loaded, query pasted at once; "
            "median of 5 page loads.",
            "",
            "| query | first results |",
            "|---|---:|",
        ]
        lines += [f"| {query} | {ms:.0f} ms |" for query, ms in latency.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke test)")
    args = parser.parse_args()
    validate_sizes, build_sizes, repeats = (
        ((200, 1000), (100, 500), 1) if args.quick else ((1000, 10000), (1000, 5000), 3)
    )
    results: dict[str, object] = {"validation": [], "build": []}
    for count in validate_sizes:
        results["validation"].append(measure_validation(count, repeats))
        print(f"validate {count}: {results['validation'][-1]['ratio']:.2f}", flush=True)
    for count in build_sizes:
        row = measure_build(count, repeats if count <= 1000 else max(1, repeats - 1))
        results["build"].append(row)
        print(f"build {count}: runbook {row['runbook']}, mkdocs {row['mkdocs']}", flush=True)
    largest = results["build"][-1]
    results["incremental"] = measure_incremental(
        largest["root"], largest["records"], largest["runbook"]
    )
    print(f"incremental: {results['incremental']['ratio'] * 100:.1f} %", flush=True)
    results["search_latency_ms"] = measure_search_latency(largest["root"])
    output = HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    write_results(results, output)
    print(output.read_text())


if __name__ == "__main__":
    main()
