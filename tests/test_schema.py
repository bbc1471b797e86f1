"""The JSON Schema editors use must agree with the validator, checked by a real client."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.models import DATE_PATTERN

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
VALID_RECORDS = sorted((REPO_ROOT / "records").rglob("*.yaml")) + sorted(
    (REPO_ROOT / "tests" / "data" / "valid" / "records").glob("*.y*ml")
)
SCHEMA_ONLY_INVALID = [  # invalid by the schema alone, not by cross-record rules
    "unknown-key",
    "unknown-key-nested",
    "missing-required",
    "literal-better",
    "literal-status",
    "empty-files-touched",
    "empty-commands",
    "wrong-type-deep",
]


def schema_file(tmp_path: Path, kind: str) -> Path:
    result = CliRunner().invoke(cli, ["schema", kind], catch_exceptions=False)
    assert result.exit_code == 0
    path = tmp_path / f"{kind}.schema.json"
    path.write_text(result.stdout, encoding="utf-8")
    json.loads(result.stdout)
    return path


def check(schema: Path, *instances: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(schema), *map(str, instances)],
        capture_output=True,
        text=True,
    )


def test_schema_accepts_every_valid_record(tmp_path: Path) -> None:
    result = check(schema_file(tmp_path, "record"), *VALID_RECORDS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_accepts_every_starter_checklist(tmp_path: Path) -> None:
    result = check(
        schema_file(tmp_path, "checklist"), *sorted((REPO_ROOT / "checklists").glob("*.yaml"))
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SCHEMA_ONLY_INVALID)
def test_schema_rejects_what_the_validator_rejects(tmp_path: Path, name: str) -> None:
    case = REPO_ROOT / "tests" / "data" / "invalid" / "records" / f"{name}.yaml"
    if not case.is_file():
        pytest.fail(f"corpus case {case.name} is missing")
    result = check(schema_file(tmp_path, "record"), case)
    assert result.returncode == 1, result.stdout + result.stderr


def test_schema_documents_every_field() -> None:
    result = CliRunner().invoke(cli, ["schema", "record"], catch_exceptions=False)
    schema = json.loads(result.stdout)
    undocumented = [
        key for key, field in schema["properties"].items() if not field.get("description")
    ]
    assert undocumented == []
    assert schema["additionalProperties"] is False


def test_the_date_pattern_editors_use_accepts_exactly_the_real_days() -> None:
    """Dates are text to an editor (YAML 1.2 has no date type): its pattern must accept every
    real day, leap days by the Gregorian rule (1900 and 2100 have none, 2000 has), and no
    other, as validate does."""
    pattern = re.compile(DATE_PATTERN)
    for year in (*range(1896, 1905), *range(1996, 2031), 2100, 2400, 9999):
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    dt.date(year, month, day)
                    real = True
                except ValueError:
                    real = False
                assert bool(pattern.fullmatch(text)) == real, text
