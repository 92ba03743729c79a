"""The main-braking attitude command does not carry the navigation's altimeter steps: the height
loop's output is low-passed (``GuidanceConfig.braking_vertical_filter_s``), so the attitude control
holds a smooth command with a fraction of the thruster pulses. Negative control: the filter off."""

from __future__ import annotations

import math

from fsw.gnc.guidance import MAIN_BRAKING, DescentGuidance, GuidanceConfig
from fsw.gnc.navigation import NavState
from hil.emulator.plant import PlantConfig
from hil.rigs.closed_loop import fly_descent


def braking_state(t: float, h: float, vu: float) -> NavState:
    # Mid-braking near the height profile (13.6 km at 1,500 m/s): the height loop is off its clamps.
    return NavState(t=t, h=h, s=300_000.0, c=0.0, vu=vu, vd=1_500.0, vc=0.0, height_above_ground=h,
                    altimeter_ok=True, mass_kg=3_500.0, propellant_kg=1_900.0, pitch=-1.6, yaw=0.0,
                    specific_force=2.0, thrust_efficiency=1.0)


def pitch_jump_deg(filter_s: float) -> float:
    """The pitch command's change over one guidance cycle when an altimeter update steps the
    navigated height by 7 m and the vertical speed by 0.1 m/s (as seen at 15 km)."""
    guidance = DescentGuidance(GuidanceConfig(target_downrange_m=765_000.0, braking_vertical_filter_s=filter_s))
    for k in range(50):  # 5 s of the same navigated state at 10 Hz: the filter settles
        before = guidance.step(k * 0.1, braking_state(k * 0.1, 13_600.0, -14.2))
    after = guidance.step(5.0, braking_state(5.0, 13_607.0, -14.1))
    assert before.phase == after.phase == MAIN_BRAKING
    return abs(math.degrees(after.pitch - before.pitch))


def test_an_altimeter_step_moves_the_braking_pitch_command_by_a_fraction_of_a_degree() -> None:
    filtered, unfiltered = pitch_jump_deg(3.0), pitch_jump_deg(0.0)
    assert unfiltered > 0.8  # the law alone passes the step on (negative control)
    assert filtered < 0.1 * unfiltered


def braking_thruster_propellant_kg(filter_s: float, seconds: float = 300.0) -> float:
    """The propellant the plant's attitude thrusters burnt over the first ``seconds`` of a descent
    (seed 1: the height loop leaves its clamp 89 s after the go)."""
    config = GuidanceConfig(target_downrange_m=PlantConfig().target_downrange_m, braking_vertical_filter_s=filter_s)
    run = fly_descent(1, None, config, max_time_s=seconds)
    assert run.final_phase == MAIN_BRAKING
    return run.plant.rcs_propellant_used


def test_the_braking_attitude_holds_with_fewer_pulses_than_without_the_filter() -> None:
    """Closed loop, the plant's record: the propellant its attitude thrusters burnt in the braking."""
    assert braking_thruster_propellant_kg(3.0) < 0.5 * braking_thruster_propellant_kg(0.0)
