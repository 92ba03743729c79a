"""``ilrs-hil scenario NAME``: real landing and surface anomalies replayed against the flight
software, each with the response it must give and a negative control (docs/fault-scenarios.md).

A landing scenario is a run of the campaign engine (:mod:`hil.rigs.campaign`) with a fault injected:
a seeded descent flown by the flight software as the flight process wires it
(:mod:`hil.rigs.flight_descent`: mission machines and GNC on an executive, device bus to the
emulator plant) with one fault injected in the plant; ``beresheet`` also reboots the flight computer
in the burn. The rover scenario (``yutu1``) runs the rover machine on an executive through a lunar
night (:mod:`hil.rigs.rover_scenario`). Verdicts are read from the plant's truth (touchdown,
ignitions, propellant, the IMU's record of unit changes; the rover's battery and temperatures); the
flight software's events only say which response it gave.

The negative control flies the same fault with the response switched off by flight parameters, as
an operator would switch it off (PUS 20), or, for a response of the fault protection table
(``imu_failure``, ``beresheet``), with its event-action disabled by the ground (19,5); it must end
badly. Where the scenario's own fault ends well even without the response, the control says so and
uses the nearest larger fault, flown with and without the response. ``--control`` runs it; the
command exits 0 only if every verdict holds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from hil.rigs.campaign.segments import fly_descent, quiet_flight_logs
from hil.rigs.flight_descent import LANDING_ELLIPSE_M, DescentRecord, FlightOptions
from hil.rigs.imu_scenario import IMU_FAILURE_FAULTS, IMU_SWITCH_DISABLED, check_imu_failure
from hil.rigs.plant_death import PlantDeathRun, check_negative_control, check_plant_death, fly_plant_death
from hil.rigs.reset_scenario import BERESHEET_FAULTS, RESET_HEIGHT_M, check_beresheet
from hil.rigs.rover_scenario import MIN_AVIONICS_C, MIN_BATTERY_SOC, RoverRun, check_yutu1, fly_rover_night
from hil.rigs.surface_fdir import SurfaceRun, fly_surface
from hil.rigs.surface_fdir_checks import judge, outcome

FALSE_TOUCHDOWN_M = 5.0  # guidance sensing touchdown this high above the ground is a false touchdown
SENSOR_CHECKS_OFF = {"descent_sensor_checks": False, "gnc_sensor_checks": False}


@dataclass(frozen=True)
class ScenarioResult:
    outcome: str  # one line: what happened
    problems: list[str]  # the unmet expectations (empty: response correct)
    wall_s: float
    run: DescentRecord | RoverRun | PlantDeathRun | SurfaceRun = field(repr=False)  # the whole record


@dataclass(frozen=True)
class ControlResult:
    """The negative control: the response switched off must end badly."""

    outcome: str
    bad_end: str | None  # how it ended badly (None: it ended well - the control failed)
    wall_s: float
    run: DescentRecord | RoverRun | PlantDeathRun = field(repr=False)
    # With a larger fault than the scenario's: the response flown on that fault too, which must be correct.
    response: ScenarioResult | None = None

    @property
    def problems(self) -> list[str]:
        problems = [f"without the response: {self.outcome} (did not end badly)"] if self.bad_end is None else []
        if self.response is not None:
            problems += [f"with the response on the larger fault: {p}" for p in self.response.problems]
        return problems


@dataclass(frozen=True)
class Control:
    parameters: Mapping[str, Any]  # the flight parameters that switch the response off
    description: str  # what is switched off
    faults: Mapping[str, Any] | None = None  # a larger fault (None: the scenario's own)
    why_larger: str = ""  # why the scenario's own fault is not the control's
    # Requests the ground sends before the descent that switch it off (a 19,5 for a table's response).
    ground_requests: tuple[tuple[int, int, Any], ...] = ()

    def switches(self) -> str:
        """How the response is switched off, as printed."""
        requests = [f"{service},{subtype} [{', '.join(_id(item) for item in data)}]"
                    for service, subtype, data in self.ground_requests]
        return ", ".join([*(f"{key}={value}" for key, value in self.parameters.items()), *requests])


def _id(item: Any) -> str:
    return f"0x{item:04X}" if isinstance(item, int) else repr(item)


@dataclass(frozen=True)
class Scenario:
    name: str
    anomaly: str
    expected: str
    run: Callable[[int], ScenarioResult]  # seed -> the response's verdict
    control: Control | None  # None: the scenario's own run flies and judges its control
    run_control: Callable[[int], ControlResult] | None  # seed -> the negative control's verdict


# --- landings ----------------------------------------------------------------------------------
def landed(run: DescentRecord) -> list[str]:
    """A landing, by the plant: one ignition, a safe touchdown inside the landing ellipse, and
    guidance never sure of a touchdown high above the ground."""
    problems = []
    if run.touchdown is None:
        problems.append(f"no touchdown ({run.final_height_m / 1e3:.1f} km above the ground)")
    elif not run.touchdown.safe:
        problems.append(f"unsafe touchdown: {run.outcome()}")
    elif not run.in_ellipse:
        problems.append(f"landed {run.touchdown.landing_error_m / 1e3:.1f} km from the target")
    if run.ignitions != 1:
        problems.append(f"the main engine was started {run.ignitions} times")
    if run.height_when_guidance_landed_m is not None and run.height_when_guidance_landed_m > FALSE_TOUCHDOWN_M:
        problems.append(f"false touchdown {run.height_when_guidance_landed_m:.0f} m above the ground")
    if run.outcomes != ["landed"]:
        problems.append(f"guidance reported {run.outcomes or 'nothing'}")
    return problems


def held_in_orbit(run: DescentRecord) -> list[str]:
    """A no-go, by the plant: the engine never fired, no touchdown; and the mission holds in orbit."""
    problems = []
    if run.engine_fired:
        problems.append(f"the main engine fired ({run.ignitions} starts, {run.propellant_used_kg:.0f} kg)")
    if run.touchdown is not None:
        problems.append("touched down")
    if "orbit_hold" not in run.mission_states:
        problems.append(f"the mission did not hold in orbit ({' -> '.join(run.mission_states)})")
    return problems


def ended_badly(run: DescentRecord) -> str | None:
    """How a descent ended badly, by the plant (None: it landed safely where it should)."""
    td = run.touchdown
    if td is None:
        return (f"engine fired, no touchdown ({run.final_height_m / 1e3:.1f} km up)" if run.engine_fired
                else None)
    if not td.safe:
        return (f"unsafe touchdown: {td.vertical_speed_m_s:.1f} m/s vertical, {td.horizontal_speed_m_s:.1f} m/s "
                f"horizontal, tilt {td.tilt_deg:.0f} deg{', hazards ' + ', '.join(td.hazards) if td.hazards else ''}")
    if run.height_when_guidance_landed_m is not None and run.height_when_guidance_landed_m > FALSE_TOUCHDOWN_M:
        return f"false touchdown {run.height_when_guidance_landed_m:.0f} m up"
    if not run.in_ellipse:
        return (f"missed the landing site: upright but {td.landing_error_m / 1e3:.1f} km from the target "
                f"(ellipse {LANDING_ELLIPSE_M / 1e3:.0f} km)")
    return None


def fly(seed: int, faults: Mapping[str, Any], options: FlightOptions | None) -> DescentRecord:
    """A campaign's descent run with the fault injected, on the plant's nominal spreads (the scenario's
    documented seed flies as it always has; the campaign's dispersion table is not drawn)."""
    return fly_descent(seed, faults, options, dispersed=False)[0]


def _judge(flown: DescentRecord, check: Callable[[DescentRecord], list[str]]) -> ScenarioResult:
    return ScenarioResult(flown.outcome(), check(flown), flown.wall_s, flown)


def descent(faults: Mapping[str, Any], check: Callable[[DescentRecord], list[str]],
            options: FlightOptions | None = None) -> Callable[[int], ScenarioResult]:
    """The flight software flies a descent with ``faults`` in the plant, judged by ``check``."""

    def run(seed: int) -> ScenarioResult:
        return _judge(fly(seed, faults, options), check)

    return run


def descent_control(faults: Mapping[str, Any], control: Control, check: Callable[[DescentRecord], list[str]],
                    options: FlightOptions | None = None) -> Callable[[int], ControlResult]:
    """The same descent with the response switched off; with a larger fault, flown with the response too."""
    options = options or FlightOptions()

    def run(seed: int) -> ControlResult:
        fault = control.faults if control.faults is not None else faults
        response = _judge(fly(seed, fault, options), check) if control.faults is not None else None
        off = FlightOptions({**options.parameters, **control.parameters}, options.reset_below_m,
                            options.reset_outage_s, (*options.ground_requests, *control.ground_requests))
        flown = fly(seed, fault, off)
        return ControlResult(flown.outcome(), ended_badly(flown), flown.wall_s + (response.wall_s if response else 0.0),
                             flown, response)

    return run


def landing(name: str, anomaly: str, expected: str, faults: Mapping[str, Any],
            check: Callable[[DescentRecord], list[str]], control: Control,
            options: FlightOptions | None = None) -> Scenario:
    return Scenario(name, anomaly, expected, descent(faults, check, options), control,
                    descent_control(faults, control, check, options))


def imu_failure_landed(run: DescentRecord) -> list[str]:
    return landed(run) + check_imu_failure(run)


def hakuto_landed(run: DescentRecord) -> list[str]:
    problems = landed(run)
    jumps = [args["detail"] for name, args in run.events if name == "GNC_EVENT"
             and args.get("event") == "altimeter_readmitted" and abs(_metres(args.get("detail", ""))) > 2_000.0]
    if not jumps:
        problems.append("guidance never saw (and re-admitted) the km-size altitude jump")
    if "altimeter_latched_failed" in run.gnc_events():
        problems.append("the altimeter was latched failed")
    return problems


def thrust_capped_landed(run: DescentRecord) -> list[str]:
    problems = landed(run)
    if not any(name == "GNC_THRUST_LIMITED" for name, _ in run.events):
        problems.append("the thrust was never capped at the thrusters' authority")
    return problems


def boulders_avoided(run: DescentRecord) -> list[str]:
    problems = landed(run)
    moved = [args for name, args in run.events if name == "GNC_LANDING_SITE" and args.get("outcome") == "moved"]
    if not moved:
        problems.append("guidance never moved its landing site")
    return problems


def _metres(detail: str) -> float:
    """The innovation in a GNC detail such as 'innovation 3035 m' (0 if none)."""
    words = detail.split()
    try:
        return float(words[words.index("innovation") + 1])
    except (ValueError, IndexError):
        return 0.0


# --- the rover's night -------------------------------------------------------------------------
def rover_night() -> Callable[[int], ScenarioResult]:
    def run(seed: int) -> ScenarioResult:
        night = fly_rover_night(seed)
        return ScenarioResult(night.outcome(), check_yutu1(night), night.wall_s, night)

    return run


def rover_night_control(control: Control) -> Callable[[int], ControlResult]:
    def run(seed: int) -> ControlResult:
        night = fly_rover_night(seed, parameters=control.parameters)
        hibernating = [s for s in night.samples if s.state == "hibernate"]
        survival = [p for p in check_yutu1(night) if "battery flat" in p or "froze" in p]
        if night.entered("hibernate") is None:
            survival.append("never went into the night configuration")
        bad = "; ".join(survival) if survival else None
        detail = (f"night: battery >= {min(s.battery_soc for s in hibernating):.0%} (limit {MIN_BATTERY_SOC:.0%}), "
                  f"avionics >= {min(s.avionics_c for s in hibernating):.0f} C (limit {MIN_AVIONICS_C:.0f} C)"
                  if hibernating else night.outcome())
        return ControlResult(detail, bad, night.wall_s, night)

    return run


# --- the device bus dies, surface faults (their own rigs) ---------------------------------------
def plant_death(seed: int) -> ScenarioResult:
    """The plant process killed in main braking (:mod:`hil.rigs.plant_death`)."""
    flown = fly_plant_death(seed)
    return ScenarioResult(flown.outcome(), check_plant_death(flown), flown.wall_s, flown)


def plant_death_control(seed: int) -> ControlResult:
    flown = fly_plant_death(seed, respond=False)
    unmet = check_negative_control(flown)
    bad = None if unmet else "no SAFE: the vehicle sits NOMINAL with guidance frozen and its engines unattended"
    return ControlResult(flown.outcome(), bad, flown.wall_s, flown)


def surface_fdir(name: str) -> Callable[[int], ScenarioResult]:
    """A surface fault answered by on-board fault protection (:mod:`hil.rigs.surface_fdir`), flown
    with its response and as its negative control (the event-action disabled), both judged."""

    def run(seed: int) -> ScenarioResult:
        flown, control = fly_surface(name, seed), fly_surface(name, seed, response=False)
        return ScenarioResult(f"{outcome(flown)}; without the response: {outcome(control)}",
                              judge(flown) + judge(control), flown.wall_s + control.wall_s, flown)

    return run


YUTU1_CONTROL = Control({"rover_night_without_stow": False},
                        "the night configuration (heaters, hibernation power) waits for the stow")

SCENARIOS = {
    s.name: s
    for s in (
        landing("beresheet", "IMU glitch at 14 km, then a reset of the flight computer in the burn (Beresheet 2019)",
                "switch to the redundant IMU autonomously; through the reset keep the engine burning, resume "
                "guidance from its checkpoint, land", BERESHEET_FAULTS, check_beresheet,
                Control({}, "no switch to the redundant IMU: the fault protection's event-action disabled",
                        ground_requests=IMU_SWITCH_DISABLED),
                FlightOptions(reset_below_m=RESET_HEIGHT_M)),
        landing("imu_failure", "the primary IMU unit fails hard in main braking: its output freezes (stale "
                "frames, valid flag set); the redundant unit is healthy",
                "reject the stale samples and coast; PUS 12 sees the rejections run on, PUS 19 sends IMU_SELECT "
                "redundant; land", IMU_FAILURE_FAULTS, imu_failure_landed,
                Control({}, "the fault protection's event-action 0x7F04 disabled by the ground: the monitor "
                        "sees the failure, nothing answers it", ground_requests=IMU_SWITCH_DISABLED)),
        landing("luna25", "accelerometers never switch on (Luna-25 2023)",
                "refuse to start the burn without accelerometer data; hold in orbit",
                {"accelerometer_stuck_off": True}, held_in_orbit,
                Control(SENSOR_CHECKS_OFF, "no sensor go/no-go (mission and GNC)")),
        landing("hakuto", "crater rim missing from the on-board map: laser altitude jumps ~3 km (Hakuto-R M1 2023)",
                "reject the jump, then re-admit the altimeter against a moved map error; never latch it "
                "failed, no false touchdown, land", {"map_omits_crater": True}, hakuto_landed,
                Control({"gnc_altimeter_readmission": False},
                        "no re-admission: a consistently rejected altimeter is latched failed, as Hakuto-R's was")),
        landing("slim", "30 % thrust lost 50 m above the ground (SLIM 2024)",
                "estimate the delivered thrust, compensate, touch down upright",
                {"thrust_loss_altitude_m": 50.0, "thrust_loss_fraction": 0.3}, landed,
                Control({"gnc_thrust_estimation": False}, "no thrust-efficiency estimate",
                        {"thrust_loss_altitude_m": 30.0, "thrust_loss_fraction": 0.55},
                        "without the estimate a 30 % loss at 50 m still lands (the descent-rate loop absorbs it: "
                        "seed 2 2.68 m/s instead of 2.31); 55 % lost 30 m up (more than one of two engines) does not")),
        landing("slim_offset", "the thrust axis jumps 4 deg off the centre of mass 50 m above the ground (SLIM 2024)",
                "the attitude control holds the attitude against the engine's torque with the thrusters; "
                "touch down upright",
                {"thrust_axis_jump_altitude_m": 50.0, "thrust_axis_jump_deg": 4.0}, landed,
                Control({"gnc_attitude_control": False}, "no attitude control: no thruster fires")),
        landing("slim_torque", "the thrust axis jumps 6 deg off the centre of mass 50 m above the ground, where "
                "guidance brakes the divert's sink near full thrust: ~840 N m, over the thrusters' 764 (SLIM 2024)",
                "estimate the engine's torque, cap the thrust at what the thrusters can balance, re-plan the final "
                "descent under the cap; touch down upright",
                {"thrust_axis_jump_altitude_m": 50.0, "thrust_axis_jump_deg": 6.0}, thrust_capped_landed,
                Control({"gnc_thrust_authority_limit": False}, "no thrust ceiling: the torque is only reported")),
        landing("im1", "laser range finders never enabled (IM-1 2024)",
                "sensor go/no-go fails before descent: wait in orbit without an altimeter",
                {"altimeter_never_enabled": True}, held_in_orbit,
                Control(SENSOR_CHECKS_OFF, "no sensor go/no-go (mission and GNC)",
                        {"altimeter_never_enabled": True, "microwave_never_enabled": True},
                        "without the go/no-go the lander descends on its microwave backup altimeter and lands "
                        "safely; with the backup dead as well it descends blind")),
        landing("vikram", "engines 10 % stronger than modelled in braking (Chandrayaan-2 2019)",
                "guidance absorbs the dispersion (thrust efficiency estimated), land on the target",
                {"thrust_scale": 1.1}, landed,
                Control({"gnc_thrust_estimation": False}, "no thrust-efficiency estimate")),
        landing("boulder_field", "a field of metre-class boulders under the aim point at the hover (the hazard "
                "CE-3/4/5 looked for from 100 m)",
                "judge the imager's elevation image on board, divert to a safe site, land",
                {"boulder_field_below_m": 104.0}, boulders_avoided,
                Control({"gnc_hazard_avoidance": False},
                        "no on-board hazard avoidance: the aim point is kept unjudged")),
        Scenario("yutu1", "rover mechanisms fail shortly before the lunar night (Yutu-1 2014)",
                 "hibernate anyway (unstowed), survive the night, wake by itself after sunrise, report the fault",
                 rover_night(), YUTU1_CONTROL, rover_night_control(YUTU1_CONTROL)),
        Scenario("plant_death", "the plant process (device bus) dies in main braking",
                 "report the dead bus, go SAFE, keep talking to the ground, no crash", plant_death,
                 Control({"fdir_bus_safe": False}, "the dead bus reported but not answered"), plant_death_control),
        Scenario("undervoltage", "arrays at 40 % on the surface: the battery drains (surface FDIR)",
                 "PUS 12 sees the bus low, PUS 19 starts LOAD_SHED; the battery recovers, no brown-out",
                 surface_fdir("battery"), None, None),
        Scenario("drill_overcurrent", "the drill meets a hard layer at 0.9 m: motor over-current (CE-5 met resistance)",
                 "PUS 12 sees the drill line high, PUS 19 sends DRILL_ABANDON: stop, retract, scoop; motor intact",
                 surface_fdir("drill"), None, None),
        Scenario("ground_loss", "the link to the ground is lost during supervised sampling (surface FDIR)",
                 "PUS 12 sees 20 min without a TC, PUS 19 starts GROUND_LOST: mechanisms stopped, SAFE",
                 surface_fdir("ground"), None, None),
    )
}


def run_scenario(name: str, seed: int = 1) -> ScenarioResult:
    return SCENARIOS[name].run(seed)


def run_control(name: str, seed: int = 1) -> ControlResult | None:
    """The scenario's negative control (None: its own run flies and judges it)."""
    run = SCENARIOS[name].run_control
    return run(seed) if run is not None else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=[*SCENARIOS, "all"], help="the anomaly to replay (all: every one)")
    parser.add_argument("--seed", type=int, default=2, help="the documented seed (default 2)")
    parser.add_argument("--control", action="store_true",
                        help="also fly the negative control (the response switched off), which must end badly")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per CPU, at most one per run)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
    parser.add_argument("--out", type=Path, help="folder for the results file (default: a scratch folder); an "
                        "existing one is resumed")


