"""Checking: bytes → YAML with positions → models → rules → diagnostics.

`validate.validate_runbook` is the entry point; it never raises for a bad file and never
stops at the first problem. `loader` reads YAML safely and knows where every value is,
`schema_errors` turns pydantic's errors into diagnostics at those positions, `rules` holds the
cross-field and cross-file rules, `secrets` the credential scan, and `cache` reuses the
results of unchanged files between builds. Nothing here imports MkDocs or renders anything.
"""
