"""``ilrs-hil scenario NAME``: real landing anomalies replayed against the flight GNC, each with the
response the flight software must give (documented in docs/fault-scenarios.md).

Each scenario is a seeded closed-loop descent of the emulator plant with one fault injected; it
prints the outcome and whether the expected response happened, and exits 0 only if it did.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from fsw.gnc.controller import HOLD_ORBIT
from hil.emulator.closed_loop import DescentRun, fly_descent, with_faults


@dataclass(frozen=True)
class Scenario:
    name: str
    anomaly: str
    expected: str
    faults: dict[str, object]
    check: Callable[[DescentRun], list[str]]  # the unmet expectations (empty: response correct)


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


def _with_event(name: str, base: Callable[[DescentRun], list[str]]) -> Callable[[DescentRun], list[str]]:
    def check(run: DescentRun) -> list[str]:
        problems = base(run)
        if name not in run.event_names():
            problems.append(f"no {name} event")
        return problems

    return check


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("beresheet", "IMU glitch at 14 km (Beresheet 2019)",
                 "switch to the redundant IMU autonomously, keep the engine burning, land",
                 {"imu_glitch_altitude_m": 14_000.0}, _with_event("imu_switched_to_redundant", _landed_safely)),
        Scenario("luna25", "accelerometers never switch on (Luna-25 2023)",
                 "refuse to start the burn without accelerometer data; hold in orbit",
                 {"accelerometer_stuck_off": True}, _held_in_orbit),
        Scenario("hakuto", "crater rim makes the laser altitude jump ~3 km (Hakuto-R M1 2023)",
                 "reject the jump against the terrain map, never latch the altimeter failed, no false "
                 "touchdown, land", {}, _landed_safely),
        Scenario("slim", "30 % thrust lost 50 m above the ground (SLIM 2024)",
                 "estimate the delivered thrust, compensate, touch down upright",
                 {"thrust_loss_altitude_m": 50.0, "thrust_loss_fraction": 0.3}, _landed_safely),
        Scenario("im1", "laser range finders never enabled (IM-1 2024)",
                 "sensor go/no-go fails before descent: wait in orbit without an altimeter",
                 {"altimeter_never_enabled": True}, _held_in_orbit),
        Scenario("vikram", "engines 10 % hotter than modelled in braking (Chandrayaan-2 2019)",
                 "guidance absorbs the dispersion (thrust efficiency estimated), land",
                 {"thrust_scale": 1.1}, _landed_safely),
    )
}


def run_scenario(name: str, seed: int = 1) -> tuple[DescentRun, list[str]]:
    scenario = SCENARIOS[name]
    config = with_faults(None, **scenario.faults) if scenario.faults else None
    run = fly_descent(seed, config)
    return run, scenario.check(run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=[*SCENARIOS, "all"], help="the anomaly to replay")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    names = list(SCENARIOS) if args.name == "all" else [args.name]
    failures = 0
    for name in names:
        scenario = SCENARIOS[name]
        result, problems = run_scenario(name, args.seed)
        touchdown = result.touchdown
        outcome = (f"touchdown {touchdown.vertical_speed_m_s:.2f} m/s vertical, "
                   f"{touchdown.horizontal_speed_m_s:.2f} m/s horizontal, tilt {touchdown.tilt_deg:.1f} deg"
                   if touchdown else f"no touchdown, final phase {result.final_phase}")
        print(f"{name}: {scenario.anomaly}")
        print(f"  expected: {scenario.expected}")
        print(f"  outcome:  {outcome}; wall {result.wall_s:.1f} s")
        print(f"  verdict:  {'RESPONSE CORRECT' if not problems else 'WRONG: ' + '; '.join(problems)}")
        failures += bool(problems)
    return 1 if failures else 0
