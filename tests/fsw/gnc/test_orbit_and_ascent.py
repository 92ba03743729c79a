"""Orbit figures (the flight software's) and the flight software's ascent controller flown against the
ascender plant to a 15 x 180 km orbit, judged by the plant."""

from __future__ import annotations

import math

import pytest

from fsw.gnc.orbit import GM_MOON, R_MOON, orbit_from_state, speed_at_periapsis
from hil.emulator.ascent import AscentPlantConfig
from hil.rigs.ascent_loop import fly_ascent


def test_circular_orbit_has_equal_apsides() -> None:
    r = R_MOON + 100_000.0
    orbit = orbit_from_state(r, 0.0, math.sqrt(GM_MOON / r))
    assert orbit.eccentricity == pytest.approx(0.0, abs=1e-9)
    assert orbit.periapsis_alt_m == pytest.approx(100_000.0, abs=1e-3)
    assert orbit.apoapsis_alt_m == pytest.approx(100_000.0, abs=1e-3)
    assert orbit.bound


def test_descent_orbit_apsides_round_trip() -> None:
    v = speed_at_periapsis(15_000.0, 100_000.0)
    orbit = orbit_from_state(R_MOON + 15_000.0, 0.0, v)
    assert orbit.periapsis_alt_m == pytest.approx(15_000.0, abs=1e-3)
    assert orbit.apoapsis_alt_m == pytest.approx(100_000.0, abs=1e-2)


def test_escape_speed_is_unbound() -> None:
    r = R_MOON
    orbit = orbit_from_state(r, 0.0, 1.01 * math.sqrt(2 * GM_MOON / r))
    assert not orbit.bound and orbit.apoapsis_alt_m == math.inf


def test_surface_hop_periapsis_is_below_ground() -> None:
    orbit = orbit_from_state(R_MOON + 1_000.0, 20.0, 300.0)
    assert orbit.periapsis_alt_m < 0.0 < orbit.apoapsis_alt_m


@pytest.mark.parametrize("v_horizontal", [0.0, 1e-9, 0.014, -0.014, 0.5])
def test_a_vertical_climb_is_a_bound_hop_not_an_infinite_apoapsis(v_horizontal: float) -> None:
    # 117 m up at 21.5 m/s: the top of this hop is ~143 m, whatever rounding makes of e ~ 1.
    orbit = orbit_from_state(R_MOON + 117.8, 21.49, v_horizontal)
    assert orbit.bound and math.isfinite(orbit.apoapsis_alt_m)
    top = 117.8 + 21.49**2 / (2.0 * GM_MOON / (R_MOON + 117.8) ** 2)
    assert orbit.apoapsis_alt_m == pytest.approx(top, abs=1.0)


def test_ascent_reaches_a_15_by_180_km_orbit_in_about_six_minutes() -> None:
    # The flight software's ascent controller against the plant; the orbit is the plant's.
    run = fly_ascent(1)
    assert run.orbit_true.periapsis_alt_m == pytest.approx(15_000.0, abs=2_000.0)
    assert run.orbit_true.apoapsis_alt_m == pytest.approx(180_000.0, abs=10_000.0)
    assert 300.0 <= run.burn_time_s <= 420.0
    assert run.propellant_used_kg < 480.0
    assert run.plant.cutoff_state is not None and not run.plant.engine_on
    # Navigation on the IMU alone knows the orbit it put itself into.
    assert run.orbit_believed.apoapsis_alt_m == pytest.approx(run.orbit_true.apoapsis_alt_m, abs=3_000.0)
    phases = [name for _, name, _ in run.events]
    assert phases == ["phase:vertical_rise", "phase:pitch_over", "phase:orbit_insertion", "phase:orbit"]


def test_insertion_with_an_engine_five_percent_weak_still_reaches_the_orbit() -> None:
    # The engine reports its rating; the cut-off is on the accelerometers' integrated state, so the
    # weaker engine burns longer and the plant's orbit is the target all the same.
    nominal = fly_ascent(2)
    weak = fly_ascent(2, AscentPlantConfig(thrust_scale=0.95))
    assert weak.burn_time_s > nominal.burn_time_s + 5.0
    assert weak.orbit_true.apoapsis_alt_m == pytest.approx(180_000.0, abs=10_000.0)
    assert weak.orbit_true.periapsis_alt_m > 10_000.0
    assert weak.delivered_delta_v_m_s > 0.99 * nominal.delivered_delta_v_m_s
