"""Pydantic models of the change record and the checklist, exactly as DESIGN.md specifies.

The models are the one definition of the formats. The `description` of every field is its
documentation: it feeds `runbook schema` (and so editors through yaml-language-server) and
the "Writing a record" page. A record field's `NewOption` makes it an option of `runbook new`
and its `Placeholder` is what validation puts in its place when it is broken; the patterns of
the text types are checked by pydantic-core and are the JSON Schema's patterns too.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue, WithJsonSchema
from pydantic_core import CoreSchema, PydanticCustomError

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_PATH_LENGTH = 400
# Every list of a record is bounded: each entry becomes links, rows and pages, and one record
# with 100,000 tags once made a build take ten minutes and 1.3 GB.
MAX_LIST_ITEMS = {
    "files_touched": 1000,
    "commands": 200,
    "metrics": 100,
    "tags": 50,
    "links": 100,
    "reviewers": 50,
    "incidents": 50,
    "fixes": 50,
}
_SPACE = re.compile(r"\s")
# Trojan-source characters: they reorder how text displays without changing what it is.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# What a one-line field may not contain: control characters (Unicode category Cc: C0, DEL,
# C1), line and paragraph separators, and the bidi controls above.
_NOT_ONE_LINE_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS))
_NOT_ONE_LINE = re.compile(f"[{_NOT_ONE_LINE_CHARACTERS}]")
_BIDI = re.compile(f"[{''.join(sorted(BIDI_CONTROLS))}]")
# Invisible format characters (Unicode category Cf) of the Basic Multilingual Plane, as the
# editors' patterns can name them: the validator's own path check finds every Cf character.
_INVISIBLE_CHARACTERS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
# The same rule (and "not blank") as a pattern pydantic-core checks in Rust, with no call into
# Python per value; `pattern_problem` says which part of the rule a value broke.
ONE_LINE_PATTERN = (
    f"^(?:[^{_NOT_ONE_LINE_CHARACTERS}]*[^\\s{_NOT_ONE_LINE_CHARACTERS}]"
    f"[^{_NOT_ONE_LINE_CHARACTERS}]*)?$"
)


def _one_line(value: str) -> str:
    if value and not value.strip():
        raise PydanticCustomError("schema", "is blank")
    match = _NOT_ONE_LINE.search(value)
    if match is None:
        return value
    character = match.group()
    if character in "\n\r\u2028\u2029":
        raise PydanticCustomError("one-line", "must be a single line")
    if character in BIDI_CONTROLS:
        raise PydanticCustomError(
            "bidi",
            "contains a bidirectional control character (U+{code})",
            {"code": f"{ord(character):04X}"},
        )
    raise PydanticCustomError("control-char", "contains a control character")


def _record_id(value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "id",
            "'{value}' is not a valid id: use lowercase a-z, 0-9 and single dashes",
            {"value": value},
        )
    return value


# What each pattern of `explained_pattern` means, in validate's words.
_EXPLANATIONS: dict[str, Callable[[str], object]] = {}


def explained_pattern(pattern: str, explain: Callable[[str], object]) -> StringConstraints:
    """A pattern pydantic-core checks in Rust, with no call into Python per value, and that the
    JSON Schema carries for editors; `explain` raises the error that says which part of the
    rule a value broke (see `pattern_problem`)."""
    _EXPLANATIONS[pattern] = explain
    return StringConstraints(pattern=pattern)


def pattern_problem(pattern: str, value: Any) -> PydanticCustomError | None:
    """Why `value` does not match one of our patterns, as the error a validator would raise."""
    explain = _EXPLANATIONS.get(pattern)
    try:
        if explain is not None and isinstance(value, str):
            explain(value)
    except PydanticCustomError as problem:
        return problem
    return None


# Relative paths of plain ASCII names, no "." or ".." segment, no empty one: most paths of
# most records, accepted without the checks below (a narrower subset of what they accept).
PLAIN_PATH = re.compile(
    r"(?!\.\.?(?:/|$))[\w.@+~%=,-]+(?:/(?!\.\.?(?:/|$))[\w.@+~%=,-]+)*/?", re.ASCII
)


def _relative_path(value: str) -> str:
    """files_touched are display text, never opened: refuse all but plain relative paths."""
    if len(value) <= MAX_PATH_LENGTH and PLAIN_PATH.fullmatch(value):
        return value
    problem = path_problem(value)
    if problem:
        raise PydanticCustomError("path", "path {problem}", {"problem": problem})
    return value


def path_problem(value: str) -> str | None:
    """What makes `value` not a plain relative path, if anything."""
    if not value:
        return "is empty"
    if len(value) > MAX_PATH_LENGTH:
        return f"is longer than {MAX_PATH_LENGTH} characters"
    if "\\" in value:
        return "contains a backslash; use forward slashes"
    if value.startswith("/"):
        return "is absolute; give it relative to the repository root"
    if re.match(r"^[A-Za-z]:", value):
        return "starts with a drive letter; give it relative to the repository root"
    if _NOT_ONE_LINE.search(value):
        return "contains a control character"
    invisible = next((c for c in value if unicodedata.category(c) == "Cf"), None)
    if invisible is not None:
        return f"contains an invisible character (U+{ord(invisible):04X})"
    segments = value.rstrip("/").split("/")
    if ".." in segments:
        return "contains '..'; give it relative to the repository root"
    if "." in segments or "" in segments:
        return "has an empty or '.' segment; write it in canonical form"
    return None


# The path and URL rules as JSON Schema patterns, so that editors underline what validate
# refuses: no absolute path, drive letter, backslash, `.` or `..` segment, empty segment or
# control character; an http(s) URL with a host and no space.
RELATIVE_PATH_PATTERN = (
    r"^(?![A-Za-z]:)(?!/)(?!.*\\)(?!(?:.*/)?\.{1,2}(?:/|$))(?!.*//+[^/])"
    f"[^{_NOT_ONE_LINE_CHARACTERS}{_INVISIBLE_CHARACTERS}]{{1,{MAX_PATH_LENGTH}}}$"
)
HTTP_URL_PATTERN = (
    f"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s{_NOT_ONE_LINE_CHARACTERS}]"
    f"[^\\s{_NOT_ONE_LINE_CHARACTERS}]*$"
)


# http(s) URLs of a plain host name and printable ASCII, as nearly every record's links are,
# are accepted without splitting them (urlsplit was 3 % of checking a record): a narrower
# subset of what the checks below accept (tests/test_properties.py).
PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][!-~]*)?", re.ASCII)


def _http_url(value: str) -> str:
    return value if PLAIN_HTTP_URL.fullmatch(value) else checked_http_url(value)


def checked_http_url(value: str) -> str:
    """The URL, if it is an http(s) URL with a host and no space or control character."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PydanticCustomError("url", "must be an http(s) URL")
    if _SPACE.search(value) or _NOT_ONE_LINE.search(value):
        raise PydanticCustomError("url", "must not contain spaces or control characters")
    return value


