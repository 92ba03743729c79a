"""Navigation and guidance pieces on their own (no emulator)."""

from __future__ import annotations

import math
import random

import pytest

from fsw.devices.descent import ImuReading, RangeReading, RangeVelocityReading
from fsw.gnc.guidance import (
    APPROACH,
    MAIN_BRAKING,
    SLOW_DESCENT,
    DescentGuidance,
    GuidanceConfig,
)
from fsw.gnc.guidance_laws import e_guidance, full_thrust_braking_distance
from fsw.gnc.navigation import Navigator, NavState, TerrainMap

G = 1.62


def nav_state(**kw: float) -> NavState:
    base = dict(
        t=0.0, h=15_000.0, s=0.0, c=0.0, vu=0.0, vd=1_690.0, vc=0.0, height_above_ground=15_000.0,
        altimeter_ok=True, mass_kg=3_850.0, propellant_kg=2_250.0, pitch=-math.pi / 2, yaw=0.0,
        specific_force=0.0, thrust_efficiency=1.0,
    )  # fmt: skip
    base.update(kw)
    return NavState(**base)  # type: ignore[arg-type]


def test_braking_distance_matches_constant_mass_limit() -> None:
    # For a small speed change the mass barely changes: d = m v^2 / (2 F).
    d = full_thrust_braking_distance(10.0, 0.0, 2_000.0, 7_500.0, 3_000.0)
    assert d == pytest.approx(2_000.0 * 100.0 / (2 * 7_500.0), rel=3e-3)
    assert full_thrust_braking_distance(5.0, 10.0, 2_000.0, 7_500.0, 3_000.0) == 0.0
    # Mass loss shortens the distance relative to the constant-mass figure.
    long = full_thrust_braking_distance(1_700.0, 57.0, 3_850.0, 7_500.0, 3_000.0)
    assert long < 3_850.0 * (1_700.0**2 - 57.0**2) / (2 * 7_500.0)


def test_e_guidance_reproduces_a_constant_acceleration_arc() -> None:
    a, v0, t = 0.7, -3.0, 12.0
    rf = v0 * t + 0.5 * a * t * t
    assert e_guidance(0.0, v0, rf, v0 + a * t, t) == pytest.approx(a)


def test_main_braking_thrusts_near_max_against_the_velocity() -> None:
    g = DescentGuidance(GuidanceConfig(target_downrange_m=662_000.0))
    cmd = g.step(0.0, nav_state())
    assert cmd.phase == MAIN_BRAKING and cmd.engine_on
    assert cmd.thrust_n > 0.95 * 7_500.0
    assert math.degrees(cmd.pitch) < -70.0  # thrust axis points back along the track
    assert ("phase:main_braking", "ignition") in cmd.events


def test_bingo_propellant_goes_straight_to_vertical_descent() -> None:
    g = DescentGuidance(GuidanceConfig(target_downrange_m=1_000.0, bingo_propellant_kg=150.0))
    g.phase = APPROACH
    g.step(0.0, nav_state(h=800.0, height_above_ground=800.0, vd=5.0, vu=-20.0, s=500.0, pitch=0.0))
    cmd = g.step(0.1, nav_state(h=790.0, height_above_ground=790.0, vd=5.0, vu=-20.0, s=500.0, propellant_kg=140.0))
    assert cmd.phase == SLOW_DESCENT
    assert "bingo_propellant" in [name for name, _ in cmd.events]
    # No lateral excursion: the aim becomes where a bounded-tilt stop from 5 m/s ends (~87 m on).
    assert 500.0 < g.target.s < 600.0
    # Vertical channel asks for more than hover thrust to brake the 20 m/s sink.
    assert cmd.thrust_n > 2_000.0 * G


def test_propellant_reserve_is_not_a_bingo_during_main_braking() -> None:
    g = DescentGuidance(GuidanceConfig(target_downrange_m=662_000.0, bingo_propellant_kg=150.0))
    cmd = g.step(0.0, nav_state(propellant_kg=100.0))
    assert cmd.phase == MAIN_BRAKING


