"""The lander's electrical power as the flight software sees it: the PDU's measurements in
housekeeping (structure 46) and the switching of its non-essential lines.

The component judges nothing: it reports what the PDU measures (bus voltage, battery, array and line
currents, switch states) and the battery gauge, so that PUS 12 monitoring can watch them like any
other point, and it switches lines when told (LOAD_SET, from the ground, a stored sequence or an
event-action). The essential lines (comms, survival heaters) are reported but cannot be switched from
here: no table or sequence can shed the radio.
"""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Arg, EventDef, Limits, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed
from fsw.devices.surface import Power, PowerDistribution
from fsw.protocol.errors import FailureCode

ESSENTIAL_LINES = ("comms", "survival_heaters")
SWITCHABLE_LINES = ("mechanism_heaters", "drill", "arm")
LINES = (*ESSENTIAL_LINES, *SWITCHABLE_LINES)


def _line_points() -> tuple[TelemetryDef, ...]:
    points = []
    for line in LINES:
        # The drill motor's continuous rating is 3 A [est.], the drive's current limit ~6.6 A.
        yellow, red = (Limits(high=3.5), Limits(high=6.0)) if line == "drill" else (None, None)
        points += [TelemetryDef(f"eps_{line}_on", "bool", "", f"PDU line {line} switched on"),
                   TelemetryDef(f"eps_{line}_a", "f32", "A", f"PDU line {line} current", yellow=yellow, red=red)]
    return tuple(points)


class PowerControl(Component):
    name = "power"
    hk_structure = 46
    telemetry = (
        TelemetryDef("eps_bus_v", "f32", "V", "main bus voltage (battery terminals)",
                     yellow=Limits(low=27.5), red=Limits(low=25.0)),
        TelemetryDef("eps_battery_a", "f32", "A", "battery current, positive while charging"),
        TelemetryDef("eps_solar_a", "f32", "A", "solar array current into the bus"),
        TelemetryDef("eps_load_a", "f32", "A", "total current of the loads"),
        TelemetryDef("eps_battery_soc", "f32", "", "battery state of charge (gauge), 0..1"),
        TelemetryDef("eps_valid", "bool", "", "the PDU answered with valid measurements"),
        *_line_points(),
    )
    events = (
        EventDef(0x4601, "LOAD_SWITCHED", Severity.INFO, "PDU line {line} switched {state}"),
        EventDef(0x4602, "LOAD_SWITCH_FAILED", Severity.MEDIUM, "PDU line {line} did not switch {state}: {reason}"),
    )

    def __init__(self, ctx: Context, pdu: PowerDistribution, gauge: Power) -> None:
        super().__init__(ctx)
        self.pdu = pdu
        self.gauge = gauge

    def housekeeping(self) -> dict[str, Any]:
        reading = self.pdu.read_distribution()
        values: dict[str, Any] = {
            "eps_bus_v": round(reading.bus_voltage_v, 3), "eps_battery_a": round(reading.battery_current_a, 3),
            "eps_solar_a": round(reading.solar_current_a, 3), "eps_load_a": round(reading.load_current_a, 3),
            "eps_battery_soc": round(self.gauge.read().battery_soc, 4), "eps_valid": reading.valid,
        }
        for line, on, current in reading.lines:
            if line in LINES:
                values[f"eps_{line}_on"], values[f"eps_{line}_a"] = on, round(current, 3)
        return values

    @command(0x4601, Arg("line", "enum", "switched PDU line", enum=SWITCHABLE_LINES),
             Arg("on", "bool", "switch the line on (true) or off"))
    def cmd_load_set(self, line: str, on: bool) -> None:
        """Switch a non-essential PDU line (load shedding, or a mechanism's power) on or off."""
        state = "on" if on else "off"
        try:
            self.pdu.set_line(line, on)
            switched = dict((name, is_on) for name, is_on, _ in self.pdu.read_distribution().lines).get(line)
        except (OSError, ValueError) as error:
            self.emit("LOAD_SWITCH_FAILED", line=line, state=state, reason=str(error))
            raise CommandFailed(FailureCode.EXECUTION_FAILED, f"PDU line {line}: {error}") from error
        if switched != on:
            self.emit("LOAD_SWITCH_FAILED", line=line, state=state, reason="the PDU reports the old state")
            raise CommandFailed(FailureCode.EXECUTION_FAILED, f"PDU line {line} still {'off' if on else 'on'}")
        self.emit("LOAD_SWITCHED", line=line, state=state)
