"""The resident validator: `runbook validate` answered by a process that has already started.

A pre-commit hook checks one record, and most of that run was start-up: importing pydantic,
building the models, loading detect-secrets and reading the other records' kept results, for
a check that itself takes milliseconds. After a run on a developer's machine, a validator
stays behind for a while (one per user and installed runbook, listening on a socket only its
user can reach); the next `runbook validate` hands it its arguments, folder, environment and
its own stdin, stdout and stderr, and exits with the status it sends back. The answer is the
one the command would have given itself: same output, same exit status, Ctrl-C and signals
forwarded. Anything amiss (no validator, another user's folder, a validator of other code)
means running in-process, as before. CI runs, and RUNBOOK_RESIDENT=0, never use one.
"""