def hover_imu(t: float) -> ImuReading:
    return ImuReading(t, (G, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0, 0.0, 0, True, True)


def make_nav() -> Navigator:
    flat = TerrainMap(1_000.0, (0.0,) * 10)
    return Navigator(
        flat, t=0.0, h=1_000.0, s=0.0, c=0.0, vu=0.0, vd=0.0, vc=0.0, dry_mass_kg=1_600.0, propellant_kg=500.0
    )


def test_altimeter_outlier_is_rejected_then_consistent_readings_are_readmitted() -> None:
    nav = make_nav()
    rng = random.Random(1)
    t = 0.0
    for _ in range(50):
        t += 0.1
        nav.propagate(hover_imu(t), 0.1)
        assert nav.update_range(RangeReading(t, 1_000.0 + rng.gauss(0, 0.5), "short", True)) == "accepted"
    assert nav.height_above_ground() == pytest.approx(1_000.0, abs=1.0)
    # A single 3 km jump (crater wall, glint) is gated out: the estimate does not move.
    t += 0.1
    nav.propagate(hover_imu(t), 0.1)
    assert nav.update_range(RangeReading(t, 3_900.0, "short", True)) == "rejected"
    assert nav.height_above_ground() == pytest.approx(1_000.0, abs=1.0)
    # Readings that keep agreeing with each other are re-admitted: never latched failed.
    statuses = []
    for _ in range(40):
        t += 0.1
        nav.propagate(hover_imu(t), 0.1)
        statuses.append(nav.update_range(RangeReading(t, 3_900.0 + rng.gauss(0, 0.5), "short", True)))
    assert "readmitted" in statuses
    assert statuses[-1] == "accepted"
    assert nav.height_above_ground() == pytest.approx(3_900.0, abs=20.0)
    assert any(name == "altimeter_readmitted" for _, name, _ in nav.events)


def test_with_readmission_switched_off_a_consistent_disagreement_latches_the_laser_failed() -> None:
    # The negative control of the Hakuto-R response: what Hakuto-R's software did.
    nav = make_nav()
    nav.altimeter_readmission = False
    rng = random.Random(1)
    t = 0.0
    for _ in range(20):
        t += 0.1
        nav.propagate(hover_imu(t), 0.1)
        nav.update_range(RangeReading(t, 1_000.0 + rng.gauss(0, 0.5), "short", True))
    statuses = []
    for _ in range(40):
        t += 0.1
        nav.propagate(hover_imu(t), 0.1)
        statuses.append(nav.update_range(RangeReading(t, 3_900.0 + rng.gauss(0, 0.5), "short", True)))
    assert "readmitted" not in statuses and statuses[-1] == "invalid"
    assert nav.laser_latched_failed
    assert [name for _, name, _ in nav.events] == ["altimeter_latched_failed"]
    assert nav.height_above_ground() == pytest.approx(1_000.0, abs=5.0)  # the lander believes its IMU alone
    # Even readings that agree again are never used after the latch.
    t += 0.1
    nav.propagate(hover_imu(t), 0.1)
    assert nav.update_range(RangeReading(t, 1_000.0, "short", True)) == "invalid"


def test_scattered_outliers_stay_rejected() -> None:
    nav = make_nav()
    rng = random.Random(2)
    t = 0.0
    results = []
    for _ in range(60):
        t += 0.1
        nav.propagate(hover_imu(t), 0.1)
        results.append(nav.update_range(RangeReading(t, 1_000.0 + rng.uniform(500.0, 3_000.0), "short", True)))
    assert set(results) == {"rejected"}
    assert nav.height_above_ground() == pytest.approx(1_000.0, abs=5.0)


def test_invalid_readings_are_ignored() -> None:
    nav = make_nav()
    nav.propagate(hover_imu(0.1), 0.1)
    assert nav.update_range(RangeReading(0.1, 0.0, "short", False)) == "invalid"


def test_microwave_backup_honours_its_valid_flag() -> None:
    nav = make_nav()
    nav.propagate(hover_imu(0.1), 0.1)
    before = nav.height_above_ground()
    # A garbage range flagged invalid must not be fused (the IM-1 backup patch missed this).
    assert nav.update_microwave(RangeVelocityReading(0.1, 5.0, (0.0, 0.0, 0.0), False)) == "invalid"
    assert nav.height_above_ground() == before
    assert nav.update_microwave(RangeVelocityReading(0.2, 1_000.0, (0.0, 0.0, 0.0), True)) == "accepted"


def test_main_braking_burn_time_limit_forces_the_next_phase() -> None:
    g = DescentGuidance(GuidanceConfig(target_downrange_m=662_000.0, braking_max_duration_s=100.0))
    g.step(0.0, nav_state())
    cmd = g.step(100.5, nav_state(vd=900.0, h=9_000.0, height_above_ground=9_000.0))
    assert "braking_time_limit" in [name for name, _ in cmd.events]
    assert cmd.phase == "rapid_adjustment"
