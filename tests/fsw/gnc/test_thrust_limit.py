"""SLIM's 6 deg: the thrust axis jumps 6 deg off the centre of mass 50 m above the ground while
guidance brakes the divert's sink near full thrust (~840 N m there, more than the thrusters' 764 N m).
The real descent controller in closed loop with the plant; outcomes from the plant's touchdown."""

from __future__ import annotations

from fsw.gnc.controller import FaultResponses
from hil.emulator.plant import with_faults
from hil.rigs.closed_loop import fly_descent

SLIM_6_DEG = with_faults(thrust_axis_jump_altitude_m=50.0, thrust_axis_jump_deg=6.0)


def test_six_degrees_at_50_m_is_landed_under_a_thrust_ceiling_and_without_it_is_not() -> None:
    capped = fly_descent(1, SLIM_6_DEG)
    assert capped.plant.thrust_axis_jumped_at is not None and 45.0 < capped.plant.thrust_axis_jumped_at <= 50.0
    names = capped.event_names()
    assert "thrust_limited_to_attitude_authority" in names and "descent_replanned_for_thrust_ceiling" in names
    assert capped.touchdown is not None and capped.touchdown.safe, capped.touchdown
    assert capped.touchdown.tilt_deg < 5.0 and capped.touchdown.horizontal_speed_m_s < 0.6, capped.touchdown
    # What the response took: the estimate it flew by is the plant's lever within 15 % (6 deg ~1.09 m
    # above the throat: 0.114 N m per N), and the ceiling it gave is what 75 % of 764 N m allows.
    lever = abs(capped.controller.authority.lever[2])
    assert 0.097 < lever < 0.131, lever
    assert capped.controller.guidance.thrust_ceiling_n is not None
    assert 4_300.0 < capped.controller.guidance.thrust_ceiling_n < 5_800.0
    hk = capped.controller.thrust_limit_housekeeping()  # structure 30's points
    assert hk["gnc_thrust_ceiling_n"] == round(capped.controller.guidance.thrust_ceiling_n, 1)

    # Negative control: the same fault, the ceiling switched off (the estimate still reports it):
    # guidance asks full thrust, the torque beats the thrusters, the lander leans and slides in.
    uncapped = fly_descent(1, SLIM_6_DEG, responses=FaultResponses(thrust_authority=False))
    assert "thrust_authority_exceeded" in uncapped.event_names()
    assert "thrust_limited_to_attitude_authority" not in uncapped.event_names()
    assert uncapped.touchdown is not None and not uncapped.touchdown.safe, uncapped.touchdown
    assert uncapped.touchdown.horizontal_speed_m_s > 1.5, uncapped.touchdown  # the limit is 1.0 m/s


def test_three_degrees_needs_no_ceiling_and_lands() -> None:
    """3 deg at full thrust is ~430 N m, inside the 573 N m the thrusters may give: no response."""
    run = fly_descent(1, with_faults(thrust_axis_jump_altitude_m=50.0, thrust_axis_jump_deg=3.0))
    assert run.plant.thrust_axis_jumped_at is not None
    assert "thrust_limited_to_attitude_authority" not in run.event_names()
    assert run.touchdown is not None and run.touchdown.safe, run.touchdown
