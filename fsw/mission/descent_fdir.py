"""The lander's fault protection table, descent entry: a failed IMU unit is switched out.

The descent navigation rejects every IMU sample that is stale (its time tag does not advance) or
implausible against the engine's thrust feedback, and coasts on its model meanwhile; it counts them
in housekeeping (structure 30: ``gnc_imu_rejected_run``, samples rejected in a row, 50 a second) and
never decides on its own that a unit is dead. That decision is this entry's, with no ground in the
loop (docs/fault-protection.md, "Descent fault protection"):

- PUS 12 ``PMON_IMU_REJECTED`` (0x7F04): more than ``IMU_REJECTED_RUN_LIMIT`` samples rejected in a row
  (half a second of coasting) at ``REPETITION`` consecutive 1 s checks: the unit in use has stayed bad
  for seconds, which no glitch does;
- PUS 19 ``ACTION_IMU_SELECT`` (0x7F04): on that definition's MONITOR_VIOLATION, ``IMU_SELECT
  redundant``; the controller in flight follows it.

A glitch shorter than half a second is ridden out by the navigation alone. The ground disables the
switch with 19,5 (or the monitor with 12,2), as any definition.
"""

from __future__ import annotations

from fsw.services.fdir_table import Command, EventAction, FaultProtectionTable, Monitor

PMON_IMU_REJECTED = 0x7F04
ACTION_IMU_SELECT = 0x7F04

IMU_REJECTED_RUN_LIMIT = 25  # samples in a row: 0.5 s of coasting at 50 Hz [est.]
REPETITION = 2  # checks (1 s apart, the housekeeping period of structure 30)

DESCENT_FAULT_PROTECTION = FaultProtectionTable(
    monitors=(
        Monitor(PMON_IMU_REJECTED, "gnc_imu_rejected_run", 1.0, REPETITION, ("limit", None, IMU_REJECTED_RUN_LIMIT)),
    ),
    actions=(
        EventAction(ACTION_IMU_SELECT, "MONITOR_VIOLATION", (("pmon", PMON_IMU_REJECTED),),
                    Command("IMU_SELECT", ("redundant",))),
    ),
)
