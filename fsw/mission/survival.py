"""The lander's survival heaters: thermostat-controlled heaters that keep the avionics and the
battery above their survival temperatures whatever else is switched off. The safing response makes
sure they are enabled (``SURVIVAL_HEATERS true`` is one of its steps); only the ground disables them."""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import SAFING_KEEP_ALIVE, Arg, EventDef, SafingStep, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed
from fsw.devices.surface import Thermal
from fsw.protocol.errors import FailureCode


class SurvivalHeaters(Component):
    name = "survival"
    hk_structure = 47
    hk_quiet_in_flight = True
    telemetry = (
        TelemetryDef("survival_heaters", "bool", "", "lander survival heaters enabled (thermal controller reading)"),
        TelemetryDef("avionics_temperature", "f32", "degC", "lander avionics temperature"),
        TelemetryDef("battery_temperature", "f32", "degC", "lander battery temperature"),
    )
    events = (EventDef(0x4701, "SURVIVAL_HEATERS", Severity.INFO, "survival heaters {state}"),)
    safing = (SafingStep("SURVIVAL_HEATERS", (True,), rank=SAFING_KEEP_ALIVE),)

    def __init__(self, ctx: Context, thermal: Thermal) -> None:
        super().__init__(ctx)
        self.thermal = thermal

    @command(0x4701, Arg("on", "bool", "true: enabled, false: disabled"))
    def cmd_survival_heaters(self, on: bool) -> None:
        """Enable or disable the lander's survival heaters (enabling them is idempotent)."""
        self.thermal.set_heaters(on)
        reading = self.thermal.read()
        if not reading.valid or reading.heaters_on != on:
            raise CommandFailed(FailureCode.EXECUTION_FAILED,
                                f"the thermal controller reports the heaters {'on' if reading.heaters_on else 'off'}")
        self.emit("SURVIVAL_HEATERS", state="enabled" if on else "disabled")

    def housekeeping(self) -> dict[str, Any]:
        reading = self.thermal.read()
        return {"survival_heaters": reading.heaters_on, "avionics_temperature": round(reading.avionics_c, 1),
                "battery_temperature": round(reading.battery_c, 1)}
