"""Benchmarks: `./run.sh bench` (or `python -m bench`). Not part of the test suite."""
