"""Verdicts on the surface fault protection runs (:mod:`hil.rigs.surface_fdir`), from the plant's truth.

:func:`judge` lists the unmet expectations of a run (empty: as expected): a run with the response
must end well, its negative control (the event-action disabled) must end badly, each judged on what
the emulated hardware went through, never on what the flight software reports. The flight's own
events are used only to check that the fault was detected in both runs and answered in one.
"""

from __future__ import annotations

from hil.emulator.surface.electrical import BROWNOUT_V
from hil.emulator.surface.sampling import WINDING_DAMAGE_C
from hil.rigs.surface_fdir import SurfaceRun

DRILL_STOP_WITHIN_S = 30.0  # after the drill met the hard layer (the winding fails ~4 min in) [est.]
GROUND_STOP_WITHIN_S = 60.0  # after the silence limit
UNATTENDED_MARGIN_S = 1800.0  # the control's drill must still be drilling this long past the limit
RECOVERY_SOC = 0.02  # the battery's charge must climb at least this much after its lowest point


def judge(run: SurfaceRun) -> list[str]:
    checks = {"battery": (_battery, _battery_control), "drill": (_drill, _drill_control),
              "ground": (_ground, _ground_control)}[run.scenario]
    problems = (checks[0] if run.response else checks[1])(run)
    if run.first("MONITOR_VIOLATION") is None:
        problems.append("the fault was never detected (no MONITOR_VIOLATION)")
    return [f"{'response' if run.response else 'control'}: {problem}" for problem in problems]


def outcome(run: SurfaceRun) -> str:
    """One line: what the plant went through."""
    if run.scenario == "battery":
        power = run.power
        assert power is not None
        lows = [s.soc for s in run.samples]
        text = f"battery min {min(lows):.0%}, end {power.soc:.0%}, bus min {power.min_bus_v:.1f} V"
        if power.brownout_at is not None:
            text += f", brown-out {(power.brownout_at - run.marks['landed']) / 3600:.1f} h after landing"
        if power.over_discharged_at is not None:
            text += ", cells over-discharged"
        return text
    if run.scenario == "drill":
        stopped = run.marks.get("drill_stopped")
        text = (f"drill stopped {stopped - run.marks['hard_layer']:.0f} s into the hard layer"
                if stopped is not None else "drill never stopped")
        text += f", winding peak {run.peak_winding_c:.0f} C"
        text += ", motor burnt out" if run.drill_damaged_at is not None else ", motor intact"
        return f"{text}; container {run.container_g:.0f} g, {run.scoops} scoops"
    after = [s for s in run.samples if s.t >= run.marks["limit"]]
    moving = [s.t for s in after if s.drill_mode in ("drilling", "retracting") or s.arm_busy]
    last_motion = (f"mechanisms moving until {(max(moving) - run.marks['limit']) / 60:.0f} min past the limit"
                   if moving else "no mechanism moved after the limit")
    return f"{last_motion}; drill at {run.drill_depth_m:.2f} m; mode {run.final_mode}"


def _battery(run: SurfaceRun) -> list[str]:
    problems = []
    power = run.power
    assert power is not None
    if power.brownout_at is not None or power.min_bus_v < BROWNOUT_V:
        problems.append(f"bus fell to {power.min_bus_v:.1f} V (brown-out below {BROWNOUT_V} V)")
    if power.over_discharged_at is not None:
        problems.append("the cells were over-discharged")
    shed = [line for line in ("mechanism_heaters", "drill", "arm") if run.lines.get(line)]
    if shed or run.instruments_on:
        problems.append(f"loads still on: {shed + run.instruments_on}")
    if not (run.lines.get("comms") and run.lines.get("survival_heaters")):
        problems.append("an essential line was switched off")
    lowest = min(s.soc for s in run.samples)
    if power.soc < lowest + RECOVERY_SOC:
        problems.append(f"the battery did not recover (lowest {lowest:.1%}, end {power.soc:.1%})")
    if run.first("SEQ_STARTED", name="LOAD_SHED") is None:
        problems.append("LOAD_SHED never started")
    return problems


def _battery_control(run: SurfaceRun) -> list[str]:
    power = run.power
    assert power is not None
    problems = []
    if power.brownout_at is None and power.over_discharged_at is None:
        problems.append(f"the battery survived without the response (bus min {power.min_bus_v:.1f} V)")
    if run.first("SEQ_STARTED", name="LOAD_SHED") is not None:
        problems.append("LOAD_SHED ran with its event-action disabled")
    return problems


def _drill(run: SurfaceRun) -> list[str]:
    problems = []
    if run.drill_damaged_at is not None or run.peak_winding_c >= WINDING_DAMAGE_C:
        problems.append(f"drill motor damaged (winding peak {run.peak_winding_c:.0f} C)")
    stopped, hard = run.marks.get("drill_stopped"), run.marks.get("hard_layer")
    if stopped is None or hard is None or stopped - hard > DRILL_STOP_WITHIN_S:
        problems.append(f"the drill did not stop within {DRILL_STOP_WITHIN_S:.0f} s of the hard layer")
    if run.drill_depth_m > 0.0:
        problems.append(f"the drill was not retracted ({run.drill_depth_m:.2f} m)")
    if run.scoops < 1 or run.container_g <= run.core_delivered_g:
        problems.append(f"no scoop sample in the container ({run.container_g:.0f} g, {run.scoops} scoops)")
    return problems


def _drill_control(run: SurfaceRun) -> list[str]:
    if run.drill_damaged_at is None:
        return [f"the drill motor survived without the response (winding peak {run.peak_winding_c:.0f} C)"]
    return []


def _ground(run: SurfaceRun) -> list[str]:
    problems = []
    late = [s for s in run.samples if s.t > run.marks["limit"] + GROUND_STOP_WITHIN_S]
    if not late:
        return ["no plant sample after the limit"]
    if any(s.drill_mode in ("drilling", "retracting") or s.arm_busy for s in late):
        problems.append(f"mechanisms still moving {GROUND_STOP_WITHIN_S:.0f} s after the silence limit")
    if late[-1].drill_depth_m != late[0].drill_depth_m:
        problems.append("the drill went deeper after the limit")
    if run.final_mode != "SAFE":
        problems.append(f"the vehicle is in {run.final_mode}, not SAFE")
    if not (run.lines.get("comms") and run.lines.get("survival_heaters")):
        problems.append("an essential line was switched off")
    return problems


def _ground_control(run: SurfaceRun) -> list[str]:
    problems = []
    limit = run.marks["limit"]
    unattended = [s for s in run.samples if s.t >= limit + UNATTENDED_MARGIN_S]
    if not any(s.drill_mode == "drilling" for s in unattended):
        problems.append(f"the drill was not still drilling {UNATTENDED_MARGIN_S / 60:.0f} min past the limit")
    if not any(s.arm_busy for s in run.samples if s.t >= limit):
        problems.append("the arm did not go on scooping unsupervised")
    if run.final_mode == "SAFE":
        problems.append("SAFE was entered with the event-action disabled")
    return problems
