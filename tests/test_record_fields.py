"""The record is defined once, in models.py: `runbook new`, the JSON Schema and validation's
placeholders read its fields, so a new field is the model (and the template that shows it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import yaml
from pydantic import Field, create_model

from generator.models import ChangeRecord, NewOption, Placeholder, placeholder_values

PACKAGE = Path(__file__).resolve().parent.parent / "generator"
# A field as a developer adds it: the model's line, with its option and placeholder.
TICKET_FIELD = """\
    ticket: Annotated[
        ShortText, NewOption("--ticket", help="The change ticket it went through."),
        Placeholder("CHG-0"),
    ] = Field(description="The change ticket that approved it.")

"""
RECORD = """\
title: Cap upload size
date: 2026-01-05
owner: ops
service: web
reason: Uploads tied up the origin.
files_touched: [deploy/nginx.conf]
commands: [nginx -s reload]
rollback: {plan: Revert the config., tested: true}
"""


def test_every_required_record_field_has_a_valid_placeholder() -> None:
    placeholders = placeholder_values(ChangeRecord)
    required = {name for name, info in ChangeRecord.model_fields.items() if info.is_required()}
    assert required <= set(placeholders)
    ChangeRecord.model_validate(placeholders)  # together, they are a valid record


def test_a_required_field_without_a_placeholder_is_refused() -> None:
    extended = create_model(
        "Extended",
        __base__=ChangeRecord,
        ticket=(Annotated[str, NewOption("--ticket")], Field(description="A ticket.")),
    )
    with pytest.raises(TypeError, match=r"Extended\.ticket is required and has no Placeholder"):
        placeholder_values(extended)
    with_one = create_model(
        "WithOne",
        __base__=ChangeRecord,
        ticket=(Annotated[str, Placeholder("CHG-0")], Field(description="A ticket.")),
    )
    assert placeholder_values(with_one)["ticket"] == "CHG-0"


@pytest.fixture
def package_with_a_ticket(tmp_path: Path) -> Path:
    """A copy of the package whose ChangeRecord has one more field, `ticket`, and nothing
    else changed: the folder to put first on PYTHONPATH."""
    root = tmp_path / "package"
    shutil.copytree(PACKAGE, root / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    models = root / "generator" / "models.py"
    text = models.read_text(encoding="utf-8")
    anchor = "    def shipped_text(self) -> str:\n"
    assert text.count(anchor) == 1
    models.write_text(text.replace(anchor, TICKET_FIELD + anchor), encoding="utf-8")
    return root


def test_a_field_added_to_the_model_is_an_option_a_schema_property_and_validated(
    package_with_a_ticket: Path, runbook_repo: Path
) -> None:
    def runbook(*args: str) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "PYTHONPATH": str(package_with_a_ticket)}
        return subprocess.run(
            [sys.executable, "-m", "generator", *args],
            cwd=runbook_repo,
            env=environment,
            capture_output=True,
            text=True,
        )

    help_text = runbook("new", "--help").stdout
    assert "--ticket TEXT" in help_text
    assert "The change ticket it went through." in help_text

    schema = json.loads(runbook("schema", "record").stdout)
    assert schema["properties"]["ticket"]["description"] == "The change ticket that approved it."
    assert "ticket" in schema["required"]

    record = runbook_repo / "records" / "2026-01-05-cap-upload-size.yaml"

    def ticket_problems(ticket: str | None) -> list[tuple[str, str]]:
        record.write_text(RECORD + (f"ticket: {ticket}\n" if ticket else ""), encoding="utf-8")
        result = runbook("validate", "--format", "json")
        assert "Traceback" not in result.stderr, result.stderr
        return [(d["code"], d["message"]) for d in json.loads(result.stdout)]

    assert ("missing", "ticket: required key is missing") in ticket_problems(None)
    assert not any("ticket" in message for _, message in ticket_problems("CHG-42"))
    # A broken ticket is set aside for its placeholder: the record's rules still report.
    broken = ticket_problems('"CHG-42\\nand more"')
    assert ("one-line", "ticket: must be a single line") in broken
    assert "no-metrics" in {code for code, _ in broken}

    written = runbook("new", "Rotate keys", "--owner", "ops", "--ticket", "CHG-7")
    assert written.returncode == 0, written.stderr
    assert yaml.safe_load((runbook_repo / written.stdout.strip()).read_text())["ticket"] == "CHG-7"
    refused = runbook("new", "Rotate keys", "--ticket", "two\nlines")
    assert refused.returncode == 2
    assert "Invalid value for '--ticket': must be a single line" in refused.stderr
    unfilled = runbook("new", "Rotate more keys", "--owner", "ops")
    assert 'ticket: "TODO: The change ticket that approved it."' in (
        (runbook_repo / unfilled.stdout.strip()).read_text()
    )
    drafted = json.loads(runbook("validate", "--format", "json").stdout)
    assert any(d["code"] == "placeholder" and d["message"].startswith("ticket: ") for d in drafted)
