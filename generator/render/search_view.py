"""What search indexes of a record page: its text, without what nobody searches for.

Metrics, checklists, links and related changes are on every record page, but indexed they
would double the search index for nothing; the template's headings and the metadata labels
("Owner:", "Service:") are on every record and would make those words match all of them. The
view is rendered from the record itself (templates/_record_search.html.j2), never cut out of
the page's HTML, so an overridden record.md.j2 changes the page, not what search finds.
"""

from __future__ import annotations

from jinja2 import Environment

from ..models import SourcedRecord

SEARCH_VIEW_TEMPLATE = "_record_search.html.j2"


def record_search_html(environment: Environment, entry: SourcedRecord) -> str:
    """The HTML the search index is given for a record's page: one entry, no heading ids."""
    return environment.get_template(SEARCH_VIEW_TEMPLATE).render(entry=entry, record=entry.record)
