"""The segments' rows: the mission rig's summary judged per segment (the rig itself is tested by
tests/hil/test_mission_run.py; here its summary is made up), and the descent's causes by the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hil.rigs import mission_run
from hil.rigs.campaign.segments import SEGMENTS

SUCCESS = {"outcome": "success", "touchdown_vertical_speed_mps": 2.3, "touchdown_horizontal_speed_mps": 0.01,
           "touchdown_tilt_deg": 0.1, "landing_error_m": 150.0, "propellant_used_kg": 1900.0,
           "sample_mass_g": 1731.0, "ascent_orbit_km": [15.2, 181.0], "docked": True, "returned": True,
           "wall_time_s": 200.0}


@pytest.mark.parametrize(("segment", "summary", "cause"), [
    ("mission", SUCCESS, None),
    ("mission", {**SUCCESS, "outcome": "unsafe touchdown: ['boulder']"}, "unsafe touchdown: ['boulder']"),
    ("ascent", SUCCESS, None),
    ("ascent", {**SUCCESS, "ascent_orbit_km": [-20.0, 40.0]}, "ascender not in lunar orbit"),
    ("ascent", {**SUCCESS, "docked": False}, "not docked"),
    ("surface", SUCCESS, None),
    ("surface", {**SUCCESS, "sample_mass_g": None}, "no sample aboard"),
])
def test_the_mission_rig_is_judged_per_segment(monkeypatch: pytest.MonkeyPatch, segment: str,
                                               summary: dict[str, Any], cause: str | None) -> None:
    flown: list[int] = []

    def fly(run_dir: Path, seed: int, keys: Path | None, timeout_s: float) -> dict[str, Any]:
        assert run_dir.is_dir() and keys is None
        flown.append(seed)
        return {**summary, "seed": seed}

    monkeypatch.setattr(mission_run, "fly", fly)
    row = SEGMENTS[segment](42)
    assert flown == [42]
    assert row["seed"] == 42 and row["cause"] == cause and row["success"] == (cause is None)
    assert row["wall_s"] == 200.0
