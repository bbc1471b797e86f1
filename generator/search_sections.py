"""What Material's search index holds of a record page: one entry, without the sections
nobody searches for.

Metrics, checklists, links and related changes are on every record page, but nobody searches
for them: indexed, they would double the search index for nothing. And Material makes an
entry of every heading with an id; a query for a common word (a service, a folder) matches
every entry of every record, and the browser's work grows with the entries matched. One
entry per record halved the time to results on a 5,000-record site. The plugin shows the
search plugin this view of the page and puts the whole page back before it is written.
"""

from __future__ import annotations

import re

# Heading ids of the record page sections left out (see templates/record.md.j2).
UNSEARCHED_RECORD_SECTIONS = frozenset({"metrics", "checklists", "links", "related-changes"})
_SECTION_HEADING = re.compile(r'<h2 id="([^"]+)"')
_META_BOX = re.compile(r'<div class="rb-meta">.*?</div>', re.DOTALL)
_META_LABEL = re.compile(r"<strong>[^<]*:</strong> ?")
_RECORD_FILE = re.compile(r"<li><strong>Record:</strong>.*?</li>")
# Words every record page repeats: the template's headings and the rollback box's title
# (headings inside Markdown fields have no id and stay).
_BOILERPLATE = re.compile(
    r'<h2 id="[^"]*">.*?</h2>|<h3 class="rb-expected">.*?</h3>|<p class="admonition-title">.*?</p>',
    re.DOTALL,
)


def search_view(html: str) -> str:
    """The record page HTML as search sees it: one entry (no heading ids), without the
    unsearched sections, and without what every record repeats (headings, the metadata
    labels, the rollback box's title, the record's file name): "Owner:" and "Service:" on
    every record would make those words match every record, and the browser's work per
    query grows with the records matched and the text of each."""
    headings = [(match.start(), match.group(1)) for match in _SECTION_HEADING.finditer(html)]
    pieces = []
    position = 0
    for index, (start, section_id) in enumerate(headings):
        if section_id in UNSEARCHED_RECORD_SECTIONS:
            pieces.append(html[position:start])
            position = headings[index + 1][0] if index + 1 < len(headings) else len(html)
    pieces.append(html[position:])
    searched = _BOILERPLATE.sub("", "".join(pieces))
    return _META_BOX.sub(
        lambda box: _META_LABEL.sub("", _RECORD_FILE.sub("", box.group())), searched, count=1
    )
