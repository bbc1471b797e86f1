"""Commands that write or query a runbook: `init` and `new` (scaffold), `list` (listing),
`schema` (JSON Schema from the models), and the git facts they prefill from (git).
"""
