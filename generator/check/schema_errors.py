"""Turn pydantic's validation errors into Diagnostics a person can act on at once.

pydantic reports locations as tuples and messages written for programmers; a runbook author
needs the line, the dotted key, what was wrong in plain words, and for YAML 1.1 surprises
(`no` read as false, `12:30` read as 750) the fix: quote it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import CODES, Diagnostic
from ..models import BareStringShorthand, pattern_problem
from .loader import MAX_REPORTED_PER_FILE, LoadedFile, compose_nodes, locate, source_text
from .problems import problem
from .secrets import find_secrets

# Codes of our own PydanticCustomError types; any other pydantic error is a [schema] problem.
CUSTOM_CODES = frozenset(code for code, info in CODES.items() if info.from_models)
TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", dt.date: "a date"}


def format_loc(loc: tuple[Any, ...]) -> str:
    """('metrics', 0, 'better') → 'metrics[0].better'."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    """A short, single-line, safe rendering of a user value for a message."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and next(find_secrets(value, command=True), None):
        return "a value that looks like a credential"
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= 60 else text[:59] + "…"


# Errors where a YAML 1.1 word or number (`yes`, `on`, `12:30`) landed instead of text.
_SCALAR_MISREAD_KINDS = frozenset({"literal_error", "model_type", "model_attributes_type"})


def _shorthand_model(model: type[BaseModel] | None) -> type[BareStringShorthand] | None:
    """The model at a place, when a bare string may stand for it."""
    return model if isinstance(model, type) and issubclass(model, BareStringShorthand) else None


def _misread_scalar(
    error: dict[str, Any], loc: tuple[Any, ...], root: Any, model: type[BaseModel], where: str
) -> str:
    """`yes` as an item status: say what YAML made of it and what is expected instead."""
    value = error["input"]
    literal = source_text(root, loc) or str(value)
    read_as = TYPE_NAMES.get(type(value), type(value).__name__)
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    expected = error.get("ctx", {}).get("expected")
    shorthand = _shorthand_model(_model_at(model, loc))
    if expected is None and shorthand is not None:
        field = shorthand.model_fields[shorthand.shorthand_field()]
        choices = typing.get_args(_unwrap(field.annotation))
        expected = " or ".join(repr(choice) for choice in choices) or "text"
    wanted = f"write {expected}" if expected else "write a mapping of keys"
    return (
        f"{where}: YAML read {describe(literal)} as {read_as} ({shown}): {wanted}, "
        f'or quote it if you mean the text: "{literal}"'
    )


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that the mapping at `loc` is validated against, if any."""
    annotation: Any = model
    for step in loc:
        annotation = _unwrap(annotation)
        if (
            isinstance(step, str)
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        ):
            field = annotation.model_fields.get(step)
            if field is None:
                return None
            annotation = field.annotation
        else:  # list index or dict key: step into the item type
            args = typing.get_args(_unwrap(annotation))
            annotation = args[-1] if args else None
    annotation = _unwrap(annotation)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional so we reach the list, dict or model underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation


def _message(
    error: dict[str, Any], loc: tuple[Any, ...], root: Any, model: type[BaseModel]
) -> tuple[str, str]:
    """(code, message) for one pydantic error."""
    kind = error["type"]
    value = error.get("input")
    where = format_loc(loc)
    if kind in CUSTOM_CODES:
        return kind, f"{where}: {error['msg']}"
    if kind == "string_pattern_mismatch":
        problem = pattern_problem(error["ctx"]["pattern"], value)
        if problem is not None:
            return problem.type, f"{where}: {problem.message()}"
    if kind == "missing":
        return "missing", f"{where}: required key is missing"
    if kind == "extra_forbidden":
        allowed = _model_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed.model_fields if allowed else ())
        return "unknown-key", f"{where}: unknown key{hint}"
    if kind == "string_type" and value is not None and not isinstance(value, dict | list):
        literal = source_text(root, loc) or str(value)
        read_as = TYPE_NAMES.get(type(value), type(value).__name__)
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return "schema", (
            f"{where}: expected text, but YAML read {describe(literal)} as {read_as} ({shown}); "
            f'quote it: "{literal}"'
        )
    if isinstance(value, bool | int | float | dt.date) and kind in _SCALAR_MISREAD_KINDS:
        return "schema", _misread_scalar(error, loc, root, model, where)
    if value is None and kind.endswith("_type"):
        return "schema", f"{where}: is empty"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "schema", f"{where}: expected a mapping of keys, got {describe(value)}"
    if kind == "list_type":
        return "schema", f"{where}: expected a list, got {describe(value)}"
    if kind == "too_short" and isinstance(value, list):
        return "schema", f"{where}: needs at least {error['ctx']['min_length']} entry"
    message = error["msg"].replace("Input should be", "must be").replace("Value should", "must")
    if kind == "literal_error" or kind.endswith("_type") or kind.endswith("_parsing"):
        message += f", got {describe(value)}"
    return "schema", f"{where}: {message}"


_SHORTHAND_NOUNS = {"run": "command", "status": "status"}


def _collapse_colon_slips(errors: list[Any], data: Any, model: type[BaseModel]) -> list[Any]:
    """An unquoted command holding ": " (`- kubectl label pod x app: web`) reads as a mapping
    of one unknown key: one error saying to quote it, instead of "run: required key is
    missing" plus an unknown key named after the command."""
    slips: dict[tuple[Any, ...], dict[str, Any]] = {}
    for item in errors:
        loc = tuple(item["loc"])
        if not loc or loc[:-1] in slips:
            continue
        shorthand = _shorthand_model(_model_at(model, loc[:-1]))
        value = _value_at(data, loc[:-1])
        if (
            shorthand is not None
            and isinstance(value, dict)
            and len(value) == 1
            and _reads_as_text(str(next(iter(value))), shorthand.model_fields)
        ):
            key, rest = next(iter(value.items()))
            text = f"{key}: {rest}" if isinstance(rest, str | int | float) else f"{key}: ..."
            slips[loc[:-1]] = {
                "type": "colon-slip",
                "loc": loc[:-1],
                "msg": f"{format_loc(loc[:-1])}: the ': ' in it made YAML read a mapping; "
                f"quote the whole {_SHORTHAND_NOUNS.get(shorthand.shorthand_field(), 'value')}: "
                f"{json.dumps(text, ensure_ascii=False)}",
            }
    kept = [item for item in errors if tuple(item["loc"])[:-1] not in slips]
    return list(slips.values()) + kept