def response_lines(name: str, result: ScenarioResult) -> list[str]:
    scenario = SCENARIOS[name]
    return [f"{name}: {scenario.anomaly}", f"  expected: {scenario.expected}",
            f"  outcome:  {result.outcome}; wall {result.wall_s:.1f} s",
            f"  verdict:  {'RESPONSE CORRECT' if not result.problems else 'WRONG: ' + '; '.join(result.problems)}"]


def control_lines(name: str, checked: ControlResult | None) -> list[str]:
    control = SCENARIOS[name].control
    if control is None or checked is None:
        return ["  control:  flown and judged with the response above (the event-action disabled)"]
    lines = [f"  control:  {control.description} ({control.switches()})"]
    if control.faults is not None:
        lines.append(f"            larger fault {dict(control.faults)}: {control.why_larger}")
    if checked.response is not None:
        lines.append(f"  with the response: {checked.response.outcome}")
    lines.append(f"  without:  {checked.outcome}; wall {checked.wall_s:.1f} s")
    verdict = ("WRONG: " + "; ".join(checked.problems) if checked.problems
               else f"ENDS BADLY WITHOUT THE RESPONSE: {checked.bad_end}")
    lines.append(f"  control verdict: {verdict}")
    return lines


def scenario_case(cases: tuple[tuple[str, str], ...], seed: int, case: int) -> dict[str, Any]:
    """Campaign run ``case``: one scenario's response or its negative control, judged; the row keeps
    the lines the command prints."""
    quiet_flight_logs()
    name, part = cases[case]
    if part == "response":
        result = run_scenario(name, seed)
        problems, lines = result.problems, response_lines(name, result)
    else:
        checked = run_control(name, seed)
        problems, lines = (checked.problems if checked is not None else []), control_lines(name, checked)
    return {"seed": case, "scenario": name, "part": part, "scenario_seed": seed, "success": not problems,
            "cause": "; ".join(problems) or None, "lines": lines}


