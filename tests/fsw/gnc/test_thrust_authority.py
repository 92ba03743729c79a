"""The thrust-authority estimate and the thrust ceiling on their own (no emulator): the engine's
offset torque learnt from gyro rates and the thrusters' commanded impulse, the ceiling it gives,
and guidance flying under it (re-plan, fallback)."""

from __future__ import annotations

import math
import random

import pytest

from fsw.devices.descent import MAIN_ENGINE_MAX_THRUST_N
from fsw.gnc.attitude_control import GROUP_TORQUE_NM, GROUPS
from fsw.gnc.guidance import HAZARD_AVOIDANCE, SLOW_DESCENT, DescentGuidance, GuidanceConfig
from fsw.gnc.thrust_authority import AUTHORITY_MARGIN, ThrustAuthorityMonitor, commanded_impulse
from tests.fsw.gnc.test_gnc_units import nav_state

DT = 0.02
INERTIA = (2_000.0, 2_500.0, 2_500.0)
GYRO_NOISE = 0.0005  # rad/s per sample, as the plant's IMU


def test_a_group_firing_a_full_cycle_gives_its_torque_about_its_axis_only() -> None:
    for (axis, direction), group in GROUPS.items():
        on_ms = tuple(20 if i in group else 0 for i in range(16))
        impulse = commanded_impulse(on_ms)
        for a in range(3):
            expected = direction * GROUP_TORQUE_NM[axis] * DT if a == axis else 0.0
            assert impulse[a] == pytest.approx(expected, abs=1e-9)
    assert commanded_impulse(None) == (0.0, 0.0, 0.0)


def fly_axis_model(lever: tuple[float, float, float], thrust_n: float, seconds: float,
                   monitor: ThrustAuthorityMonitor, seed: int = 1, spike_every: int = 0) -> None:
    """A rigid body (no attitude control, thrusters idle but for a pulse now and then) under the
    engine's torque ``lever * thrust``; the monitor sees noisy gyros each cycle (and every
    ``spike_every``-th sample a glitching unit's spike, 0.3 rad/s 1-sigma per axis)."""
    rng = random.Random(seed)
    rate = [0.0, 0.0, 0.0]
    impulse = (0.0, 0.0, 0.0)
    for n in range(int(seconds / DT)):
        for a in range(3):
            rate[a] += (impulse[a] + lever[a] * thrust_n * DT) / INERTIA[a]
        noise = 0.3 if spike_every and n % spike_every == 0 else GYRO_NOISE
        measured = (rate[0] + rng.gauss(0.0, noise), rate[1] + rng.gauss(0.0, noise), rate[2] + rng.gauss(0.0, noise))
        # A thruster group brakes the spin every fifth cycle: the monitor must not take it for the engine.
        on_ms = tuple(20 if i in GROUPS[(2, -1 if rate[2] > 0 else 1)] else 0 for i in range(16)) if n % 5 == 0 \
            else None
        impulse = commanded_impulse(on_ms)
        monitor.update(measured, impulse, thrust_n, INERTIA, DT, MAIN_ENGINE_MAX_THRUST_N)


def test_the_slim_jump_lever_is_learnt_in_a_second_and_gives_the_ceiling() -> None:
    # 6 deg off the centre of mass ~1.1 m above the throat: ~0.115 m, 575 N m at 5000 N.
    lever = (0.0, 0.0, 0.115)
    monitor = ThrustAuthorityMonitor()
    fly_axis_model(lever, 5_000.0, 1.2, monitor)
    assert monitor.lever[2] == pytest.approx(0.115, rel=0.1)
    assert abs(monitor.lever[0]) < 0.005 and abs(monitor.lever[1]) < 0.005
    assert monitor.confirmed
    expected = AUTHORITY_MARGIN * GROUP_TORQUE_NM[2] / 0.115  # ~5000 N
    assert monitor.ceiling_n() == pytest.approx(expected, rel=0.1)
    assert monitor.offset_torque_nm == pytest.approx(575.0, rel=0.1)


