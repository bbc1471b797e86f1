"""Adjust the MkDocs configuration so generated pages render as intended from any mkdocs.yml.

A minimal mkdocs.yml (site_name, Material, search, runbook) has only MkDocs' default extensions
and Google-hosted fonts; the runbook needs tables, code fences, Markdown inside HTML blocks, a
copy button on commands, and no request leaving the reader's machine. Explicit user choices are
kept.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig

# MkDocs always adds toc, tables and fenced_code (the command blocks); these come on top.
REQUIRED_EXTENSIONS = ("tables", "admonition", "md_in_html", "pymdownx.highlight")
MATERIAL_FEATURES = (
    "content.code.copy",
    "search.suggest",
    "search.highlight",
    "navigation.indexes",
)
MATERIAL_DEFAULT_FONT = {"text": "Roboto", "code": "Roboto Mono"}


def configure_site(config: MkDocsConfig, stylesheet_uri: str, script_uri: str) -> None:
    """Add what generated pages need; never remove or override an explicit choice."""
    extensions = config.markdown_extensions
    for name in REQUIRED_EXTENSIONS:
        if name not in extensions:
            extensions.append(name)
    if stylesheet_uri not in config.extra_css:
        config.extra_css.append(stylesheet_uri)
    if script_uri not in [str(script) for script in config.extra_javascript]:
        config.extra_javascript.append(script_uri)
    if config.theme.name == "material":
        _configure_material(config)


def _configure_material(config: MkDocsConfig) -> None:
    theme = config.theme
    features = list(theme["features"] or []) if "features" in theme else []
    theme["features"] = features + [f for f in MATERIAL_FEATURES if f not in features]
    if "font" not in theme or theme["font"] == MATERIAL_DEFAULT_FONT:
        theme["font"] = False  # Material's default loads Roboto from Google: keep it offline
