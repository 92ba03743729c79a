"""The rover's solar array pointed at a low morning Sun by its own flight software (sun sensor and
IMU), against the same array left flat: the array's output and the battery from the plant's record."""

import math

import pytest

from hil.emulator.rover import RoverPlantConfig
from hil.rigs.rover_traverse import TraverseResult, run_traverse

LOW_SUN_PHASE = 0.0268  # about 10 deg above the eastern horizon, two days after sunrise
LEG_NORTH = [(3.0, 8.0, False)]  # the Sun abeam on the right while the rover drives and then waits
DURATION_S = 2400.0


def low_sun() -> RoverPlantConfig:
    config = RoverPlantConfig()
    config.sun_phase_at_start = LOW_SUN_PHASE
    return config


@pytest.fixture(scope="module")
def pointed() -> TraverseResult:
    return run_traverse(1, LEG_NORTH, DURATION_S, config=low_sun())


@pytest.fixture(scope="module")
def flat() -> TraverseResult:
    return run_traverse(1, LEG_NORTH, DURATION_S, config=low_sun(), parameters={"rover_array_pointing": False})


def test_the_array_pointed_at_a_low_sun_gives_several_times_what_it_gives_flat(pointed: TraverseResult) -> None:
    truth = pointed.truth
    assert math.degrees(math.asin(truth["array_flat_w"] / 120.0)) < 15.0  # the Sun is low
    assert truth["array_tilt_deg"] < -60.0  # turned to the right, towards the Sun
    assert truth["array_w"] > 4 * truth["array_flat_w"]
    assert truth["array_energy_wh"] > 3 * truth["array_flat_energy_wh"]
    # The flight software's own estimate of the incidence agrees with the plant's output.
    assert math.cos(math.radians(pointed.housekeeping["rarr_incidence_deg"])) * 120.0 == pytest.approx(
        truth["array_w"], abs=6.0)
    assert truth["dead"] is None and truth["collisions"] == []


def test_negative_control_the_array_left_flat_ends_with_less_in_the_battery(pointed: TraverseResult,
                                                                          flat: TraverseResult) -> None:
    assert abs(flat.truth["array_tilt_deg"]) < 0.5
    assert flat.truth["array_energy_wh"] == pytest.approx(flat.truth["array_flat_energy_wh"], rel=0.02)
    # Flat, the array does not carry the rover's load at this Sun: the battery runs down; pointed it charges.
    assert flat.truth["battery_wh"] < flat.truth["battery_min_wh"] + 1.0 < 1080.0
    assert pointed.truth["battery_wh"] > flat.truth["battery_wh"] + 40.0
