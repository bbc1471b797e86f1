"""`runbook sources sync`: bring each git source of an aggregating runbook into the cache.

Per source: one `git ls-remote` answers which commit its ref (or the remote HEAD) is at. If
the cache holds that commit's checkout already, that is all. Otherwise the commit is fetched,
shallow and without blobs, into the source's one cache repository (made once, never cloned
again), and its files are checked out into a folder named by the commit (blobs come as the
checkout needs them). Path sources are read in place and need no sync.

Git runs with the user's own configuration, so credential helpers and SSH keys work; nothing
in mkdocs.yml can hold a password (config.SourceOption refuses one). Git may never prompt (a
missing credential fails), every command has a deadline and is killed with whatever it
started, and a URL is printed without its user part. A source that cannot be fetched keeps
the commit it had: the failure is recorded for the build to show.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from ..diagnostics import printable
from ..repository_files import make_folders
from ..source_cache import (
    COMMIT,
    checkout_folder,
    read_state,
    redacted,
    source_folder,
    write_state,
)
from ..source_options import SourceOption

GIT_TIMEOUT_SECONDS = 120.0
# git's own transports only: `ext::` would run a command named in a URL.
ALLOWED_PROTOCOLS = "file:git:http:https:ssh"


class SyncProblem(Exception):
    """Why one source could not be synced: one line, safe to print."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync did to one source."""

    name: str
    commit: str | None  # what the cache now holds (None: nothing)
    changed: bool = False
    problem: str | None = None

    def line(self) -> str:
        held = self.commit[:12] if self.commit else None
        if self.problem is not None:
            kept = f"keeping {held}" if held else "nothing synced yet: left out of the site"
            return f"{self.name}: cannot sync: {self.problem}; {kept}"
        return f"{self.name}: {'fetched' if self.changed else 'up to date at'} {held}"


def sync_sources(
    root: Path, sources: tuple[SourceOption, ...], *, timeout: float = GIT_TIMEOUT_SECONDS
) -> list[SyncResult]:
    """Sync every git source of the aggregate at `root`, one after another."""
    return [_sync(root, source, timeout) for source in sources if source.git is not None]


def _sync(root: Path, source: SourceOption, timeout: float) -> SyncResult:
    state = read_state(root, source.name)
    try:
        commit = _remote_commit(source, timeout)
        changed = not checkout_folder(root, source.name, commit).is_dir()
        if changed:
            commit = _fetch_and_check_out(root, source, commit, timeout)
    except (SyncProblem, OSError) as exc:
        problem = printable(redacted(str(exc)))
        write_state(root, source.name, replace(state, problem=problem))
        return SyncResult(source.name, state.commit, problem=problem)
    write_state(root, source.name, replace(state, commit=commit, problem=None))
    _remove_other_checkouts(root, source.name, {commit, state.good})
    return SyncResult(source.name, commit, changed=changed and commit != state.commit)


def _remote_commit(source: SourceOption, timeout: float) -> str:
    """The commit the source's ref names on the remote (a full commit id names itself)."""
    assert source.git is not None
    if source.ref is not None and COMMIT.fullmatch(source.ref):
        return source.ref
    wanted = source.ref or "HEAD"
    output = _git(["ls-remote", "--", source.git, wanted], timeout=timeout)
    refs = dict(reversed(line.split("\t", 1)) for line in output.splitlines() if "\t" in line)
    for name in (wanted, f"refs/heads/{wanted}", f"refs/tags/{wanted}^{{}}", f"refs/tags/{wanted}"):
        if COMMIT.fullmatch(refs.get(name, "")):
            return refs[name]
    raise SyncProblem(f"{redacted(source.git)} has no branch or tag {wanted!r}")


def _fetch_and_check_out(root: Path, source: SourceOption, commit: str, timeout: float) -> str:
    """Fetch `commit` into the source's cache repository and check it out; the commit
    checked out (the ref's, should it have moved since ls-remote)."""
    assert source.git is not None
    repository = source_folder(root, source.name) / "repo.git"
    if not (repository / "HEAD").is_file():
        make_folders(repository, inside=root)
        _git(["init", "--bare", "--quiet", str(repository)], timeout=timeout)
        for key, value in (
            ("core.repositoryformatversion", "1"),
            ("remote.origin.promisor", "true"),
            ("remote.origin.partialclonefilter", "blob:none"),
            ("extensions.partialClone", "origin"),
        ):
            _git(["config", key, value], cwd=repository, timeout=timeout)
    _git(["config", "remote.origin.url", source.git], cwd=repository, timeout=timeout)
    wanted = commit if source.ref is None or COMMIT.fullmatch(source.ref) else source.ref
    _git(
        ["fetch", "--quiet", "--depth=1", "--filter=blob:none", "--no-tags", "origin", wanted],
        cwd=repository,
        timeout=timeout,
    )
    fetched = _git(["rev-parse", "FETCH_HEAD^{commit}"], cwd=repository, timeout=timeout)
    commit = fetched.strip()
    target = checkout_folder(root, source.name, commit)
    if target.is_dir():
        return commit
    staging = target.with_name(f".{commit}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    make_folders(staging, inside=root)
    index = staging.with_name(f".{commit}.index")
    try:
        _git(
            ["--work-tree", str(staging), "checkout", "--force", commit, "--", "."],
            cwd=repository,
            timeout=timeout,
            extra_environment={"GIT_INDEX_FILE": str(index)},
        )
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        index.unlink(missing_ok=True)
    return commit


def _remove_other_checkouts(root: Path, name: str, kept: set[str | None]) -> None:
    """Keep the commit synced and the last good one; older checkouts only take space."""
    commits = source_folder(root, name) / "commits"
    for folder in commits.iterdir() if commits.is_dir() else ():
        if folder.name not in kept and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def _git(
    arguments: list[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    extra_environment: dict[str, str] | None = None,
) -> str:
    """Git's output; SyncProblem with its first fatal line (user parts hidden) if it fails
    or outlives `timeout`, in which case it is killed with every process it started."""
    environment = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",  # a missing credential fails instead of waiting for one
        "GCM_INTERACTIVE": "never",
        "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
        **(extra_environment or {}),
    }
    command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never"]
    try:
        process = subprocess.Popen(
            [*command, *arguments],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # no terminal to prompt on, and one group to kill
        )
    except OSError as exc:
        raise SyncProblem(f"cannot run git: {exc}") from exc
    try:
        output, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise SyncProblem(f"git {arguments[0]} took longer than {timeout:g} s") from None
    if process.returncode != 0:
        lines = [line for line in errors.decode("utf-8", "replace").splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        reason = (fatal or lines or [f"git {arguments[0]} failed"])[0].strip()
        raise SyncProblem(redacted(reason))
    return output.decode("utf-8", "replace")
