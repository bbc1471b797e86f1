"""A serve rebuild that never raises: a failed rebuild is reported and the last site stays.

MkDocs' server holds every page request until a rebuild succeeds. `runbook serve` (serve.py)
wraps its builder in this and shows the failure in a banner; the plugin wraps plain
`mkdocs serve`'s builder too (there the diagnostics stay in the terminal). Wrapping is done
once: a builder that survives failures already is kept as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
