"""The previous site as the start of the next build (site/site_copy.py): the spare, the site the
last build replaced, brought up to date must equal the live site file for file, share exactly
the generated pages' outputs with it, and never share a file MkDocs may write in place.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.site.site_copy import clone_site, update_copy


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write(folder: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")


def test_a_spare_is_brought_up_to_date_with_the_site(tmp_path: Path) -> None:
    site, spare = tmp_path / "site", tmp_path / "spare"
    site.mkdir()
    spare.mkdir()
    write(
        site,
        {
            "changes/a/index.html": "a",
            "changes/b/index.html": "b",
            "changes/c/index.html": "c",
            "index.html": "home",
            "assets/app.css": "css",
            "gone/index.html": "gone",
            "pagefind/bundle.js": "bundle",
        },
    )
    linked = {"changes/a/index.html", "changes/b/index.html", "changes/c/index.html"}
    clone_site(site, spare, linked=linked | {"gone/index.html"})
    # What one build changes: a page rewritten (a new file), one added, one removed, a page
    # that is no longer generated (a docs page replaced it: same file in both until now),
    # a theme file rewritten, a file made a folder.
    os.unlink(site / "changes/b/index.html")
    write(site, {"changes/b/index.html": "b, edited", "changes/d/index.html": "d"})
    os.unlink(site / "changes/c/index.html")
    (site / "changes/c").rmdir()
    write(site, {"assets/app.css": "css, longer"})
    (site / "index.html").unlink()
    write(site, {"index.html/x": "now a folder"})
    linked = {"changes/a/index.html", "changes/b/index.html", "changes/d/index.html"}

    update_copy(site, spare, linked=linked)

    expected = {name: data for name, data in tree(site).items() if not name.startswith("pagefind")}
    assert tree(spare) == expected
    for name in expected:
        shared = os.stat(site / name).st_ino == os.stat(spare / name).st_ino
        assert shared == (name in linked), name
    # "gone/index.html" was a generated page's output (the same file on both sides): now it
    # is not, and MkDocs may write it in place, so the spare has a copy of its own.
    assert os.stat(site / "gone/index.html").st_ino != os.stat(spare / "gone/index.html").st_ino
