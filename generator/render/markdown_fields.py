"""Record Markdown (reason, expected result, rollback plan, checklist notes) to safe HTML.

Each field is converted on its own, with raw HTML switched off, and sanitised on its own, so
nothing in one field can reach the page around it: `<script>` in a reason shows as text, an
unclosed code fence or `<title>` stays inside its field, and `{: onclick=...}` is just text.
The result is one HTML block without blank lines, which any Markdown engine passes through
unchanged (CommonMark ends an HTML block at a blank line; code keeps its newlines as &#10;),
and its text is inert (escape.inert_html): a line of backticks or `--8<--` inside it is text
to every pass, not a fence or an include.
"""

from __future__ import annotations

import functools
import re

import markdown
from markdown.extensions import Extension
from markupsafe import Markup

from .escape import inert_html
from .sanitize import sanitize_html

_PRE_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _NoRawHtml(Extension):
    """Treat HTML in record text as text: records are data, never page markup."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


_converter = markdown.Markdown(
    extensions=[_NoRawHtml(), "tables", "sane_lists", "pymdownx.highlight", "pymdownx.superfences"],
    extension_configs={"pymdownx.highlight": {"guess_lang": False}},
)


@functools.lru_cache(maxsize=2048)
def markdown_to_html(text: str) -> str:
    """Sanitised HTML of one Markdown field, with no blank line in it."""
    _converter.reset()
    html = sanitize_html(_converter.convert(text))
    html = _PRE_BLOCK.sub(lambda match: match.group().replace("\n", "&#10;"), html)
    return inert_html(_BLANK_LINES.sub("\n", html).strip())


def markdown_field(text: str) -> Markup:
    """A Markdown field as its own sanitised HTML block, for a template."""
    return Markup(f'<div class="rb-text">\n{markdown_to_html(text)}\n</div>')