def _calendar_date(value: Any) -> Any:
    """Accept a YAML date or a quoted YYYY-MM-DD; refuse datetimes and numbers."""
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("date", "must be a date YYYY-MM-DD, not a date and time")
    if isinstance(value, str):
        try:
            return (
                dt.date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
            )
        except ValueError as exc:
            raise PydanticCustomError(
                "invalid-date", "'{value}' is not a real date", {"value": value}
            ) from exc
    return value


# ISO 8601 / YAML timestamps with a time of day; a missing offset is refused apart, with its
# own message. The JSON Schema (editors) requires the offset.
_OFFSET = r"([Zz]|[+-]\d{2}:?\d{2})"
_DATE_AND_TIME = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? ?"
_TIMESTAMP = re.compile(f"{_DATE_AND_TIME}{_OFFSET}?")
TIMESTAMP_PATTERN = f"^{_DATE_AND_TIME}{_OFFSET}$"


def timestamp_with_offset(value: Any) -> Any:
    """Accept a YAML timestamp or a quoted ISO 8601 one, with its offset; a time without one
    could be any of 24 hours, so it is refused with the fix."""
    if isinstance(value, str):
        text = value.strip()
        if not _TIMESTAMP.fullmatch(text):
            raise PydanticCustomError(
                "timestamp",
                "must be a date and time with its offset, such as 2026-11-20T14:05:00Z "
                "or 2026-11-20T16:05:00+02:00",
            )
        try:
            iso = re.sub(r" (?=[+-]\d)", "", text.upper().replace("Z", "+00:00"))
            value = dt.datetime.fromisoformat(iso)
        except ValueError as exc:
            raise PydanticCustomError(
                "invalid-date", "'{value}' is not a real date and time", {"value": text}
            ) from exc
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise PydanticCustomError(
            "timestamp",
            "needs a time of day with its offset, such as {day}T14:05:00Z",
            {"day": value.isoformat()},
        )
    elif not isinstance(value, dt.datetime):
        raise PydanticCustomError(
            "timestamp", "must be a date and time with its offset, such as 2026-11-20T14:05:00Z"
        )
    if value.utcoffset() is None:
        raise PydanticCustomError(
            "naive-timestamp",
            "has no offset: add Z or +HH:MM (for UTC: {value}Z)",
            {"value": value.isoformat()},
        )
    return value


