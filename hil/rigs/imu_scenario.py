"""An IMU unit fails hard in main braking; the fault protection table switches to the redundant one.

The primary unit's output freezes at ``IMU_FAILURE_ALTITUDE_M`` (the plant's
``imu_failure_altitude_m``: the last frame repeated, time tag and valid flag included); the
redundant unit is healthy. The flight software flies it as in the mission
(:mod:`hil.rigs.flight_descent`). Expected: the descent navigation rejects the stale samples and
coasts; PUS 12 sees the rejections run on (``gnc_imu_rejected_run``, definition 0x7F04) and PUS 19
answers with ``IMU_SELECT redundant`` (action 0x7F04); the lander lands. The negative control is
the same failure with the event-action disabled by the ground (19,5) before the descent: the
monitor still sees the failure, nothing answers it.

Verdicts read the plant: the touchdown, the engine starts, and the IMU's own record of its unit
changes; the flight software's events only say which response it gave.
"""

from __future__ import annotations

from typing import Any

from fsw.mission.descent_fdir import ACTION_IMU_SELECT, PMON_IMU_REJECTED
from hil.rigs.flight_descent import DescentRecord

IMU_FAILURE_ALTITUDE_M = 12_000.0  # in main braking, ~3 min after ignition (it begins near 15 km)
IMU_FAILURE_FAULTS = {"imu_failure_altitude_m": IMU_FAILURE_ALTITUDE_M}
# The ground disables the switch before the descent: the negative control.
IMU_SWITCH_DISABLED = ((19, 5, [ACTION_IMU_SELECT]),)
# From the failure to the plant's unit change [est. budget]: two checks of the 1 s housekeeping after
# half a second of rejections, then the command's delivery on the next device exchange.
SWITCH_WITHIN_S = 4.0


def switched_to_redundant(run: DescentRecord) -> tuple[float, float] | None:
    """Plant time and altitude at which the IMU changed to unit 1, by the IMU's own record."""
    return next(((t, altitude) for t, unit, altitude in run.imu_selections if unit == 1), None)


def monitor_events(run: DescentRecord, name: str) -> list[dict[str, Any]]:
    return [args for event, args in run.events if event == name and args.get("pmon") == PMON_IMU_REJECTED]


def check_imu_failure(run: DescentRecord) -> list[str]:
    """The unmet expectations of the response (empty: correct), besides a landing (checked by the
    scenario's ``landed``): the unit failed in braking, and the plant's IMU went to the redundant
    unit within ``SWITCH_WITHIN_S``, once, on the monitor's violation."""
    problems = []
    if run.imu_failed_at is None:
        return ["the primary IMU unit never failed (the descent never came down to the failure height)"]
    failed_t, _ = run.imu_failed_at
    switch = switched_to_redundant(run)
    if switch is None:
        problems.append("the IMU was never switched to the redundant unit")
    elif not 0.0 <= switch[0] - failed_t <= SWITCH_WITHIN_S:
        problems.append(f"the switch came {switch[0] - failed_t:.1f} s after the failure (budget {SWITCH_WITHIN_S} s)")
    if len(run.imu_selections) != 1:
        problems.append(f"the IMU unit changed {len(run.imu_selections)} times")
    if not monitor_events(run, "MONITOR_VIOLATION"):
        problems.append(f"PUS 12 definition 0x{PMON_IMU_REJECTED:04X} never reported the violation")
    triggered = [args for name, args in run.events
                 if name == "EVENT_ACTION_TRIGGERED" and args.get("action") == ACTION_IMU_SELECT]
    if not triggered:
        problems.append(f"PUS 19 action 0x{ACTION_IMU_SELECT:04X} never triggered")
    return problems
