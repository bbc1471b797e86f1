"""The editor agrees with `runbook validate`: yaml-language-server (the engine of VS Code's YAML
extension, from npm), driven over stdio as VS Code drives it with the `.vscode/settings.json`
that `runbook init` writes, on records and checklists in several folders."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import run_cli
from editor_client import YAML_LANGUAGE_SERVER, YamlLanguageServer
from record_files import EPOCH, initialised_runbook

from generator.authoring.editor import schema_mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
INVALID = REPO_ROOT / "tests" / "data" / "invalid"
VALID_RECORDS = sorted((REPO_ROOT / "records").rglob("*.yaml")) + sorted(
    (REPO_ROOT / "tests" / "data" / "valid" / "records").glob("*.y*ml")
)
# Where a record may sit: by year as `runbook new` files it, flat, and deeper.
RECORD_FOLDERS = ("2026", ".", "platform/db/2026")
# Findings about one file's content that a JSON Schema can express; the others need the whole
# runbook (checklist references, ids from file names, secrets) or the raw bytes.
SCHEMA_CODES = frozenset(
    {"schema", "missing", "unknown-key", "one-line", "bidi", "path", "url", "date"}
    | {"invalid-date", "skipped-needs-note", "id"}
)
# What YAML 1.1 (the validator's reading, refused with these words) makes a number or a
# boolean, YAML 1.2 (the editor's) reads as valid text or another valid number, out of any
# schema's sight: `owner: no`, `tags: [on]`, `before: 012`, `environment: 12:30`. (A YAML 1.1
# word where a boolean or an item status belongs is text where neither is valid: seen.)
READ_DIFFERENTLY_BY_YAML_12 = ("YAML 1.1 number form", "expected text, but YAML read")
# Rules relating two fields of a file: JSON Schema cannot compare values.
CROSS_FIELD = {"item-history.yaml": "an item retired before it was added"}


@pytest.fixture(scope="module")
def editor() -> Iterator[type[YamlLanguageServer]]:
    if not YAML_LANGUAGE_SERVER.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{YAML_LANGUAGE_SERVER} is missing: `make test` installs it (npm)")
        pytest.skip("yaml-language-server is not installed (npm install)")
    yield YamlLanguageServer


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runbook made by `runbook init`, opened as a VS Code workspace."""
    return initialised_runbook(tmp_path_factory.mktemp("editor"))


def error_lines(diagnostics: list[dict]) -> set[int]:
    """1-based lines the editor underlines as errors."""
    return {d["range"]["start"]["line"] + 1 for d in diagnostics if d.get("severity", 1) == 1}


def in_the_editors_sight(diagnostic: dict) -> bool:
    message = diagnostic["message"]
    return (
        diagnostic["code"] in SCHEMA_CODES
        # the record's id is its file's name, reported at 1:1: no schema sees a file name
        and not (
            diagnostic["code"] == "id" and (diagnostic["line"], diagnostic["column"]) == (1, 1)
        )
        and not any(words in message for words in READ_DIFFERENTLY_BY_YAML_12)
    )


def validator_errors(repo: Path, *paths: Path) -> dict[str, list[dict]]:
    """`runbook validate`'s errors, by file name."""
    result = run_cli(repo, "validate", "--format", "json", *map(str, paths), epoch=EPOCH)
    found: dict[str, list[dict]] = {}
    for diagnostic in result.json():
        if diagnostic["severity"] == "error":
            found.setdefault(Path(diagnostic["path"]).name, []).append(diagnostic)
    return found


def test_init_maps_records_and_checklists_to_their_schemas(workspace: Path) -> None:
    settings = json.loads((workspace / ".vscode" / "settings.json").read_text("utf-8"))
    mapping = settings["yaml.schemas"]
    assert mapping == {
        "./schemas/record.schema.json": ["records/**/*.yaml", "records/**/*.yml"],
        "./schemas/checklist.schema.json": ["checklists/*.yaml", "checklists/*.yml"],
    }
    assert all((workspace / schema).is_file() for schema in mapping)


def test_valid_records_and_checklists_show_no_error_in_any_folder(
    editor: type[YamlLanguageServer], workspace: Path
) -> None:
    placed = []
    for number, record in enumerate(VALID_RECORDS):
        folder = workspace / "records" / RECORD_FOLDERS[number % len(RECORD_FOLDERS)]
        folder.mkdir(parents=True, exist_ok=True)
        placed.append(shutil.copy(record, folder / record.name))
    checklists = sorted((REPO_ROOT / "checklists").glob("*.yaml"))
    placed += [shutil.copy(c, workspace / "checklists" / f"demo-{c.name}") for c in checklists]
    with editor(workspace) as server:
        shown = {Path(path).name: server.problems(Path(path)) for path in placed}
    assert {name: problems for name, problems in shown.items() if problems} == {}
    for path in placed:
        Path(path).unlink()


