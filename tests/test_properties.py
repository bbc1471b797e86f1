"""Property tests: no input whatsoever makes the loader or validator raise.

Arbitrary bytes, arbitrary YAML documents and arbitrary data trees shaped like records must
always come back as data or as a list of diagnostics with sane positions.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from generator.check.loader import LoadedFile, parse_yaml_bytes
from generator.check.paths import display_path, normalised_display_path
from generator.check.validate import validate_runbook
from generator.config import RunbookOptions
from generator.diagnostics import Diagnostic, sort_diagnostics
from generator.models import (
    HTTP_URL_PATTERN,
    MAX_PATH_LENGTH,
    PLAIN_HTTP_URL,
    PLAIN_PATH,
    RELATIVE_PATH_PATTERN,
    _http_url,
    checked_http_url,
    path_problem,
)

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(min_value=dt.date(1, 1, 1)),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
record_keys = st.sampled_from(
    ["title", "date", "owner", "service", "status", "reason", "files_touched", "commands",
     "metrics", "rollback", "checklists", "tags", "links", "last_reviewed", "titel"]
)  # fmt: skip
record_like = st.dictionaries(record_keys, trees, max_size=12)


def _assert_sane(loaded: LoadedFile, text: str | bytes) -> None:
    line_count = (text.count(b"\n") if isinstance(text, bytes) else text.count("\n")) + 2
    if loaded.data is None:
        assert loaded.diagnostics, "no data must come with a reason"
    for diagnostic in loaded.diagnostics:
        assert 1 <= diagnostic.line <= line_count
        assert diagnostic.column >= 1
        assert diagnostic.message.isprintable()


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    loaded = parse_yaml_bytes(raw, LoadedFile(Path("x.yaml"), "x.yaml"))
    _assert_sane(loaded, raw)


@PROPERTY_SETTINGS
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\n \t?,%@`0.~")), max_size=300))
def test_yaml_punctuation_soup_never_raises(text: str) -> None:
    loaded = parse_yaml_bytes(text.encode("utf-8"), LoadedFile(Path("x.yaml"), "x.yaml"))
    _assert_sane(loaded, text)


@PROPERTY_SETTINGS
@given(record_like)
def test_arbitrary_record_trees_validate_to_diagnostics(tmp_path_factory, tree) -> None:
    root = tmp_path_factory.mktemp("runbook")
    records = root / "records"
    records.mkdir()
    text = yaml.safe_dump(tree, allow_unicode=True)
    (records / "2026-01-01-generated.yaml").write_text(text, encoding="utf-8")
    options = RunbookOptions(
        root=root,
        records_dir=records,
        checklists_dir=Path(__file__).resolve().parent.parent / "checklists",
        templates_dir=root / "templates",
    )
    report = validate_runbook(options)
    if not report.runbook.records:
        assert any(d.severity == "error" for d in report.diagnostics)
    for diagnostic in report.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.column >= 1
        assert diagnostic.code and diagnostic.message.isprintable()


@PROPERTY_SETTINGS
@given(st.from_regex(PLAIN_PATH, fullmatch=True))
def test_fast_path_check_accepts_only_what_the_full_check_accepts(path: str) -> None:
    """files_touched skips the full path checks for plain paths; they must agree."""
    assert len(path) > MAX_PATH_LENGTH or path_problem(path) is None


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(["", ".", "..", ".hidden", "records", "a.yaml", "x"]), max_size=6),
    st.sampled_from(["", "/", "/elsewhere/"]),
)
def test_display_paths_read_the_same_with_and_without_normalising(
    segments: list[str], prefix: str
) -> None:
    """display_path takes a short cut for normal paths inside the folder; it must agree."""
    cwd = os.getcwd()
    path = (prefix or cwd + "/") + "/".join(segments)
    assert display_path(path) == normalised_display_path(cwd, path)


diagnostics = st.builds(
    Diagnostic,
    st.sampled_from(["records/a.yaml", "records/a-b.yaml", "records/2026/a.yaml", "c.yaml"]),
    st.integers(1, 4),
    st.integers(1, 3),
    st.sampled_from(["error", "warning"]),
    st.sampled_from(["schema", "secret", "name-variant"]),
    st.sampled_from(["one", "two", "Two"]),
)


@PROPERTY_SETTINGS
@given(st.lists(diagnostics, max_size=30))
def test_diagnostics_sort_as_the_dataclass_orders_them_each_once(found: list[Diagnostic]) -> None:
    """sort_diagnostics compares plain tuples, for speed: the order must stay the dataclass's."""
    assert sort_diagnostics(found) == sorted(set(found))


def test_path_checks_still_refuse_the_unplain() -> None:
    for path in ["../etc/passwd", "a/./b", "/abs", "C:/x", "a//b", "a\\b", "..", "."]:
        assert path_problem(path) is not None, path
        assert not PLAIN_PATH.fullmatch(path), path


