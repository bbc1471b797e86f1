"""`make bench-scale`: runbook at 20,000 and 100,000 records, and its "Scale" section of
benchmarks/RESULTS.md (the other sections are `make bench`'s).

For each size, whole processes as a user runs them:

- `runbook validate` cold: nothing kept (a fresh clone, or CI);
- `runbook validate FILE` warm, as the pre-commit hook runs it: the record edited before each
  run, the other records' results kept in the record store;
- `runbook dora` over every record, as JSON;
- `runbook list --since` over the runbook's last week (the synthetic records run from 2020 into
  the future, so "last week" is the week before the newest record);
- `runbook build`: a full build, a rebuild with no change, a rebuild after adding one record
  and after editing one, and search's first results on the built site (as `make bench`
  measures them: a freshly opened page in headless Chromium);

with the peak resident memory of each. `--build-sizes` names the sizes whose builds are
measured (they take most of the time: a full build of 100,000 records takes tens of
minutes). `--runbook PATH` measures another installation (the same figures before a change)
and `--json FILE` writes them there instead of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.corpus import make_record_file, write_corpus

HERE = Path(__file__).resolve().parent
WORK = HERE / "corpus"
RESULTS = HERE / "RESULTS.md"
HEADING = "## Scale"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "CI": "true", "SOURCE_DATE_EPOCH": "1790000000"}
SIZES = (20_000, 100_000)


def run_child(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process and the children it waited for."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty child never blocks
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=log, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: problems found, still a run
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss


def corpus(count: int) -> tuple[Path, float]:
    """The synthetic runbook of `count` records (made once, kept under benchmarks/corpus/)
    and the seconds it took to write (0 when it was there already)."""
    root = WORK / f"scale-{count}"
    marker = root / ".complete"
    if marker.is_file():
        return root, 0.0
    start = time.perf_counter()
    write_corpus(root, count)
    marker.write_text(str(count), encoding="utf-8")
    return root, time.perf_counter() - start


def measure(runbook: str, count: int, repeats: int, *, build: bool) -> dict[str, object]:
    root, written = corpus(count)
    records = sorted((root / "records").rglob("*.yaml"), key=lambda path: path.name)
    newest = records[-1]
    since = (dt.date.fromisoformat(newest.name[:10]) - dt.timedelta(days=6)).isoformat()
    shutil.rmtree(root / ".runbook-cache", ignore_errors=True)
    cold = run_child([runbook, "validate"], root)
    one, one_rss = [], []
    for _ in range(repeats):
        with newest.open("a", encoding="utf-8") as stream:
            stream.write("# edited\n")  # a new stamp: the record itself is checked again
        seconds, rss = run_child([runbook, "validate", str(newest.relative_to(root))], root)
        one.append(seconds)
        one_rss.append(rss)
    listed, listed_rss = [], []
    for _ in range(repeats):
        seconds, rss = run_child([runbook, "list", "--since", since], root)
        listed.append(seconds)
        listed_rss.append(rss)
    dora = [run_child([runbook, "dora", "--format", "json"], root)[0] for _ in range(repeats)]
    python = [run_child([str(BIN / "python"), "-c", "pass"], root)[0] for _ in range(repeats)]
    store = root / ".runbook-cache" / "store.sqlite"
    return {
        "records": count,
        "corpus_seconds": written,
        "since": since,
        "cold": cold[0],
        "cold_rss": cold[1],
        "one": one,
        "one_rss": max(one_rss),
        "list": listed,
        "list_rss": max(listed_rss),
        "dora": dora,
        "python": python,
        "store_bytes": store.stat().st_size if store.is_file() else None,
        "build": measure_builds(runbook, root, count, repeats) if build else None,
    }


def measure_builds(runbook: str, root: Path, count: int, repeats: int) -> dict[str, object]:
    """Full build, no-change rebuild, add-one and edit-one rebuilds (each `repeats` times but
    the full one), and search's first results on the site."""
    from benchmarks.search_at_scale import first_results, queries_for

    full = run_child([runbook, "build", "--full", "-q"], root)
    unchanged = [run_child([runbook, "build", "-q"], root) for _ in range(repeats)]
    added, changed = [], []
    for index in range(repeats):
        make_record_file(root, count + 1000 + index)
        added.append(run_child([runbook, "build", "-q"], root))
        newest = max((root / "records").rglob("*.yaml"), key=lambda path: path.stem)
        edited = yaml.safe_load(newest.read_text(encoding="utf-8"))
        edited["title"] = f"Edited {index}, {edited['title']}"
        newest.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
        changed.append(run_child([runbook, "build", "-q"], root))
    record = yaml.safe_load(newest.read_text(encoding="utf-8"))
    searched = first_results(root / "site", queries_for(record))
    return {
        "full": full[0],
        "full_rss": full[1],
        "unchanged": [seconds for seconds, _ in unchanged],
        "added": [seconds for seconds, _ in added],
        "edited": [seconds for seconds, _ in changed],
        "rebuild_rss": max(rss for _, rss in unchanged + added + changed),
        "search_ms": statistics.median(m["ms"] for m in searched.values()),
        "search_max_ms": max(m["ms"] for m in searched.values()),
    }