def moment_text(moment: dt.datetime) -> str:
    """`2026-11-20 14:05 +01:00` (or `Z`): a time as pages and messages show it."""
    offset = moment.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


COMMIT_PATTERN = "^[0-9a-fA-F]{7,40}$"


def _commit_id(value: str) -> str:
    if not re.fullmatch(COMMIT_PATTERN, value):
        raise PydanticCustomError(
            "commit", "must be a git commit id: 7 to 40 hex digits, such as 9fceb02"
        )
    return value


def _text_matching(pattern: str, **more: str) -> WithJsonSchema:
    """What editors see of a value checked in Python: text that matches `pattern` (the
    property tests hold each pattern to its check)."""
    return WithJsonSchema({"type": "string", **more, "pattern": pattern})


_ONE_LINE = explained_pattern(ONE_LINE_PATTERN, _one_line)
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _ONE_LINE]
ShortText = Annotated[str, StringConstraints(max_length=200), _ONE_LINE]
MarkdownText = Annotated[str, StringConstraints(min_length=1)]
Identifier = Annotated[str, explained_pattern(ID_PATTERN.pattern, _record_id)]
RelativePath = Annotated[str, AfterValidator(_relative_path), _text_matching(RELATIVE_PATH_PATTERN)]
HttpUrl = Annotated[str, AfterValidator(_http_url), _text_matching(HTTP_URL_PATTERN)]
# Real calendar days as a pattern, leap years included, so that editors (for which a date is
# text in YAML 1.2) refuse 2026-02-30 as validate does.
_LEAP_YEAR = r"(?:\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
DATE_PATTERN = (
    r"^(?:\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    rf"|02-(?:0[1-9]|1\d|2[0-8]))|{_LEAP_YEAR}-02-29)$"
)
CalendarDate = Annotated[
    dt.date,
    BeforeValidator(_calendar_date),
    Field(strict=True),
    _text_matching(DATE_PATTERN, format="date"),
]
Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(timestamp_with_offset),
    Field(strict=True),
    _text_matching(TIMESTAMP_PATTERN),
]
CommitId = Annotated[str, explained_pattern(COMMIT_PATTERN, _commit_id)]
# Measurements are bounded, so that a delta or a percentage can never overflow to infinity.
MAX_MAGNITUDE = 1e15
Number = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)
]


@dataclass(frozen=True)
class NewOption:
    """How `runbook new` takes a record field: as the option `flag` (or, without dashes, the
    argument of that name). The field's type says the rest: a list or a mapping makes the
    option repeatable, a bool a flag, a Literal a choice; each value is checked with the
    field's own type before anything is written, unless `read` turns the texts into the value
    (raising ValueError)."""

    flag: str
    help: str | None = None
    metavar: str | None = None
    parsed: bool = False  # hand on the value as the field reads it (a date), not as typed
    read: Callable[[list[str]], Any] | None = None


