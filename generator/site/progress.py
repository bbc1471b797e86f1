"""Progress of long builds: "runbook: 2,500/5,000 pages" every tenth, on the MkDocs log.

Quiet under --quiet (the log is at WARNING then) and in CI, where progress lines are noise.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("mkdocs.plugins.runbook.progress")
MIN_PAGES_FOR_PROGRESS = 500


class BuildProgress:
    """Counts rendered pages and logs at each tenth of the total."""

    def __init__(self, total: int, *, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.step = max(1, total // 10)
        in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
        self.enabled = enabled and not in_ci and total >= MIN_PAGES_FOR_PROGRESS

    def advance(self) -> None:
        self.done += 1
        if self.enabled and (self.done % self.step == 0 or self.done == self.total):
            log.info(f"runbook: {self.done:,}/{self.total:,} pages rendered")
