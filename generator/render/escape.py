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

import pygments
from markupsafe import Markup
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer

_ENTITY_CHARACTERS = "&<>\"'\\`*_[]{}|~#+=^:$@"
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in _ENTITY_CHARACTERS})
_WHITESPACE = re.compile(r"\s+")
# Text of generated HTML: what Markdown or an extension could read as syntax (`<`, `>` and `&`
# are already references there).
_HTML_TEXT_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]{}|~#+=^:$@!%"})
_TAG_OR_TEXT = re.compile(r"<[^>]*>|&#?[0-9A-Za-z]+;|(?P<text>[^<&]+)|&")
_SHELL = BashLexer(stripnl=False)
_SPANS = HtmlFormatter(nowrap=True)
_LEADING_LIST_MARKER = re.compile(r"^(\d+)\.|^-")


@functools.lru_cache(maxsize=65536)  # services, owners and titles recur on many index pages
def escape_text(value: object) -> Markup:
    """Plain text for HTML and Markdown: text, list items, table cells, headings, attributes."""
    text = _WHITESPACE.sub(" ", str(value)).strip().translate(_ENTITIES)
    text = _LEADING_LIST_MARKER.sub(
        lambda m: f"{m.group(1)}&#46;" if m.group(1) else "&#45;", text, count=1
    )
    return Markup(text)


def data_json(value: object) -> Markup:
    """A value for a data attribute that a script reads with JSON.parse: the exact string
    (every space and no-break space kept, as JSON escapes, where `text` would fold them),
    inert to HTML and Markdown."""
    encoded = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return Markup(encoded.replace(" ", "\\u0020").translate(_ENTITIES))


def inert_html(html: str) -> str:
    """HTML whose text no Markdown pass can read as syntax: every character that starts
    Markdown or an extension's syntax (fences, emphasis, attr_list braces, snippets,
    admonitions, macros) in the text between tags becomes a numeric character reference.

    Generated pages go through the site's own Markdown engine with whatever extensions the
    site enabled; line-based ones (fenced code, pymdownx.snippets) run even inside HTML
    blocks, so a line of three backticks in a reason would open a fence over the rest of the
    page, and `--8<-- ".env"` in a command would include a file. Browsers show the same text.
    """
    return _TAG_OR_TEXT.sub(_inert_text, html)


def _inert_text(match: re.Match[str]) -> str:
    text = match.group("text")
    return match.group() if text is None else text.translate(_HTML_TEXT_ENTITIES)


@functools.lru_cache(maxsize=8192)
def fence(command: str) -> Markup:
    """A command as a highlighted code block, already HTML, with its exact text (the copy
    button copies it) and inert to any Markdown pass over the page (see inert_html)."""
    spans = pygments.highlight(command.rstrip(), _SHELL, _SPANS).replace("\n", "&#10;")
    return Markup(
        f'<div class="highlight"><pre><span></span><code>{inert_html(spans)}</code></pre></div>'
    )


def front_matter_string(value: str) -> Markup:
    """A title or tag for YAML front matter, already HTML-safe (themes do not autoescape)."""
    return Markup(json.dumps(str(escape_text(value)), ensure_ascii=False))
