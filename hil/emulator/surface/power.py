"""Power, thermal and the Sun: batteries charged by the arrays over the lunar day, heaters, the sun sensor."""

from __future__ import annotations

import math

from fsw.devices.surface import PowerStatus, SunReading, ThermalStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading


class EmulatedSunSensor(_Device):
    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world

    def read(self) -> SunReading:
        return SunReading(self.world.now(), self.world.sun_elevation_deg(), True)


class EmulatedPower(_Device):
    """Battery integrated in closed form between reads from solar input and load."""

    STATE = ("hibernating", "energy_wh", "last")

    def __init__(
        self,
        world: SurfaceWorld,
        capacity_wh: float = 1200.0,
        array_w: float = 300.0,
        load_w: float = 90.0,
        hibernation_load_w: float = 2.0,
    ) -> None:
        self.world = world
        self.capacity_wh = capacity_wh
        self.array_w = array_w
        self.active_load_w = load_w
        self.hibernation_load_w = hibernation_load_w
        self.hibernating = False
        self.energy_wh = 0.8 * capacity_wh
        self.last = world.now()

    def _solar(self, t: float) -> float:
        return self.array_w * max(0.0, math.sin(math.radians(self.world.sun_elevation_deg(t))))

    def _load(self) -> float:
        return self.hibernation_load_w if self.hibernating else self.active_load_w

    def _advance(self) -> None:
        now = self.world.now()
        # Integrate in steps of at most an hour so that a long gap follows the Sun.
        t = self.last
        while t < now:
            step = min(3600.0, now - t)
            net = self._solar(t + step / 2) - self._load()
            self.energy_wh = max(0.0, min(self.capacity_wh, self.energy_wh + net * step / 3600.0))
            t += step
        self.last = now

    @_act
    def set_hibernation(self, on: bool) -> None:
        self._advance()
        self.hibernating = on

    @_reading
    def read(self) -> PowerStatus:
        self._advance()
        return PowerStatus(
            self.last, self.energy_wh / self.capacity_wh, self._solar(self.last), self._load(), self.hibernating, True
        )


class EmulatedThermal(_Device):
    STATE = ("heaters",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.heaters = False

    @_act
    def set_heaters(self, on: bool) -> None:
        self.heaters = on

    def read(self) -> ThermalStatus:
        elevation = self.world.sun_elevation_deg()
        surface = -190.0 + 310.0 * max(0.0, math.sin(math.radians(elevation))) if elevation > 0 else -190.0
        avionics = 20.0 if elevation > 0 or self.heaters else -40.0  # [est.] radioisotope heat keeps it above -50
        return ThermalStatus(self.world.now(), avionics, avionics - 5.0, surface, self.heaters, True)
