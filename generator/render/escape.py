"""Escaping of plain record text for each place it lands in a generated page.

Plain text (titles, owners, services, paths, tags...) must show exactly as written and never
become markup: HTML-significant characters and the characters that start Markdown syntax
(including Material's extensions: emphasis, code, links, tables, attr_list braces, keys,
marks, emoji) are written as numeric character references, which every Markdown engine
passes through and every browser shows as the literal character.
"""

from __future__ import annotations

import functools
import json
import re

from markupsafe import Markup

_ENTITY_CHARACTERS = "&<>\"'\\`*_[]{}|~#+=^:$@"
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in _ENTITY_CHARACTERS})
_WHITESPACE = re.compile(r"\s+")
_LEADING_LIST_MARKER = re.compile(r"^(\d+)\.|^-")


@functools.lru_cache(maxsize=65536)  # services, owners and titles recur on many index pages
def escape_text(value: object) -> Markup:
    """Plain text for HTML and Markdown: text, list items, table cells, headings, attributes."""
    text = _WHITESPACE.sub(" ", str(value)).strip().translate(_ENTITIES)
    text = _LEADING_LIST_MARKER.sub(
        lambda m: f"{m.group(1)}&#46;" if m.group(1) else "&#45;", text, count=1
    )
    return Markup(text)


def fence(command: str, language: str = "shell") -> Markup:
    """A fenced code block longer than any backtick run inside the command."""
    longest = max((len(run) for run in re.findall(r"`+", command)), default=0)
    marker = "`" * max(3, longest + 1)
    return Markup(f"{marker}{language}\n{command.rstrip()}\n{marker}")


def front_matter_string(value: str) -> Markup:
    """A title or tag for YAML front matter, already HTML-safe (themes do not autoescape)."""
    return Markup(json.dumps(str(escape_text(value)), ensure_ascii=False))
