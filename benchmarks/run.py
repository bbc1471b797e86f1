"""`make bench`: measure runbook against its floors in one run and write benchmarks/RESULTS.md.

Every figure is a ratio of two things measured in the same run on the same files, so the
table reproduces on another machine within noise even where absolute seconds differ:

- validate (both cores) against the floor: reading and C-parsing the same files, one core,
  in-process and as a whole `runbook validate` process, on small and large records; and one
  record validated as the pre-commit hook does;
- `runbook build` against `mkdocs build` of the very pages runbook generates, written out as
  plain Markdown (same theme, extensions and navigation), and the generator's own share;
- an incremental rebuild after adding one record, against a full build;
- peak memory, search index bytes per record, and search latency in headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
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
from benchmarks.scale import current_section
from benchmarks.search_at_scale import measure_search_at_scale
from benchmarks.search_bundle import search_fragments
from generator.check.files import discover
from generator.check.validate import validate_runbook
from generator.config import read_options
from generator.render.settings import RenderSettings
from generator.render.site_pages import navigation_uris
from generator.site.mkdocs_config import MATERIAL_FEATURES, REQUIRED_EXTENSIONS
from generator.store.trust import CACHE_FOLDER

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


def run_child(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process; fails loudly if it fails."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty child never blocks
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env or ENV, stdout=log, stderr=log)
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


def measure_validation(count: int, repeats: int, *, large: bool = False) -> dict[str, object]:
    """The floor, validation in this process, and `runbook validate` as CI runs it: a whole
    process, its start-up included."""
    root = write_corpus(WORK / f"validate-{count}{'-large' if large else ''}", count, large=large)
    files = discover(root / "records", recursive=True)
    size = sum(os.path.getsize(path) for path in files) / len(files)
    options = read_options(str(root / "mkdocs.yml"))
    floor, ours, process = Timing(), Timing(), Timing()
    command = [str(BIN / "runbook"), "validate"]
    for _ in range(repeats):  # interleaved, so drift hits all alike
        floor.samples += timed(lambda: c_parse_floor(files), 1).samples
        ours.samples += timed(lambda: validate_runbook(options, keep_records=False), 1).samples
        forget_validation(root)  # cold, as in CI: nothing kept from the previous run
        process.samples.append(run_child(command, root)[0])
    return {
        "records": count,
        "size": size,
        "floor": floor,
        "validate": ours,
        "ratio": ours.median / floor.median,
        "process": process,
        "process_ratio": process.median / floor.median,
        "root": root,
    }


def forget_validation(root: Path) -> None:
    """Drop what `runbook validate` keeps between runs (the record store)."""
    shutil.rmtree(root / CACHE_FOLDER, ignore_errors=True)


def measure_one_record(root: Path, repeats: int) -> dict[str, object]:
    """`runbook validate FILE` on one record of a runbook, as the pre-commit hook runs it:
    cold (the first run in a clone), warm (the other records' results kept from the previous
    run, the record itself edited), beside the interpreter's own start-up."""
    record = max((root / "records").rglob("*.yaml"))
    command = [str(BIN / "runbook"), "validate", str(record)]
    cold, warm, python = Timing(), Timing(), Timing()

    def edit() -> None:
        with record.open("a", encoding="utf-8") as stream:
            stream.write("# edited\n")  # a new stamp: the record itself is checked again

    for _ in range(repeats):
        forget_validation(root)
        cold.samples.append(run_child(command, root)[0])
        edit()
        warm.samples.append(run_child(command, root)[0])
        python.samples.append(run_child([str(BIN / "python"), "-c", "pass"], root)[0])
    return {
        "cold": cold,
        "warm": warm,
        "python": python,
        "records": count_records(root),
    }


def count_records(root: Path) -> int:
    return len(discover(root / "records", recursive=True))


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
    config["nav"] = navigation_uris(RenderSettings())
    config["extra_css"] = ["runbook.css"]
    config["markdown_extensions"] = list(REQUIRED_EXTENSIONS)
    config["theme"]["features"] = list(MATERIAL_FEATURES)
    config["plugins"] = ["search"]
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")


