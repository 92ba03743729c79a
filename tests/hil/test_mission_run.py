"""The whole mission, as ``make run`` flies it: link, plant, flight software and ground procedure as
separate processes over ptys, authenticated, on the afap clock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hil.rigs.rover_summary import AT_THE_GROUNDS_MOMENT


def test_make_run_flies_the_whole_mission(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # The rig's wall-time limit is generous: on a loaded host the same mission takes several times
    # its idle wall time, and a slow host is not a failed mission.
    out = subprocess.run([sys.executable, "-m", "hil.rigs.mission_run", "--seed", "3", "--run-dir", str(run_dir),
                          "--keys", str(tmp_path / "keys.toml"), "--timeout", "1500"],
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["outcome"] == "success"
    assert summary["touchdown_vertical_speed_mps"] <= 3.6
    assert summary["touchdown_horizontal_speed_mps"] <= 1.0
    assert summary["touchdown_tilt_deg"] <= 8.0
    assert 1_600 <= summary["propellant_used_kg"] <= 2_200
    assert 600 <= summary["descent_duration_s"] <= 900
    assert 1_500 <= summary["sample_mass_g"] <= 2_000
    periapsis, apoapsis = summary["ascent_orbit_km"]
    assert periapsis > 10 and apoapsis > periapsis
    assert summary["docked"] is True and summary["returned"] is True
    assert summary["tei_delta_v_mps"] > 500
    assert summary["seed"] == 3
    # The rover, its own flight-software process deployed after landing, checked against its plant.
    rover = summary["rover"]
    assert rover["problems"] == []
    assert rover["distance_m"] >= 50.0 and rover["waypoints_reached"] >= 3 and rover["collisions"] == 0
    assert rover["hazards_avoided"] >= 1 and rover["products_downlinked"] == 1
    assert rover["waypoints_reached_claimed"] == rover["waypoints_reached"]
    assert rover["position_error_m"] < 2.0
    # Energy like with like: the flight's last figure heard against the plant's at that moment.
    assert abs(rover["energy_used_wh_claimed"] - rover["energy_used_wh"]) < 1.0
    assert "BOOT" in (run_dir / "rover.log").read_text()
    for name in ("archive.sqlite", "descent.png", "ascent.png"):
        assert (run_dir / name).stat().st_size > 0
    assert "SDLS" not in out.stdout  # no authentication failures reported
    log = (run_dir / "fsw.log").read_text()
    assert "UNAUTHENTICATED" not in log and "CMD_REJECTED" not in log
    # The descent flew from the ground's uplink (the bus carries device traffic only), to the target.
    assert "DESCENT_STATE_UPLINKED" in log and "DESCENT_MAP_UPLINKED" in log and "PDI_PREDICTED" in log
    assert summary["landing_error_m"] < 1_000.0
    # Telemetry an operator can trust: the last lander housekeeping (on the ground) reads ~0 above it.
    last = last_lander_housekeeping(run_dir / "archive.sqlite")
    assert abs(last["gnc_altitude_m"]) < 3.0, last
    assert last["gnc_target_distance_m"] < 1_000.0 and last["gnc_aim_shift_m"] < 1_000.0
    # Height above the sphere is its own point: at the site it is the site's height, not 0.
    assert abs(last["gnc_height_above_sphere_m"] - last["gnc_altitude_m"]) > 10.0


def last_lander_housekeeping(archive: Path) -> dict[str, Any]:
    with sqlite3.connect(archive) as db:
        rows = db.execute("SELECT decoded FROM packets WHERE kind = 'hk' AND json_extract(decoded, "
                          "'$.values.gnc_vehicle') = 'lander' ORDER BY onboard_time, id").fetchall()
    return dict(json.loads(rows[-1][0])["values"])



GOOD_TOUCHDOWN = {"t": 921.7, "vertical_speed_m_s": 2.3, "horizontal_speed_m_s": 0.01, "tilt_deg": 0.01,
                  "landing_error_m": 160.0, "hazards": [], "safe": True}
GOOD_ASCENT = {"lifted_off": True, "periapsis_km": 15.4, "apoapsis_km": 182.0}


@pytest.mark.parametrize(("touchdown", "ascent", "outcome"), [
    (GOOD_TOUCHDOWN, GOOD_ASCENT, "success"),
    (GOOD_TOUCHDOWN, {"lifted_off": True, "periapsis_km": -1737.4, "apoapsis_km": 1.7},
     "ascender not in lunar orbit (periapsis -1737.4 km)"),
    (GOOD_TOUCHDOWN, {"lifted_off": False, "periapsis_km": None}, "ascender not in lunar orbit (periapsis None km)"),
    ({**GOOD_TOUCHDOWN, "safe": False, "hazards": ["slope 9.1 deg"]}, GOOD_ASCENT,
     "unsafe touchdown: ['slope 9.1 deg']"),
    (None, GOOD_ASCENT, "no touchdown in the plant"),
])
def test_the_summary_checks_the_ground_s_success_against_the_plant_s_truth(touchdown, ascent, outcome) -> None:
    from hil.rigs.mission_run import summarise

    truth = {"touchdown": touchdown, "ascent": ascent, "ignition_t": 35.4, "propellant_used_kg": 1907.0}
    summary = summarise(1, truth, {"outcome": "success", "sample_mass_g": 1815.3}, 0, 47.0)
    assert summary["outcome"] == outcome


@pytest.mark.slow
def test_a_seeded_mission_flies_the_same_twice(tmp_path: Path) -> None:
    summaries = []
    for attempt in ("a", "b"):
        run_dir = tmp_path / attempt
        out = subprocess.run([sys.executable, "-m", "hil.rigs.mission_run", "--seed", "2", "--run-dir", str(run_dir),
                              "--keys", str(tmp_path / "keys.toml")], capture_output=True, text=True, timeout=900)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        summary = json.loads((run_dir / "summary.json").read_text())
        summary.pop("wall_time_s")
        for name in AT_THE_GROUNDS_MOMENT:
            summary["rover"].pop(name)
        summaries.append(summary)
    assert summaries[0] == summaries[1]


def test_a_success_without_the_claws_latched_in_the_plant_is_no_success() -> None:
    from hil.rigs.mission_run import summarise

    truth = {"touchdown": GOOD_TOUCHDOWN, "ascent": GOOD_ASCENT, "ignition_t": 35.4, "propellant_used_kg": 1907.0}
    hardware = {"separations": {}, "claws_latched": 0, "capture_attempts": [], "tei_delta_v_m_s": None}
    summary = summarise(1, truth, {"outcome": "success", "docked": True, "tei_delta_v_mps": 825.0}, 0, 47.0, hardware)
    assert summary["outcome"] == "no capture in the plant: the docking claws never latched"
    assert summary["docked"] is False and summary["tei_delta_v_mps"] == 825.0
