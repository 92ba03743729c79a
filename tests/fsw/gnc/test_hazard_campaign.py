"""Campaign descents of the flight software over dispersed site terrains (the campaign's draw per
seed: boulders, mounds, small craters, start state, engine): no touchdown has a hazard under the
footprint by the plant's record. Seed 396555069 is the campaign run that once landed on an 8.3 deg
mound flank (a site chosen at the edge of the slope limit; the slope margin that ended it is tested
on images in tests/fsw/gnc/test_hazard_margins.py): since the navigator models J2 its hover is ~120 m
further downrange, off that mound, and it stays here as a dispersed descent. The others are the
first runs of the default campaign. The negative control (avoidance off over a boulder field under
the aim) is tests/fsw/gnc/test_hazard_closed_loop.py."""

from __future__ import annotations

import pytest

from hil.rigs.campaign.segments import fly_descent, quiet_flight_logs

ONCE_ON_A_SLOPE = 396555069
OTHER_SEEDS = (288545019, 1222356006, 1819850096, 1722851097, 1640193507)


SEEDS = [ONCE_ON_A_SLOPE, *(pytest.param(seed, marks=pytest.mark.slow) for seed in OTHER_SEEDS)]


@pytest.mark.parametrize("seed", SEEDS)
def test_no_dispersed_campaign_descent_touches_down_on_a_hazard(seed: int) -> None:
    quiet_flight_logs()
    record, row = fly_descent(seed)
    touchdown = record.touchdown
    assert touchdown is not None, row
    assert touchdown.hazards == (), row  # the plant's own judgement of the ground under the footprint
    assert touchdown.safe and row["success"], row
    sites = [args for name, args in record.events if name == "GNC_LANDING_SITE"]
    assert len(sites) == 1, "the site is judged once, at the hover"
