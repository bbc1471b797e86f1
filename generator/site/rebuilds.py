"""A serve rebuild that never raises: a failed rebuild is reported and the last site stays.

MkDocs' server holds every page request until a rebuild succeeds. `runbook serve` (serve.py)
wraps its builder in this and shows the failure in a banner; the plugin wraps plain
`mkdocs serve`'s builder too (there the diagnostics stay in the terminal). Wrapping is done
once: a builder that survives failures already is kept as it is.

Plain `mkdocs serve` also empties its site folder at the start of every rebuild, before the
records are read: a broken record left nothing to serve, and every page answered 404. Its
rebuilds are staged beside the served folder instead (StagedRebuilds), which is replaced only
by a complete site.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.runbook.serve")

Problems = tuple[str, ...]


def _ignore(problems: Problems) -> None:
    pass


class SurvivingBuilder:
    """Calls the builder; a failure is logged and handed to `on_result`, success as ()."""

    def __init__(
        self, builder: Callable[..., Any], on_result: Callable[[Problems], None] = _ignore
    ) -> None:
        self.builder = builder
        self.on_result = on_result

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.builder(*args, **kwargs)
        except Exception as exc:  # anything a record, template or plugin can make a build raise
            self.on_result((str(exc),))
            log.error("runbook: rebuild failed; still serving the last good site")
        else:
            self.on_result(())


def surviving_failures(
    builder: Callable[..., Any], on_result: Callable[[Problems], None] = _ignore
) -> SurvivingBuilder:
    """`builder` made to survive failures, unless it does already."""
    if isinstance(builder, SurvivingBuilder):
        return builder
    return SurvivingBuilder(builder, on_result)


class StagedRebuilds:
    """Rebuilds of the folder a server serves, each into a folder beside it that replaces it
    only when the build is complete; a failed one is removed and the served site stays."""

    def __init__(self, served: Path) -> None:
        self.served = served
        self.staging: Path | None = None

    def redirect(self, config: Any) -> None:
        """Point a rebuild of the served folder (`config.site_dir`) at a new staging folder."""
        if Path(config.site_dir) != self.served:
            return
        self.discard()
        self.staging = Path(
            tempfile.mkdtemp(prefix=f".{self.served.name}.new-", dir=self.served.parent)
        )
        config.site_dir = str(self.staging)

    def swap_in(self) -> None:
        """The complete rebuild becomes the served folder (while the server holds requests
        for the rebuild, so none sees the swap)."""
        if self.staging is None:
            return
        retired = Path(tempfile.mkdtemp(prefix=f".{self.served.name}.old-", dir=self.served.parent))
        if self.served.exists():
            self.served.rename(retired / self.served.name)
        self.staging.chmod(0o755)
        self.staging.rename(self.served)
        self.staging = None
        shutil.rmtree(retired, ignore_errors=True)

    def discard(self) -> None:
        """Remove a rebuild that failed or was never finished."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
