"""A powered descent through a reset of the flight computer (Beresheet, 2019).

Beresheet's IMU glitched at about 14 km; the reset commanded to recover from it rebooted the
computer, the main engine shut down and could not be restarted in time. Here the flight software
flies the emulator plant as in the mission (:mod:`hil.rigs.flight_descent`: the mission machines
and the GNC component on a flight executive, the device bus, afap clock); the IMU fault is injected
at 14 km and the flight computer is then killed and rebooted on its store while the engine burns.
The plant (:class:`hil.plant_process.LanderWorld` behind a :class:`hil.devicebus.DeviceBusServer`)
lives on through the reset and lets the reset outage of flight time pass with the engine as last
commanded. The response expected: switch to the redundant IMU (the descent navigation rejects the
failing unit's samples, the fault protection table's PUS 12 / PUS 19 entry selects the redundant
unit), resume guidance from its checkpoint without touching the engine, land.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hil.plant_process import RESET_OUTAGE_S
from hil.rigs.flight_descent import DescentRecord, FlightOptions, fly

IMU_GLITCH_HEIGHT_M = 14_000.0
RESET_HEIGHT_M = 13_000.0  # the reset comes after the glitch, while the engine burns in main braking
BERESHEET_FAULTS = {"imu_glitch_altitude_m": IMU_GLITCH_HEIGHT_M}

ResetRun = DescentRecord  # the record of a descent flown through a reset


def fly_descent_through_reset(seed: int = 1, *, imu_glitch: bool = True, reset_height_m: float = RESET_HEIGHT_M,
                              outage_s: float = RESET_OUTAGE_S, workdir: Path | None = None,
                              parameters: Mapping[str, Any] | None = None) -> DescentRecord:
    options = FlightOptions(parameters=dict(parameters or {}), reset_below_m=reset_height_m, reset_outage_s=outage_s)
    return fly(seed, BERESHEET_FAULTS if imu_glitch else {}, options, workdir=workdir)


def check_beresheet(run: DescentRecord) -> list[str]:
    """The unmet expectations of the Beresheet response (empty: correct). The landing, the
    ignitions and the IMU switch (the IMU's own record) are the plant's; the resumption is the flight
    software's report."""
    problems = []
    switched = [t for t, unit, _ in run.imu_selections if unit == 1]
    if not switched:
        problems.append("no switch to the redundant IMU")
    elif run.reset_t is not None and switched[0] > run.reset_t:
        problems.append("the switch to the redundant IMU came after the reset")
    if not run.engine_on_at_reset:
        problems.append("the engine was not burning when the computer reset (the reset came too late)")
    if run.flight_restarts != 1 or len(run.resumed()) != 1:
        problems.append(f"guidance did not resume once after the reset ({len(run.resumed())} resumptions)")
    if run.ignitions != 1:
        problems.append(f"the main engine was started {run.ignitions} times")
    if run.touchdown is None:
        problems.append("no touchdown")
    elif not run.touchdown.safe:
        problems.append(f"unsafe touchdown: {run.touchdown}")
    elif not run.in_ellipse:
        problems.append(f"landed {run.touchdown.landing_error_m / 1e3:.1f} km from the target")
    if run.outcomes != ["landed"]:
        problems.append(f"guidance reported {run.outcomes}")
    return problems
