"""Checking: bytes → YAML with positions → models → rules → diagnostics.

`validate.validate_runbook` is the entry point; it never raises for a bad file and never
stops at the first problem. `file_check` checks one file (`workers` many at once, on every
core), `cross_record_rules` applies what needs all records at once, `positions` places each
finding at its line, `paths` shows paths as a person types them and `problems` makes every
diagnostic safe to print. `loader` reads YAML safely and knows where every value is,
`schema_errors` turns pydantic's errors into diagnostics at those positions, `rules` holds the
per-record rules, `secrets` the credential scan, and `cache` reuses the results of unchanged
files between builds. Nothing here imports MkDocs or renders anything.
"""
