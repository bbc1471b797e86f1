"""A deterministic synthetic runbook of N records, shaped like a real team's.

Services, owners and files are reused with Zipf-like frequencies (a few hot files touched by
many changes, a long tail touched once), each record has 1-4 metrics and addresses every
item of the checklists it lists, and records are about 2 KB. The same N and seed always
give the same bytes, so runs are comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import shutil
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
MKDOCS_YML = """\
site_name: Synthetic runbook
theme:
  name: material
  font: false
plugins:
  - search
  - runbook
"""
VERBS = ["Raise", "Lower", "Cap", "Split", "Cache", "Index", "Retry", "Shard", "Pin", "Drop"]
NOUNS = ["upload buffer", "pool size", "query plan", "job timeout", "TLS config", "CDN rule",
         "worker count", "session store", "rate limit", "log level"]  # fmt: skip
FOLDERS = ["deploy/nginx", "deploy/k8s", "app/billing", "app/uploads", "app/search",
           "migrations", "infra/terraform", "jobs", "config", "web/static"]  # fmt: skip
METRICS = [
    ("p99 latency", "ms", "lower"),
    ("error rate", "%", "lower"),
    ("throughput", "req/s", "higher"),
    ("CPU", "%", "lower"),
    ("queue depth", "jobs", "lower"),
    ("cache hit ratio", "%", "higher"),
]
TAGS = ["performance", "reliability", "cost", "database", "edge", "jobs"]
SKIP_NOTE = "Covered by the platform team's **standard** setup."


class Zipf:
    """Pick from a population with probability proportional to 1 / rank**exponent."""

    def __init__(self, population: list[str], exponent: float) -> None:
        self.population = population
        self.cumulative = list(
            itertools.accumulate(1 / rank**exponent for rank in range(1, len(population) + 1))
        )

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.population, cum_weights=self.cumulative)[0]


def _checklists() -> dict[str, list[str]]:
    checklists = {}
    for path in sorted((REPO_ROOT / "checklists").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        checklists[path.stem] = [item["id"] for item in data["items"]]
    return checklists


def make_record(
    index: int, rng: random.Random, pools: dict[str, list[str]], checklists: dict[str, list[str]]
) -> dict:
    day = dt.date(2020, 1, 1) + dt.timedelta(days=index * 3 // 4)
    service = pools["services"].pick(rng)
    metrics = []
    for name, unit, better in rng.sample(METRICS, rng.randint(1, 4)):
        before = round(rng.uniform(10, 1000), 1)
        after = round(before * rng.uniform(0.4, 1.3), 1)
        metrics.append(
            {"name": name, "unit": unit, "before": before, "after": after, "better": better}
        )
    chosen = rng.sample(sorted(checklists), rng.randint(0, 2))
    statuses = {}
    for checklist_id in chosen:
        statuses[checklist_id] = {}
        for item in checklists[checklist_id]:
            roll = rng.random()
            skipped = {"status": "skipped", "note": SKIP_NOTE}
            statuses[checklist_id][item] = (
                "done" if roll < 0.8 else "n/a" if roll < 0.93 else skipped
            )
    verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
    files = sorted({pools["files"].pick(rng) for _ in range(rng.randint(1, 5))})
    return {
        "title": f"{verb} the {noun} of {service} (change {index})",
        "date": day,
        "owner": pools["owners"].pick(rng),
        "service": service,
        "status": rng.choice(["shipped", "verified", "verified", "rolled-back"]),
        "reason": (
            f"The {noun} of {service} was limiting us during the weekly peak: requests queued "
            "behind slow calls and the on-call engineer was paged twice. This change adjusts "
            "it after measuring a baseline on staging with production-like traffic.\n\n"
            "- measured with the standard load profile\n- compared against last week's peak\n"
        ),
        "expected_result": f"The {noun} no longer saturates at peak; the dashboards stay green.",
        "files_touched": files,
        "commands": [
            {
                "run": f"kubectl -n {service} apply -f deploy/k8s/{service}.yaml",
                "note": "rolling update",
            },
            f"ansible-playbook deploy/site.yml --limit {service} --tags {noun.replace(' ', '-')}",
            f"curl -fsS https://{service}.internal.example.com/healthz",
        ],
        "metrics": metrics,
        "rollback": {
            "plan": f"Revert the commit and re-apply the previous manifest of {service}; "
            "watch the error rate for ten minutes.",
            "commands": [
                f"git revert --no-edit HEAD && kubectl -n {service} rollout undo deploy/{service}"
            ],
            "tested": rng.random() < 0.8,
        },
        "checklists": statuses,
        "tags": sorted({rng.choice(TAGS) for _ in range(rng.randint(1, 3))}),
        "links": [
            {"title": f"PR {1000 + index}", "url": f"https://git.example.com/pr/{1000 + index}"}
        ],
        "reviewers": [pools["owners"].pick(rng)],
    }


def enlarge(record: dict, index: int) -> dict:
    """The same record as a long one (about 8 KB): a postmortem-sized reason, a script of
    commands, many files and metrics, as some teams write them."""
    paragraph = record["reason"]
    record["reason"] = paragraph + "".join(
        f"\n## Step {step}\n\n{paragraph}" for step in range(1, 13)
    )
    record["commands"] = record["commands"] + [
        f"kubectl -n ns-{index % 7} rollout status deploy/worker-{step} --timeout=120s"
        for step in range(16)
    ]
    record["files_touched"] = sorted(
        {*record["files_touched"], *(f"app/module-{index % 50}/part-{n}.py" for n in range(15))}
    )
    return record


def add_delivery(record: dict, index: int, previous: tuple[str, dict] | None) -> dict:
    """The record with what delivery performance counts: commit, rollout and shipping times,
    an incident on one in twenty, and the fix of the record before it when that one was
    rolled back (every other time; else `rollback.undone_by`). A Random of its own, so that
    the other fields are the bytes they are without it."""
    rng = random.Random(index)
    shipped = dt.datetime.combine(record["date"], dt.time(9), dt.timezone.utc) + dt.timedelta(
        minutes=rng.randint(0, 600)
    )
    record["started_at"] = shipped - dt.timedelta(minutes=rng.randint(5, 60))
    record["shipped_at"] = shipped
    record["committed_at"] = shipped - dt.timedelta(minutes=rng.randint(30, 10_000))
    if rng.random() < 0.05:
        opened = shipped + dt.timedelta(minutes=rng.randint(5, 120))
        incident = {"id": f"INC-{index}", "url": f"https://incidents.example.com/{index}"}
        incident["opened_at"] = opened
        if rng.random() < 0.9:
            incident["resolved_at"] = opened + dt.timedelta(minutes=rng.randint(10, 600))
        record["incidents"] = [incident]
    if previous is not None and previous[1]["status"] == "rolled-back":
        fixed_id, fixed = previous
        if index % 2 and fixed["date"] < record["date"]:
            other = fixed["service"] != record["service"]
            record["fixes"] = [{"id": fixed_id, "other_service": True} if other else fixed_id]
        else:
            fixed["rollback"]["undone_by"] = "The on-call ran the rollback commands."
    return record


def write_corpus(
    target: Path, count: int, seed: int = 20261122, *, large: bool = False, delivery: bool = False
) -> Path:
    """Write a runbook repository (mkdocs.yml, checklists/, records/) with `count` records,
    about 1.7 KB each, or 8 KB if `large`; with `delivery`, the fields DORA's keys are
    counted from too (add_delivery)."""
    if target.exists():
        shutil.rmtree(target)
    (target / "records").mkdir(parents=True)
    (target / "docs").mkdir()
    shutil.copytree(REPO_ROOT / "checklists", target / "checklists")
    (target / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    rng = random.Random(seed)
    pools = {
        "services": Zipf([f"service-{i:03d}" for i in range(max(8, count // 50))], 1.1),
        "owners": Zipf([f"Owner {i:03d}" for i in range(max(8, count // 40))], 1.1),
        "files": Zipf(
            [f"{rng.choice(FOLDERS)}/file-{i:05d}.conf" for i in range(max(20, count))], 0.9
        ),
    }
    checklists = _checklists()
    previous: tuple[str, dict] | None = None
    for index in range(count):
        record = make_record(index, rng, pools, checklists)
        if large:
            record = enlarge(record, index)
        record_id = f"{record['date'].isoformat()}-change-{index:05d}"
        if delivery:
            record = add_delivery(record, index, previous)
            if previous is not None:  # written once add_delivery may have added undone_by
                _write_record(target, *previous)
            previous = record_id, record
        else:
            _write_record(target, record_id, record)
    if previous is not None:
        _write_record(target, *previous)
    return target


def _write_record(target: Path, record_id: str, record: dict) -> None:
    folder = target / "records" / str(record["date"].year)
    folder.mkdir(exist_ok=True)
    text = yaml.dump(
        record, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=100
    )
    (folder / f"{record_id}.yaml").write_text(text, encoding="utf-8")


def make_record_file(root: Path, index: int) -> str:
    """Add one record to a corpus: the newest record's files, a day later; returns its id."""
    newest = max((root / "records").rglob("*.yaml"), key=lambda p: p.stem)
    record = yaml.safe_load(newest.read_text(encoding="utf-8"))
    record["date"] = record["date"] + dt.timedelta(days=1)
    record["title"] = f"Follow-up to change {index - 1}: tune it again"
    record_id = f"{record['date'].isoformat()}-change-{index:05d}"
    folder = root / "records" / str(record["date"].year)
    folder.mkdir(exist_ok=True)
    text = yaml.dump(record, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
    (folder / f"{record_id}.yaml").write_text(text, encoding="utf-8")
    return record_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument(
        "--delivery", action="store_true", help="with commit, rollout and incident times, fixes"
    )
    args = parser.parse_args()
    write_corpus(args.target, args.count, args.seed, delivery=args.delivery)
    print(json.dumps({"target": str(args.target), "records": args.count}))


if __name__ == "__main__":
    main()
