"""What the commands that only read records do to start fast, and nothing else does.

`runbook validate` runs as a pre-commit hook on every commit, so its start-up is felt. Two
things cost a third of it and buy nothing there: detect-secrets' plugins import `requests`
(and urllib3, ssl, http, email) only to verify secrets online, which runbook never asks of
them; and pydantic scans every installed distribution's metadata for plugins when the first
model is built. Both switches are process-wide, so they are made only by the commands that run
no other package's code: never by `build`, `serve` or `mkdocs build`, where MkDocs' other
plugins must find `requests` and pydantic as they expect them.

Deferring an import: the standard library's `importlib.util.LazyLoader` cannot do this for a
module other code imports by name: the import statement itself reads `__spec__` of a module
already in `sys.modules`, which makes LazyLoader load it. A stand-in that answers `__spec__`
and loads the real module on the first other attribute does.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """Stands in for a module in sys.modules until an attribute of it is read: then the real
    module is imported, takes its place, and answers (for this reference too)."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def defer_import(name: str) -> None:
    """Until it is used, `import NAME` anywhere gets a stand-in and costs nothing."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


# The commands that read records and run nobody else's code in their process.
LIGHT_COMMANDS = frozenset({"validate", "list", "new", "schema"})


def start_light(command: str | None) -> None:
    """Make the start-up switches for `command` if it is one of LIGHT_COMMANDS."""
    if command not in LIGHT_COMMANDS:
        return
    defer_import("requests")
    # A setting of the user's own is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
