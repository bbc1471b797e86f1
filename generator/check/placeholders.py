"""Text a writer has not filled in yet: what `runbook new` writes in a field it cannot fill,
and what validation refuses there (`[placeholder]`), defined once.

A draft is valid YAML as written, every required field present; each value the writer still
owes is `TODO: ` and the field's own description (models.py), so the draft's only errors are
placeholders, each at its line. Hand-written stand-ins are refused alike: TODO, TBD, FIXME,
XXX, `...`, `<...>`, `-`, a blank command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


# The characters either pattern can start with: every other value is text at a glance (most
# values are paths and commands, and every record's are checked).
_FIRST_CHARACTERS = frozenset("TtFfXxNn-.…?<")


def is_placeholder(text: str) -> bool:
    """True when `text` is a stand-in for a value rather than the value."""
    first = text[:1]
    if first and first not in _FIRST_CHARACTERS and not first.isspace():
        return False
    stripped = text.strip()
    if not stripped:
        return True
    return stripped[0] in _FIRST_CHARACTERS and bool(
        _WHOLE_VALUE.fullmatch(stripped) or _LEADING_WORD.match(stripped)
    )


def placeholders(data: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(location, text) of every placeholder in the checked fields of a record's data, in
    the order they are written."""
    found: list[tuple[tuple[Any, ...], str]] = []
    for name in CHECKED_FIELDS:
        _collect(data.get(name), (name,), found)
    return found


def _collect(value: Any, loc: tuple[Any, ...], found: list[tuple[tuple[Any, ...], str]]) -> None:
    """Add the placeholders under `value`; a location is built only for what is found, and
    for the few nested values (every record's strings are checked)."""
    if isinstance(value, str):
        if is_placeholder(value):
            found.append((loc, value))
        return
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        if key in _UNCHECKED_KEYS:
            continue
        if isinstance(item, str):
            if is_placeholder(item):
                found.append(((*loc, key), item))
        elif isinstance(item, dict | list):
            _collect(item, (*loc, key), found)


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
