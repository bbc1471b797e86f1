"""Bytes → YAML → plain data, with source positions worked out only when a problem needs them.

The happy path walks libyaml's C event stream once and builds plain Python values itself: that
is as fast as PyYAML's C loader, and it lets us refuse what a runbook must never contain
(anchors, aliases, explicit tags, duplicate keys, impossible dates, deep nesting) at the event
that carries it. Positions of values that fail validation later come from `locate`, which
composes the file's node tree again only for files that have problems.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.cyaml import CParser
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ..config import DEFAULT_MAX_BYTES
from ..diagnostics import Diagnostic
from .files import Stamp, file_stem, stamp_from
from .problems import problem

MAX_DEPTH = 24
MAX_REPORTED_PER_FILE = 20
STR_TAG = "tag:yaml.org,2002:str"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Longer unquoted numbers are refused before Python parses them (int() refuses 4,300 digits,
# and the time to parse grows with the square of the length).
MAX_NUMBER_CHARACTERS = 100
# C0 controls but tab and newlines, DEL, C1 controls, and the line breaks editors do not show
# (NEL, LINE and PARAGRAPH SEPARATOR): never meaningful in a record, and they shift YAML lines.
# Unicode noncharacters too (U+FFFE, U+FFFF, U+FDD0-FDEF): XML forbids them, and one in a
# record made feed.xml unreadable for every subscriber.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufdd0-\ufdef\ufffe\uffff]"
)

# What a YAML error usually means in a hand-written record, added to PyYAML's message.
SYNTAX_HINTS = (
    (
        "mapping values are not allowed",
        ": check this line's indentation against the lines above (a key lines up with the "
        "keys beside it, its value's keys are indented under it), or, if the value is text "
        "holding ': ', quote the whole value",
    ),
    (
        "could not find expected ':'",  # libyaml's words for a key line without its colon
        ": a key needs ': ' after it; if this line continues the text above, indent it under "
        "that text or quote the whole value",
    ),
)

_constructor = SafeConstructor()
_SCALAR_CONSTRUCTORS = _constructor.yaml_constructors
# The safe loader's resolver, on its own: the walk parses with the bare C parser.
_resolver = Resolver()
_IMPLICIT_FIRST_CHARACTERS = frozenset(
    character for character in _resolver.yaml_implicit_resolvers if character
)
# Plain scalars that need the resolver ("done", "true", "ms", "n/a", dates) repeat across
# records; what they resolve to is immutable, so each is resolved once per process.
_RESOLVED_PLAIN_SCALARS: dict[str, Any] = {}
_NOT_CACHED = object()
# Decimal numbers without the YAML 1.1 forms (octal 012, 1_000, +1, .5, 1e3) that need the
# resolver.
_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?")
# Numbers YAML 1.1 and 1.2 read alike. The others (012 is 10 in YAML 1.1 and 12 in 1.2, 1:30 is
# 90, 1_000 is 1000 or text, 0x1F, 0b101) never reach a record silently.
NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
# The booleans YAML 1.1 and 1.2 read alike; `yes`, `no`, `on`, `off` are text in YAML 1.2.
_YAML_12_BOOLEANS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_YAML_12_NUMBER = re.compile(
    r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)"
)
MAX_CACHED_SCALARS = 4096
# Printable ASCII, newline and carriage return: a file of these holds nothing the screen refuses.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\n\r"


@dataclass
class LoadedFile:
    """One YAML file: its data when it parsed, or the diagnostics that stopped it."""

    path: str | Path
    display_path: str
    text: str | None = None
    data: dict[str, Any] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # files.file_stamp of the file as it was opened (None if it is no regular file or could not
    # be opened): the stamp a cached result of it is kept under, without a stat of its own.
    stamp: Stamp | None = None
    # sha256 of the bytes read (hex), when the file was read whole: what the record store keeps
    # beside the stamp, computed here so that no file is read twice.
    digest: str | None = None
    # Where each top-level key starts: most findings need no other position.
    top_level_marks: dict[str, yaml.Mark] = field(default_factory=dict)
    # Where a refused value was left out (an impossible date, a YAML 1.1 number): the file's
    # other stages still run, and say nothing more about those places.
    refused_at: set[tuple[int, int]] = field(default_factory=set)
    # Where a YAML 1.1 word (`yes`, `off`) was read as a boolean, the word and the boolean: editors
    # read it as text, so validation refuses it wherever the schema did not already.
    yaml11_booleans: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)

    @functools.cached_property
    def stem(self) -> str:
        return file_stem(self.path)

    @functools.cached_property
    def key_positions(self) -> dict[str, tuple[int, int]]:
        """1-based (line, column) of each top-level key; worked out for files with findings."""
        return {key: (mark.line + 1, mark.column + 1) for key, mark in self.top_level_marks.items()}

    def error(self, line: int, column: int, code: str, message: str) -> None:
        self.diagnostics.append(problem(self.display_path, line, column, "error", code, message))


class _Refused(Exception):
    """Raised inside the event walk to stop at input we refuse; carries the diagnostic."""

    def __init__(
        self, mark: yaml.Mark | None, code: str, message: str, *, value_only: bool = False
    ) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark else 1
        self.column = mark.column + 1 if mark else 1
        self.code = code
        self.message = message
        # A refused value (left out as None) rather than refused structure: the document is
        # still what its author wrote everywhere else.
        self.value_only = value_only


# Non-blocking, so a FIFO named like a record cannot hang validation; binary, so that Windows
# reads the bytes as they are (the flags a platform lacks are left out).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def load_yaml_file(
    path: str | Path, display_path: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> LoadedFile:
    """Read and parse one file; every problem becomes a diagnostic, nothing raises."""
    loaded = LoadedFile(path=path, display_path=display_path)
    try:
        descriptor = os.open(path, _READ_FLAGS)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                loaded.error(1, 1, "unreadable", "not a regular file")
                return loaded
            loaded.stamp = stamp_from(status)
            if status.st_size > max_bytes:
                size = status.st_size
                loaded.error(
                    1, 1, "too-large", f"file is {size:,} bytes, over the {max_bytes:,} cap"
                )
                return loaded
            raw = _read_capped(descriptor, status.st_size, max_bytes)
        finally:
            os.close(descriptor)
    except OSError as exc:
        loaded.error(1, 1, "unreadable", f"cannot read file: {exc.strerror or exc}")
        return loaded
    if len(raw) <= max_bytes:
        loaded.digest = hashlib.sha256(raw).hexdigest()
    return parse_yaml_bytes(raw, loaded, max_bytes=max_bytes)


def _read_capped(descriptor: int, expected_size: int, max_bytes: int) -> bytes:
    """The file's bytes, at most max_bytes + 1 of them (enough to tell it is too large).

    Reads in buffers of the size fstat reported: a buffer of the cap's size would be
    allocated, and mapped, for every record, which made reading three times slower. A read
    of a regular file that returns less than it asked for has reached the file's end: no
    second call to hear so (a system call per record).
    """
    chunks = []
    remaining = max_bytes + 1
    wanted = expected_size + 1  # one more byte, to notice a file that grew since fstat
    while remaining > 0:
        asked = min(wanted, remaining)
        chunk = os.read(descriptor, asked)
        chunks.append(chunk)
        remaining -= len(chunk)
        if len(chunk) < asked:
            break
        wanted = 64 * 1024
    return b"".join(chunks)


def parse_yaml_bytes(
    raw: bytes, loaded: LoadedFile, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> LoadedFile:
    """Decode, screen and parse bytes into `loaded` (data or diagnostics)."""
    if len(raw) > max_bytes:
        loaded.error(1, 1, "too-large", f"file is {len(raw):,} bytes, over the {max_bytes:,} cap")
        return loaded
    text = _decode(raw, loaded)
    if text is None or not (_plain_bytes(raw) or _screen_characters(text, loaded)):
        return loaded
    loaded.text = text
    refusals: list[_Refused] = []
    try:
        data = _build_document(text, refusals, loaded)
        if all(refused.value_only for refused in refusals):
            loaded.data = data
            loaded.refused_at = {(refused.line, refused.column) for refused in refusals}
    except _Refused as refused:
        refusals.append(refused)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # where the unclosed quote or bracket opened
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        problem += next((hint for words, hint in SYNTAX_HINTS if words in problem), "")
        loaded.error(
            mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, "yaml-syntax", problem
        )
    except yaml.YAMLError as exc:  # ReaderError and friends carry no mark
        loaded.error(1, 1, "yaml-syntax", str(exc).splitlines()[0])
    except RecursionError:
        loaded.error(1, 1, "too-deep", "nesting is too deep")
    for refused in refusals[:MAX_REPORTED_PER_FILE]:
        loaded.error(refused.line, refused.column, refused.code, refused.message)
    if len(refusals) > MAX_REPORTED_PER_FILE:
        first_unreported = refusals[MAX_REPORTED_PER_FILE]
        loaded.error(
            first_unreported.line,
            first_unreported.column,
            "too-many-problems",
            f"{len(refusals) - MAX_REPORTED_PER_FILE} more problems like these not shown",
        )
    return loaded


def _decode(raw: bytes, loaded: LoadedFile) -> str | None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _line_column(raw, exc.start)
        loaded.error(line, column, "encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_column(raw: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(raw, bytes) else "\n"
    line = raw.count(newline, 0, offset) + 1
    column = offset - (raw.rfind(newline, 0, offset) + 1) + 1
    return line, column


def _plain_bytes(raw: bytes) -> bool:
    """The file is printable ASCII and line breaks alone, as nearly every record is: then it
    needs no character screen. One pass in C, where the screen's pattern read the decoded text
    at a tenth of the speed."""
    return not raw.translate(None, _PLAIN_BYTES)


def _screen_characters(text: str, loaded: LoadedFile) -> bool:
    """Refuse NUL, control characters and tabs before YAML sees them, naming each line."""
    if "\x00" in text:
        line, column = _line_column(text, text.index("\x00"))
        loaded.error(line, column, "nul", "NUL byte in file")
        return False
    for match in itertools.islice(CONTROL_CHARACTERS.finditer(text), MAX_REPORTED_PER_FILE):
        line, column = _line_column(text, match.start())
        loaded.error(line, column, "control-char", f"control character U+{ord(match.group()):04X}")
    if "\t" in text:
        seen_lines = set()
        for match in re.finditer("\t", text):
            line, column = _line_column(text, match.start())
            if line not in seen_lines:
                seen_lines.add(line)
                loaded.error(line, column, "tab", "tab character; indent and align with spaces")
    return not loaded.diagnostics


def _build_document(
    text: str, refusals: list[_Refused], loaded: LoadedFile
) -> dict[str, Any] | None:
    """Walk the event stream of one document and build plain dicts, lists and scalars.

    Refusals that leave the structure intact (duplicate keys, anchors, tags, impossible
    dates) are collected so that one run names all of them; broken structure stops the walk.
    """
    parser = CParser(text)
    try:
        parser.get_event()  # StreamStart
        if isinstance(parser.get_event(), StreamEndEvent):
            raise _Refused(None, "empty", "file is empty; a record is a mapping of keys")
        root_mark = parser.peek_event().start_mark
        walk = _EventWalk(parser, refusals, text, loaded.yaml11_booleans)
        root = walk.root()
        parser.get_event()  # DocumentEnd
        after = parser.get_event()
        loaded.top_level_marks = walk.top_level_marks
        if isinstance(after, DocumentStartEvent):
            raise _Refused(after.start_mark, "multi-document", "only one YAML document per file")
        if not isinstance(root, dict):
            found = "nothing" if root is None else type(root).__name__
            raise _Refused(
                root_mark, "not-mapping", f"the top level must be a mapping of keys, got {found}"
            )
        return root
    finally:
        parser.dispose()


class _EventWalk:
    """Builds values from parser events, collecting refusals that do not break structure.

    One flat loop with an explicit stack instead of a method call per node: this walk runs
    for every value of every record, and Python's call overhead was half of its cost.
    """

    def __init__(
        self,
        parser: CParser,
        refusals: list[_Refused],
        text: str,
        yaml11_booleans: dict[tuple[int, int], tuple[str, bool]],
    ) -> None:
        self.parser = parser
        self.refusals = refusals
        self.yaml11_booleans = yaml11_booleans
        # Control characters were screened out of the file; only a backslash escape in a
        # double-quoted scalar can bring one back, so values are checked only then.
        self.escapes_possible = "\\" in text
        self.top_level_marks: dict[str, yaml.Mark] = {}

    def root(self) -> Any:
        """The document's root value; the parser is left before its DocumentEnd event."""
        get_event = self.parser.get_event
        refusals = self.refusals
        # A frame is [container, key marks (None for a sequence), pending key, its mark].
        checked = self.escapes_possible
        implicit_first_characters = _IMPLICIT_FIRST_CHARACTERS
        bottom: list[Any] = [[], None, None, None]
        stack = [bottom]
        frame = bottom
        while True:
            event = get_event()
            kind = event.__class__
            mark = event.start_mark
            marks = frame[1]
            if marks is not None and frame[2] is None:  # a mapping, waiting for a key
                if kind is ScalarEvent:
                    anchor, tag, value = event.anchor, event.tag, event.value
                    decorated = anchor is not None or tag is not None
                    frame[2] = self.key(anchor, tag, value, mark) if decorated or checked else value
                    frame[3] = mark
                    continue
                if kind is not MappingEndEvent:
                    raise _Refused(mark, "yaml-syntax", "keys must be plain text")
                value = frame[0]
                stack.pop()
                frame = stack[-1]
            elif kind is ScalarEvent:
                value = event.value
                if event.anchor is not None or event.tag is not None:
                    self.refuse_decoration(event.anchor, event.tag, mark)
                if event.implicit[0]:  # unquoted: may resolve to a number, date, bool or null
                    if not value or value[0] in implicit_first_characters:
                        value = self.plain_scalar(value, mark)
                elif checked:
                    value = self.checked_text(value, mark)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    self.refuse_decoration(event.anchor, event.tag, mark)
                if len(stack) > MAX_DEPTH:
                    raise _Refused(mark, "too-deep", f"nesting deeper than {MAX_DEPTH} levels")
                if kind is MappingStartEvent:
                    frame = [{}, {}, None, None]
                    if len(stack) == 1:
                        self.top_level_marks = frame[1]
                else:
                    frame = [[], None, None, None]
                stack.append(frame)
                continue
            elif kind is SequenceEndEvent:
                value = frame[0]
                stack.pop()
                frame = stack[-1]
            elif kind is AliasEvent:
                refusals.append(
                    _Refused(mark, "alias", f"aliases (*{event.anchor}) are not allowed")
                )
                value = None
            else:
                raise _Refused(mark, "yaml-syntax", f"unexpected {kind.__name__}")
            # Deliver the finished value to the frame on top.
            marks = frame[1]
            if marks is None:
                if frame is bottom:
                    return value
                frame[0].append(value)
                continue
            key = frame[2]
            frame[2] = None
            if key in marks:
                refusals.append(
                    _Refused(
                        frame[3],
                        "duplicate-key",
                        f"duplicate key '{_shorten(key)}' (first on line {marks[key].line + 1})",
                    )
                )
            else:
                marks[key] = frame[3]
                frame[0][key] = value

    def refuse_decoration(self, anchor: str | None, tag: str | None, mark: yaml.Mark) -> None:
        if anchor is not None:
            self.refusals.append(_Refused(mark, "anchor", f"anchors (&{anchor}) are not allowed"))
        if tag is not None:
            self.refusals.append(_Refused(mark, "tag", f"explicit tags ({tag}) are not allowed"))

    def key(self, anchor: str | None, tag: str | None, value: str, mark: yaml.Mark) -> str:
        """A key is always its literal text: `no:` or `012:` mean the strings typed."""
        if anchor is not None:
            self.refusals.append(_Refused(mark, "anchor", "anchors are not allowed on keys"))
        if tag is not None:
            self.refusals.append(_Refused(mark, "tag", "tags are not allowed on keys"))
        return self.checked_text(value, mark)

    def checked_text(self, value: str, mark: yaml.Mark) -> str:
        """The scalar's text; escapes like "\\0" can smuggle in what the file screen refused."""
        if not self.escapes_possible:
            return value
        match = CONTROL_CHARACTERS.search(value)
        if match:
            code = "nul" if match.group() == "\x00" else "control-char"
            self.refusals.append(
                _Refused(
                    mark, code, f"escaped control character U+{ord(match.group()):04X} in a value"
                )
            )
        return value

    def plain_scalar(self, value: str, mark: yaml.Mark) -> Any:
        """An unquoted value whose first character may start a number, date, boolean or null.

        Quoted and block scalars, and plain ones no implicit type starts with, are text; the
        walk takes those itself without calling here.
        """
        if len(value) > 5 and value[0].isalpha():
            return value  # no implicit type is a word this long
        if len(value) > MAX_NUMBER_CHARACTERS and value.lstrip("+-")[:1].isdigit():
            self.refusals.append(
                _Refused(
                    mark,
                    "schema",
                    f"a number of {len(value):,} characters: no measurement needs more than "
                    f"{MAX_NUMBER_CHARACTERS}; quote it if it is text",
                    value_only=True,
                )
            )
            return None
        decimal = _PLAIN_DECIMAL.fullmatch(value)
        if decimal:  # metrics' numbers: what the YAML 1.1 resolver makes of them, sooner
            return float(value) if decimal.group(1) else int(value)
        resolved = _RESOLVED_PLAIN_SCALARS.get(value, _NOT_CACHED)
        if resolved is not _NOT_CACHED:
            return resolved
        tag = _resolver.resolve(ScalarNode, value, (True, False))
        construct = _SCALAR_CONSTRUCTORS.get(tag)
        if tag == STR_TAG or construct is None:  # or YAML 1.1 oddities such as `=`
            resolved = value
        else:
            try:
                resolved = construct(_constructor, ScalarNode(tag, value, None, None))
            except (ValueError, OverflowError) as exc:  # impossible dates such as 2026-02-30
                is_date = tag == TIMESTAMP_TAG
                self.refusals.append(
                    _Refused(
                        mark,
                        "invalid-date" if is_date else "schema",
                        f"'{_shorten(value)}' is not a real date: {exc}"
                        if is_date
                        else f"'{_shorten(value)}' is not a usable number: quote it if it is text",
                        value_only=True,
                    )
                )
                return None
            if tag in NUMBER_TAGS and not _YAML_12_NUMBER.fullmatch(value):
                self.refusals.append(
                    _Refused(
                        mark,
                        "schema",
                        f"'{_shorten(value)}' is a YAML 1.1 number form, read as {resolved!r} "
                        "here and differently (or as text) by editors, which read YAML 1.2: "
                        "write the number in plain decimal, or if it is text quote it: "
                        f'"{_shorten(value)}"',
                        value_only=True,
                    )
                )
                return None
        if resolved.__class__ is bool and value not in _YAML_12_BOOLEANS:
            # `yes`, `off`: noted at each place, so never cached (a cache hit notes nothing)
            self.yaml11_booleans[(mark.line + 1, mark.column + 1)] = (value, resolved)
            return resolved
        if len(_RESOLVED_PLAIN_SCALARS) >= MAX_CACHED_SCALARS:
            _RESOLVED_PLAIN_SCALARS.clear()
        _RESOLVED_PLAIN_SCALARS[value] = resolved  # immutable: str, bool, number, date, None
        return resolved