def measure_build(count: int, repeats: int) -> dict[str, object]:
    """runbook build, plain mkdocs build of the same pages, and runbook's own steps alone.

    Runs are interleaved (runbook, mkdocs, render, runbook, ...) so that drift in the
    machine's speed hits all three alike.
    """
    root = write_corpus(WORK / f"build-{count}", count)
    plain = WORK / f"plain-{count}"
    plain_mkdocs_project(root, plain)
    ours, engine, own_steps = Timing(), Timing(), Timing()
    peak_rss = 0
    for _ in range(repeats):
        seconds, rss = run_child([str(BIN / "runbook"), "build", "--full", "-q"], root)
        ours.samples.append(seconds)
        peak_rss = max(peak_rss, rss)
        seconds, _ = run_child([str(BIN / "mkdocs"), "build", "-q"], plain)
        engine.samples.append(seconds)
        rendered = WORK / f"render-{count}"
        shutil.rmtree(rendered, ignore_errors=True)
        seconds, _ = run_child([str(BIN / "runbook"), "render", "--out", str(rendered)], root)
        own_steps.samples.append(seconds)
    bundle = root / "site" / "pagefind"
    index_bytes = sum(
        p.stat().st_size for p in bundle.rglob("*") if p.is_file() and "-ui" not in p.name
    )
    return {
        "records": count,
        "runbook": ours,
        "mkdocs": engine,
        "own_steps": own_steps,
        "share": (ours.median - engine.median) / ours.median,
        "own_share": own_steps.median / ours.median,
        "peak_rss_mib": peak_rss / 1024,
        "index_bytes_per_record": index_bytes / count,
        "root": root,
    }


def affected_pages_correct(root: Path, new_id: str) -> dict[str, bool]:
    """After adding record `new_id`: its page, search entry, home, service page and the
    related changes of the record it shares files with."""
    site = root / "site"
    new_record = yaml.safe_load(next((root / "records").rglob(f"{new_id}.yaml")).read_text())
    # make_record_file copies the files of the newest record, which must now list it.
    neighbour = max(p.stem for p in (root / "records").rglob("*.yaml") if p.stem < new_id)
    return {
        "record page": (site / "changes" / new_id / "index.html").is_file(),
        "in search index": f"changes/{new_id}/" in search_fragments(site),
        "home lists it": new_id in (site / "index.html").read_text(),
        "service page lists it": any(
            new_id in p.read_text()
            for p in (site / "services").rglob("index.html")
            if new_record["service"] in p.read_text()
        ),
        "related changes of a record sharing its files": new_id
        in (site / "changes" / neighbour / "index.html").read_text(),
    }


def measure_incremental(root: Path, count: int, full: Timing, repeats: int) -> dict[str, object]:
    """Add one record that shares files with the newest ones and rebuild; `repeats` times,
    one new record each, checking every affected page after each rebuild."""
    timing = Timing()
    checks: dict[str, bool] = {}
    for added in range(repeats):
        new_id = make_record_file(root, count + added)
        seconds, _ = run_child([str(BIN / "runbook"), "build", "-q"], root)
        timing.samples.append(seconds)
        for name, ok in affected_pages_correct(root, new_id).items():
            checks[name] = checks.get(name, True) and ok
    return {"timing": timing, "ratio": timing.median / full.median, "checks": checks}


SERVE_BUILT = re.compile(r"Documentation built in ([0-9.]+) seconds")


def measure_serve_rebuild(root: Path, count: int, full: Timing) -> dict[str, object]:
    """`runbook serve`: the rebuild after a record is added, as MkDocs reports it."""
    log_path = WORK / "serve.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(BIN / "runbook"), "serve", "-a", f"127.0.0.1:{port}"],
            cwd=root,
            env=ENV,
            stdout=log,
            stderr=log,
        )
        try:
            _wait_for_builds(log_path, 1)
            new_id = make_record_file(root, count + 100)
            seconds = _wait_for_builds(log_path, 2)
        finally:
            server.terminate()
            server.wait(timeout=60)
    (next((root / "records").rglob(f"{new_id}.yaml"))).unlink()
    return {"seconds": seconds, "ratio": seconds / full.median}


