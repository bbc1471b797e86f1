"""Where the default templates and starter checklists are, installed or in a checkout.

The wheel ships them inside the package (generator/templates, generator/checklists, mapped in
pyproject.toml); a source checkout keeps them at the repository root beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of shipped data `name` ("templates" or "checklists")."""
    packaged = _PACKAGE_DIR / name
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / name
