"""Text a writer has not filled in yet: what `runbook new` writes in a field it cannot fill,
and what validation refuses there (`[placeholder]`), defined once.

A draft is valid YAML as written, every required field present; each value the writer still
owes is `TODO: ` and the field's own description (models.py), so the draft's only errors are
placeholders, each at its line. Hand-written stand-ins are refused alike: TODO, TBD, FIXME,
XXX, `...`, `<...>`, `-`, a blank command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..models import ChangeRecord, Rollback

MARKER = "TODO"
# The stand-in words at the start of a value (`TODO: why`), in capitals: a title such as
# "Todo list archived" is text, not a placeholder.
_LEADING_WORD = re.compile(r"(?:TODO|TBD|FIXME|XXX)(?![\w-])")
# Whole values that say nothing: the words in any case, dashes, dots, question marks, <...>.
_WHOLE_VALUE = re.compile(r"(?i:todo|tbd|fixme|xxx|n/?a\?|-+|\.{2,}|…|\?+|<[^<>\n]*>)")
# The record's fields whose text is checked: its required fields, and expected_result, which
# `runbook new` also offers to fill. Notes of commands are remarks, not checked.
CHECKED_FIELDS = tuple(
    name
    for name, info in ChangeRecord.model_fields.items()
    if info.is_required() or name == "expected_result"
)
_UNCHECKED_KEYS = frozenset({"note", "tested"})


def draft_text(description: str) -> str:
    """The value `runbook new` writes for a field it cannot fill: `TODO: ` and the field's
    description (its `Markdown: ` prefix left out)."""
    return f"{MARKER}: {description.removeprefix('Markdown: ')}"


def is_placeholder(text: str) -> bool:
    """True when `text` is a stand-in for a value rather than the value."""
    stripped = text.strip()
    return not stripped or bool(_WHOLE_VALUE.fullmatch(stripped) or _LEADING_WORD.match(stripped))


def placeholders(data: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(location, text) of every placeholder in the checked fields of a record's data."""
    for name in CHECKED_FIELDS:
        yield from _walk(data.get(name), (name,))


def _walk(value: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        if is_placeholder(value):
            yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _UNCHECKED_KEYS:
                yield from _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index))


def field_name(loc: tuple[Any, ...]) -> str:
    """`rollback.commands[0].run` for ("rollback", "commands", 0, "run")."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    return name


def wanted(loc: tuple[Any, ...]) -> str:
    """What belongs at `loc`, from the field's description: "why the change was made"."""
    field = ChangeRecord.model_fields[loc[0]]
    if loc[0] == "rollback" and len(loc) > 1 and loc[1] in Rollback.model_fields:
        field = Rollback.model_fields[loc[1]]
    words = (field.description or str(loc[0])).removeprefix("Markdown: ").split(". ")[0]
    return words[:1].lower() + words[1:].rstrip(".")
