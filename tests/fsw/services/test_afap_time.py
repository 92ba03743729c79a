"""On the afap clock the on-board time is remembered in the store, so that a restart carries on from
where the last run was: every 10 flight seconds flying, every ten minutes dormant (days of coast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.services import timeman
from tests.fsw.harness import Harness

HOURS = 6.0


def coast(store_path: Path) -> tuple[float, int]:
    """A dormant vehicle coasting HOURS: (on-board time at the end, store writes of the time)."""
    harness = Harness(store_path)
    writes = 0
    put = harness.store.put

    def counted(key: str, value: object, durable: bool = True) -> None:
        nonlocal writes
        writes += key == timeman.AFAP_TIME_KEY
        put(key, value, durable)

    harness.store.put = counted  # type: ignore[method-assign]

    async def scenario(h: Harness) -> float:
        h.vehicle.executive.set_dormant(True)
        await h.clock.sleep(HOURS * 3600.0)
        return h.clock.onboard_time()

    return harness.run(scenario), writes


def resumed_at(store_path: Path) -> float:
    async def scenario(h: Harness) -> float:
        return h.clock.onboard_time()

    return Harness(store_path).run(scenario)


def test_a_dormant_vehicle_remembers_its_time_every_ten_minutes_and_a_restart_repeats_less(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    end, writes = coast(tmp_path / "dormant.sqlite")
    assert writes <= HOURS * 6 + 2, writes  # every ten flight minutes
    assert end - timeman.AFAP_TIME_SAVE_DORMANT_S <= resumed_at(tmp_path / "dormant.sqlite") <= end
    # Control: at the flying cadence it wrote at every dormant cycle (one a flight minute).
    monkeypatch.setattr(timeman, "AFAP_TIME_SAVE_DORMANT_S", timeman.AFAP_TIME_SAVE_S)
    end, writes = coast(tmp_path / "control.sqlite")
    assert writes >= HOURS * 60 - 2, writes
    assert end - 60.0 <= resumed_at(tmp_path / "control.sqlite") <= end
