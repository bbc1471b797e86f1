"""Console logging for commands that run MkDocs: diagnostics print as they are, plain lines.

MkDocs logs through the `mkdocs` logger and leaves the handler to its own CLI; when runbook
drives a build, this is that handler.
"""

from __future__ import annotations

import logging

import click


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name.startswith("mkdocs.plugins.runbook"):
            return message  # already PATH:LINE:COL: severity: message [code]
        return f"{record.levelname:<8}- {message}"


class _ClickHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def setup_logging(*, quiet: bool) -> None:
    """Send MkDocs' log to stderr: INFO and up, or WARNING and up when quiet."""
    logger = logging.getLogger("mkdocs")
    for handler in list(logger.handlers):
        if isinstance(handler, _ClickHandler):
            logger.removeHandler(handler)
    handler = _ClickHandler()
    handler.setFormatter(_ConsoleFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