def invalid_cases() -> list[Path]:
    return sorted((INVALID / "records").glob("*.y*ml")) + sorted(
        (INVALID / "checklists").glob("*.y*ml")
    )


def test_the_editor_underlines_each_schema_error_validate_reports(
    editor: type[YamlLanguageServer], workspace: Path
) -> None:
    """Every error validate finds that a schema can express is underlined in the editor on
    the same line, for records flat, by year or nested deeper, and for checklists."""
    placed = []
    for number, case in enumerate(invalid_cases()):
        if case.name in CROSS_FIELD:
            continue
        if case.parent.name == "checklists":
            target = workspace / "checklists" / f"bad-{case.name}"
        else:
            target = workspace / "records" / RECORD_FOLDERS[number % 3] / "bad" / case.name
        target.parent.mkdir(parents=True, exist_ok=True)
        placed.append(shutil.copy(case, target))
    found = validator_errors(workspace, *map(Path, placed))
    missed = {}
    checked = 0
    with editor(workspace) as server:
        for path in map(Path, placed):
            expected = {d["line"] for d in found.get(path.name, []) if in_the_editors_sight(d)}
            if not expected:
                continue
            checked += 1
            underlined = error_lines(server.problems(path))
            if not expected <= underlined:
                missed[path.relative_to(workspace).as_posix()] = (expected, underlined)
    for path in map(Path, placed):
        path.unlink()
    assert missed == {}
    assert checked >= 40


def test_a_record_with_every_new_rule_shows_each_in_both(
    editor: type[YamlLanguageServer], workspace: Path
) -> None:
    """The rules the schema gained for editors: item status values (`yes` is not one),
    `skipped` needs a note, http(s) links, plain relative paths, real dates, and `yes` where a
    boolean belongs."""
    record = next((workspace / "records").rglob("*start-a-runbook.yaml"))
    text = record.read_text("utf-8").replace("tested: true", "tested: yes")
    text += (
        "links:\n"
        "  - {title: Ticket, url: 'ftp://tickets.example.com/1'}\n"
        "last_reviewed: 2026-02-29\n"
    )
    for item, status in [
        ("permissions-checked", "yes"),
        ("inputs-validated", "finished"),
        ("retry-safe", "{status: skipped}"),
        ("expected-response", "skipped"),
    ]:
        text = re.sub(rf"(?m)^    {item}: .*$", f"    {item}: {status}", text)
    text = text.replace("files_touched:\n", "files_touched:\n  - ./mkdocs.yml\n  - a/../b\n")
    target = workspace / "records" / "deep" / "er" / "every-rule.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text, "utf-8")
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if fragment in line)

    expected = {
        line_of(fragment)
        for fragment in [
            *("tested: yes", "permissions-checked", "ftp://", "2026-02-29", "finished"),
            "retry-safe",
            *("expected-response", "./mkdocs.yml", "a/../b"),
        ]
    }
    validated = {d["line"] for d in validator_errors(workspace, target)[target.name]}
    with editor(workspace) as server:
        underlined = error_lines(server.problems(target))
    target.unlink()
    assert expected <= validated
    assert expected <= underlined


def test_hover_shows_the_field_descriptions_in_a_checklist(
    editor: type[YamlLanguageServer], workspace: Path
) -> None:
    checklist = workspace / "checklists" / "safe-change.yaml"
    lines = checklist.read_text("utf-8").splitlines()
    with editor(workspace) as server:
        shown = {
            key: server.hover(checklist, lines.index(key + ":"), 1)
            for key in ("items", "required_for")
            if key + ":" in lines
        }
    assert "items" in shown
    assert all("checklist.schema.json" in text and "####" in text for text in shown.values())


def test_a_configured_records_folder_is_mapped_by_schema_write(
    editor: type[YamlLanguageServer], tmp_path: Path
) -> None:
    repo = initialised_runbook(tmp_path)
    config = repo / "mkdocs.yml"
    text = config.read_text("utf-8").replace("records_dir: records", "records_dir: ops/changes")
    config.write_text(text, "utf-8")
    (repo / "ops").mkdir()
    shutil.move(repo / "records", repo / "ops" / "changes")
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    assert "updated .vscode/settings.json" in result.stdout
    record = next((repo / "ops" / "changes").rglob("*.yaml"))
    record.write_text(record.read_text("utf-8").replace("tested: true", "tested: yes"), "utf-8")
    with editor(repo) as server:
        assert error_lines(server.problems(record)) != set()


