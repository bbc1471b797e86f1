"""Sections of record pages kept out of Material's search index.

Metrics, checklists, links and related changes are on every record page, but nobody searches
for them: indexed, they would double the search index (and the browser's work per query) for
nothing. The plugin shows Material's search plugin the page without them and puts the page
back before it is written.
"""

from __future__ import annotations

import re

# Heading ids of the record page sections left out (see templates/record.md.j2).
UNSEARCHED_RECORD_SECTIONS = frozenset({"metrics", "checklists", "links", "related-changes"})
_SECTION_HEADING = re.compile(r'<h2 id="([^"]+)"')


def searched_part(html: str) -> str:
    """The record page HTML without the unsearched sections (each up to the next h2)."""
    headings = [(match.start(), match.group(1)) for match in _SECTION_HEADING.finditer(html)]
    pieces = []
    position = 0
    for index, (start, section_id) in enumerate(headings):
        if section_id in UNSEARCHED_RECORD_SECTIONS:
            pieces.append(html[position:start])
            position = headings[index + 1][0] if index + 1 < len(headings) else len(html)
    pieces.append(html[position:])
    return "".join(pieces)