YAML_11_ONLY_NUMBERS = st.one_of(
    st.integers(1, 10**6).map(lambda n: f"0{n:o}"),  # octal: 012 is 10 in YAML 1.1, 12 in 1.2
    st.tuples(st.integers(1, 59), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.integers(1, 10**6).map(lambda n: f"{n:_}" if n >= 1000 else f"1_{n:03d}"),
    st.integers(0, 10**6).map(lambda n: f"0x{n:X}"),
    st.integers(0, 10**6).map(lambda n: f"0b{n:b}"),
)


@given(YAML_11_ONLY_NUMBERS, st.booleans())
def test_yaml_11_number_forms_never_reach_a_value(number: str, before: bool) -> None:
    """Whatever YAML 1.1 makes of `012`, `1:30`, `1_000`, `0x1F` or `0b101`, the loader
    refuses it at its own line and column instead of handing a number on."""
    field = "before" if before else "after"
    text = f"title: t\nmetrics:\n  - name: m\n    {field}: {number}\n"
    loaded = parse_yaml_bytes(text.encode(), LoadedFile("r.yaml", "r.yaml"))
    errors = [(d.line, d.column, d.code) for d in loaded.diagnostics]
    assert errors == [(4, 7 + len(field), "schema")], (number, loaded.diagnostics)
    assert loaded.data is not None and loaded.data["metrics"][0][field] is None


@pytest.mark.parametrize("word", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_booleans_both_yaml_versions_read_alike_stay_booleans(word: str) -> None:
    loaded = parse_yaml_bytes(f"tested: {word}\n".encode(), LoadedFile("r.yaml", "r.yaml"))
    assert loaded.diagnostics == [] and loaded.data == {"tested": word.lower() == "true"}


@PROPERTY_SETTINGS
@given(st.text(alphabet="ab./\\:C \x00\u200b\u202e-", max_size=12))
def test_the_path_pattern_editors_use_agrees_with_the_path_check(path: str) -> None:
    """files_touched's JSON Schema pattern (editors) refuses exactly what validate refuses."""
    assert bool(re.fullmatch(RELATIVE_PATH_PATTERN, path)) == (path_problem(path) is None)


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "javascript:", "http:/", ""]),
    st.text(alphabet="ab./?#: \x00\u2028", max_size=10),
)
def test_the_url_pattern_editors_use_agrees_with_the_url_check(scheme: str, rest: str) -> None:
    url = scheme + rest
    try:
        _http_url(url)
        valid = True
    except PydanticCustomError:
        valid = False
    assert bool(re.fullmatch(HTTP_URL_PATTERN, url)) == valid, url


@PROPERTY_SETTINGS
@given(st.from_regex(PLAIN_HTTP_URL, fullmatch=True))
def test_plain_urls_taken_without_checks_pass_the_checks(url: str) -> None:
    """The short cut for plain URLs accepts nothing that the full URL check would refuse."""
    assert checked_http_url(url) == url
    assert re.fullmatch(HTTP_URL_PATTERN, url)


def test_every_yaml_11_boolean_word_is_noted_at_its_place_each_time() -> None:
    """Resolved plain scalars are cached per process; `yes` must be noted every time anyway."""
    for _ in range(2):
        text = "rollback:\n  tested: yes\ntags: [on, Off]\n"
        loaded = parse_yaml_bytes(text.encode(), LoadedFile("r.yaml", "r.yaml"))
        assert loaded.yaml11_booleans == {
            (2, 11): ("yes", True),
            (3, 8): ("on", True),
            (3, 12): ("Off", False),
        }


# Every character the loader refuses before YAML reads the file, with the code it is named by.
REFUSED_CHARACTERS = st.one_of(
    st.sampled_from(["\x00", "\t", "\x7f", "\u2028", "\u2029", "\ufffe", "\uffff"]),
    st.characters(min_codepoint=0x01, max_codepoint=0x1F).filter(lambda c: c not in "\t\n\r"),
    st.characters(min_codepoint=0x80, max_codepoint=0x9F),
    st.characters(min_codepoint=0xFDD0, max_codepoint=0xFDEF),
)


@PROPERTY_SETTINGS
@given(REFUSED_CHARACTERS, st.integers(min_value=0, max_value=10_000))
def test_a_refused_character_anywhere_is_named_at_its_place(character: str, where: int) -> None:
    """Plain ASCII files skip the character screen; one refused character anywhere in an
    otherwise plain file is still reported, at its line and column."""
    text = "title: Raise the upload cap\nreason: |\n  Uploads failed.\n  Twice.\nowner: Ana\n"
    offset = where % (len(text) + 1)
    loaded = parse_yaml_bytes(
        (text[:offset] + character + text[offset:]).encode(), LoadedFile("r.yaml", "r.yaml")
    )
    code = {"\x00": "nul", "\t": "tab"}.get(character, "control-char")
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    assert loaded.data is None
    assert [(d.line, d.column, d.code) for d in loaded.diagnostics] == [(line, column, code)]
