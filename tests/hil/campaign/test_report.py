"""The campaign report's statistics and files, on made-up rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hil.emulator.plant import TouchdownReport
from hil.rigs.campaign.dispersions import plant_config
from hil.rigs.campaign.report import LIMITS, dispersion_ellipse, failures_by_cause, wilson, workers_text, write_report


def test_wilson_interval_matches_the_published_formula() -> None:
    low, high = wilson(19, 20)
    assert low == pytest.approx(0.7639, abs=1e-4) and high == pytest.approx(0.9911, abs=1e-4)
    low, high = wilson(20, 20)  # no success-rate of 1 claimed from 20 runs
    assert low == pytest.approx(0.8389, abs=1e-4) and high == 1.0
    assert wilson(0, 10)[0] == 0.0


def test_the_99_percent_ellipse_holds_about_99_percent_of_normal_points() -> None:
    draw = random.Random(5)
    cross, down = [], []
    for _ in range(4000):
        a, b = draw.gauss(0.0, 1.0), draw.gauss(0.0, 1.0)
        cross.append(40.0 + 100.0 * a)
        down.append(-20.0 + 60.0 * a + 30.0 * b)  # correlated with crossrange
    ellipse = dispersion_ellipse(cross, down)
    assert ellipse is not None
    assert ellipse.mean == pytest.approx((40.0, -20.0), abs=5.0)
    import numpy as np

    points = np.array([cross, down])
    inverse = np.linalg.inv(np.cov(points))
    offsets = points - points.mean(axis=1, keepdims=True)
    inside = np.einsum("ij,ik,kj->j", offsets, inverse, offsets) <= 9.21
    assert 0.985 < inside.mean() < 0.995
    assert ellipse.semi_axes[0] > ellipse.semi_axes[1] > 0.0
    assert dispersion_ellipse([1.0, 2.0], [1.0, 2.0]) is None


def test_limits_are_the_plants() -> None:
    def report(vertical: float, horizontal: float, tilt: float) -> TouchdownReport:
        return TouchdownReport(0.0, vertical, horizontal, tilt, 0.0, (), 0.0, 0.0, 0.0, 0.0, False)

    limits = LIMITS
    assert report(limits["vertical_speed_m_s"], limits["horizontal_speed_m_s"], limits["tilt_deg"]).safe
    assert not report(limits["vertical_speed_m_s"] + 0.01, 0.0, 0.0).safe
    assert not report(0.0, limits["horizontal_speed_m_s"] + 0.01, 0.0).safe
    assert not report(0.0, 0.0, limits["tilt_deg"] + 0.01).safe


def test_the_report_tallies_failures_with_their_seeds_and_draws_its_pictures(tmp_path: Path) -> None:
    draw = random.Random(1)
    rows = []
    for seed in range(1, 41):
        row = {"seed": seed, "success": True, "cause": None, "vertical_speed_m_s": draw.uniform(2.1, 2.4),
               "horizontal_speed_m_s": draw.uniform(0.0, 0.01), "tilt_deg": draw.uniform(0.0, 0.02),
               "crossrange_error_m": draw.gauss(-50.0, 80.0), "downrange_error_m": draw.gauss(20.0, 150.0),
               "landing_error_m": 100.0, "propellant_remaining_kg": draw.uniform(250.0, 350.0),
               "propellant_used_kg": 1900.0, "wall_s": 30.0, "thrust_scale": draw.gauss(1.0, 0.025)}
        if seed in (7, 9):
            row.update(success=False, cause="hazard under the footprint")
        rows.append(row)
    rows.append({"seed": 50, "success": False, "cause": "no touchdown, engine fired", "propellant_remaining_kg": 0.0})
    assert failures_by_cause(rows) == {"hazard under the footprint": [7, 9], "no touchdown, engine fired": [50]}
    path = write_report(tmp_path, rows, {"segment": "descent", "seed": 3})
    text = path.read_text()
    assert "**38/41 succeeded**" in text and "95 % Wilson interval" in text
    assert "| hazard under the footprint | 2 | 7, 9 |" in text
    assert "99 % dispersion ellipse" in text and "Mean offset from the target" in text
    assert "p1 " in text and "p5 " in text and "p50 " in text
    assert "| thrust_scale | N(1, 0.025) |" in text
    for picture in ("touchdown.png", "landing.png", "propellant.png"):
        assert (tmp_path / picture).stat().st_size > 10_000


def test_each_seed_draws_its_own_dispersions_the_same_every_time() -> None:
    one, again, other = plant_config(7), plant_config(7), plant_config(8)
    assert one == again
    assert one.target_downrange_m != other.target_downrange_m
    assert one.initial_crossrange_m != other.initial_crossrange_m
    assert one.terrain is not None and one.terrain.target_downrange_m == one.target_downrange_m
    assert one.thrust_dispersion == 0.025 and one.exhaust_velocity_dispersion == 0.025


def test_the_worker_count_reads_as_english() -> None:
    assert workers_text(1) == "1 worker" and workers_text(2) == "2 workers"
