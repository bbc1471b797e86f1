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


def anchor_for_path(path: str) -> str:
    """A short HTML id for a file path on the files page; stable across builds."""
    return "f-" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:10]
