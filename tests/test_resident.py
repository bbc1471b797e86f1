"""The resident validator answers `runbook validate` exactly as the command answers itself:
same output and exit status after every kind of change to the runbook, signals forwarded,
and anything amiss (a killed validator, a folder others can enter, CI) means running
in-process. Real processes throughout: the client, the validator it left, their socket."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_signals import processes_in, wait_for

from benchmarks.corpus import write_corpus
from generator.resident.address import address

RUNBOOK = [sys.executable, "-m", "generator"]
REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_ENV = {
    **{name: value for name, value in os.environ.items() if name != "CI"},
    "NO_MKDOCS_2_WARNING": "1",
    "SOURCE_DATE_EPOCH": "1798761600",
}


class Resident:
    """Runs `runbook` in a repository, with the validator's folder of its own."""

    def __init__(self, repo: Path, runtime: Path) -> None:
        self.repo = repo
        self.env = {**BASE_ENV, "XDG_RUNTIME_DIR": str(runtime), "RUNBOOK_RESIDENT": "1"}
        self.folder = runtime / f"runbook-{os.getuid()}"
        # A client that cannot import pydantic can only have been answered by a validator.
        self.poison = runtime.parent / "no-pydantic"
        self.poison.mkdir(exist_ok=True)
        (self.poison / "sitecustomize.py").write_text(
            "import sys\nsys.modules['pydantic'] = None\n"
        )

    def run(
        self, *args: str, resident: bool = True, cwd: Path | None = None, **env: str
    ) -> tuple[int, str, str]:
        environment = {**self.env, "RUNBOOK_RESIDENT": "1" if resident else "0", **env}
        done = subprocess.run(
            [*RUNBOOK, *args],
            cwd=cwd or self.repo,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr

    def fresh_copy(self, *args: str) -> tuple[int, str, str]:
        """`runbook ARGS` in-process in a copy of the repository with nothing kept: what the
        validator must answer, without sharing its results (a result kept for a file that
        has changed since would be found out)."""
        mirror = self.repo.with_name("mirror")
        shutil.rmtree(mirror, ignore_errors=True)
        ignore = shutil.ignore_patterns(".runbook-cache")
        shutil.copytree(self.repo, mirror, symlinks=True, ignore=ignore)
        return self.run(*args, resident=False, cwd=mirror)

    def answered(self, *args: str) -> tuple[int, str, str]:
        """`runbook ARGS` as only the validator can answer it (the client has no pydantic)."""
        return self.run(*args, PYTHONPATH=str(self.poison))

    def pids(self) -> list[int]:
        return [int(lock.read_text()) for lock in self.folder.glob("*.lock") if lock.read_text()]

    def listening(self) -> bool:
        return any(self.folder.glob("*.sock")) and bool(self.pids())

    def start(self, *args: str) -> tuple[int, str, str]:
        """The first run: in-process, leaving a validator behind."""
        first = self.run(*args)
        assert wait_for(self.listening, 30), "no resident validator started"
        assert wait_for(lambda: self.answered("validate", "--help")[0] == 0, 30)
        return first

    def stop(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


@pytest.fixture
def resident(tmp_path: Path) -> Iterator[Resident]:
    # A short folder: a socket's path has room for 107 bytes.
    runtime = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp")) / "run"
    runtime.mkdir(mode=0o700)
    repo = write_corpus(tmp_path / "repo", 60)
    helper = Resident(repo, runtime)
    yield helper
    helper.stop()
    shutil.rmtree(runtime.parent, ignore_errors=True)


def some_record(repo: Path, index: int = 0) -> Path:
    return sorted((repo / "records").rglob("*.yaml"))[index]


def test_a_second_run_is_answered_by_the_validator_the_first_left(resident: Resident) -> None:
    record = some_record(resident.repo)
    with record.open("a", encoding="utf-8") as stream:
        stream.write("rollback_plan: misspelt\nowner: [not, a, name]\n")
    first = resident.start("validate", str(record.relative_to(resident.repo)))
    assert first[0] == 1 and "error" in first[1]
    answer = resident.answered("validate", str(record.relative_to(resident.repo)))
    assert answer == first
    for args in (("validate", "--format", "json"), ("validate", "--strict"), ("validate", "-x")):
        assert resident.answered(*args) == resident.run(*args, resident=False), args
    in_process = resident.run("validate", "--help", resident=False)
    assert resident.run("validate", "--help", PYTHONPATH=str(resident.poison)) == in_process


def test_every_change_to_the_runbook_is_seen(resident: Resident) -> None:
    """After each edit, new file, new folder, removal, rename and symlink, the validator's
    answer equals a run of its own."""
    repo = resident.repo
    record = some_record(repo, 3)
    resident.start("validate", str(record))
    assert resident.answered("validate")[0] in (0, 1)  # the validator's baseline
    other = some_record(repo, 7)
    outside = repo.parent / "elsewhere.yaml"
    shutil.copy(some_record(repo, 9), outside)
    changes = [
        lambda: record.write_text(record.read_text() + "unknown_field: 1\n"),
        lambda: other.write_text(other.read_text().replace("service: ", "service: X", 1)),
        lambda: (repo / "records" / "copies").mkdir(),
        lambda: shutil.copy(record, repo / "records" / "copies" / record.name),  # duplicate id
        lambda: (repo / "records" / "new" / "deeper").mkdir(parents=True),
        lambda: shutil.copy(other, repo / "records" / "new" / "deeper" / other.name),
        lambda: os.symlink(outside, repo / "records" / "linked-record.yaml"),
        lambda: outside.write_text(outside.read_text() + "owner: 3\n"),  # through the link
        lambda: shutil.rmtree(repo / "records" / "new"),
        lambda: (repo / "records" / "copies" / record.name).rename(repo / "records" / "moved.yaml"),
        lambda: os.utime(other, ns=(0, 0)),
    ]
    paths = [str(path.relative_to(repo)) for path in (record, other)]
    for number, change in enumerate(changes):
        change()
        for args in (("validate", paths[0]), ("validate", paths[1]), ("validate",)):
            assert resident.answered(*args) == resident.fresh_copy(*args), (number, args)


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
def test_a_signal_reaches_the_command_and_the_validator_stays(
    resident: Resident, tmp_path: Path
) -> None:
    repo = resident.repo
    resident.start("validate")
    for record in sorted((repo / "records").rglob("*.yaml")):  # validation still running
        for copy in range(60):  # when the signal comes
            shutil.copy(record, record.with_name(f"{record.stem}-copy-{copy}.yaml"))
    environment = {**resident.env, "PYTHONPATH": str(resident.poison)}
    validate = subprocess.Popen(
        [*RUNBOOK, "validate"],
        cwd=repo,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # the client, the validator working in its folder, and the validation's workers
    assert wait_for(lambda: len(processes_in(repo)) > 2, 60), "no workers started"
    validate.send_signal(signal.SIGTERM)
    _, stderr = validate.communicate(timeout=30)
    assert validate.returncode == 128 + signal.SIGTERM, stderr.decode()
    assert "stopped by SIGTERM" in stderr.decode() and "Traceback" not in stderr.decode()
    assert wait_for(lambda: processes_in(repo) == [], 10), "a worker or the validator stayed"
    assert resident.answered("validate", str(some_record(repo)))[0] == 0


def test_a_killed_validator_is_replaced(resident: Resident) -> None:
    record = str(some_record(resident.repo))
    first = resident.start("validate", record)
    (killed,) = resident.pids()
    os.kill(killed, signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{killed}").exists(), 10)
    assert resident.run("validate", record) == first  # in-process, leaving a new one
    assert wait_for(lambda: resident.pids() not in ([], [killed]), 30)
    assert wait_for(lambda: resident.answered("validate", record) == first, 30)


def test_no_validator_where_it_is_not_wanted_or_not_private(resident: Resident) -> None:
    record = str(some_record(resident.repo))
    resident.folder.mkdir(mode=0o755)
    resident.folder.chmod(0o755)  # others could reach a socket here
    assert resident.run("validate", record)[0] == 0
    time.sleep(1)
    assert list(resident.folder.iterdir()) == []
    resident.folder.chmod(0o700)
    ci = {**resident.env, "CI": "true"}
    del ci["RUNBOOK_RESIDENT"]
    done = subprocess.run([*RUNBOOK, "validate", record], cwd=resident.repo, env=ci, check=False)
    assert done.returncode == 0
    time.sleep(1)
    assert list(resident.folder.iterdir()) == []


def test_a_stuck_validator_never_holds_up_the_command(resident: Resident) -> None:
    """A validator that takes the connection but never greets it (busy, or stuck): the
    client runs the command itself, once, and starts no second validator beside it."""
    record = str(some_record(resident.repo).relative_to(resident.repo))
    environment = {**resident.env, "PYTHONPATH": str(REPO_ROOT)}
    where = address(environment)
    assert where is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stuck:
        stuck.bind(where + ".sock")
        stuck.listen(8)
        with open(where + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            answer = resident.run("validate", record)
            assert answer == resident.fresh_copy("validate", record)
            assert answer[2].count("files checked") == 1
            time.sleep(1)
            assert sorted(path.name for path in resident.folder.iterdir()) == sorted(
                [Path(where).name + ".sock", Path(where).name + ".lock"]
            )
