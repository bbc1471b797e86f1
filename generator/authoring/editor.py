"""What an editor needs to check records and checklists as they are typed: the JSON Schema
files, and a workspace mapping that gives every file under the configured folders its schema.

A mapping by folder (`.vscode/settings.json` `yaml.schemas`, read by yaml-language-server)
holds wherever a record sits; a relative `$schema` modeline breaks as soon as a record moves
one folder deeper, and checklists had none.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..repository_files import write_file
from .schema import SCHEMA_FOLDER, SCHEMA_MODELS, json_schema
from .writing import TextFile, WriteReport, write_new

EDITOR_SETTINGS = Path(".vscode") / "settings.json"
SCHEMAS_KEY = "yaml.schemas"


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(root: Path, report: WriteReport, *, refresh: bool = False) -> None:
    """The schema files editors and check-jsonschema read; `refresh` rewrites stale ones
    (after an upgrade), otherwise an existing file is kept and a stale one noted."""
    stale = []
    for kind in sorted(SCHEMA_MODELS):
        path = root / SCHEMA_FOLDER / f"{kind}.schema.json"
        text = schema_text(kind)
        if not path.is_file():
            write_new(path, text, report, root=root)
        elif path.read_text(encoding="utf-8", errors="replace") == text:
            report.skipped.append(path)
        elif refresh:
            write_file(path, text, inside=root)
            report.updated.append(path)
        else:
            report.skipped.append(path)
            stale.append(path.name)
    if stale:
        report.notes.append(
            f"{' and '.join(stale)} differ from this version's schema: "
            "`runbook schema --write` refreshes them"
        )


def schema_mapping(root: Path, records_dir: Path, checklists_dir: Path) -> dict[str, list[str]]:
    """`yaml.schemas`: each schema file and the globs of the files it applies to (records in
    any subfolder, checklists directly in their folder, as validate finds them)."""
    records, checklists = _glob_base(root, records_dir), _glob_base(root, checklists_dir)
    return {
        f"./{SCHEMA_FOLDER}/record.schema.json": [f"{records}**/*.yaml", f"{records}**/*.yml"],
        f"./{SCHEMA_FOLDER}/checklist.schema.json": [f"{checklists}*.yaml", f"{checklists}*.yml"],
    }


def _glob_base(root: Path, folder: Path) -> str:
    """The folder as a glob prefix relative to the workspace root (`records/`), or absolute."""
    relative = Path(os.path.relpath(folder.resolve(), root.resolve())).as_posix()
    if relative == ".":
        return ""
    if relative.startswith("../"):
        return folder.resolve().as_posix().rstrip("/") + "/"
    return relative + "/"


def write_editor_settings(root: Path, mapping: dict[str, list[str]], report: WriteReport) -> None:
    """Add the mapping to `.vscode/settings.json`, keeping every other setting; a file that
    is not plain JSON (comments) is left alone, with the lines to add."""
    path = root / EDITOR_SETTINGS
    if not os.path.lexists(path):
        write_new(path, json.dumps({SCHEMAS_KEY: mapping}, indent=2) + "\n", report, root=root)
        return
    try:
        current = TextFile.read(path)
        settings = json.loads(
            current.text, parse_constant=_refuse_constant, parse_float=_finite_number
        )
        schemas = settings.setdefault(SCHEMAS_KEY, {})
        if not isinstance(schemas, dict):
            raise ValueError(f"{SCHEMAS_KEY} is not a mapping")
        schemas_before = dict(schemas)
        schemas.update(mapping)
        text = _json_text(settings)
    except (OSError, ValueError, AttributeError, RecursionError) as exc:
        lines = json.dumps(mapping, indent=2).replace("\n", "\n  ")
        report.notes.append(
            f"{EDITOR_SETTINGS.as_posix()} was left as it is ({_reason(exc)}); for editors to "
            f'check records and checklists, add to it:\n  "{SCHEMAS_KEY}": {lines}'
        )
        return
    if all(schemas_before.get(schema) == globs for schema, globs in mapping.items()):
        report.skipped.append(path)
        return
    current.replace(path, text, root=root)
    report.updated.append(path)


def _json_text(settings: object) -> str:
    """The settings as JSON, non-ASCII text as it was typed; a lone surrogate escape (which
    no UTF-8 file can hold as a character) stays an escape."""
    text = json.dumps(settings, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(settings, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    return text


def _finite_number(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a JSON number")
    return number


def _refuse_constant(name: str) -> float:
    """NaN and Infinity (and 1e999, which reads as Infinity) are not JSON: such a file is
    left as it is rather than rewritten into something no other tool reads."""
    raise ValueError(f"{name} is not a JSON value")


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not plain JSON: {exc.msg} at line {exc.lineno}"
    if isinstance(exc, AttributeError):
        return "its top level is not an object"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return str(exc)
