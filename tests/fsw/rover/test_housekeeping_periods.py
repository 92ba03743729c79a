"""The rover's housekeeping crosses the lander's relay: no structure reports more often than 5 s."""

from __future__ import annotations

from fsw.rover.topology import ROVER_HK_PERIOD_S, rover_dictionary_vehicle


def test_every_rover_structure_reports_every_5_s_at_most_the_standard_services_included() -> None:
    vehicle = rover_dictionary_vehicle()
    periods = {structure.component.name: structure.period
               for structure in vehicle.housekeeping.structures.values()}
    assert {"exec", "hk", "time", "health"} & set(periods)  # the standard services' structures are there
    assert min(periods.values()) >= ROVER_HK_PERIOD_S == 5.0, periods
