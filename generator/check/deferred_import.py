"""Import a module only when something reads one of its attributes.

The standard library's `importlib.util.LazyLoader` cannot do this for a module other code
imports by name: the import statement itself reads `__spec__` of a module already in
`sys.modules`, which makes LazyLoader load it. A stand-in that answers `__spec__` and loads
the real module on the first other attribute does.
"""

from __future__ import annotations

import importlib
import importlib.util
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
