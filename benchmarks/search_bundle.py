"""Read what a built site's Pagefind bundle holds, the way its files store it.

Each record's fragment is gzip-compressed JSON behind Pagefind's "pagefind_dcd" signature:
reading them tells a test which records search can return and with which text and metadata,
without a browser.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

SIGNATURE = b"pagefind_dcd"


def search_fragments(site_dir: Path) -> dict[str, dict[str, Any]]:
    """Every indexed page's fragment (in any shard), by its URL without the leading "/"."""
    fragments = {}
    for path in (site_dir / "pagefind").glob("*/fragment/*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(SIGNATURE), path
        fragment = json.loads(data[len(SIGNATURE) :])
        fragments[fragment["url"].lstrip("/")] = fragment
    return fragments


# Pagefind numbers pages in the order its reader finishes them, which varies from run to run:
# these files hold those numbers (their names are hashes of their bytes). Fragments do not.
_PAGE_NUMBERED = re.compile(
    r"pagefind/[0-9a-f]+/(filter/[^/]+\.pf_filter|index/[^/]+\.pf_index"
    r"|pagefind\.[^/]+\.pf_meta|pagefind-entry\.json)"
)


def page_numbered(relative_path: str) -> bool:
    """Whether a site file is one of Pagefind's page-numbered files (see above)."""
    return _PAGE_NUMBERED.fullmatch(relative_path) is not None
