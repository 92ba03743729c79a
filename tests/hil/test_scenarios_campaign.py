"""Fault scenarios from real landings, each with its negative control, through ``ilrs-hil scenario``
(each a run of the campaign engine with a fault injected; the campaign's own tests are in
tests/hil/campaign/).

Every scenario's response is judged on the plant's truth (touchdown, main-engine starts, propellant;
the rover's battery and temperatures), and its negative control - the same fault (or the declared
larger one) with the response switched off by flight parameters - must end badly, also by the truth.
Each landing is a whole descent flown by the flight software on an executive (15-60 s of wall time
each), so the default run keeps two scenarios that end early or are quick (``luna25``, ``yutu1``);
the rest are ``slow``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hil.rigs.flight_descent import DescentRecord
from hil.rigs.plant_death import PlantDeathRun
from hil.rigs.rover_scenario import MIN_AVIONICS_C, MIN_BATTERY_SOC, RoverRun
from hil.rigs.scenarios import SCENARIOS, run_control, run_scenario
from hil.rigs.surface_fdir import SurfaceRun

SEED = 2
DEFAULT_RUN = ("luna25", "yutu1")
HOLDS_IN_ORBIT = ("luna25", "im1")


def scenario_params() -> list[object]:
    return [pytest.param(name, marks=() if name in DEFAULT_RUN else pytest.mark.slow) for name in sorted(SCENARIOS)]


@pytest.mark.parametrize("name", scenario_params())
def test_each_real_anomaly_gets_its_response_and_ends_badly_without_it(name: str) -> None:
    result = run_scenario(name, seed=SEED)
    assert result.problems == [], f"{name}: {result.problems}"
    control = run_control(name, seed=SEED)
    if isinstance(result.run, SurfaceRun):  # its run flew and judged the control too (test_surface_fdir.py)
        assert control is None and result.run.response and result.run.first("MONITOR_VIOLATION") is not None
        return
    assert control is not None
    assert control.problems == [], f"{name} control: {control.problems}"
    assert control.bad_end
    run, off = result.run, control.run
    if isinstance(run, PlantDeathRun):  # more in test_plant_death.py
        assert isinstance(off, PlantDeathRun)
        assert run.safe_after_s is not None and off.dead and off.safe_after_s is None
        return
    if isinstance(run, RoverRun):  # yutu1 (more in test_rover_scenario.py)
        assert isinstance(off, RoverRun)
        assert run.entered("hibernate") is not None and run.entered("wake") is not None
        night = [s for s in off.samples if s.state == "hibernate"]
        assert night and (min(s.battery_soc for s in night) < MIN_BATTERY_SOC
                          or min(s.avionics_c for s in night) < MIN_AVIONICS_C)
        return
    assert isinstance(run, DescentRecord) and isinstance(off, DescentRecord)
    if name in HOLDS_IN_ORBIT:  # stayed in orbit, the engine never lit (the plant's count)
        assert run.touchdown is None and run.ignitions == 0 and run.propellant_used_kg < 1.0
    else:
        assert run.touchdown is not None and run.touchdown.safe and run.ignitions == 1 and run.in_ellipse
    # Without the response the engine fired and the plant saw no safe landing on the site.
    assert off.ignitions >= 1
    assert off.touchdown is None or not off.touchdown.safe or not off.in_ellipse
    if control.response is not None:  # the larger fault: the response still holds there
        assert control.response.problems == []


def test_scenario_command_prints_both_verdicts() -> None:
    out = subprocess.run([sys.executable, "-m", "hil.cli", "scenario", "yutu1", "--control"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RESPONSE CORRECT" in out.stdout and "ENDS BADLY WITHOUT THE RESPONSE" in out.stdout
    assert "rover_night_without_stow=False" in out.stdout


def test_scenario_command_judges_a_hold_in_orbit() -> None:
    out = subprocess.run([sys.executable, "-m", "hil.cli", "scenario", "im1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RESPONSE CORRECT" in out.stdout and "wait in orbit" in out.stdout
    assert "main engine ignitions 0" in out.stdout
