"""Ascent GNC rate-group step: IMU navigation around :class:`fsw.gnc.ascent.AscentGuidance`.

Talks to devices only through the ``fsw.devices.descent`` Protocols (IMU, attitude thrusters, ascent
engine, propellant gauge). The estimate is held on the pad until the engine is commanded on.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsw.devices.descent import AscentEngine, AttitudeThrusters, Imu, PropellantGauge
from fsw.gnc.ascent import ORBIT, AscentConfig, AscentGuidance
from fsw.gnc.navigation import Navigator, TerrainMap

ASCENDER_LIFTOFF_MASS_KG = 800.0  # [est.] mission-profile.md
ASCENDER_PROPELLANT_KG = 480.0  # [est.] ~1.85 km/s plus margin at 3000 m/s


@dataclass
class AscentDevices:
    imu: Imu
    attitude: AttitudeThrusters
    engine: AscentEngine
    propellant: PropellantGauge


class AscentController:
    def __init__(self, devices: AscentDevices, site_height_m: float = 0.0, config: AscentConfig | None = None,
                 *, divider: int = 5) -> None:
        self.dev = devices
        self.site_height_m = site_height_m
        self.guidance = AscentGuidance(config or AscentConfig())
        self.nav = Navigator(
            TerrainMap(1_000.0, (site_height_m, site_height_m)), t=0.0, h=site_height_m, s=0.0, c=0.0,
            vu=0.0, vd=0.0, vc=0.0, dry_mass_kg=ASCENDER_LIFTOFF_MASS_KG - ASCENDER_PROPELLANT_KG,
            propellant_kg=ASCENDER_PROPELLANT_KG,
        )
        self.divider = divider
        self.count = 0
        self.lit = False
        self.cutoff_t: float | None = None
        self.phase = "on_pad"

    def __getstate__(self) -> dict[str, object]:
        # The devices are this computer's handles on the hardware, not flight state.
        return {key: value for key, value in self.__dict__.items() if key != "dev"}

    def attach(self, devices: AscentDevices) -> None:
        """Give a controller restored from a checkpoint its devices back."""
        self.dev = devices

    def catch_up(self, gap_s: float, dt: float) -> None:
        """Propagate over ``gap_s`` of flight this controller did not see (a restart)."""
        reading = self.dev.imu.read()
        steps = max(1, round(gap_s / dt))
        for _ in range(steps):
            self.nav.propagate(reading if reading.valid else None, gap_s / steps)

    def reconcile_actuators(self, t: float) -> None:
        """After a restart: an engine this controller already cut off stays off."""
        status = self.dev.engine.read()
        if self.cutoff_t is not None and status.valid and status.on:
            self.dev.engine.set_on(False)

    def cycles_without_commands(self) -> int:
        """How many cycles after the next one will send no command (up to the next guidance cycle)."""
        return (-self.count) % self.divider

    def step(self, t: float, dt: float) -> None:
        reading = self.dev.imu.read()
        if reading.valid:
            self.nav.propagate(reading, dt)
        if not self.lit:
            # On the pad the accelerometer feels the ground holding the ascender up: hold the estimate.
            self.nav.h, self.nav.vu, self.nav.vd = self.site_height_m, 0.0, 0.0
            self.lit = self.dev.engine.read().on
        if self.count % self.divider == 0 and self.lit:
            gauge = self.dev.propellant.read()
            if gauge.valid:
                self.nav.propellant = gauge.mass_kg
            command = self.guidance.step(t, self.nav.state())
            self.phase = command.phase
            self.dev.attitude.command_attitude(command.pitch, 0.0)
            if not command.engine_on and self.cutoff_t is None:
                self.dev.engine.set_on(False)
                self.cutoff_t = t
        self.count += 1

    @property
    def in_orbit(self) -> bool:
        return self.guidance.phase == ORBIT
