"""What `runbook notify` has delivered, so that a second run sends nothing twice: one line per
accepted request in `.runbook-cache/notify-sent.jsonl`.

A line is `{"sink", "destination", "event", "digest"}`: the sink (`cdevents`, `pagerduty`),
where it went (the URL, and for PagerDuty a fingerprint of the routing key, never the key),
the event's id (for people reading the file) and the SHA-256 of what was sent without its
credential. A request whose sink, destination and digest are on a line is not sent again; an
edited record whose event changed is (its digest is new).

Lines are appended, one per accepted request, as soon as the server accepted it: a run
interrupted halfway keeps what it sent. A line cut short by a crash, or any line that is not
one of ours, is skipped when read: at worst that event is sent once more, never lost. The file
is written through repository_files (inside the repository, never through a planted link).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ..check.cache import CACHE_FOLDER
from ..repository_files import open_own_file, read_regular_file

LEDGER_FILE = "notify-sent.jsonl"


def fingerprint(secret: str) -> str:
    """A short one-way digest of a credential: tells two routing keys apart in the ledger
    without holding either."""
    return hashlib.sha256(b"runbook notify\0" + secret.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Delivery:
    """One request a server accepted."""

    sink: str
    destination: str
    event: str
    digest: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.sink, self.destination, self.digest)


class SentLedger:
    """The ledger of one repository, read once when opened, appended to while open."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / CACHE_FOLDER / LEDGER_FILE
        self.skipped_lines = 0
        self._sent = self._read()
        self._descriptor: int | None = None

    def _read(self) -> set[tuple[str, str, str]]:
        try:
            data, _ = read_regular_file(self.path, follow_links=False)
        except FileNotFoundError:
            return set()
        sent = set()
        for line in data.splitlines():
            try:
                entry = json.loads(line)
                sent.add((entry["sink"], entry["destination"], entry["digest"]))
            except (ValueError, RecursionError, TypeError, KeyError):
                self.skipped_lines += 1
        return sent

    def holds(self, sink: str, destination: str, digest: str) -> bool:
        return (sink, destination, digest) in self._sent

    def add(self, delivery: Delivery) -> None:
        """Note a delivery, on disk at once."""
        if self._descriptor is None:
            self._descriptor = open_own_file(self.path, inside=self.root)
            end = os.lseek(self._descriptor, 0, os.SEEK_END)
            if end:
                os.lseek(self._descriptor, end - 1, os.SEEK_SET)
                if os.read(self._descriptor, 1) != b"\n":
                    os.write(self._descriptor, b"\n")  # after a line a crash cut short
                os.lseek(self._descriptor, 0, os.SEEK_END)
        line = json.dumps(
            {
                "sink": delivery.sink,
                "destination": delivery.destination,
                "event": delivery.event,
                "digest": delivery.digest,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        os.write(self._descriptor, line.encode("utf-8") + b"\n")
        self._sent.add(delivery.key)

    def __enter__(self) -> SentLedger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