@dataclass(frozen=True)
class Placeholder:
    """A valid value of a required field, put in its place when it is broken, so that the
    other rules still report in the same run; every required record field has one."""

    value: Any = field(hash=False)


@dataclass(frozen=True)
class RecordOption:
    """A field of `runbook new`: its path in the record (`rollback.plan`) and its option."""

    path: str
    info: FieldInfo
    option: NewOption

    @property
    def parameter(self) -> str:
        """The name the command receives it by."""
        return self.path.replace(".", "_")


def _marker(info: FieldInfo, kind: type[Any]) -> Any:
    return next((item for item in info.metadata if isinstance(item, kind)), None)


def new_options(model: type[BaseModel], prefix: str = "") -> list[RecordOption]:
    """The fields of `model` (and of the models it nests) that `runbook new` takes, in the
    model's order."""
    found = []
    for name, info in model.model_fields.items():
        option = _marker(info, NewOption)
        if option is not None:
            found.append(RecordOption(prefix + name, info, option))
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            found += new_options(info.annotation, f"{prefix}{name}.")
    return found


def placeholder_values(model: type[BaseModel]) -> dict[str, Any]:
    """The placeholder of each field of `model` that has one; TypeError if a required field
    has none (validation then could not set a broken one aside)."""
    values = {}
    for name, info in model.model_fields.items():
        placeholder = _marker(info, Placeholder)
        if placeholder is not None:
            values[name] = placeholder.value
        elif info.is_required():
            raise TypeError(f"{model.__name__}.{name} is required and has no Placeholder")
    return values


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never silently drop information."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class BareStringShorthand(StrictModel):
    """A model that may also be written as a bare string meaning `{shorthand: "..."}`."""

    _shorthand: ClassVar[str]

    def __init_subclass__(cls, shorthand: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._shorthand = shorthand

    @model_validator(mode="before")
    @classmethod
    def _expand_bare_string(cls, value: Any) -> Any:
        return {cls._shorthand: value} if isinstance(value, str) else value

    @classmethod
    def shorthand_field(cls) -> str:
        """The field a bare string stands for (`run` of a command, `status` of an item)."""
        return cls._shorthand

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Editors must accept the shorthand too, or every bare command would be underlined,
        # and hold it to the rules of the field it stands for (an item status's values).
        object_schema = handler(core_schema)
        fields = handler.resolve_ref_schema(object_schema)["properties"]
        bare = {k: v for k, v in fields[cls._shorthand].items() if k not in ("title", "default")}
        return {"anyOf": [cls.bare_string_schema(bare), object_schema]}

    @classmethod
    def bare_string_schema(cls, field_schema: JsonSchemaValue) -> JsonSchemaValue:
        """The JSON Schema of the shorthand: by default, that of the field it stands for."""
        return field_schema


def _no_bidi(value: str) -> str:
    """Text people copy and paste (commands, notes) must read as it runs: no Trojan-source
    reordering."""
    found = _BIDI.search(value)
    if found is not None:
        character = found.group()
        raise PydanticCustomError(
            "bidi",
            "contains a bidirectional control character (U+{code}): it makes the text "
            "display in another order than it runs",
            {"code": f"{ord(character):04X}"},
        )
    return value


# The same rule as a pattern pydantic-core checks in Rust (pattern_problem explains it).
NO_BIDI_PATTERN = f"^[^{''.join(sorted(BIDI_CONTROLS))}]*$"
_NO_BIDI = explained_pattern(NO_BIDI_PATTERN, _no_bidi)
CopiedText = Annotated[str, StringConstraints(min_length=1), _NO_BIDI]


class Command(BareStringShorthand, shorthand="run"):
    """A shell command that shipped (or undoes) the change. A bare string means `{run: ...}`."""

    run: CopiedText = Field(
        description="The command line exactly as run. End it with `# runbook: allow-secret` to "
        "silence a false positive of the credential scan."
    )
    note: Annotated[str, _NO_BIDI] | None = Field(
        default=None, description="Why this command, or what to watch while it runs."
    )


class Metric(StrictModel):
    """A number that moved: the site shows the delta, percent change and improved/regressed."""

    name: OneLine = Field(description="What was measured, e.g. `p99 upload latency`.")
    unit: ShortText = Field(
        default="", description="Unit of before/after, e.g. `ms`, `%`, `req/s`."
    )
    before: Number = Field(description="Value before the change.")
    after: Number = Field(description="Value after the change.")
    better: Literal["lower", "higher"] = Field(description="Which direction is an improvement.")


class Rollback(StrictModel):
    """How to undo the change, written for someone paged at night."""

    plan: Annotated[
        MarkdownText, NewOption("--rollback", help="The plan to undo it, in Markdown.")
    ] = Field(description="Markdown: the steps to undo the change and how to tell it worked.")
    commands: Annotated[list[Command], NewOption("--rollback-command")] = Field(
        default_factory=list, description="Commands that undo the change."
    )
    tested: Annotated[bool, NewOption("--rollback-tested", help="The rollback was rehearsed.")] = (
        Field(default=False, strict=True, description="Whether the rollback was rehearsed.")
    )
    undone_by: CopiedText | None = Field(
        default=None,
        description="What undid it, when `status` is rolled-back and no later record's "
        "`fixes` names this one: kubectl rollout undo by the on-call at 15:10.",
    )


class ItemStatus(BareStringShorthand, shorthand="status"):
    """How a record went through one checklist item. A bare string means `{status: ...}`."""

    # `skipped` needs a note: editors say so too (a bare `skipped` cannot carry one).
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"const": "skipped"}}, "required": ["status"]},
            "then": {"required": ["note"]},
        }
    )

    @classmethod
    def bare_string_schema(cls, field_schema: JsonSchemaValue) -> JsonSchemaValue:
        return {**field_schema, "enum": [s for s in field_schema["enum"] if s != "skipped"]}

    status: Literal["done", "n/a", "skipped"] = Field(description="`done`, `n/a` or `skipped`.")
    note: Annotated[MarkdownText, _NO_BIDI] | None = Field(
        default=None, description="Markdown: why; required when skipped."
    )

    @model_validator(mode="after")
    def _skipped_needs_note(self) -> ItemStatus:
        if self.status == "skipped" and not self.note:
            raise PydanticCustomError(
                "skipped-needs-note",
                "a skipped item needs a note saying why: {status: skipped, note: ...}",
            )
        return self


