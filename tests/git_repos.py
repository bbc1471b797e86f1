"""Real git repositories for the authoring tests: what `runbook new` and `init` read."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo`; its output, or CalledProcessError."""
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def new_repository(folder: Path, *, branch: str = "main", user: str = "Ada Lovelace") -> Path:
    """An empty repository in `folder` whose commits are by `user`."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", branch)
    git(folder, "config", "user.name", user)
    git(folder, "config", "user.email", f"{user.split()[0].lower()}@example.com")
    return folder
