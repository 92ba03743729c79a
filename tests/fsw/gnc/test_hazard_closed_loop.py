"""A boulder field under the aim point, flown closed loop by the real descent controller: the
flight software finds it in the imager's elevation image and lands beside it; with on-board hazard
avoidance off the same descent lands on it. Judged from the plant's touchdown record."""

from __future__ import annotations

import math

from fsw.gnc.controller import FaultResponses
from hil.emulator.plant import with_faults
from hil.rigs.closed_loop import fly_descent

SEED = 3
FIELD_UNDER_THE_HOVER = with_faults(boulder_field_below_m=104.0)


def test_a_boulder_field_under_the_aim_is_avoided_and_landed_on_without_avoidance() -> None:
    run = fly_descent(SEED, FIELD_UNDER_THE_HOVER)
    plant = run.plant
    # The field is real: the plant itself judges its centre a hazard.
    assert plant.boulder_field_at is not None and plant.terrain.hazards_at(*plant.boulder_field_at)
    assert "hazard_detected_retargeting" in run.event_names()
    assert "site_confirmed_safe" not in run.event_names()
    td = run.touchdown
    assert td is not None and td.safe and td.hazards == (), td
    assert math.dist((td.downrange_m, td.crossrange_m), plant.boulder_field_at) > 5.0
    found, shift = run.controller.hazard_assessment()
    assert found is not None and found.hazard_cells > 0 and math.hypot(*shift) > 5.0

    # Negative control: the same descent with on-board hazard avoidance off lands on the boulders.
    control = fly_descent(SEED, FIELD_UNDER_THE_HOVER, responses=FaultResponses(hazard_avoidance=False))
    assert "hazard_avoidance_off" in control.event_names()
    td = control.touchdown
    assert td is not None and td.hazards and not td.safe, td
