"""The executive benchmark's measurements run and give sane figures (no timing is asserted)."""

from __future__ import annotations

import math

import pytest

from tests.bench.bench_executive import afap_speed, jitter_run


def test_afap_speed_counts_ticks() -> None:
    speed = afap_speed(virtual_s=20.0)
    assert speed["ticks_per_s"] > 0 and speed["speedup"] > 0


@pytest.mark.slow
def test_jitter_run_collects_samples_from_the_flight_process() -> None:
    result = jitter_run(seconds=1.5, pinned=False)
    assert result["samples"] >= 50  # 50 Hz over the run, boot included
    assert result["completed"] == result["sent"] > 50
    assert 0 <= result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] and math.isfinite(result["max_ms"])
    assert result["rss_kib"] > 1024