def _median(samples: list[float]) -> str:
    low, high = min(samples), max(samples)
    return f"{statistics.median(samples):.2f} s ({low:.2f}–{high:.2f}, n={len(samples)})"


def section(rows: list[dict[str, object]]) -> str:
    lines = [
        f"{HEADING} (targets at 100,000 records: `runbook list --since` over the last week "
        "at most 0.5 s; one record validated as the pre-commit hook runs it at most 0.3 s; "
        "`runbook dora` at most 1 s; a rebuild with no change at most 5 s, after adding or "
        "editing one record at most 10 s; a full build at most 15 minutes and 3 GiB; no "
        "background process)",
        "",
        f"Measured by `make bench-scale` on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()}): whole processes, medians with min–max and the number "
        "of runs; peak RSS is the largest process of the run (workers included).",
        "",
        "| records | `runbook validate`, cold | peak RSS | `runbook validate FILE`, warm "
        "| peak RSS | `runbook list --since` (last week) | first `list` after the cold "
        "validate | peak RSS | `runbook dora` | store size |",
        "|---:|---|---:|---|---:|---|---:|---:|---|---:|",
    ]
    for row in rows:
        store = f"{row['store_bytes'] / 2**20:.0f} MiB" if row["store_bytes"] else "—"
        lines.append(
            f"| {row['records']:,} | {row['cold']:.1f} s | {row['cold_rss'] // 1024} MiB "
            f"| **{_median(row['one'])}** | {row['one_rss'] // 1024} MiB "
            f"| **{_median(row['list'][1:])}** | {row['list'][0]:.2f} s "
            f"| {row['list_rss'] // 1024} MiB "
            f"| **{_median(row['dora'])}** | {store} |"
        )
    built = [row for row in rows if row["build"]]
    if built:
        lines += [
            "",
            "| records | `runbook build`, full | peak RSS | rebuild, no change | add one record "
            "| edit one record | peak RSS of rebuilds | search, first results (median, max) |",
            "|---:|---|---:|---|---|---|---:|---|",
        ]
        for row in built:
            build = row["build"]
            lines.append(
                f"| {row['records']:,} | {build['full']:.0f} s | {build['full_rss'] // 1024} MiB "
                f"| **{_median(build['unchanged'])}** | **{_median(build['added'])}** "
                f"| **{_median(build['edited'])}** | {build['rebuild_rss'] // 1024} MiB "
                f"| {build['search_ms']:.0f} ms, {build['search_max_ms']:.0f} ms |"
            )
    python = [sample for row in rows for sample in row["python"]]
    lines += [
        "",
        "Cold: nothing kept (a fresh clone, or CI); it fills the record store "
        "(`.runbook-cache/store.sqlite`). Warm: the record edited before each run, the other "
        "records' results read from the store; the run lists again only the folders whose own "
        "stamp changed (`list` and `dora` stat every record file to notice changes). "
        "`list --since` takes the week before the newest record "
        f"({', '.join(str(row['since']) for row in rows)}). The interpreter alone starts in "
        f"{_median(python)}.",
        "",
        "The first `list` after the cold `validate` is shown apart: `validate` keeps no record "
        "data, so that `list` reads every valid record once; later ones read the store only. "
        "`dora` prints every service's months from its first deployment to its last, empty ones "
        "included: the synthetic records spread over many services and years (at 100,000, "
        "about 2,000 services over two centuries, 3.8 million rows), so its time is mostly "
        "counting and printing them. Sizes missing from the build table were not built "
        "(`--build-sizes`).",
    ]
    return "\n".join(lines) + "\n"


def _split(current: str) -> tuple[str, str, str]:
    """The text before the Scale section, the section, and the text after it."""
    before, found, after = current.partition(f"\n{HEADING}")
    if not found:
        return current, "", ""
    following = after.find("\n## ")
    end = following if following >= 0 else len(after)
    return before, found.lstrip("\n") + after[:end], after[end:]


def current_section(path: Path) -> str:
    """The Scale section of `path` as it is (`make bench` keeps it when it rewrites the file)."""
    return _split(path.read_text(encoding="utf-8"))[1] if path.is_file() else ""


def replace_section(path: Path, text: str) -> None:
    """Write `text` as the Scale section of `path`, in place of the one there, keeping the rest."""
    current = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    before, _, rest = _split(current)
    path.write_text(before.rstrip("\n") + "\n\n" + text + rest, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runbook", default=str(BIN / "runbook"), help="the runbook to measure")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here instead")
    parser.add_argument(
        "--build-sizes",
        type=int,
        nargs="*",
        default=None,
        help="the sizes whose builds are measured (default: every size; none: no builds)",
    )
    args = parser.parse_args()
    rows = []
    for count in args.sizes:
        built = args.build_sizes is None or count in args.build_sizes
        rows.append(measure(args.runbook, count, args.repeats, build=built))
        print(json.dumps(rows[-1]), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
        return
    replace_section(RESULTS, section(rows))
    print(section(rows))


if __name__ == "__main__":
    main()