def run(args: argparse.Namespace) -> int:
    """Each scenario and each negative control is a run of the campaign engine (on a LocalCluster
    sized to the machine, or ``--scheduler``); the verdicts print in the scenarios' order."""
    from hil.rigs.campaign.engine import run_campaign
    from hil.rigs.campaign.store import ResultsFile

    names = list(SCENARIOS) if args.name == "all" else [args.name]
    cases = tuple((name, part) for name in names for part in (("response", "control") if args.control
                                                                else ("response",)))
    workers = args.workers or (None if args.scheduler else min(len(cases), os.cpu_count() or 1))
    with tempfile.TemporaryDirectory(prefix="ilrs-scenarios-") as scratch:
        results_path = (args.out or Path(scratch)) / "results.sqlite"
        run_campaign(results_path, range(len(cases)), partial(scenario_case, cases, args.seed),
                     scheduler=args.scheduler, workers=workers, label="scenario")
        with ResultsFile(results_path) as results:
            rows = {row["seed"]: row for row in results.rows()}
    failures = 0
    for case in range(len(cases)):
        row = rows.get(case)
        if row is None or "lines" not in row:
            name, part = cases[case]
            print(f"{name} ({part}): WRONG: {row['cause'] if row else 'not flown'}")
            failures += 1
            continue
        print("\n".join(row["lines"]))
        failures += not row["success"]
    return 1 if failures else 0
