"""The rover's device bus and navigation components.

``RoverBus`` steps the rover plant once per fast cycle (and once per slow cycle while the executive
is dormant, so that a hibernating rover still sees its array and its warm box). ``RoverNavigation``
keeps the dead-reckoned pose and publishes it on the software bus (topic ``rover_pose``); it takes
visual odometry from the traverse (topic ``rover_vo``).
"""

from __future__ import annotations

import math
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.devices.bus import DeviceBusClient, DeviceBusError
from fsw.devices.rover import RoverHardware
from fsw.rover.navigation import DeadReckoning, Pose

POSE_TOPIC = "rover_pose"
VO_TOPIC = "rover_vo"
# The Sun's azimuth moves half a turn between sunrise and sunset: 180 deg in half a synodic month.
SUN_AZIMUTH_RATE_DEG_DAY = 180.0 / (29.530589 / 2)


class RoverBus(Component):
    name = "rover_bus"
    hk_structure = 60
    hk_period_s = 5.0
    telemetry = (
        TelemetryDef("rbus_exchanges", "u32", "", "device bus exchanges with the rover's devices"),
        TelemetryDef("rbus_dead", "bool", "", "the last exchange got no answer"),
        TelemetryDef("rbus_errors", "u32", "", "device errors reported by the plant"),
    )
    events = (EventDef(0x6001, "ROVER_BUS_DEAD", Severity.HIGH, "rover device bus: {reason}"),)

    def __init__(self, ctx: Context, bus: DeviceBusClient) -> None:
        super().__init__(ctx)
        self.bus = bus
        self._reported_dead = False

    async def start(self) -> None:
        await self.bus.open()
        self.ctx.rate_groups["fast"].add(self.exchange)
        self.ctx.rate_groups["slow"].add(self._exchange_if_dormant)

    async def stop(self) -> None:
        await self.bus.close()

    async def _exchange_if_dormant(self) -> None:
        if self.ctx.dormancy.dormant:
            await self.exchange()

    async def exchange(self) -> None:
        try:
            await self.bus.exchange()
        except DeviceBusError as error:
            if not self._reported_dead:
                self._reported_dead = True
                self.emit("ROVER_BUS_DEAD", reason=str(error))
            return
        self._reported_dead = False

    def housekeeping(self) -> dict[str, Any]:
        return {"rbus_exchanges": self.bus.exchanges, "rbus_dead": self.bus.dead is not None,
                "rbus_errors": len(self.bus.errors)}


class RoverNavigation(Component):
    name = "rover_nav"
    hk_structure = 61
    hk_period_s = 5.0
    telemetry = (
        TelemetryDef("rnav_east_m", "f32", "m", "estimated position east of the lander"),
        TelemetryDef("rnav_north_m", "f32", "m", "estimated position north of the lander"),
        TelemetryDef("rnav_heading_deg", "f32", "deg", "estimated heading, counter-clockwise from east"),
        TelemetryDef("rnav_odometer_m", "f32", "m", "wheel odometry since boot"),
        TelemetryDef("rnav_slip", "f32", "", "estimated slip (visual against wheel odometry)"),
        TelemetryDef("rnav_sun_fixes", "u32", "", "heading fixes from the sun sensor"),
        TelemetryDef("rnav_pitch_deg", "f32", "deg", "pitch from the IMU"),
    )
    parameters = (
        ParameterDef(0x6000, "rover_start_east_m", "f64", 3.0, "position at the ramp's foot, east", -50.0, 50.0,
                     unit="m"),
        ParameterDef(0x6001, "rover_start_north_m", "f64", 0.0, "position at the ramp's foot, north", -50.0, 50.0,
                     unit="m"),
        ParameterDef(0x6002, "rover_start_heading_deg", "f64", 0.0, "heading down the ramp", -180.0, 180.0,
                     unit="deg"),
        ParameterDef(0x6003, "rover_sun_azimuth_rate_deg_day", "f64", SUN_AZIMUTH_RATE_DEG_DAY,
                     "motion of the Sun's azimuth over the lunar day", -20.0, 20.0, unit="deg/day"),
    )
    SUN_FIX_S = 30.0

    def __init__(self, ctx: Context, hardware: RoverHardware) -> None:
        super().__init__(ctx)
        self.hardware = hardware
        self.dr: DeadReckoning | None = None
        self.sun_fixes = 0
        self._last_fix = -math.inf
        self._vo = ctx.bus.subscribe(VO_TOPIC)
        self._pitch = 0.0

    async def start(self) -> None:
        pose = Pose(self.param("rover_start_east_m"), self.param("rover_start_north_m"),
                    math.radians(self.param("rover_start_heading_deg")))
        stored = self.ctx.store.get("rover_pose")
        if stored:  # a restart keeps where the rover was
            pose = Pose(*stored)
        self.dr = DeadReckoning(pose, math.radians(self.param("rover_sun_azimuth_rate_deg_day")) / 86_400.0)
        self.ctx.rate_groups["fast"].add(self.update)

    def update(self) -> None:
        dr = self.dr
        assert dr is not None
        while (moved := self._vo.get_nowait()) is not None:
            dr.visual_odometry(float(moved))
        try:
            wheels, imu = self.hardware.wheels.read(), self.hardware.imu.read()
        except NotAvailable:
            return
        dr.update(wheels, imu)
        self._pitch = imu.pitch_rad if imu.valid else self._pitch
        now = self.clock.monotonic()
        if now - self._last_fix >= self.SUN_FIX_S:
            try:
                if dr.sun_fix(self.hardware.sun.read()) is not None:
                    self.sun_fixes += 1
                    self._last_fix = now
            except NotAvailable:
                pass
        pose = dr.pose
        self.ctx.bus.publish(POSE_TOPIC, (pose.east_m, pose.north_m, pose.heading_rad, dr.slip, dr.odometer_m))

    async def stop(self) -> None:
        if self.dr is not None:
            pose = self.dr.pose
            self.ctx.store.put("rover_pose", [pose.east_m, pose.north_m, pose.heading_rad])

    def housekeeping(self) -> dict[str, Any]:
        if self.dr is None:
            return {}
        pose = self.dr.pose
        return {"rnav_east_m": round(pose.east_m, 3), "rnav_north_m": round(pose.north_m, 3),
                "rnav_heading_deg": round(math.degrees(pose.heading_rad), 2),
                "rnav_odometer_m": round(self.dr.odometer_m, 2), "rnav_slip": round(self.dr.slip, 3),
                "rnav_sun_fixes": self.sun_fixes, "rnav_pitch_deg": round(math.degrees(self._pitch), 2)}
