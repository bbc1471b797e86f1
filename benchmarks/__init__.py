"""Benchmarks: a deterministic synthetic runbook and `make bench` (python -m benchmarks.run)."""
