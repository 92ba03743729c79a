"""The rover's lunar night: stow, hibernate, wake at sunrise; and Yutu-1's night (the mast's drive
failed before sunset): hibernate unstowed and survive, with its negative control. Truth from the plant."""

import pytest

from hil.emulator.rover import RoverFaults, RoverPlantConfig
from hil.rigs.rover_traverse import run_traverse

NIGHT_S = 16.5 * 86_400.0  # from just before sunset to past sunrise


def evening(mast_fault: bool) -> RoverPlantConfig:
    config = RoverPlantConfig()
    config.sun_phase_at_start = 0.4785  # the Sun a little over 8 deg up, going down
    config.faults = RoverFaults(mast_fault=mast_fault)
    return config


@pytest.mark.parametrize("mast_fault", [False, True])
def test_the_rover_hibernates_through_the_night_and_wakes_at_sunrise(mast_fault: bool) -> None:
    result = run_traverse(1, [(5.0, 0.0, False)], NIGHT_S, config=evening(mast_fault), until_event="ROVER_AWAKE")
    truth = result.truth
    assert truth["dead"] is None and truth["nights"] == 1 and truth["woke_after_night"] == 1
    assert truth["box_min_c"] > -40.0 and truth["battery_min_wh"] > 0.0
    assert result.named("ROVER_HIBERNATING") and result.named("ROVER_AWAKE")
    assert len(result.named("ROVER_EVENING")) == 1  # awake at sunrise, it does not go straight back to sleep
    if mast_fault:  # Yutu-1: the stow failed, reported, and the night went on unstowed
        assert result.named("ROVER_STOW_FAILED")[0]["action"] == "hibernating unstowed"
        assert result.named("ROVER_HIBERNATING")[0]["stowed"] is False


@pytest.mark.slow  # ~10 min: the whole lunar night flown by the rover's flight software
def test_negative_control_waiting_for_a_stow_that_never_comes_loses_the_rover() -> None:
    result = run_traverse(1, [(5.0, 0.0, False)], 4 * 86_400.0, config=evening(True),
                          parameters={"rover_night_without_stow": False}, until_event="ROVER_AWAKE")
    assert result.truth["dead"] == "battery exhausted in the night"
    assert not result.named("ROVER_HIBERNATING")


@pytest.mark.slow  # ~5 min: two lunar nights
def test_the_array_faced_at_the_sunrise_wakes_the_rover_at_sunrise_and_left_flat_later() -> None:
    """The rover parked facing north: the Sun sets on its left and rises on its right. Turned to the
    sunrise for the night, the array wakes it as the Sun rises; left flat (the negative control) it
    waits for the Sun to climb about 10 deg (a good half day). Times from the plant's clock."""
    sunrise_s = (1.0 - 0.4785) * 29.530589 * 86_400.0
    woke = {}
    for pointing in (True, False):
        result = run_traverse(1, [(3.0, 5.0, False)], NIGHT_S, config=evening(False),
                              parameters={"rover_array_pointing": pointing}, until_event="ROVER_AWAKE")
        assert result.truth["dead"] is None and result.named("ROVER_AWAKE")
        assert len(result.named("ROVER_EVENING")) == 1
        woke[pointing] = result.truth["t"]
    assert woke[True] - sunrise_s < 0.1 * 86_400.0
    assert woke[False] - woke[True] > 0.5 * 86_400.0
