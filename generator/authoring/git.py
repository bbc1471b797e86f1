"""What git already knows about a change: who the author is and which files it touched.

Every function answers None (or an empty result with a reason) instead of raising: `runbook
new` must work outside git, in shallow clones and with no commits, saying what it could not
prefill rather than failing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ChangedFiles:
    """Files a change touched, where they came from, and what could not be determined."""

    paths: list[str] = field(default_factory=list)
    source: str = ""
    note: str = ""


def _git_bytes(cwd: Path, *args: str) -> bytes | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _git(cwd: Path, *args: str) -> str | None:
    """Git's output as text (names, dates, ids); a byte that is not UTF-8 is replaced."""
    output = _git_bytes(cwd, *args)
    return None if output is None else output.decode("utf-8", "replace")


def _git_paths(cwd: Path, *args: str) -> list[str] | None:
    """The NUL-separated fields of a `git ... -z` command: paths as git gives them (never
    quoted, whatever core.quotePath says), each decoded as the file system's own names are
    (os.fsdecode), so a name that is not UTF-8 still opens the file it names."""
    output = _git_bytes(cwd, *args)
    if output is None:
        return None
    return [os.fsdecode(field) for field in output.split(b"\0") if field]


def _present_paths(fields: list[str]) -> list[str]:
    """The paths of `git diff --name-status -z` that exist after the change: STATUS NUL PATH,
    or for a rename or copy STATUS NUL OLD NUL NEW (the new one); a deleted file has
    nothing left to check."""
    paths, position = [], 0
    while position + 1 < len(fields):
        status = fields[position][:1]
        if status in ("R", "C"):
            paths += fields[position + 2 : position + 3]
            position += 3
        else:
            if status != "D":
                paths.append(fields[position + 1])
            position += 2
    return paths


def repository_root(cwd: Path) -> Path | None:
    """The top of the git work tree containing cwd, if any."""
    top = _git_bytes(cwd, "rev-parse", "--show-toplevel")
    return Path(os.fsdecode(top.removesuffix(b"\n"))) if top else None


def author(cwd: Path) -> str | None:
    """user.name from git config, else user.email."""
    for key in ("user.name", "user.email"):
        value = (_git(cwd, "config", "--get", key) or "").strip()
        if value:
            return value
    return None


def _lines(output: str | None) -> list[str]:
    return [line for line in (output or "").splitlines() if line.strip()]


def revision_exists(cwd: Path, revision: str) -> bool:
    """True when every end of a REV or A..B range resolves to a commit here."""
    ends = [end for end in revision.replace("...", "..").split("..") if end]
    return all(_git(cwd, "rev-parse", "--verify", "--quiet", f"{end}^{{commit}}") for end in ends)