def test_a_nominal_engine_is_never_capped() -> None:
    # 0.1 deg misalignment and 3 mm of centre-of-mass offset: a ~5 mm lever, 40 N m at full thrust.
    monitor = ThrustAuthorityMonitor()
    fly_axis_model((0.003, -0.005, 0.002), MAIN_ENGINE_MAX_THRUST_N, 60.0, monitor, seed=2)
    assert not monitor.confirmed
    assert monitor.ceiling_n() > 5.0 * MAIN_ENGINE_MAX_THRUST_N


def test_gyro_spikes_are_not_taken_for_an_engine_torque() -> None:
    # A glitching unit's frame that passes the IMU checks now and then (Beresheet): one a second.
    monitor = ThrustAuthorityMonitor()
    fly_axis_model((0.003, -0.005, 0.002), MAIN_ENGINE_MAX_THRUST_N, 30.0, monitor, seed=3, spike_every=50)
    assert not monitor.confirmed and max(abs(x) for x in monitor.lever) < 0.01
    # Spikes on every third sample do not hide a real jump either.
    monitor = ThrustAuthorityMonitor()
    fly_axis_model((0.0, 0.0, 0.115), 5_000.0, 2.0, monitor, seed=4, spike_every=3)
    assert monitor.confirmed and monitor.lever[2] == pytest.approx(0.115, rel=0.15)


def test_no_lever_is_learnt_with_the_engine_off() -> None:
    monitor = ThrustAuthorityMonitor()
    fly_axis_model((0.0, 0.0, 0.115), 0.0, 5.0, monitor)
    assert monitor.lever == [0.0, 0.0, 0.0] and monitor.ceiling_n() == math.inf and not monitor.confirmed


def test_guidance_commands_no_more_than_the_ceiling_and_replans_the_divert() -> None:
    g = DescentGuidance(GuidanceConfig(target_downrange_m=0.0))
    g.phase = HAZARD_AVOIDANCE
    state = dict(h=45.0, height_above_ground=45.0, vd=0.0, vu=-3.0, pitch=0.0, mass_kg=1_950.0, propellant_kg=350.0,
                 thrust_efficiency=0.95)
    g.step(0.0, nav_state(**state))
    g.thrust_ceiling_n = 4_800.0  # delivered: 4800 / 0.95 commanded
    cmd = g.step(0.1, nav_state(t=0.1, **state))
    assert cmd.phase == HAZARD_AVOIDANCE  # 3 m/s stops well above the divert's 30 m end at the ceiling
    state["vu"] = -6.0
    cmd = g.step(0.2, nav_state(t=0.2, **state))
    names = [name for name, _ in cmd.events]
    assert cmd.phase == SLOW_DESCENT and "descent_replanned_for_thrust_ceiling" in names
    assert cmd.thrust_n <= 4_800.0 / 0.95 + 1e-6
    assert cmd.thrust_n > 1.2 * 1_950.0 * 1.62 / 0.95  # braking the sink, under the ceiling
    assert not g.ceiling_exceeded


def test_below_what_stops_the_descent_the_ceiling_gives_way() -> None:
    # A ceiling under hover thrust would let the lander fall: guidance asks what stops it, and says so.
    g = DescentGuidance(GuidanceConfig(target_downrange_m=0.0))
    g.phase = SLOW_DESCENT
    g.thrust_ceiling_n = 2_500.0
    cmd = g.step(0.0, nav_state(h=20.0, height_above_ground=20.0, vd=0.0, vu=-4.0, pitch=0.0, mass_kg=1_950.0,
                                propellant_kg=350.0))
    assert g.ceiling_exceeded and "thrust_ceiling_exceeded" in [name for name, _ in cmd.events]
    assert cmd.thrust_n > 1_950.0 * 1.62 * 1.05
