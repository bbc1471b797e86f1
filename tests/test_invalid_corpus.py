"""Golden corpus of invalid input: each file states the diagnostics `runbook validate` must print.

Every file in tests/data/invalid/{records,checklists}/ is one case; adding a case is adding a
file. The file starts with comment lines, then the YAML:

    # expect: LINE:COL SEVERITY CODE [-- TEXT]   one per diagnostic; TEXT must be in its message
    # never-in-output: VALUE                     VALUE (a secret) must not appear in any output
    # pad-to-bytes: N                            append comment lines up to N bytes at test time

LINE:COL are 1-based and count the comment lines. The diagnostics printed for the file must be
exactly the expected ones (as a multiset of line, column, severity and code).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cli_run import CliRun

INVALID = Path(__file__).resolve().parent / "data" / "invalid"
CASE_FILES = sorted(p for p in INVALID.glob("*/*") if p.suffix in (".yaml", ".yml"))

# Cases that show a generator bug today: they must fail until the bug is fixed (strict xfail),
# and then this entry must go.
KNOWN_BUGS: dict[str, str] = {}

EXPECT = re.compile(
    r"^# expect: (?P<line>\d+):(?P<column>\d+) (?P<severity>error|warning) (?P<code>[a-z0-9-]+)"
    r"(?: -- (?P<text>.+))?$"
)
DIRECTIVE = re.compile(r"^# (?P<name>[a-z][a-z-]*): ?(?P<value>.*)$")
TEXT_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): "
    r"(?P<message>.*) \[(?P<code>[a-z0-9-]+)\]$"
)
GITHUB_LINE = re.compile(
    r"^::(?P<severity>error|warning) (?P<properties>[^:]*)::(?P<message>.*) "
    r"\[(?P<code>[a-z0-9-]+)\]$"
)

Key = tuple[int, int, str, str]  # line, column, severity, code


@dataclass
class Case:
    """One corpus file: where it goes in the repository and what it must produce."""

    source: Path
    kind: str  # "records" or "checklists"
    expected: list[Key] = field(default_factory=list)
    message_texts: list[tuple[Key, str]] = field(default_factory=list)
    never_in_output: list[str] = field(default_factory=list)
    pad_to_bytes: int = 0

    @property
    def display_path(self) -> str:
        return f"{self.kind}/{self.source.name}"

    @property
    def has_errors(self) -> bool:
        return any(severity == "error" for _line, _column, severity, _code in self.expected)

    def content(self) -> bytes:
        raw = self.source.read_bytes()
        if self.pad_to_bytes:
            filler = b"# padding to make the file larger than the size cap" + b" " * 28 + b"\n"
            raw += filler * (self.pad_to_bytes // len(filler) + 1)
        return raw


def parse_case(path: Path) -> Case:
    case = Case(source=path, kind=path.parent.name)
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if match := EXPECT.match(line):
            key = (
                int(match["line"]),
                int(match["column"]),
                match["severity"],
                match["code"],
            )
            case.expected.append(key)
            if match["text"]:
                case.message_texts.append((key, match["text"]))
        elif match := DIRECTIVE.match(line):
            name, value = match["name"], match["value"].strip()
            if name == "never-in-output":
                case.never_in_output.append(value)
            elif name == "pad-to-bytes":
                case.pad_to_bytes = int(value)
            else:
                raise ValueError(f"{path}: unknown directive {line!r}")
    return case


def _param(path: Path) -> object:
    case_id = f"{path.parent.name}/{path.name}"
    marks = []
    if case_id in KNOWN_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case_id]))
    return pytest.param(path, id=case_id, marks=marks)


def _install(case: Case, repo: Path) -> None:
    (repo / case.kind / case.source.name).write_bytes(case.content())


def _assert_clean_output(case: Case, run: CliRun) -> None:
    assert "Traceback" not in run.output
    for secret in case.never_in_output:
        assert secret not in run.output, f"the secret {secret!r} was printed"


def _json_keys(case: Case, run: CliRun) -> list[Key]:
    diagnostics = run.json()
    assert isinstance(diagnostics, list)
    for diagnostic in diagnostics:
        assert set(diagnostic) == {"path", "line", "column", "severity", "code", "message"}
        assert diagnostic["path"] == case.display_path, diagnostic
    return [(d["line"], d["column"], d["severity"], d["code"]) for d in diagnostics]


def _text_keys(case: Case, run: CliRun) -> list[Key]:
    keys = []
    for line in run.stdout.splitlines():
        match = TEXT_LINE.match(line)
        assert match, f"not a PATH:LINE:COL diagnostic line: {line!r}"
        assert match["path"] == case.display_path
        keys.append((int(match["line"]), int(match["column"]), match["severity"], match["code"]))
    return keys


def _github_keys(case: Case, run: CliRun) -> list[Key]:
    keys = []
    for line in run.stdout.splitlines():
        match = GITHUB_LINE.match(line)
        assert match, f"not a GitHub workflow command: {line!r}"
        properties = dict(item.split("=", 1) for item in match["properties"].split(","))
        assert properties["file"] == case.display_path
        keys.append(
            (int(properties["line"]), int(properties["col"]), match["severity"], match["code"])
        )
    return keys


@pytest.mark.parametrize("path", [_param(p) for p in CASE_FILES])
def test_invalid_case(path: Path, runbook_repo: Path, run_runbook: Callable[..., CliRun]) -> None:
    case = parse_case(path)
    assert case.kind in ("records", "checklists"), "cases live in records/ or checklists/"
    assert case.expected, "a case states at least one '# expect:' line"
    _install(case, runbook_repo)
    expected = Counter(case.expected)
    exit_code = 1 if case.has_errors else 0

    # A checklist case has no records around it: it is checked by path, as pre-commit does
    # (a whole runbook without records is a usage error, tests/test_wrong_folder.py).
    where = ["checklists"] if case.kind == "checklists" else []
    as_json = run_runbook("validate", "--format", "json", *where)
    _assert_clean_output(case, as_json)
    assert as_json.stderr == ""
    diagnostics = as_json.json()
    assert Counter(_json_keys(case, as_json)) == expected, diagnostics
    for key, text in case.message_texts:
        messages = [
            d["message"]
            for d in diagnostics
            if (d["line"], d["column"], d["severity"], d["code"]) == key
        ]
        assert any(text in message for message in messages), (text, messages)
    assert as_json.exit_code == exit_code

    as_text = run_runbook("validate", "--format", "text", *where)
    _assert_clean_output(case, as_text)
    assert Counter(_text_keys(case, as_text)) == expected, as_text.stdout
    assert as_text.exit_code == exit_code

    as_github = run_runbook("validate", "--format", "github", *where)
    _assert_clean_output(case, as_github)
    assert Counter(_github_keys(case, as_github)) == expected, as_github.stdout
    assert as_github.exit_code == exit_code

    if not case.has_errors:  # warnings fail the run only under --strict
        strict = run_runbook("validate", "--format", "json", "--strict", *where)
        _assert_clean_output(case, strict)
        assert Counter(_json_keys(case, strict)) == expected
        assert strict.exit_code == 1


def test_known_bugs_are_corpus_files() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in CASE_FILES}
    assert set(KNOWN_BUGS) <= names


def test_corpus_covers_every_code() -> None:
    """Removing a file must not silently drop a rule from the corpus."""
    covered = {code for path in CASE_FILES for *_position, code in parse_case(path).expected}
    required = {
        "yaml-syntax", "duplicate-key", "anchor", "alias", "tag", "tab", "nul", "control-char",
        "encoding", "empty", "not-mapping", "multi-document", "too-deep", "invalid-date",
        "too-large", "unknown-key", "missing", "schema", "one-line", "bidi", "path", "url",
        "date", "id", "unknown-checklist", "unknown-item", "missing-item", "skipped-needs-note",
        "required-checklist", "secret", "duplicate-item", "missing-expected-result",
        "no-metrics", "rollback-untested", "stale-review", "time-order", "unknown-fix",
        "fix-order", "committed-after-shipped", "rollback-unexplained",
    }  # fmt: skip
    assert required <= covered, sorted(required - covered)