def _reads_as_text(key: str, fields: Any) -> bool:
    """A key that is words of a command, not a misspelt field (`commnd` is `command`)."""
    return key not in fields and (" " in key or not difflib.get_close_matches(key, fields))


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for step in loc:
        if (isinstance(data, dict) and step in data) or (
            isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)
        ):
            data = data[step]
        else:
            return None
    return data


def schema_diagnostics(
    error: ValidationError, loaded: LoadedFile, model: type[BaseModel]
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, at the line of the offending key or value; past
    MAX_REPORTED_PER_FILE, one line saying how many more (a file of 100,000 unknown keys
    gets 21 lines, in the time of 21)."""
    root = compose_nodes(loaded.text or "")
    errors = _collapse_colon_slips(error.errors(), loaded.data, model)
    diagnostics = []
    for item in errors[: MAX_REPORTED_PER_FILE + 1]:
        loc = tuple(item["loc"])
        if item["type"] == "colon-slip":
            line, column = locate(root, loc)
            diagnostics.append(
                problem(loaded.display_path, line, column, "error", "schema", item["msg"])
            )
            continue
        at_key = item["type"] == "extra_forbidden"
        if loc and loc[-1] == "[key]":
            loc, at_key = loc[:-1], True
        line, column = locate(root, loc, at_key=at_key)
        if len(diagnostics) == MAX_REPORTED_PER_FILE:
            more = len(errors) - MAX_REPORTED_PER_FILE
            code, message = "too-many-problems", f"{more} more problems like these not shown"
        else:
            code, message = _message(item, loc, root, model)
        diagnostics.append(problem(loaded.display_path, line, column, "error", code, message))
    return diagnostics