def _wait_for_builds(log_path: Path, builds: int, timeout: float = 900) -> float:
    """Wait until the serve log reports `builds` builds; the last one's seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reported = SERVE_BUILT.findall(log_path.read_text(encoding="utf-8", errors="replace"))
        if len(reported) >= builds:
            return float(reported[builds - 1])
        time.sleep(0.2)
    raise SystemExit(f"runbook serve did not finish build {builds}:\n{log_path.read_text()}")


def write_results(results: dict[str, object], path: Path) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` on {platform.node()} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), one run; times are medians with min–max and "
        "the number of runs.",
        "",
        "## Validation (targets: at most 0.7 × the single-core C-parse floor at 10,000 "
        "records, whole process, small and large; one record at most 0.45 s, no daemon)",
        "",
        "| records | mean size | floor: read + C-parse, 1 core | validation in-process, 2 cores "
        "| ratio | `runbook validate`, whole process (CI) | ratio |",
        "|---:|---:|---|---|---:|---|---:|",
    ]
    for row in results["validation"]:
        lines.append(
            f"| {row['records']:,} | {row['size'] / 1024:.1f} KiB | {row['floor']} "
            f"| {row['validate']} | {row['ratio']:.2f} | {row['process']} "
            f"| **{row['process_ratio']:.2f}** |"
        )
    one = results["one_record"]
    lines += [
        "",
        "The whole process includes start-up (imports) and the checklists, and nothing is kept "
        "from an earlier run (as in CI); the floor is parsing alone.",
        "",
        f"One record of the {one['records']:,}-record runbook (`runbook validate FILE`, as the "
        f"pre-commit hook runs it, whole process, the record itself edited before each run): "
        f"**{one['warm']}** when the other records' results are kept "
        f"from the previous run, {one['cold']} in a fresh clone (every record is read for the "
        f"cross-record checks); the interpreter alone starts in {one['python']}.",
    ]
    lines += [
        "",
        "## Build (targets: generator share at most 5 %, t(5,000) / t(1,000) at most 5.5)",
        "",
        "| records | runbook build | mkdocs build of the same pages | generator share "
        "| runbook's own steps alone | peak RSS | search index per record |",
        "|---:|---|---|---:|---|---:|---:|",
    ]
    for row in results["build"]:
        lines.append(
            f"| {row['records']:,} | {row['runbook']} | {row['mkdocs']} "
            f"| {row['share'] * 100:+.1f} % | {row['own_steps']} ({row['own_share'] * 100:.1f} %) "
            f"| {row['peak_rss_mib']:.0f} MiB | {row['index_bytes_per_record']:,.0f} B |"
        )
    lines += [
        "",
        "Generator share: (runbook build - mkdocs build) / runbook build. It is net: the plugin "
        "adds validation, indexing and rendering, and saves MkDocs work on the same pages (the "
        "big HTML tables of index pages skip Markdown parsing; record pages give search one "
        "entry without the metrics, checklists, links and related changes). runbook's own "
        "steps alone: `runbook render --out` (validate, index, render, write the Markdown), "
        "and its share of runbook build.",
    ]
    builds = results["build"]
    if len(builds) == 2:
        growth = builds[1]["runbook"].median / builds[0]["runbook"].median
        small, large = builds[0]["records"], builds[1]["records"]
        lines += [
            "",
            f"Growth t({large:,}) / t({small:,}): **{growth:.2f}** "
            f"(linear would be {large / small:.1f}).",
        ]
    largest_records = builds[-1]["records"]
    incremental = results.get("incremental")
    serve = results.get("serve")
    if incremental:
        checks = ", ".join(
            f"{name}: {'yes' if ok else 'NO'}" for name, ok in incremental["checks"].items()
        )
        lines += [
            "",
            "## Rebuild after adding one record (target: at most 10 % of a full build)",
            "",
            f"On the {largest_records:,}-record runbook, one new record sharing files with the "
            "newest ones, a new one each run.",
            "",
            "| rebuild | time | share of a full build |",
            "|---|---|---:|",
            f"| `runbook build` (incremental) | {incremental['timing']} "
            f"| **{incremental['ratio'] * 100:.1f} %** |",
        ]
        if serve:
            lines.append(
                f"| `runbook serve` (as MkDocs reports the rebuild) | {serve['seconds']:.2f} s "
                f"| **{serve['ratio'] * 100:.1f} %** |"
            )
        lines += ["", f"Affected pages correct after every rebuild: {checks}."]
    lines += [
        "",
        "## Search on a freshly opened page, headless Chromium (targets: first results within "
        "300 ms, max under 600 ms, at most 300 KiB fetched at 10,000 records; 30,000 no worse "
        "than 1.5 x; index build at most 10 % of the full build)",
        "",
    ]
    scale = results.get("search")
    if not scale:
        lines.append("Not measured: no /usr/bin/chromium.")
    else:
        lines += [
            "Each size is the 1,000-record site with the Pagefind bundle of that many records "
            "(benchmarks/search_at_scale.py says why). A new browser context per query (nothing "
            "cached); time from typing the whole query (the search box's input event) to the "
            "frame that first shows a result, timed in the page, median of 3 per query; "
            "bytes: every response since navigation start but the page, its styles, "
            "fonts, images and the theme's main bundle (the largest over the queries).",
            "",
            "| records | first results, median over queries | max | fetched for search "
            "| Pagefind index time |",
            "|---:|---:|---:|---:|---:|",
        ]
        for row in scale:
            lines.append(
                f"| {row['records']:,} | {row['median_ms']:.0f} ms | {row['max_ms']:.0f} ms "
                f"| {row['max_bytes'] / 1024:.0f} KiB | {row['index_s']:.2f} s |"
            )
        by_size = {row["records"]: row for row in scale}
        full = {row["records"]: row["runbook"].median for row in results["build"]}
        shares = [
            f"{by_size[n]['index_s'] / full[n] * 100:.1f} % at {n:,} records"
            for n in sorted(full)
            if n in by_size
        ]
        lines += [
            "",
            "Index build share of the full `runbook build`: " + ", ".join(shares) + " (Pagefind "
            "runs beside MkDocs while it renders pages, so the build's wall time grows by less).",
            "",
            "| records | query | first results | fetched |",
            "|---:|---|---:|---:|",
        ]
        for row in scale:
            for kind, m in row["queries"].items():
                lines.append(
                    f"| {row['records']:,} | {kind} `{m['query']}` | {m['ms']:.0f} ms "
                    f"| {m['bytes'] / 1024:.0f} KiB |"
                )
    scale = current_section(path)  # `make bench-scale` writes that section
    path.write_text("\n".join(lines) + "\n" + (f"\n{scale.rstrip()}\n" if scale else ""), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke test)")
    args = parser.parse_args()
    validate_sizes, build_sizes, repeats = (
        (((200, False), (1000, False), (500, True)), (100, 500), 1)
        if args.quick
        else (((1000, False), (10000, False), (10000, True)), (1000, 5000), 5)
    )
    results: dict[str, object] = {"validation": [], "build": []}
    for count, large in validate_sizes:
        results["validation"].append(measure_validation(count, repeats, large=large))
        row = results["validation"][-1]
        ratios = f"{row['ratio']:.2f}, {row['process_ratio']:.2f}"
        print(f"validate {count}: {ratios}", flush=True)
    one_record_root = results["validation"][1]["root"]  # 10,000 small records
    results["one_record"] = measure_one_record(one_record_root, 3 if args.quick else 7)
    print(f"one record: {results['one_record']['warm']}", flush=True)
    for count in build_sizes:
        row = measure_build(count, repeats if count <= 1000 else max(1, repeats - 3))
        results["build"].append(row)
        print(f"build {count}: runbook {row['runbook']}, mkdocs {row['mkdocs']}", flush=True)
    largest = results["build"][-1]
    root, count, full = largest["root"], largest["records"], largest["runbook"]
    results["incremental"] = measure_incremental(root, count, full, 1 if args.quick else 3)
    print(f"incremental: {results['incremental']['ratio'] * 100:.1f} %", flush=True)
    results["serve"] = measure_serve_rebuild(root, count, full)
    print(f"serve: {results['serve']['ratio'] * 100:.1f} %", flush=True)
    if Path("/usr/bin/chromium").exists():
        sizes = build_sizes if args.quick else (*build_sizes, 10000, 30000)
        base = results["build"][0]["root"] / "site"  # the smallest site
        results["search"] = measure_search_at_scale(base, WORK, sizes)
    output = HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    write_results(results, output)
    print(output.read_text())


if __name__ == "__main__":
    main()