class Link(StrictModel):
    """A pull request, ticket or dashboard about the change."""

    title: OneLine = Field(description="Link text.")
    url: HttpUrl = Field(description="An http(s) URL.")


def _out_of_order(value: dt.datetime, relation: str, other: str, at: dt.datetime, why: str) -> Any:
    """The error of a time on the wrong side of another field's (`started_at` after
    `shipped_at`), raised by the later-validated field so that it shows at that field's line."""
    return PydanticCustomError(
        "time-order",
        "{value} is {relation} {other} ({at}): {why}",
        {
            "value": value.isoformat(),
            "relation": relation,
            "other": other,
            "at": at.isoformat(),
            "why": why,
        },
    )


class Incident(StrictModel):
    """An incident this change caused or contributed to, as the incident tool names it."""

    id: ShortText = Field(min_length=1, description="Its id in the incident tool: `INC-1042`.")
    url: HttpUrl = Field(description="Its page in the incident tool: an http(s) URL.")
    opened_at: Timestamp = Field(description="When it was opened, with its offset.")
    resolved_at: Timestamp | None = Field(
        default=None,
        description="When it was resolved, with its offset; not before `opened_at`. Leave it "
        "out while it is open.",
    )

    @field_validator("resolved_at")
    @classmethod
    def _resolved_after_opened(cls, value: dt.datetime | None, info: ValidationInfo) -> Any:
        opened = info.data.get("opened_at")
        if value is not None and isinstance(opened, dt.datetime) and value < opened:
            raise _out_of_order(value, "before", "opened_at", opened, "resolved comes after opened")
        return value


