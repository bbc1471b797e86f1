"""The record store: each record file's validated record, its diagnostics and the rows the
cross-record rules and `runbook list` query, kept per file stamp in SQLite
(`.runbook-cache/store.sqlite`) and brought up to date by every command that reads it.

trust.py says what a kept result may be trusted under; database.py opens the file safely and
empties it when it is not this runbook's own; context.py says what the rows are valid for
(known without the checklists when nothing they are made from changed); records.py keeps the
rows and brings them up to date; access.py gives a command the store (or one in memory);
validation.py and listing.py answer `runbook validate` and `runbook list` from it.
"""
