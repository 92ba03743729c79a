"""``ilrs-hil scenario NAME``: real landing and surface anomalies replayed against the flight
software, each with the response it must give (documented in docs/fault-scenarios.md).

A landing scenario is a seeded closed-loop descent of the emulator plant with one fault injected;
the rover scenario (``yutu1``) runs the rover machine on an executive through a lunar night
(:mod:`hil.rigs.rover_scenario`). Each prints the outcome and whether the expected response happened, and
the command exits 0 only if it did.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from fsw.gnc.controller import HOLD_ORBIT
from hil.emulator.plant import with_faults
from hil.rigs.closed_loop import DescentRun, fly_descent
from hil.rigs.plant_death import PlantDeathRun, check_plant_death, fly_plant_death
from hil.rigs.reset_scenario import ResetRun, check_beresheet, fly_descent_through_reset
from hil.rigs.rover_scenario import RoverRun, check_yutu1, fly_rover_night
from hil.rigs.surface_fdir import SurfaceRun, fly_surface
from hil.rigs.surface_fdir_checks import judge, outcome


@dataclass(frozen=True)
class ScenarioResult:
    outcome: str  # one line: what happened
    problems: list[str]  # the unmet expectations (empty: response correct)
    wall_s: float
    run: DescentRun | RoverRun | ResetRun | PlantDeathRun | SurfaceRun  # the whole record, for a closer look


@dataclass(frozen=True)
class Scenario:
    name: str
    anomaly: str
    expected: str
    run: Callable[[int], ScenarioResult]  # seed -> result


def descent(faults: dict[str, object], check: Callable[[DescentRun], list[str]]) -> Callable[[int], ScenarioResult]:
    """A closed-loop descent with ``faults`` injected (see ``with_faults``), judged by ``check``."""

    def run(seed: int) -> ScenarioResult:
        flown = fly_descent(seed, with_faults(None, **faults) if faults else None)
        touchdown = flown.touchdown
        outcome = (f"touchdown {touchdown.vertical_speed_m_s:.2f} m/s vertical, "
                   f"{touchdown.horizontal_speed_m_s:.2f} m/s horizontal, tilt {touchdown.tilt_deg:.1f} deg"
                   if touchdown else f"no touchdown, final phase {flown.final_phase}")
        return ScenarioResult(outcome, check(flown), flown.wall_s, flown)

    return run


def rover_night(run_rover: Callable[[int], RoverRun], check: Callable[[RoverRun], list[str]]
                ) -> Callable[[int], ScenarioResult]:
    """A rover scenario through a lunar night (:mod:`hil.rigs.rover_scenario`), judged by ``check``."""

    def run(seed: int) -> ScenarioResult:
        night = run_rover(seed)
        return ScenarioResult(night.outcome(), check(night), night.wall_s, night)

    return run


def through_reset(run_reset: Callable[[int], ResetRun], check: Callable[[ResetRun], list[str]]
                  ) -> Callable[[int], ScenarioResult]:
    """A descent flown by the flight software with a reset of the flight computer in the burn
    (:mod:`hil.rigs.reset_scenario`), judged by ``check``."""

    def run(seed: int) -> ScenarioResult:
        flown = run_reset(seed)
        return ScenarioResult(flown.outcome(), check(flown), flown.wall_s, flown)

    return run


def plant_death(seed: int) -> ScenarioResult:
    """The plant process killed in main braking (:mod:`hil.rigs.plant_death`)."""
    flown = fly_plant_death(seed)
    return ScenarioResult(flown.outcome(), check_plant_death(flown), flown.wall_s, flown)


def surface_fdir(name: str) -> Callable[[int], ScenarioResult]:
    """A surface fault answered by on-board fault protection (:mod:`hil.rigs.surface_fdir`), flown
    with its response and as its negative control (the event-action disabled), both judged."""

    def run(seed: int) -> ScenarioResult:
        flown, control = fly_surface(name, seed), fly_surface(name, seed, response=False)
        return ScenarioResult(f"{outcome(flown)}; without the response: {outcome(control)}",
                              judge(flown) + judge(control), flown.wall_s + control.wall_s, flown)

    return run


def _landed_safely(run: DescentRun) -> list[str]:
    problems = []
    if run.touchdown is None:
        return ["no touchdown"]
    if not run.touchdown.safe:
        problems.append(f"unsafe touchdown: {run.touchdown}")
    if run.min_true_height_while_guidance_thought_landed_m is not None:
        problems.append(f"false touchdown at {run.min_true_height_while_guidance_thought_landed_m:.0f} m")
    return problems


def _held_in_orbit(run: DescentRun) -> list[str]:
    problems = []
    if run.final_phase != HOLD_ORBIT:
        problems.append(f"did not hold in orbit (phase {run.final_phase})")
    if run.plant.config.propellant_kg - run.plant.propellant > 1.0:
        problems.append("the main engine fired")
    return problems


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("beresheet", "IMU glitch at 14 km, then a reset of the flight computer in the burn (Beresheet 2019)",
                 "switch to the redundant IMU autonomously; through the reset keep the engine burning, resume "
                 "guidance from its checkpoint, land", through_reset(fly_descent_through_reset, check_beresheet)),
        Scenario("luna25", "accelerometers never switch on (Luna-25 2023)",
                 "refuse to start the burn without accelerometer data; hold in orbit",
                 descent({"accelerometer_stuck_off": True}, _held_in_orbit)),
        Scenario("hakuto", "crater rim makes the laser altitude jump ~3 km (Hakuto-R M1 2023)",
                 "reject the jump against the terrain map, never latch the altimeter failed, no false "
                 "touchdown, land", descent({}, _landed_safely)),
        Scenario("slim", "30 % thrust lost 50 m above the ground (SLIM 2024)",
                 "estimate the delivered thrust, compensate, touch down upright",
                 descent({"thrust_loss_altitude_m": 50.0, "thrust_loss_fraction": 0.3}, _landed_safely)),
        Scenario("im1", "laser range finders never enabled (IM-1 2024)",
                 "sensor go/no-go fails before descent: wait in orbit without an altimeter",
                 descent({"altimeter_never_enabled": True}, _held_in_orbit)),
        Scenario("vikram", "engines 10 % hotter than modelled in braking (Chandrayaan-2 2019)",
                 "guidance absorbs the dispersion (thrust efficiency estimated), land",
                 descent({"thrust_scale": 1.1}, _landed_safely)),
        Scenario("yutu1", "rover mechanisms fail shortly before the lunar night (Yutu-1 2014)",
                 "hibernate anyway (unstowed), survive the night, wake by itself after sunrise, report the fault",
                 rover_night(fly_rover_night, check_yutu1)),
        Scenario("plant_death", "the plant process (device bus) dies in main braking",
                 "report the dead bus, go SAFE, keep talking to the ground, no crash", plant_death),
        Scenario("undervoltage", "arrays at 40 % on the surface: the battery drains (surface FDIR)",
                 "PUS 12 sees the bus low, PUS 19 starts LOAD_SHED; the battery recovers, no brown-out",
                 surface_fdir("battery")),
        Scenario("drill_overcurrent", "the drill meets a hard layer at 0.9 m: motor over-current (CE-5 met resistance)",
                 "PUS 12 sees the drill line high, PUS 19 sends DRILL_ABANDON: stop, retract, scoop; motor intact",
                 surface_fdir("drill")),
        Scenario("ground_loss", "the link to the ground is lost during supervised sampling (surface FDIR)",
                 "PUS 12 sees 20 min without a TC, PUS 19 starts GROUND_LOST: mechanisms stopped, SAFE",
                 surface_fdir("ground")),
    )
}


def run_scenario(name: str, seed: int = 1) -> ScenarioResult:
    return SCENARIOS[name].run(seed)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=[*SCENARIOS, "all"], help="the anomaly to replay (all: every one)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    names = list(SCENARIOS) if args.name == "all" else [args.name]
    failures = 0
    for name in names:
        scenario = SCENARIOS[name]
        result = run_scenario(name, args.seed)
        print(f"{name}: {scenario.anomaly}")
        print(f"  expected: {scenario.expected}")
        print(f"  outcome:  {result.outcome}; wall {result.wall_s:.1f} s")
        print(f"  verdict:  {'RESPONSE CORRECT' if not result.problems else 'WRONG: ' + '; '.join(result.problems)}")
        failures += bool(result.problems)
    return 1 if failures else 0
