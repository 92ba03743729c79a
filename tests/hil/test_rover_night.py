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
    if mast_fault:  # Yutu-1: the stow failed, reported, and the night went on unstowed
        assert result.named("ROVER_STOW_FAILED")[0]["action"] == "hibernating unstowed"
        assert result.named("ROVER_HIBERNATING")[0]["stowed"] is False


@pytest.mark.slow  # ~10 min: the whole lunar night flown by the rover's flight software
def test_negative_control_waiting_for_a_stow_that_never_comes_loses_the_rover() -> None:
    result = run_traverse(1, [(5.0, 0.0, False)], 4 * 86_400.0, config=evening(True),
                          parameters={"rover_night_without_stow": False}, until_event="ROVER_AWAKE")
    assert result.truth["dead"] == "battery exhausted in the night"
    assert not result.named("ROVER_HIBERNATING")
