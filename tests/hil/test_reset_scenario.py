"""Beresheet: a reset of the flight computer during the braking burn must not shut the engine."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hil.rigs.reset_scenario import RESET_HEIGHT_M, check_beresheet, fly_descent_through_reset

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def beresheet():
    return fly_descent_through_reset(seed=1)


def test_the_engine_burns_through_the_reset_and_guidance_lands(beresheet) -> None:
    run = beresheet
    assert check_beresheet(run) == []
    assert run.engine_on_at_reset and run.height_at_reset_m < RESET_HEIGHT_M
    (resumed,) = run.resumed()
    assert resumed["vehicle"] == "lander" and resumed["phase"] == "main_braking"
    assert resumed["gap"] >= 1.0  # the reset outage passed unseen by the flight software
    assert run.ignitions == 1 and run.flight_restarts == 1
    assert run.outcomes == ["landed"] and run.touchdown is not None and run.touchdown.safe
    # The IMU switch (the IMU's own record) came before the reset, once: the resumed controller stays
    # on the redundant unit. It was the fault protection table's: PUS 19 answering PUS 12.
    [(switched_t, unit, _)] = run.imu_selections
    assert unit == 1 and run.reset_t is not None and switched_t < run.reset_t
    selected = [i for i, (name, args) in enumerate(run.events) if args.get("event") == "imu_selected"]
    assert len(selected) == 1 and selected[0] < run.names().index("GNC_RESUMED")
    assert "EVENT_ACTION_TRIGGERED" in run.names()[:selected[0]]


def test_the_checker_names_each_wrong_response(beresheet) -> None:
    assert check_beresheet(replace(beresheet, ignitions=2)) == ["the main engine was started 2 times"]
    assert check_beresheet(replace(beresheet, engine_on_at_reset=False)) == [
        "the engine was not burning when the computer reset (the reset came too late)"]
    assert "no touchdown" in check_beresheet(replace(beresheet, touchdown=None, outcomes=[]))


def test_without_the_imu_glitch_the_switch_is_missing_from_the_response() -> None:
    run = fly_descent_through_reset(seed=1, imu_glitch=False)
    assert check_beresheet(run) == ["no switch to the redundant IMU"]
    assert run.touchdown is not None and run.touchdown.safe
