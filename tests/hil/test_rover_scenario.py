"""The Yutu-1 rover scenario (``ilrs-hil scenario yutu1``): the rover machine on a flight executive
through a lunar night with its mechanisms failed, and a checker that does fail a wrong response."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys

from hil.emulator.surface import SurfaceDevices
from hil.rigs.rover_scenario import FAULT_BEFORE_EVENING_S, MIN_BATTERY_SOC, RoverRun, check_yutu1, fly_rover_night
from hil.rigs.scenarios import SCENARIOS, add_arguments, run_scenario

DAY_S = 86_400.0


def test_yutu1_is_judged_correct_and_the_night_went_as_documented() -> None:
    result = run_scenario("yutu1", seed=1)
    assert result.problems == [], result.problems
    run = result.run
    assert isinstance(run, RoverRun)
    assert run.fault_at_s == run.evening_s - FAULT_BEFORE_EVENING_S
    states = [(source, dest, trigger) for _, source, dest, trigger in run.transitions]
    assert ("drive", "standby", "fault") in states  # the fault came during the afternoon drive
    assert ("prepare_night", "hibernate", "ready") in states and "safe" not in [dest for _, dest, _ in states]
    assert ("hibernate", "wake", "sunrise") in states
    (_, hibernating), = run.events_named("ROVER_HIBERNATING")
    assert hibernating["stowed"] is False and "stow" in hibernating["faults"]
    hibernated, woke = run.entered("hibernate"), run.entered("wake")
    assert hibernated is not None and woke is not None and 13 * DAY_S < woke - hibernated < 17 * DAY_S
    night = [sample for sample in run.samples if sample.state == "hibernate"]
    assert len(night) > 24 * 13 and all(sample.hibernating for sample in night)
    assert result.outcome.startswith("hibernated at Sun") and "unstowed" in result.outcome


def test_same_seed_same_night() -> None:
    first, second = fly_rover_night(2), fly_rover_night(2)
    assert first.transitions == second.transitions and first.events == second.events
    assert first.samples == second.samples


def test_a_rover_that_never_hibernates_is_judged_wrong() -> None:
    # Left on the lander, the rover never goes into the night configuration nor reports the fault.
    problems = check_yutu1(fly_rover_night(1, deploy=False))
    assert "did not hibernate (final state idle)" in problems
    assert "did not wake by itself at sunrise" in problems and "mechanism fault not reported" in problems


def test_a_record_without_the_hibernation_is_judged_wrong() -> None:
    good = fly_rover_night(1)
    assert check_yutu1(good) == []
    without = dataclasses.replace(good, transitions=[t for t in good.transitions if t[2] != "hibernate"],
                                  final_state="standby")
    assert check_yutu1(without)[0] == "did not hibernate (final state standby)"


def test_a_dead_hibernation_switch_flattens_the_battery_and_is_judged_wrong() -> None:
    def break_hibernation_switch(surface: SurfaceDevices) -> None:
        def dead(on: bool) -> None:
            raise OSError("power switch not answering")

        surface.rover_power.set_hibernation = dead  # type: ignore[method-assign]

    run = fly_rover_night(1, adjust=break_hibernation_switch)
    problems = check_yutu1(run)
    # The machine still goes on into hibernate (the failed step is recorded), but the load stays on.
    assert run.entered("hibernate") is not None
    assert "rover power not in hibernation during the night" in problems
    assert any(problem.startswith("battery flat") for problem in problems)
    assert min(sample.battery_soc for sample in run.samples) < MIN_BATTERY_SOC


def test_scenario_command_runs_yutu1() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["yutu1"]).name == "yutu1"
    assert "yutu1" in SCENARIOS  # and so in ``all``
    out = subprocess.run([sys.executable, "-m", "hil.cli", "scenario", "yutu1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("yutu1: rover mechanisms fail")
    assert "RESPONSE CORRECT" in out.stdout and "woke at Sun" in out.stdout
