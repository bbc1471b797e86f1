"""Output folders: refused when replacing them would delete the runbook, else replaced whole.

`runbook build` and `runbook render --out` replace their output folder whole, and `mkdocs
build` empties it first. Pointed at the repository (`--site-dir .`), at a folder holding it,
at records/, checklists/, docs/ or templates/ (directly, through `site_dir:` in mkdocs.yml, or
through a committed `site` symlink), that replacement deleted the records. Every such target
is refused before anything is written or moved, as is an existing folder that holds files but
does not look like an earlier output of the same command: replacing it would lose them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..config import ConfigurationError, RunbookOptions

# Files one of our earlier outputs always has: MkDocs writes sitemap.xml and 404.html with
# every theme, runbook writes its manifest; `runbook render` always writes records.json.
SITE_MARKERS = (".runbook-manifest.json", "sitemap.xml", "404.html", "index.html")
RENDER_MARKERS = ("records.json",)


class UnsafeOutputFolder(ConfigurationError):
    """The output folder would replace or hold part of the repository (exit status 2)."""


def protected_folders(options: RunbookOptions) -> dict[str, Path]:
    """The runbook's own folders by what they are, as the user would name them."""
    folders = {
        "the repository (the folder of mkdocs.yml)": options.root,
        "records_dir": options.records_dir,
        "checklists_dir": options.checklists_dir,
        "templates_dir": options.templates_dir,
        "the build cache": options.root / ".runbook-cache",
    }
    if options.docs_dir is not None:
        folders["docs_dir"] = options.docs_dir
    return folders


def check_output_folder(
    output: str | os.PathLike[str],
    options: RunbookOptions,
    *,
    what: str,
    markers: Iterable[str] = SITE_MARKERS,
) -> Path:
    """The resolved output folder, or UnsafeOutputFolder when replacing it could lose files.

    Paths are compared resolved (symlinks followed), so a `site` link to records/ is records/.
    """
    target = Path(output).resolve()
    for name, folder in protected_folders(options).items():
        folder = folder.resolve()
        if target == folder or folder.is_relative_to(target):
            raise UnsafeOutputFolder(
                f"refusing {what} {_shown(output, target)}: it would replace {name} "
                f"({folder}); choose a folder of its own, such as site/"
            )
        if name != "the repository (the folder of mkdocs.yml)" and target.is_relative_to(folder):
            raise UnsafeOutputFolder(
                f"refusing {what} {_shown(output, target)}: it is inside {name} ({folder}); "
                "choose a folder of its own, such as site/"
            )
    if target.exists() and not target.is_dir():
        raise UnsafeOutputFolder(f"refusing {what} {_shown(output, target)}: it is not a folder")
    if _holds_other_files(target, markers):
        raise UnsafeOutputFolder(
            f"refusing {what} {_shown(output, target)}: it holds files that are not an earlier "
            "output (it would be replaced whole); empty it or choose another folder"
        )
    return target


def _holds_other_files(folder: Path, markers: Iterable[str]) -> bool:
    try:
        with os.scandir(folder) as entries:
            names = {entry.name for entry in entries}
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:  # cannot look inside (permissions): never replace it unseen
        return True
    return bool(names) and not any(marker in names for marker in markers)


def _shown(given: str | os.PathLike[str], resolved: Path) -> str:
    text = os.fspath(given)
    return text if Path(text).resolve() == Path(text).absolute() else f"{text} (-> {resolved})"


def write_atomically(
    target: Path, write: Callable[[Path], None], *, spare: Path | None = None
) -> None:
    """Call `write` on a fresh folder beside `target`; replace `target` with it only on success.

    The staging folder (`.site.new-PID-XXXXXXXX`) and the retired one (`.site.old-PID-...`)
    carry the pid of their build: folders of builds that are gone (killed before they could
    remove them) are deleted first (`sweep_leftovers`), those of a live build never. The
    replaced folder is deleted here, after the swap, so the command leaves nothing running;
    with `spare` (a path on the same file system), it is kept there instead, in place of the
    one there before (a site build starts the next one from it: site/site_copy.py).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(target)
    prefix = f".{target.name}.{{}}-{os.getpid()}-"
    staging = Path(tempfile.mkdtemp(prefix=prefix.format("new"), dir=target.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=prefix.format("old"), dir=target.parent))
        target.rename(retired / target.name)
    staging.rename(target)
    if retired is not None:
        if spare is not None:
            _keep_as_spare(retired / target.name, spare)
        shutil.rmtree(retired, ignore_errors=True)


def _keep_as_spare(folder: Path, spare: Path) -> None:
    """Move `folder` to `spare`, replacing what is there; left where it is when it cannot be."""
    if spare.is_symlink() or spare.is_file():
        return
    shutil.rmtree(spare, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rename(folder, spare)


def sweep_leftovers(target: Path) -> list[Path]:
    """Delete what builds that are gone left beside `target`: their staging folders and the
    sites they retired; return what was deleted. A folder of a running build stays."""
    swept = []
    for candidate in _leftover_folders(target):
        shutil.rmtree(candidate, ignore_errors=True)
        swept.append(candidate)
    return swept


def _leftover_folders(target: Path) -> list[Path]:
    """`.site.new-PID-XXXXXXXX` and `.site.old-PID-XXXXXXXX` whose process is gone, and (from
    runbook versions before the pid was in the name) `.site.old-XXXXXXXX` holding nothing but
    a folder named like the target: retired folders no build would ever read again."""
    named = re.compile(rf"\.{re.escape(target.name)}\.(new|old)-(?:(\d+)-)?[a-z0-9_]{{8}}")
    found = []
    for candidate in target.parent.glob(f".{glob.escape(target.name)}.*-*"):
        match = named.fullmatch(candidate.name)
        if match is None or candidate.is_symlink() or not candidate.is_dir():
            continue
        kind, pid = match.groups()
        if pid is not None:
            if not process_is_running(int(pid)):
                found.append(candidate)
        elif kind == "old" and _holds_only(candidate, target.name):
            found.append(candidate)
    return found


def _holds_only(folder: Path, name: str) -> bool:
    try:
        return os.listdir(folder) in ([], [name])
    except OSError:  # gone already
        return False


def process_is_running(pid: int) -> bool:
    """Whether the process `pid` may still run: this process, and any that cannot be ruled
    out, count as running (a leftover kept is only disk space; a folder deleted under a live
    build is a broken build)."""
    if pid == os.getpid() or pid <= 0:
        return True
    if os.name == "nt":
        return _windows_process_is_running(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists, as another user's
        return True
    return True


def _windows_process_is_running(pid: int) -> bool:
    """os.kill would end the process on Windows: ask for its exit code instead."""
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        denied = ctypes.get_last_error() == 5  # type: ignore[attr-defined]
        return denied  # ERROR_ACCESS_DENIED: it exists, as another user's
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
