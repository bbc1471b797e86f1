"""Plain HTML hidden from Markdown (render/pages.py `_HtmlBlock`, unwrapped by the plugin's
sanitiser): Python-Markdown, with the extensions a runbook site uses, must pass it through
untouched, at the top level and inside a `markdown="1"` block, so that unwrapping gives the
page Markdown would have made of the HTML itself (inside such a block Markdown re-serialises
the HTML it parsed: the same elements, other line breaks between tags); HTML holding a
comment's end stays as it is.
"""

from __future__ import annotations

import re

import markdown

from generator.render.pages import HIDDEN_HTML, _HtmlBlock
from generator.site.mkdocs_config import REQUIRED_EXTENSIONS

EXTENSIONS = ["toc", "tables", "fenced_code", *REQUIRED_EXTENSIONS]
TABLE = (
    "<table>\n<tbody>\n"
    + "".join(
        f"<tr><td><a href='/changes/{n}/'>change {n}</a></td><td>a &amp; b</td></tr>\n"
        for n in range(50)
    )
    + "</tbody>\n</table>"
)


def page(html: str) -> str:
    return (
        f"# Title\n\nIntro *text*.\n\n{html}\n\n## After\n\n"
        f'<div class="box" markdown="1">\n\n{html}\n\n*inside*\n</div>\n'
    )


def converted(text: str) -> str:
    """The HTML Markdown makes of `text`, whitespace between tags aside."""
    html = markdown.Markdown(extensions=EXTENSIONS).convert(text)
    return re.sub(r">\s+<", "><", html)


def test_hidden_html_comes_back_as_markdown_would_have_left_it() -> None:
    hidden = _HtmlBlock(hide=True)(lambda: TABLE)
    assert hidden.startswith("<!-- runbook-html") and TABLE in hidden
    unwrapped = HIDDEN_HTML.sub(lambda match: match[1], converted(page(hidden)))
    assert unwrapped == converted(page(TABLE))
    assert "runbook-html" not in unwrapped and unwrapped.count("change 49") == 2


def test_html_holding_a_comment_end_and_other_engines_get_it_as_it_is() -> None:
    closing = "<p>a --> b</p>"
    assert _HtmlBlock(hide=True)(lambda: closing) == closing
    assert _HtmlBlock(hide=False)(lambda: TABLE) == TABLE
