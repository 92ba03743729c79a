"""The lander's default fault protection table (loaded at boot by :mod:`fsw.services.fdir_table`).

Three autonomous responses for surface operations, each a PUS 12 definition whose MONITOR_VIOLATION
a PUS 19 definition answers (docs/fault-protection.md, "Surface fault protection"):

- battery under-voltage: the bus below ``BUS_LOW_V`` for 5 checks -> the LOAD_SHED sequence (mechanism
  heaters, drill and arm lines off, payloads off; the avionics, the radio and the survival heaters stay);
- drill over-current: the drill line above ``DRILL_HIGH_A`` for 5 checks -> DRILL_ABANDON (stop, retract,
  the scoop completes the sample);
- loss of the ground: no TC for ``GROUND_SILENCE_S`` -> the GROUND_LOST sequence (drill and arm lines
  off, SAFE). This definition is disabled by default: a silence is a fault only while the ground means
  to be there, so operations enable it (12,1) for supervised activities, such as sampling.

Ids 0x7F01-0x7F03 (PUS 12 and PUS 19), below the dictionary-limit defaults (0x8000 up); ground
definitions should use ids below 0x7F00. Thresholds are estimates [est.] against the emulated lander
(8-cell lithium-ion bus, a drill motor rated 3 A continuous).
"""

from __future__ import annotations

from fsw.services.fdir_table import Command, EventAction, FaultProtectionTable, Monitor, Step, StoredSequence

PMON_BUS_UNDERVOLTAGE = 0x7F01
PMON_DRILL_OVERCURRENT = 0x7F02
PMON_GROUND_SILENCE = 0x7F03
ACTION_LOAD_SHED = 0x7F01
ACTION_DRILL_ABANDON = 0x7F02
ACTION_GROUND_LOST = 0x7F03
LOAD_SHED = "LOAD_SHED"
GROUND_LOST = "GROUND_LOST"

BUS_LOW_V = 27.0  # ~3.4 V a cell under load: ~12 % charge left [est.]
DRILL_HIGH_A = 3.8  # the drill line (motor and its 0.5 A electronics) above the motor's 3 A rating [est.]
GROUND_SILENCE_S = 1200.0  # 20 min without a TC during a supervised activity [est.]
REPETITION = 5

SURFACE_FAULT_PROTECTION = FaultProtectionTable(
    monitors=(
        Monitor(PMON_BUS_UNDERVOLTAGE, "eps_bus_v", 1.0, REPETITION, ("limit", BUS_LOW_V, None)),
        Monitor(PMON_DRILL_OVERCURRENT, "eps_drill_a", 1.0, REPETITION, ("limit", None, DRILL_HIGH_A)),
        Monitor(PMON_GROUND_SILENCE, "link_uplink_silence_s", 1.0, 3, ("limit", None, GROUND_SILENCE_S),
                enabled=False),
    ),
    sequences=(
        # Biggest loads first; a payload that is absent fails its step and ends the sequence there.
        StoredSequence(LOAD_SHED, (
            Step(0.0, Command("LOAD_SET", ("mechanism_heaters", False))),
            Step(0.0, Command("LOAD_SET", ("drill", False))),
            Step(0.0, Command("LOAD_SET", ("arm", False))),
            Step(0.0, Command("GPR_POWER_OFF")),
            Step(0.0, Command("CAM_POWER_OFF")),
            Step(0.0, Command("NDOS_POWER_OFF")),
        )),
        # Nothing moves unsupervised: the mechanisms stop where they are, then SAFE.
        StoredSequence(GROUND_LOST, (
            Step(0.0, Command("LOAD_SET", ("drill", False))),
            Step(0.0, Command("LOAD_SET", ("arm", False))),
            Step(0.0, Command("MODE_SET", ("SAFE",))),
        )),
    ),
    actions=(
        EventAction(ACTION_LOAD_SHED, "MONITOR_VIOLATION", (("pmon", PMON_BUS_UNDERVOLTAGE),),
                    Command("SEQ_START", (LOAD_SHED,))),
        EventAction(ACTION_DRILL_ABANDON, "MONITOR_VIOLATION", (("pmon", PMON_DRILL_OVERCURRENT),),
                    Command("DRILL_ABANDON")),
        EventAction(ACTION_GROUND_LOST, "MONITOR_VIOLATION", (("pmon", PMON_GROUND_SILENCE),),
                    Command("SEQ_START", (GROUND_LOST,))),
    ),
)