def changed_files(cwd: Path, revision: str | None) -> ChangedFiles:
    """Staged files if any (and no revision was asked for), else those of REV or A..B; of a
    merge commit, those its merged branch brought in (the diff from its first parent)."""
    if repository_root(cwd) is None:
        return ChangedFiles(note="not inside a git repository: list files_touched by hand")
    if revision is None:
        staged = _git_paths(cwd, "diff", "--cached", "--name-only", "-z", "--no-renames")
        if staged:
            return ChangedFiles(staged, "staged changes")
        revision = "HEAD"
    if not revision_exists(cwd, revision):
        return ChangedFiles(note=f"git revision {revision!r} not found: list files_touched by hand")
    if ".." in revision:
        paths = _git_paths(cwd, "diff", "--name-only", "-z", "--no-renames", revision)
        return ChangedFiles(paths or [], f"git diff {revision}")
    parents = _lines(_git(cwd, "rev-list", "--parents", "-n", "1", revision))
    parent_count = len(parents[0].split()) - 1 if parents else 0
    shallow = (_git(cwd, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
    if parent_count == 0 and shallow:
        return ChangedFiles(
            note=f"shallow clone: the parent of {revision} is missing, so its files are unknown; "
            "fetch more history (git fetch --deepen=1) or list files_touched by hand"
        )
    if parent_count > 1:
        first_parent = f"{revision}^1"
        paths = _git_paths(cwd, "diff", "--name-only", "-z", "--no-renames", first_parent, revision)
        return ChangedFiles(
            paths or [],
            f"merge commit {revision}",
            note=f"{revision} is a merge commit: files_touched lists what its merged branches "
            f"brought in (git diff {first_parent} {revision}); name the branch's own commits "
            "with --from-git A..B for fewer",
        )
    paths = _git_paths(
        cwd, "diff-tree", "--root", "--no-commit-id", "--name-only", "-z", "-r", "--no-renames",
        revision,
    )  # fmt: skip
    return ChangedFiles(paths or [], f"commit {revision}")


@dataclass(frozen=True)
class ShippedCommit:
    """The commit a change shipped in: its id and when it was committed (the committer's
    time, with its offset)."""

    commit: str
    committed_at: dt.datetime


def shipped_commit(cwd: Path, revision: str) -> ShippedCommit | None:
    """The commit REV (the newer end of A..B) names, or None when git cannot say."""
    end = revision.replace("...", "..").split("..")[-1] or "HEAD"
    facts = (_git(cwd, "log", "-1", "--format=%H %cI", f"{end}^{{commit}}", "--") or "").split()
    if len(facts) != 2:
        return None
    try:
        moment = dt.datetime.fromisoformat(facts[1].replace("Z", "+00:00"))
    except ValueError:
        return None
    return ShippedCommit(facts[0][:12], moment)


def commit_subject(cwd: Path, revision: str) -> str | None:
    """The subject line of the commit REV names (the newer end of A..B), or None."""
    end = revision.replace("...", "..").split("..")[-1] or "HEAD"
    if not revision_exists(cwd, end):
        return None
    subject = _git(cwd, "log", "-1", "--format=%s", f"{end}^{{commit}}", "--")
    return subject.strip() if subject and subject.strip() else None


@dataclass
class ChangedSince:
    """Files changed since a revision (committed, staged or in the work tree), from the top."""

    root: Path
    paths: list[str] = field(default_factory=list)
    note: str = ""


def changed_files_since(cwd: Path, revision: str) -> ChangedSince:
    """Everything that differs from REV now and still exists (a renamed or copied file at
    its new path), plus untracked files; a note when REV is unknown or git fails."""
    root = repository_root(cwd)
    if root is None:
        return ChangedSince(cwd, note="not inside a git repository")
    if not revision_exists(cwd, revision):
        return ChangedSince(
            root, note=f"git revision {revision!r} not found (a shallow clone? fetch it first)"
        )
    changed = _git_paths(root, "diff", "--name-status", "-z", revision)
    untracked = _git_paths(root, "ls-files", "-z", "--others", "--exclude-standard")
    if changed is None or untracked is None:
        return ChangedSince(root, note=f"git could not list the files changed since {revision}")
    return ChangedSince(root, sorted(set(_present_paths(changed) + untracked)))


def _touched_files(fields: list[str]) -> list[tuple[str, ...]]:
    """Each file of `git diff --name-status -z` a change touched, by its names: (OLD, NEW)
    for a rename or copy, (PATH,) otherwise, a deleted file included."""
    files, position = [], 0
    while position + 1 < len(fields):
        count = 2 if fields[position][:1] in ("R", "C") else 1
        files.append(tuple(fields[position + 1 : position + 1 + count]))
        position += 1 + count
    return files


@dataclass
class PullRequest:
    """What a pull request since REV touched (each file by its names: a renamed one by both,
    a deleted one too) and the messages of its commits."""

    root: Path
    touched: list[tuple[str, ...]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    note: str = ""


def pull_request_since(cwd: Path, revision: str) -> PullRequest:
    """Files touched since REV (committed, staged, in the work tree, untracked) and the
    messages of the commits REV..HEAD; a note when git cannot say."""
    root = repository_root(cwd)
    if root is None:
        return PullRequest(cwd, note="not inside a git repository")
    if not revision_exists(cwd, revision):
        return PullRequest(root, note=f"git revision {revision!r} not found")
    changed = _git_paths(root, "diff", "--name-status", "-z", "--find-renames", revision)
    untracked = _git_paths(root, "ls-files", "-z", "--others", "--exclude-standard")
    messages = _git_bytes(root, "log", "-z", "--format=%B", f"{revision}..HEAD", "--")
    if changed is None or untracked is None or messages is None:
        return PullRequest(root, note=f"git could not list what changed since {revision}")
    text = [m.decode("utf-8", "replace") for m in messages.split(b"\0") if m.strip()]
    touched = sorted(set(_touched_files(changed)) | {(name,) for name in untracked})
    return PullRequest(root, touched, text)


def current_branch(cwd: Path) -> str | None:
    """The checked-out branch (also before the first commit), or None when detached."""
    name = (_git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD") or "").strip()
    return name or None


def origin_url(cwd: Path) -> str | None:
    """The fetch URL of the `origin` remote, if there is one."""
    url = (_git(cwd, "remote", "get-url", "origin") or "").strip()
    return url or None
