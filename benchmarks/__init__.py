"""Benchmarks: every figure measured side by side in one run (``nox -s bench``)."""
