"""libyaml's event stream as compact tuples, for the loader's one walk over each record.

PyYAML's C parser turns each libyaml event into an instance of a class from yaml.events, whose
`__init__` is Python: for a small record that was a third of reading its events. The parser
finds those classes by name among its module's globals at each event, so while
`compact_events()` is active it builds a `YamlEvent`, a plain tuple, instead. The swap lasts
one record's walk, and a lock keeps runbook's own threads from overlapping. Another thread
reading the C parser's events during that walk would get tuples too; nothing in runbook, MkDocs
or Material does (their loaders compose nodes in C, which makes no event objects), and asking
each event which thread it is for cost half of what the swap saves. The test suite reads every
record through here: a PyYAML release that stops looking the classes up by name fails it.
"""

from __future__ import annotations

import threading
from typing import Any

import yaml
from yaml import _yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

# (kind, anchor, tag, value, plain, start mark): `kind` is the yaml.events class the event
# stands for, `value` a scalar's text, `plain` whether that scalar was unquoted (it may resolve to
# a number, date, boolean or null). A plain tuple, which the walk unpacks in one step: reading a
# named tuple's fields by name cost more than building PyYAML's objects saved.
YamlEvent = tuple[type, "str | None", "str | None", "str | None", bool, yaml.Mark]


def _scalar(
    anchor: str | None,
    tag: str | None,
    implicit: tuple[bool, bool],
    value: str,
    start_mark: yaml.Mark,
    end_mark: yaml.Mark,
    style: str | None,
) -> YamlEvent:
    return ScalarEvent, anchor, tag, value, implicit[0], start_mark


def _collection_start(kind: type) -> Any:
    def start(
        anchor: str | None,
        tag: str | None,
        implicit: bool,
        start_mark: yaml.Mark,
        end_mark: yaml.Mark,
        flow_style: bool | None,
    ) -> YamlEvent:
        return kind, anchor, tag, None, False, start_mark

    return start


def _alias(anchor: str, start_mark: yaml.Mark, end_mark: yaml.Mark) -> YamlEvent:
    return AliasEvent, anchor, None, None, False, start_mark


def _bare(kind: type) -> Any:
    """Stream, document and collection ends: only where they are matters."""

    def bare(start_mark: yaml.Mark, end_mark: yaml.Mark, *details: Any) -> YamlEvent:
        return kind, None, None, None, False, start_mark

    return bare


_COMPACT = {
    "ScalarEvent": _scalar,
    "MappingStartEvent": _collection_start(MappingStartEvent),
    "SequenceStartEvent": _collection_start(SequenceStartEvent),
    "AliasEvent": _alias,
    **{
        kind.__name__: _bare(kind)
        for kind in (
            MappingEndEvent,
            SequenceEndEvent,
            StreamStartEvent,
            StreamEndEvent,
            DocumentStartEvent,
            DocumentEndEvent,
        )
    },
}
_PYYAML = {name: getattr(_yaml, name) for name in _COMPACT}
_parser_globals = vars(_yaml)
_swap_lock = threading.Lock()


class _CompactEvents:
    """The swap as a plain context manager: a generator-based one cost more than the swap."""

    def __enter__(self) -> None:
        _swap_lock.acquire()
        _parser_globals.update(_COMPACT)

    def __exit__(self, *exception: object) -> None:
        _parser_globals.update(_PYYAML)
        _swap_lock.release()


_COMPACT_EVENTS = _CompactEvents()


def compact_events() -> _CompactEvents:
    """While active, the C parser returns `YamlEvent`s; another thread entering waits."""
    return _COMPACT_EVENTS
