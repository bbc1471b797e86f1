"""Stable, collision-free URL slugs for names people type (services, owners, tags, metrics).

Two names that differ only by case or Unicode form ("Billing" and "billing", "café" composed
and decomposed) must get different pages, never overwrite each other; and the same names must
always get the same URLs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by dashes; a hash when nothing ASCII is left."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60].strip("-")
    return slug or "x-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map each distinct name to a unique slug; clashes get -2, -3... in sorted name order.

    `index` is reserved: it is the URL of the listing page beside the named pages.
    """
    slugs: dict[str, str] = {}
    taken: set[str] = {"index"}
    for name in sorted(set(names)):
        base = slugify(name)
        slug, counter = base, 2
        while slug in taken:
            slug, counter = f"{base}-{counter}", counter + 1
        taken.add(slug)
        slugs[name] = slug
    return slugs


def anchor_for_path(path: str) -> str:
    """A short HTML id for a file path on the files page; stable across builds."""
    return "f-" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:10]
