"""The campaign throughput rows, on a cheap stand-in for the descent (the real rows fly 8 descents)."""

from __future__ import annotations

import pytest

from tests.bench import bench_campaign
from tests.bench.rows import Budget
from tests.hil.campaign.cheap_runs import cheap


def test_campaign_throughput_rows_compare_two_workers_with_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_campaign, "descent", cheap)
    one, two = bench_campaign.run(Budget())
    assert one.unit == two.unit == "descents/h" and one.value > 0.0 and two.value > 0.0
    assert "1 worker" in one.name and "2 workers" in two.name
    assert two.peer == "1 worker" and two.ratio == pytest.approx(two.value / one.value)