class Fix(BareStringShorthand, shorthand="id"):
    """An earlier record this change rolls back or fixes forward. A bare id means `{id: ...}`."""

    id: Identifier = Field(description="The id (file stem) of the earlier record it fixes.")
    other_service: bool = Field(
        default=False,
        strict=True,
        description="The fixed record is of another service (a shared library, another "
        "team's config): without it, a fix must be of the same service.",
    )


def checklist_marks(texts: list[str]) -> dict[str, dict[str, str]]:
    """`security-hardening=done` (every item: `*`) or `security-hardening.headers=n/a` (one),
    as checklist id → item id → status."""
    marks: dict[str, dict[str, str]] = {}
    for text in texts:
        name, _, status = text.partition("=")
        checklist_id, _, item = name.partition(".")
        if status not in ("done", "n/a") or not checklist_id:
            raise ValueError(
                f"{text!r}: give CHECKLIST=done, CHECKLIST.ITEM=n/a (a skip needs a note: "
                "write it in the file)"
            )
        marks.setdefault(checklist_id, {})[item or "*"] = status
    return marks


def _keys_are_ids(schema: JsonSchemaValue) -> None:
    """patternProperties alone lets any other key through: editors must refuse a checklist or
    item key that is not an id, as validate does."""
    schema["propertyNames"] = {"pattern": ID_PATTERN.pattern}
    for nested in schema.get("patternProperties", {}).values():
        if nested.get("type") == "object":
            _keys_are_ids(nested)


