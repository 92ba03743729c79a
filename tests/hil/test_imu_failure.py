"""IMU unit failure in main braking, flown by the flight software (``ilrs-hil scenario imu_failure``):
the descent rejects the frozen unit's stale samples and coasts, PUS 12 sees the rejections run on,
PUS 19 selects the redundant unit, with no ground in the loop; the negative control, the same
failure with the event-action disabled by the ground (19,5), is flown in the same test. Outcomes
from the plant: its IMU's own record of unit changes, and the touchdown. Two whole descents, about
a minute of wall time (61 s measured on a shared 2-core machine): ``slow``."""

from __future__ import annotations

import pytest

from hil.rigs.imu_scenario import SWITCH_WITHIN_S, monitor_events, switched_to_redundant
from hil.rigs.scenarios import run_control, run_scenario


@pytest.mark.slow
def test_imu_failure_in_main_braking_lands_on_the_redundant_unit_and_without_the_action_does_not() -> None:
    result = run_scenario("imu_failure", seed=2)
    assert result.problems == [], result.problems
    run = result.run
    # Response, from the plant: switched within the budget after the failure, then a safe landing.
    assert run.imu_failed_at is not None and run.imu_failed_at[1] < 12_000.0
    switch = switched_to_redundant(run)
    assert switch is not None and switch[0] - run.imu_failed_at[0] <= SWITCH_WITHIN_S
    assert [unit for _, unit, _ in run.imu_selections] == [1]
    assert run.touchdown is not None and run.touchdown.safe and run.in_ellipse and run.ignitions == 1
    # Control: the same failure, the event-action disabled (19,5): the monitor sees it, nothing answers,
    # and the plant saw no safe landing on the site.
    control = run_control("imu_failure", seed=2)
    assert control is not None and control.problems == [] and control.bad_end
    off = control.run
    assert off.imu_failed_at is not None and off.imu_selections == []
    assert monitor_events(off, "MONITOR_VIOLATION") and "EVENT_ACTION_TRIGGERED" not in off.names()
    assert off.ignitions >= 1
    assert off.touchdown is None or not off.touchdown.safe or not off.in_ellipse