def _shorten(value: str, limit: int = 60) -> str:
    """Keep echoed user text short and on one line in diagnostics."""
    flat = value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compose_nodes(text: str) -> yaml.Node | None:
    """The node tree of a file that already loaded, for positions; None if it cannot compose."""
    try:
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None


def locate(
    root: yaml.Node | None, loc: tuple[Any, ...], *, at_key: bool = False
) -> tuple[int, int]:
    """1-based line and column of the value (or key) at `loc`, or of its nearest ancestor."""
    if root is None:
        return 1, 1
    node: yaml.Node = root
    position = node.start_mark
    for depth, step in enumerate(loc):
        is_last = depth == len(loc) - 1
        if isinstance(node, MappingNode):
            match = next((pair for pair in node.value if pair[0].value == str(step)), None)
            if match is None:
                break
            key_node, node = match
            position = key_node.start_mark if (is_last and at_key) else node.start_mark
            if not is_last:
                # A missing key below this one is best reported at this key.
                position = key_node.start_mark
        elif isinstance(node, SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(node.value):
                break
            node = node.value[step]
            position = node.start_mark
        else:
            break
    return position.line + 1, position.column + 1


def source_text(root: yaml.Node | None, loc: tuple[Any, ...]) -> str | None:
    """The literal text of the scalar at `loc`, to show what YAML turned it into."""
    node = root
    for step in loc:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if k.value == str(step)), None)
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return None
    return node.value if isinstance(node, ScalarNode) else None
