"""Runbooks for tests: one made by `runbook init`, and records written as a writer types them."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_run import run_cli

EPOCH = "1795000000"  # 2026-11-18: "today" for init's starter record


def initialised_runbook(tmp_path: Path) -> Path:
    """A runbook made by `runbook init`, its starter record as the template of the others."""
    root = tmp_path / "runbook"
    root.mkdir()
    assert run_cli(root, "init", epoch=EPOCH).exit_code == 0
    return root


def starter(repo: Path) -> Path:
    """The starter record (`shipped` moves it out of records/, as the template alone)."""
    kept = repo / "starter.yaml"
    return kept if kept.is_file() else next((repo / "records").rglob("*.yaml"))


def write_record(repo: Path, record_id: str, lines: str, **changes: object) -> Path:
    """A record made from the starter one: `changes` replace its fields, `lines` (raw YAML,
    exactly as a writer types it) follow its date."""
    data = yaml.safe_load(starter(repo).read_text(encoding="utf-8"))
    data.update(changes)
    data["date"] = record_id[:10]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    text = text.replace(f"date: '{record_id[:10]}'\n", f"date: {record_id[:10]}\n{lines}")
    path = repo / "records" / record_id[:4] / f"{record_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