def test_schema_write_refreshes_stale_copies_and_keeps_the_teams_settings(
    tmp_path: Path,
) -> None:
    repo = initialised_runbook(tmp_path)
    stale = repo / "schemas" / "record.schema.json"
    stale.write_text('{"title": "an older runbook"}\n', "utf-8")
    settings = repo / ".vscode" / "settings.json"
    team = {"editor.tabSize": 2, "yaml.schemas": {"./ci.schema.json": ["ci/*.yaml"]}}
    settings.write_text(json.dumps(team), "utf-8")

    drafted = run_cli(repo, "new", "Cap upload size", "--service", "uploads", epoch=EPOCH)
    assert "record.schema.json differ from this version's schema" in drafted.stderr
    assert "runbook schema --write" in drafted.stderr
    assert stale.read_text("utf-8") == '{"title": "an older runbook"}\n'  # new never overwrites

    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    assert "updated schemas/record.schema.json" in result.stdout
    assert "unchanged schemas/checklist.schema.json" in result.stdout
    assert "updated .vscode/settings.json" in result.stdout
    assert stale.read_text("utf-8") == run_cli(repo, "schema", "record", epoch=EPOCH).stdout
    written = json.loads(settings.read_text("utf-8"))
    assert written["editor.tabSize"] == 2
    assert written["yaml.schemas"]["./ci.schema.json"] == ["ci/*.yaml"]
    assert written["yaml.schemas"]["./schemas/record.schema.json"] == [
        "records/**/*.yaml",
        "records/**/*.yml",
    ]
    again = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert "updated" not in again.stdout and again.stdout.count("unchanged") == 3


def test_settings_with_comments_are_left_alone_with_the_lines_to_add(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    settings = repo / ".vscode" / "settings.json"
    commented = '{\n  // the team\'s own\n  "editor.tabSize": 2\n}\n'
    settings.write_text(commented, "utf-8")
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 0
    assert settings.read_text("utf-8") == commented
    assert "not plain JSON" in result.stderr
    assert '"./schemas/record.schema.json": [' in result.stderr
    assert ".vscode/settings.json" not in result.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"editor.rulers": [1e999]}\n', "too large"),
        (b'{"editor.fontSize": NaN}\n', "not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"files.exclude": {"\xff": true}}\n', "not UTF-8"),
        (b'{"a": 1} trailing', "not plain JSON"),
        (b'["a list"]\n', "not an object"),
    ],
)
def test_odd_settings_are_left_alone_with_one_line_saying_why(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    """Whatever a settings file holds, schema --write rewrites it into valid JSON or leaves
    it byte for byte, with the lines to add; never a traceback."""
    repo = initialised_runbook(tmp_path)
    settings = repo / ".vscode" / "settings.json"
    settings.write_bytes(content)
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    assert settings.read_bytes() == content
    assert reason in result.stderr and '"./schemas/record.schema.json": [' in result.stderr


def test_settings_keep_escapes_non_ascii_text_and_crlf(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    settings = repo / ".vscode" / "settings.json"
    settings.write_bytes(b'{\r\n  "title": "\xc3\xa9quipe",\r\n  "odd": "\\ud800"\r\n}\r\n')
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 0, result.output
    data = settings.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    parsed = json.loads(data.decode("utf-8"))  # valid JSON, valid UTF-8
    assert parsed["title"] == "\u00e9quipe" and parsed["odd"] == "\ud800"
    assert "yaml.schemas" in parsed


def test_schema_write_outside_a_runbook_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 2
    assert "no mkdocs.yml" in result.stderr
    assert not (tmp_path / "schemas").exists()


def test_an_unwritable_editor_mapping_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    repo = initialised_runbook(tmp_path)
    shutil.rmtree(repo / ".vscode")
    (repo / ".vscode").write_text("not a folder\n", "utf-8")
    result = run_cli(repo, "schema", "--write", epoch=EPOCH)
    assert result.exit_code == 1
    assert result.stderr.startswith("runbook: schema --write stopped: ")
    assert ".vscode" in result.stderr and "Traceback" not in result.output
    again = run_cli(repo, "init", epoch=EPOCH)
    assert again.exit_code == 1 and "runbook: init stopped: " in again.stderr
    assert (repo / ".vscode").read_text("utf-8") == "not a folder\n"


def test_the_mapping_follows_folders_inside_beside_and_at_the_root(tmp_path: Path) -> None:
    root = tmp_path / "runbook"
    nested = schema_mapping(root, root / "ops" / "changes", root / "lists")
    assert nested["./schemas/record.schema.json"][0] == "ops/changes/**/*.yaml"
    assert nested["./schemas/checklist.schema.json"][0] == "lists/*.yaml"
    beside = schema_mapping(root, tmp_path / "shared" / "records", root)
    assert (
        beside["./schemas/record.schema.json"][0]
        == f"{tmp_path.as_posix()}/shared/records/**/*.yaml"
    )
    assert beside["./schemas/checklist.schema.json"][0] == "*.yaml"