class ChangeRecord(StrictModel):
    """One change, written right after it shipped. Its id is the file stem."""

    title: Annotated[
        OneLine, StringConstraints(max_length=200), NewOption("TITLE"), Placeholder("-")
    ] = Field(description="What changed, one line.")
    date: Annotated[
        CalendarDate,
        NewOption("--date", help="YYYY-MM-DD.", parsed=True),
        Placeholder(dt.date(1970, 1, 1)),  # validate takes the file name's date instead
    ] = Field(description="The day it shipped, YYYY-MM-DD.")
    shipped_at: Annotated[
        Timestamp | None,
        NewOption(
            "--shipped-at",
            help="When it reached the environment, with its offset: 2026-11-20T14:05:00+01:00.",
            metavar="TIME",
            parsed=True,
        ),
    ] = Field(
        default=None,
        description="When it reached `environment`: a date and time with its offset, "
        "2026-11-20T14:05:00Z or 2026-11-20T16:05:00+02:00; its local date is `date`.",
    )
    started_at: Annotated[
        Timestamp | None,
        NewOption(
            "--started-at",
            help="When the rollout began, with its offset: 2026-11-20T13:50:00+01:00.",
            metavar="TIME",
            parsed=True,
        ),
    ] = Field(
        default=None,
        description="When the rollout began, with its offset; not after `shipped_at`. With "
        "`shipped_at`, the rollout window (a time region in Grafana).",
    )
    commit: CommitId | None = Field(
        default=None, description="The git commit that shipped it: 7 to 40 hex digits."
    )
    committed_at: Annotated[
        Timestamp | None,
        NewOption(
            "--committed-at",
            help="When the commit was made, with its offset (--from-git takes the commit's).",
            metavar="TIME",
            parsed=True,
        ),
    ] = Field(
        default=None,
        description="When the shipped commit was made, with its offset (`runbook new "
        "--from-git` fills it): lead time is `shipped_at` minus `committed_at`.",
    )
    owner: Annotated[
        ShortText,
        NewOption("--owner", help="Who is accountable (default: git user)."),
        Placeholder("-"),
    ] = Field(min_length=1, description="Person or team accountable.")
    service: Annotated[
        ShortText, NewOption("--service", help="The system it changed."), Placeholder("-")
    ] = Field(min_length=1, description="The system it changed.")
    environment: Annotated[ShortText, NewOption("--environment", help="Default production.")] = (
        Field(default="production", min_length=1, description="Where it shipped.")
    )
    status: Annotated[
        Literal["planned", "shipped", "verified", "rolled-back"], NewOption("--status")
    ] = Field(
        default="shipped", description="Lifecycle: planned, shipped, verified or rolled-back."
    )
    reason: Annotated[
        MarkdownText, NewOption("--reason", help="Why, in Markdown."), Placeholder("-")
    ] = Field(description="Markdown: why the change was made.")
    expected_result: Annotated[
        MarkdownText | None, NewOption("--expected-result", help="What to observe.")
    ] = Field(default=None, description="Markdown: what should be observed.")
    files_touched: Annotated[list[RelativePath], NewOption("--file"), Placeholder(["-"])] = Field(
        min_length=1,
        max_length=MAX_LIST_ITEMS["files_touched"],
        description="Files the change touched, relative POSIX paths from the repository root.",
    )
    commands: Annotated[list[Command], NewOption("--command"), Placeholder(["-"])] = Field(
        min_length=1, max_length=MAX_LIST_ITEMS["commands"], description="How it was shipped."
    )
    metrics: list[Metric] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS["metrics"],
        description="What moved, before and after.",
    )
    rollback: Annotated[Rollback, Placeholder({"plan": "-", "tested": True})] = Field(
        description="How to undo it."
    )
    checklists: Annotated[
        dict[Identifier, dict[Identifier, ItemStatus]],
        NewOption(
            "--check",
            help="Mark a checklist's items (or one item) done or n/a.",
            metavar="CHECKLIST[.ITEM]=done|n/a",
            read=checklist_marks,
        ),
    ] = Field(
        default_factory=dict,
        description="Checklists gone through: checklist id → item id → status.",
        json_schema_extra=_keys_are_ids,
    )
    tags: Annotated[list[ShortText], NewOption("--tag")] = Field(
        default_factory=list, max_length=MAX_LIST_ITEMS["tags"], description="Free tags."
    )
    links: list[Link] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS["links"],
        description="PRs, tickets, dashboards.",
    )
    incidents: list[Incident] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS["incidents"],
        description="Incidents this change caused or contributed to: {id, url, opened_at, "
        "resolved_at}.",
    )
    fixes: list[Fix] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS["fixes"],
        description="Earlier records this change rolls back or fixes forward, by id; "
        "`{id: ..., other_service: true}` for one of another service.",
    )
    reviewers: list[ShortText] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS["reviewers"],
        description="Who reviewed the change.",
    )
    last_reviewed: CalendarDate | None = Field(
        default=None, description="When this record was last checked to still be true."
    )

    def shipped_text(self) -> str:
        """`2026-11-20 14:05 +01:00` (or `Z`), or the date alone without `shipped_at`."""
        return self.date.isoformat() if self.shipped_at is None else moment_text(self.shipped_at)

    @field_validator("started_at")
    @classmethod
    def _started_before_shipped(cls, value: dt.datetime | None, info: ValidationInfo) -> Any:
        shipped = info.data.get("shipped_at")
        if value is not None and isinstance(shipped, dt.datetime) and value > shipped:
            raise _out_of_order(value, "after", "shipped_at", shipped, "a rollout starts first")
        return value

    @field_validator("shipped_at")
    @classmethod
    def _shipped_on_its_date(cls, value: dt.datetime | None, info: ValidationInfo) -> Any:
        day = info.data.get("date")
        if value is not None and isinstance(day, dt.date) and value.date() != day:
            raise PydanticCustomError(
                "shipped-at-date",
                "is on {local} in its own offset, but the record's date is {day}: "
                "make them the same day",
                {"local": value.date().isoformat(), "day": day.isoformat()},
            )
        return value


