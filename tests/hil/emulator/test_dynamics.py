"""The plant's translational physics: orbits about a rotating, oblate Moon (truth read from the plant)."""

from __future__ import annotations

import math

import pytest

from hil.emulator.dynamics import (
    GM_MOON,
    J2_MOON,
    J2_REFERENCE_RADIUS_M,
    OMEGA_MOON,
    R_MOON,
    FlightState,
    MoonModel,
    gravity,
)
from hil.emulator.plant import LunarLanderPlant
from hil.emulator.rigid_body import Vector3, cross

POLE: Vector3 = (0.0, 0.0, 1.0)


def circular(state: FlightState, altitude_m: float, inclination: float) -> float:
    """Put ``state`` on a circular orbit over the ascending node at +x; returns its period."""
    r = R_MOON + altitude_m
    v = math.sqrt(GM_MOON / r)
    state.set_inertial((r, 0.0, 0.0), (0.0, v * math.cos(inclination), v * math.sin(inclination)))
    return 2.0 * math.pi * r / v


def energy_and_momentum(state: FlightState) -> tuple[float, Vector3]:
    (x, y, z), v = state.position, state.velocity
    r = math.sqrt(x * x + y * y + z * z)
    return 0.5 * sum(c * c for c in v) - GM_MOON / r, cross(state.position, v)


def node(state: FlightState) -> float:
    hx, hy, _ = cross(state.position, state.velocity)
    return math.atan2(hx, -hy)  # the ascending node: the pole x the angular momentum


def test_without_j2_the_orbit_keeps_its_energy_and_angular_momentum() -> None:
    state = FlightState(MoonModel(j2=0.0), POLE, 0.0)
    period = circular(state, 15_000.0, math.radians(60.0))
    # A 15 x 100 km orbit: a little faster than circular at perilune.
    x, y, z = state.velocity
    k = 1.0125
    state.set_inertial(state.position, (x * k, y * k, z * k))
    e0, h0 = energy_and_momentum(state)
    worst_e = worst_h = 0.0
    for _ in range(int(period * 1.05 / 2.0)):
        state.step((0.0, 0.0, 0.0), 2.0)
        e, h = energy_and_momentum(state)
        worst_e = max(worst_e, abs(e - e0) / abs(e0))
        worst_h = max(worst_h, math.dist(h, h0) / math.hypot(*h0))
    assert worst_e < 2e-6  # velocity Verlet: bounded, no drift
    assert worst_h < 1e-12  # a central force: exactly conserved up to rounding


@pytest.mark.parametrize("inclination_deg", [30.0, 120.0])
def test_j2_turns_the_node_at_the_analytic_rate(inclination_deg: float) -> None:
    inclination = math.radians(inclination_deg)
    state = FlightState(MoonModel(), POLE, 0.0)
    period = circular(state, 100_000.0, inclination)
    orbits = 6
    steps = round(period / 2.0)
    node0 = node(state)
    for _ in range(orbits * steps):
        state.step((0.0, 0.0, 0.0), period / steps)
    measured = (node(state) - node0) / (orbits * period)
    a = R_MOON + 100_000.0
    n = math.sqrt(GM_MOON / a**3)
    analytic = -1.5 * n * J2_MOON * (J2_REFERENCE_RADIUS_M / a) ** 2 * math.cos(inclination)
    assert math.copysign(1.0, measured) == math.copysign(1.0, analytic)  # westward for a prograde orbit
    assert measured == pytest.approx(analytic, rel=0.01)  # measured: within 0.05 %


def test_j2_gravity_is_stronger_over_the_equator_than_over_the_pole() -> None:
    r = R_MOON + 15_000.0
    equator = gravity((r, 0.0, 0.0), POLE, J2_MOON)[0]
    pole = gravity((0.0, 0.0, r), POLE, J2_MOON)[2]
    point = -GM_MOON / r**2
    f = 1.5 * J2_MOON * (J2_REFERENCE_RADIUS_M / r) ** 2
    assert equator == pytest.approx(point * (1.0 + f), rel=1e-12)
    assert pole == pytest.approx(point * (1.0 - 2.0 * f), rel=1e-12)


def test_a_point_standing_on_the_moon_turns_with_it() -> None:
    plant = LunarLanderPlant(1)
    site = plant.config.target_downrange_m
    state = FlightState(plant.config.moon, plant.state.pole, 0.0)
    state.set_track(0.0, site, 0.0, 0.0, 0.0, 0.0)
    # Its inertial speed is the Moon's turn at the site's latitude (43.06 N: 3.38 m/s).
    speed = math.hypot(*state.velocity)
    assert speed == pytest.approx(OMEGA_MOON * R_MOON * math.cos(math.radians(43.06)), rel=1e-9)
    assert speed == pytest.approx(3.38, abs=0.01)
    # 600 s later the same site is where the Moon's turn about its pole has carried it.
    start = state.position
    later = FlightState(plant.config.moon, plant.state.pole, 600.0)
    later.set_track(0.0, site, 0.0, 0.0, 0.0, 0.0)
    chord = 2.0 * R_MOON * math.cos(math.radians(43.06)) * math.sin(0.5 * OMEGA_MOON * 600.0)
    assert math.dist(later.position, start) == pytest.approx(chord, rel=1e-6)
    assert (later.h, later.s, later.c) == pytest.approx((0.0, site, 0.0), abs=1e-6)
    # Held still in inertial space instead, the ground turns away under it: eastwards, which is
    # towards -crossrange on this northward track, so the vehicle drifts to +crossrange.
    state.set_track(0.0, site, 0.0, 0.0, 0.0, 0.0)
    state.set_inertial(state.position, (0.0, 0.0, 0.0))
    for _ in range(600):
        state.step(tuple(-g for g in gravity(state.position, state.pole, state.moon.j2)), 1.0)  # type: ignore[arg-type]
    assert state.c - 0.0 == pytest.approx(600.0 * speed, rel=1e-3)
    assert state.vc == pytest.approx(speed, rel=1e-3) and abs(state.vd) < 0.01


def test_the_descent_orbit_is_inertial_and_the_site_drifts_across_it() -> None:
    plant = LunarLanderPlant(1)
    orbit = plant.true_orbit()
    assert orbit.periapsis_alt_m == pytest.approx(15_000.0, abs=1.0)
    assert orbit.apoapsis_alt_m == pytest.approx(100_000.0, abs=1.0)
    # Surface-relative, the coasting lander drifts across the track as the Moon turns.
    assert plant.vc == pytest.approx(OMEGA_MOON * (R_MOON + 15_000.0) * plant.state.pole[1], rel=1e-6)
    for _ in range(int(300 / 0.02)):
        plant.step(0.02)
    assert plant.c > 500.0
