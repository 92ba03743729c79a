"""Power, thermal and the lunar night.

By day the rover runs on its array and battery. When the Sun sinks below ``rover_evening_sun_deg``
the traverse is stopped (topic ``rover_night``), the mast is stowed over the warm box, and the rover
hibernates: everything off but the survival heater's thermostat and the radioisotope heater units.
A stow that fails (Yutu-1, January 2014: the mechanism's control unit failed before its second
night) is reported and the rover hibernates unstowed all the same, the survival heater then
carrying the colder box through the night; waiting for the stow instead (``rover_night_without_stow``
false, a negative control) keeps the rover awake, which the battery does not survive. The rover wakes
when its array gives power again after sunrise (Yutu-2's wake-up is likewise set off by the Sun).
"""

from __future__ import annotations

import math
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, ParameterDef, Severity, TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.devices.rover import RoverHardware
from fsw.rover.traverse import NIGHT_TOPIC

PHASES = ("day", "stowing", "waiting_stow", "hibernate")


class RoverSurvival(Component):
    name = "rover_survival"
    hk_structure = 63
    hk_period_s = 5.0
    telemetry = (
        TelemetryDef("rsurv_phase", "enum", "", "day, stowing, waiting for the stow, hibernating", enum=PHASES),
        TelemetryDef("rsurv_array_w", "f32", "W", "solar array output"),
        TelemetryDef("rsurv_load_w", "f32", "W", "bus load"),
        TelemetryDef("rsurv_battery_wh", "f32", "Wh", "battery energy"),
        TelemetryDef("rsurv_battery_soc", "f32", "", "battery state of charge", yellow=Limits(low=0.3),
                     red=Limits(low=0.15)),
        TelemetryDef("rsurv_energy_used_wh", "f32", "Wh", "energy drawn from the bus since boot (load integrated)"),
        TelemetryDef("rsurv_energy_at_s", "f64", "s", "the power device's own time of the last load reading in "
                     "rsurv_energy_used_wh"),
        TelemetryDef("rsurv_box_c", "f32", "C", "warm electronics box", yellow=Limits(low=-30.0),
                     red=Limits(low=-38.0)),
        TelemetryDef("rsurv_sun_deg", "f32", "deg", "Sun elevation from the sun sensor (0 when below)"),
        TelemetryDef("rsurv_mast_stowed", "bool", "", "mast stowed over the warm box"),
        TelemetryDef("rsurv_nights", "u16", "", "nights hibernated"),
    )
    events = (
        EventDef(0x6030, "ROVER_EVENING", Severity.INFO, "Sun at {sun_deg:.1f} deg: stopping and stowing"),
        EventDef(0x6031, "ROVER_STOW_FAILED", Severity.HIGH, "mast did not stow ({detail}); {action}"),
        EventDef(0x6032, "ROVER_HIBERNATING", Severity.INFO, "hibernating: battery {battery_wh:.0f} Wh, box "
                                                             "{box_c:.1f} C, mast stowed {stowed}"),
        EventDef(0x6033, "ROVER_AWAKE", Severity.INFO, "awake after the night: array {array_w:.0f} W, battery "
                                                       "{battery_wh:.0f} Wh, coldest box {coldest_c:.1f} C"),
    )
    parameters = (
        ParameterDef(0x6030, "rover_evening_sun_deg", "f64", 8.0, "Sun elevation that starts the night "
                     "preparation", 0.0, 40.0, unit="deg"),
        ParameterDef(0x6031, "rover_wake_array_w", "f64", 20.0, "array output that ends hibernation", 1.0, 100.0,
                     unit="W"),
        ParameterDef(0x6032, "rover_stow_limit_s", "f64", 300.0, "longest wait for the mast to stow", 10.0,
                     3_600.0, unit="s"),
        ParameterDef(0x6033, "rover_night_without_stow", "bool", True, "hibernate even when the stow failed "
                     "(Yutu-1); false only for a negative control: the rover then waits for the stow"),
    )

    def __init__(self, ctx: Context, hardware: RoverHardware) -> None:
        super().__init__(ctx)
        self.hw = hardware
        self.phase = "day"
        self.nights = 0
        self.energy_wh = 0.0
        # The power device's time stamp of the last reading integrated: whoever compares the figure
        # with another record of the same bus (the ground, a test) can take both at the same moment.
        self.energy_at_s = 0.0
        self.coldest_c = math.inf
        self._stow_from = 0.0
        # Evening comes only once the Sun has been up since waking: a rover woken by its array at
        # sunrise (the Sun still under the evening elevation) must not go straight back to sleep.
        self._sun_risen = True
        self._last = self.clock.monotonic()
        self._values: dict[str, Any] = {}

    async def start(self) -> None:
        stored = self.ctx.store.get("rover_survival") or {}
        self.phase = str(stored.get("phase", "day"))
        self.nights = int(stored.get("nights", 0))
        self.ctx.rate_groups["slow"].add(self.update)

    def _persist(self) -> None:
        self.ctx.store.put("rover_survival", {"phase": self.phase, "nights": self.nights})

    def update(self) -> None:
        try:
            power, thermal, mast = self.hw.power.read(), self.hw.thermal.read(), self.hw.mast.read()
            sun = self.hw.sun.read()
        except NotAvailable:
            return
        now = self.clock.monotonic()
        self.energy_wh += power.load_w * (now - self._last) / 3600.0
        self._last = now
        self.energy_at_s = power.t
        self.coldest_c = min(self.coldest_c, thermal.electronics_c)
        sun_deg = math.degrees(sun.elevation_rad) if sun.valid else 0.0
        self._values = {"rsurv_array_w": power.array_w, "rsurv_load_w": power.load_w,
                        "rsurv_battery_wh": power.battery_wh, "rsurv_battery_soc": power.battery_soc,
                        "rsurv_box_c": thermal.electronics_c, "rsurv_sun_deg": round(sun_deg, 2),
                        "rsurv_mast_stowed": mast.stowed}
        if sun_deg >= self.param("rover_evening_sun_deg") + 1.0:
            self._sun_risen = True
        if self.phase == "day" and self._sun_risen and sun_deg < self.param("rover_evening_sun_deg"):
            self.emit("ROVER_EVENING", sun_deg=sun_deg)
            self.ctx.bus.publish(NIGHT_TOPIC, True)
            self.hw.mast.stow()
            self.phase, self._stow_from = "stowing", now
            self._persist()
        elif self.phase == "stowing":
            if mast.stowed:
                self._hibernate(power.battery_wh, thermal.electronics_c, True)
            elif mast.fault or now - self._stow_from > self.param("rover_stow_limit_s"):
                detail = "mechanism fault" if mast.fault else "timed out"
                if self.param("rover_night_without_stow"):
                    self.emit("ROVER_STOW_FAILED", detail=detail, action="hibernating unstowed")
                    self._hibernate(power.battery_wh, thermal.electronics_c, False)
                else:
                    self.emit("ROVER_STOW_FAILED", detail=detail, action="waiting for the stow")
                    self.phase = "waiting_stow"
        elif self.phase == "waiting_stow" and mast.stowed:
            self._hibernate(power.battery_wh, thermal.electronics_c, True)
        elif self.phase == "hibernate" and power.array_w >= self.param("rover_wake_array_w"):
            self.hw.power.hibernate(False)
            self.hw.thermal.enable_heater(False)
            self.hw.mast.unstow()
            self.nights += 1
            self.phase = "day"
            self._sun_risen = False
            self._persist()
            self.ctx.dormancy.set_dormant(False)
            self.emit("ROVER_AWAKE", array_w=power.array_w, battery_wh=power.battery_wh, coldest_c=self.coldest_c)
            self.ctx.bus.publish(NIGHT_TOPIC, False)

    def _hibernate(self, battery_wh: float, box_c: float, stowed: bool) -> None:
        self.emit("ROVER_HIBERNATING", battery_wh=battery_wh, box_c=box_c, stowed=stowed)
        self.hw.thermal.enable_heater(True)
        self.hw.power.hibernate(True)
        self.phase = "hibernate"
        self._persist()
        self.ctx.dormancy.set_dormant(True)

    def housekeeping(self) -> dict[str, Any]:
        return {"rsurv_phase": self.phase, **self._values, "rsurv_energy_used_wh": round(self.energy_wh, 2),
                "rsurv_energy_at_s": round(self.energy_at_s, 1), "rsurv_nights": self.nights}