class ChecklistItem(StrictModel):
    """One step of a checklist. Records are history: a record is held to the items in force
    on its own date, so adding, retiring or renaming an item never turns an old record red."""

    id: Identifier = Field(description="Unique in the checklist: lowercase a-z, 0-9, dashes.")
    text: OneLine = Field(description="What to do or check.")
    why: str | None = Field(default=None, description="Why the step matters, one line.")
    added: CalendarDate | None = Field(
        default=None,
        description="The day the item joined the checklist: records dated before it need not "
        "address it.",
    )
    retired: CalendarDate | None = Field(
        default=None,
        description="The day the item left the checklist: only records dated before it may "
        "address it.",
    )
    replaces: list[Identifier] = Field(
        default_factory=list,
        description="Earlier ids of this item (renames): a record addressing one of them "
        "addresses this item.",
    )

    def in_force(self, day: dt.date) -> bool:
        """Whether a record dated `day` must address the item."""
        return (self.added is None or self.added <= day) and (
            self.retired is None or day < self.retired
        )

    def dates_text(self) -> str:
        """'added 2026-01-05, retired 2026-06-01' (or '' without dates), for pages."""
        parts = [f"added {self.added.isoformat()}"] if self.added else []
        parts += [f"retired {self.retired.isoformat()}"] if self.retired else []
        return ", ".join(parts)


class RequiredFor(StrictModel):
    """Records matching any of these must go through the checklist."""

    tags: list[ShortText] = Field(
        default_factory=list, description="Tags that require the checklist."
    )
    services: list[ShortText] = Field(default_factory=list, description="Services that require it.")


class Checklist(StrictModel):
    """A reusable checklist. Its id is the file stem."""

    title: OneLine = Field(description="Name of the checklist.")
    description: MarkdownText | None = Field(default=None, description="Markdown: when to use it.")
    items: list[ChecklistItem] = Field(min_length=1, description="The steps.")
    required_for: RequiredFor = Field(
        default_factory=RequiredFor, description="Policies that demand it."
    )

    def item_for(self, item_id: str) -> ChecklistItem | None:
        """The item a record's id addresses: by its id, or by an id it `replaces`."""
        for item in self.items:
            if item.id == item_id or item_id in item.replaces:
                return item
        return None

    def items_on(self, day: dt.date) -> list[ChecklistItem]:
        """The checklist as it was on `day`: the items a record of that date must address."""
        return [item for item in self.items if item.in_force(day)]


# The validated runbook: what every stage after checking works from.


@dataclass(frozen=True)
class RecordSource:
    """Where an aggregate's records of one source come from, as its pages say it."""

    name: str
    location: str  # the repository URL (no user part) or the folder, as mkdocs.yml says
    commit: str | None = None  # the commit shown (None: a folder read in place)
    # The URL a file's path is appended to, to view it at that commit (known forges only).
    file_url: str | None = None
    records: int = 0
    problem: str | None = None  # why the pages show an older commit, or nothing, of it


@dataclass(frozen=True)
class SourcedRecord:
    """A valid record with the id and file it came from (in an aggregate, a source's record
    is SOURCE/ID and its path is the file's in that source's repository)."""

    id: str
    path: str
    record: ChangeRecord
    source: RecordSource | None = None

    @functools.cached_property
    def serialised(self) -> str:
        """The record as pydantic-core writes it (model_dump_json): what page keys, search
        document keys and records.json are made of. A build's records are serialised where
        they are checked, and kept so in the validation cache: serialising all of them again
        in every build took 5 s at 100,000 records."""
        return self.record.model_dump_json()

    @functools.cached_property
    def digest(self) -> str:
        """A short digest of the record's id, file, source and content: what page keys and
        search documents' keys name it by (pages list records by the dozen, and the JSON of
        their keys was 10 MB at 5,000 records when each was its id, path and a full digest)."""
        shown = f"{self.id}\0{self.path}\0{self.source!r}\0{self.serialised}"
        return hashlib.sha256(shown.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SourcedChecklist:
    """A valid checklist with the id and file it came from."""

    id: str
    path: str
    checklist: Checklist


@dataclass
class Runbook:
    """Every valid record (newest first) and checklist (by id): what the site is built from."""

    records: list[SourcedRecord] = field(default_factory=list)
    checklists: dict[str, SourcedChecklist] = field(default_factory=dict)
    sources: list[RecordSource] = field(default_factory=list)  # an aggregate's, by name
