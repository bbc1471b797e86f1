"""What the renderer needs to know about the site it renders for, made in one function.

Its own module: the page registry (site_pages) and the renderer (pages) both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import RunbookOptions


@dataclass(frozen=True)
class RenderSettings:
    """What the renderer needs to know about the site it renders for."""

    home_uri: str = "index.md"
    site_url: str = ""
    site_name: str = "Runbook"
    directory_urls: bool = True

    @classmethod
    def for_options(cls, options: RunbookOptions) -> RenderSettings:
        """The one place settings are made, for `runbook render --out` and the plugin alike:
        with a hand-written docs/index.md (or README.md, which MkDocs also publishes as the
        home page), Recent changes moves to changes/."""
        docs = options.docs_dir
        has_home = docs is not None and any(
            (docs / name).is_file() for name in ("index.md", "README.md")
        )
        return cls(
            home_uri="changes/index.md" if has_home else "index.md",
            site_url=options.site_url,
            site_name=options.site_name,
            directory_urls=options.use_directory_urls,
        )
