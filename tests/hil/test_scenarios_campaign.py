"""Fault scenarios from real landings and the Monte Carlo campaign, through ``ilrs-hil``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hil.rigs.plant_death import PlantDeathRun
from hil.rigs.rover_scenario import RoverRun
from hil.rigs.scenarios import SCENARIOS, run_scenario
from hil.rigs.surface_fdir import SurfaceRun

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_real_anomaly_gets_its_documented_response(name: str) -> None:
    result = run_scenario(name, seed=2)
    assert result.problems == [], f"{name}: {result.problems}"
    run = result.run
    if isinstance(run, RoverRun):  # yutu1 (more in test_rover_scenario.py)
        assert run.entered("hibernate") is not None and run.entered("wake") is not None
    elif isinstance(run, PlantDeathRun):  # more, with its negative control, in test_plant_death.py
        assert run.safe_after_s is not None
    elif isinstance(run, SurfaceRun):  # surface fault protection, its control judged too (test_surface_fdir.py)
        assert run.response and run.first("MONITOR_VIOLATION") is not None
    elif name in ("luna25", "im1"):
        assert run.touchdown is None  # stayed in orbit, engine never lit
    else:
        assert run.touchdown is not None and run.touchdown.safe


def test_scenario_command_prints_the_verdict() -> None:
    out = subprocess.run([sys.executable, "-m", "hil.cli", "scenario", "im1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0
    assert "RESPONSE CORRECT" in out.stdout and "wait in orbit" in out.stdout


def test_twenty_run_campaign_succeeds_at_least_nineteen_times(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "hil.cli", "campaign", "--runs", "20", "--seed", "7",
                          "--workers", "2", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "campaign.json").read_text())
    assert report["runs"] == 20
    assert report["succeeded"] >= 19, out.stdout
    assert f"{report['succeeded']}/20 succeeded" in out.stdout
    assert (tmp_path / "touchdowns.png").stat().st_size > 10_000
    assert len({r["seed"] for r in report["results"]}) == 20  # every run dispersed differently
    assert report["statistics"]["vertical_speed_m_s"]["max"] <= 3.6
