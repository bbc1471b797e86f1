"""Slugs for file names and anchors (page slugs of names: names.stable_slug)."""

from __future__ import annotations

import hashlib
import re
import unicodedata


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by dashes; a hash when nothing ASCII is left."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60].strip("-")
    return slug or "x-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


_PLAIN_PATH = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/-]{0,200}")


def anchor_for_path(path: str) -> str:
    """The HTML id of a file's history on its folder page: the path itself when it is plain
    (`files/deploy/#deploy/nginx/upload.conf`, readable in a shared link), else its slug and
    a digest (a space or a `#` would break the link); stable across builds."""
    if _PLAIN_PATH.fullmatch(path):
        return path
    return f"{slugify(path)[:50]}-{hashlib.sha1(path.encode('utf-8')).hexdigest()[:8]}"
