"""Benchmark code that the CLI and the scripts in ``benchmarks/`` share."""
