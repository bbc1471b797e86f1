"""`runbook validate --format sarif`: diagnostics as SARIF 2.1.0, the format GitHub code
scanning (and most linters' dashboards) read.

One run, one rule per diagnostic code (its summary from diagnostics.CODES), one result per
diagnostic with its level, message and region; paths stay relative to the repository root,
as code scanning requires.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from .diagnostics import CODES, Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/runbook-generator/"


def _tool_version() -> str:
    # Imported here: every `runbook validate` imports this module, few ask for SARIF.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runbook-generator")
    except PackageNotFoundError:  # a checkout run without installing
        return "0.0.0"


def _rule(code: str) -> dict[str, Any]:
    summary = CODES[code].summary
    return {
        "id": code,
        "name": "Runbook" + code.title().replace("-", ""),
        "shortDescription": {"text": summary[:1].upper() + summary[1:]},
        "fullDescription": {"text": f"{summary} ({CODES[code].stage})"},
        "defaultConfiguration": {
            "level": "warning" if CODES[code].stage == "warnings" else "error"
        },
    }


def artifact_uri(path: str) -> str:
    """A diagnostic's path as a SARIF artifact URI: an RFC 3986 relative reference (an
    absolute path becomes a file: URI). Every byte of the name but letters, digits, `-._~`
    and the slashes is percent-encoded: a space, `#` and `?` would end the path, a literal `%`
    would read as an escape (`%41` is `A`), `:` in the first segment would read as a scheme,
    and a name that is not UTF-8 keeps its own bytes."""
    location = PurePath(path)
    if location.is_absolute():
        return location.as_uri()
    return quote(os.fsencode(location.as_posix()), safe="/")


def _result(diagnostic: Diagnostic, rule_index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index[diagnostic.code],
        "level": "error" if diagnostic.severity == "error" else "warning",
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(diagnostic.path)},
                    "region": {
                        "startLine": max(1, diagnostic.line),
                        "startColumn": max(1, diagnostic.column),
                    },
                }
            }
        ],
    }


def sarif_log(diagnostics: list[Diagnostic]) -> str:
    """The SARIF 2.1.0 log of a validation run."""
    codes = sorted(CODES)
    rule_index = {code: position for position, code in enumerate(codes)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "runbook",
                        "version": _tool_version(),
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "results": [_result(d, rule_index) for d in diagnostics],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
