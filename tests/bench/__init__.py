"""Benchmarks: ``python -m tests.bench`` runs every ``bench_*`` module and writes build/bench.json."""
