"""The previous site as the start of the next build: cloned, or the spare brought up to date.

An incremental `runbook build` starts from a copy of the live site in which MkDocs rewrites
only the pages that changed, then swaps it in (site/build.py). Generated pages' outputs are
hard links in that copy (see clone_site); everything else is copied.

Cloning makes every folder and link again (20,000 records: 23,000 folders, 44,000 files), and
the site it replaces was then deleted, folder by folder: together about 5 s at 20,000 records
on this machine's disk, tens of seconds on slower ones, growing with the runbook. So the
replaced site is kept instead, as the spare (in the build cache), and the next build starts
from it: it differs from the live site only by what the last build changed. `update_copy`
walks both trees and makes the spare equal to the live site: an output of a generated page
that is not the live one's file becomes a link to it, any other file whose size or time
differs is copied, and what the live site no longer has goes. Comparing is one listing per
folder on each side (inodes come with the listing): about 1.3 s at 20,000 records.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .search_index import BUNDLE_FOLDER


def clone_site(site: Path, folder: Path, *, linked: set[str]) -> None:
    """Copy the previous site into the staging folder; generated pages' outputs are hard links.

    Copying 5,000 record pages cost more than rebuilding the one that changed. A link is
    safe because only MkDocs' own dirty build writes those files, and only for pages whose
    source changed, and `IncrementalBuild.unshare` unlinks exactly those first. The search
    bundle is not copied: the build puts every shard's bundle in place from the cache.

    A walk of its own rather than shutil.copytree, which copies every folder's times,
    permissions and extended attributes (nothing a build reads) and calls back in Python for
    each file: most of an unchanged-but-one rebuild at 20,000 records. Like copytree, it
    copies what it can and then raises shutil.Error listing every file it could not.
    """
    failures: list[tuple[str, str, str]] = []

    def clone(source: str, destination: str, prefix: str) -> None:
        with os.scandir(source) as entries:
            for entry in entries:
                relative = prefix + entry.name
                target = os.path.join(destination, entry.name)
                try:
                    if entry.is_dir():
                        if relative != BUNDLE_FOLDER:
                            os.mkdir(target)
                            clone(entry.path, target, relative + "/")
                    elif relative not in linked or not hard_linked(entry.path, target):
                        shutil.copy2(entry.path, target)
                except OSError as exc:
                    failures.append((entry.path, target, str(exc)))

    clone(str(site), str(folder), "")
    if failures:
        raise shutil.Error(failures)


def hard_linked(source: str, destination: str) -> bool:
    """Whether `destination` is now a hard link to `source` (some file systems, such as FAT
    and some network shares, have none: the caller copies instead)."""
    try:
        os.link(source, destination)
    except OSError:
        return False
    return True


def take_spare(spare: Path, staging: Path) -> bool:
    """Move the spare in place of the (empty) staging folder: whether there was one to take.
    Renamed, not copied: a build killed meanwhile leaves it to the sweep of staging folders."""
    if spare.is_symlink() or not spare.is_dir():
        return False
    try:
        os.rename(spare, staging)  # replaces the empty folder (POSIX); elsewhere: no spare
    except OSError:
        return False
    return True


def update_copy(site: Path, copy: Path, *, linked: set[str]) -> None:
    """Make `copy` (an earlier copy of a site) equal to `site` (see the module's docstring):
    `linked` names the generated pages' outputs, which are hard links to the site's files.
    The search bundle is left out, as clone_site leaves it. Raises OSError when it cannot."""

    def update(source: str, destination: str, prefix: str) -> None:
        with os.scandir(destination) as entries:
            stale = {entry.name: entry for entry in entries}
        with os.scandir(source) as entries:
            for entry in entries:
                relative = prefix + entry.name
                target = os.path.join(destination, entry.name)
                old = stale.pop(entry.name, None)
                if entry.is_dir():
                    if relative == BUNDLE_FOLDER:
                        continue
                    if old is not None and not old.is_dir(follow_symlinks=False):
                        os.unlink(target)
                        old = None
                    if old is None:
                        os.mkdir(target)
                    update(entry.path, target, relative + "/")
                elif _differs(entry, old, linked=relative in linked):
                    if old is not None:
                        _remove(old)
                    if relative not in linked or not hard_linked(entry.path, target):
                        shutil.copy2(entry.path, target)
        for name, old in stale.items():
            if prefix + name != BUNDLE_FOLDER:
                _remove(old)

    update(str(site), str(copy), "")


def _differs(entry: os.DirEntry[str], old: os.DirEntry[str] | None, *, linked: bool) -> bool:
    """Whether the copy's file must be replaced by the site's: a linked output by its inode
    (the very same file, or not), any other file by its size and modification time, and
    always when it is the site's own file (an output that was a generated page's, a link,
    and is not any more: MkDocs may write it in place, which must never reach the site)."""
    if old is None or not old.is_file(follow_symlinks=False):
        return True
    if old.inode() == entry.inode():
        return not linked  # the site's own file: right for a linked output, never for another
    if linked:
        return True
    mine, theirs = old.stat(follow_symlinks=False), entry.stat()
    return (mine.st_size, mine.st_mtime_ns) != (theirs.st_size, theirs.st_mtime_ns)


def _remove(entry: os.DirEntry[str]) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def empty_folder(folder: Path) -> None:
    """Delete what `folder` holds, keeping the folder."""
    with os.scandir(folder) as entries:
        for entry in list(entries):
            _remove(entry)
