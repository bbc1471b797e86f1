"""JSON Schema of the record and checklist formats, generated from the models.

Editors (yaml-language-server) and tools (check-jsonschema) validate against it, so it must
accept exactly what the validator accepts, shorthand forms included.
"""

from __future__ import annotations

from typing import Any

from ..models import ChangeRecord, Checklist

SCHEMA_MODELS = {"record": ChangeRecord, "checklist": Checklist}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FOLDER = "schemas"  # where init and new keep the copies editors read


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema for `record` or `checklist`."""
    model = SCHEMA_MODELS[kind]
    schema = model.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": f"runbook-{kind}.schema.json", **schema}
