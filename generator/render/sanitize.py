"""The allow-list HTML sanitiser every generated page passes through after Markdown.

Escaping at render time is the first line; this is the one that holds whatever a Markdown
field, an extension or a template override lets through. It keeps what Material's markup
and our charts need (admonitions, highlighted code, tables, headings with permalinks,
details, inline SVG) and drops scripts, event handlers, styles, frames and non-http URLs.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img",
        "ins", "kbd", "li", "mark", "nav", "ol", "p", "pre", "s", "small", "span", "strong",
        "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
        "tr", "u", "ul",
        # inline charts
        "svg", "g", "rect", "line", "polyline", "circle", "text", "title",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "role", "aria-label", "aria-hidden", "aria-live"},
    # the timeline's data for its script (text only: a data attribute never runs)
    "div": {"data-root", "data-months", "data-services", "data-environments"},
    "li": {"data-service", "data-environment", "data-day", "data-time"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "data-label"},  # a stacked row's column name
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "time": {"datetime"},
    "details": {"open"},
    "svg": {"viewBox", "width", "height"},
    "rect": {"x", "y", "width", "height", "fill", "stroke", "stroke-width"},
    "line": {"x1", "y1", "x2", "y2", "stroke", "stroke-width", "stroke-dasharray"},
    "circle": {"cx", "cy", "r", "fill"},
    "polyline": {"points", "fill", "stroke", "stroke-width"},
    "text": {"x", "y", "fill", "font-size", "text-anchor"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


_CLEANER = nh3.Cleaner(  # built once: the allow-lists are compiled, not passed per call
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Keep only allow-listed markup; links get rel="noopener noreferrer"."""
    return _CLEANER.clean(html)
