"""Pointing the solar array at the Sun.

The array is a panel hinged along the rover's forward axis on a one-axis drive. By day, once a
second, the Sun's direction is taken from the rover's own sun sensor (azimuth from the rover's nose
and elevation, in the local level) and turned into the body frame with the IMU's pitch and roll; the
drive is commanded to the tilt that brings the panel's normal nearest to the Sun (the Sun's
direction projected on the plane across the forward axis), within the drive's travel, when it is
more than a deadband away. At evening (topic ``rover_night``) the array is turned towards the
sunrise for the night: the Sun rises about half a turn of azimuth from where it is at evening (it
moves half a turn over the day and half a turn over the night). The tilt chosen is the one whose
worst output over a spread of sunrise azimuths (the estimate's error) is best, at the elevation
that wakes the rover: with the sunrise near the rover's nose or tail that is flat, abeam it is
tilted towards it, so the first light wakes the rover early.

With ``rover_array_pointing`` false (a negative control) the array is left flat on the deck.
"""

from __future__ import annotations

import math
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.devices.rover import RoverHardware
from fsw.rover.traverse import NIGHT_TOPIC

Vector = tuple[float, float, float]
SUNRISE_ELEVATION_RAD = math.radians(8.0)  # the night's pointing aims at the Sun this high, near wake-up
SUNRISE_SPREAD_RAD = math.radians(20.0)  # the sunrise azimuth's uncertainty either way


def sun_in_level(azimuth_body_rad: float, elevation_rad: float) -> Vector:
    """Unit vector to the Sun in the local level frame (forward, left, up) of the rover's heading."""
    c = math.cos(elevation_rad)
    return (c * math.cos(azimuth_body_rad), c * math.sin(azimuth_body_rad), math.sin(elevation_rad))


def body_frame(pitch_rad: float, roll_rad: float) -> tuple[Vector, Vector, Vector]:
    """The body's (forward, left, up) axes in the local level frame: the nose raised by ``pitch``,
    the left side raised by ``roll`` (the IMU's gravity vector)."""
    forward = (math.cos(pitch_rad), 0.0, math.sin(pitch_rad))
    raw_left = (0.0, math.cos(roll_rad), math.sin(roll_rad))
    along = sum(a * b for a, b in zip(raw_left, forward, strict=True))
    left_unnormed = tuple(a - along * b for a, b in zip(raw_left, forward, strict=True))
    norm = math.sqrt(sum(a * a for a in left_unnormed))
    left = (left_unnormed[0] / norm, left_unnormed[1] / norm, left_unnormed[2] / norm)
    up = (forward[1] * left[2] - forward[2] * left[1], forward[2] * left[0] - forward[0] * left[2],
          forward[0] * left[1] - forward[1] * left[0])
    return forward, left, up


def best_tilt(sun_level: Vector, pitch_rad: float, roll_rad: float, max_tilt_rad: float) -> tuple[float, float]:
    """(tilt, incidence): the array tilt nearest the Sun within ``±max_tilt_rad``, and the angle
    between the array's normal and the Sun at that tilt."""
    _, left, up = body_frame(pitch_rad, roll_rad)
    s_left = sum(a * b for a, b in zip(sun_level, left, strict=True))
    s_up = sum(a * b for a, b in zip(sun_level, up, strict=True))
    tilt = max(-max_tilt_rad, min(max_tilt_rad, math.atan2(s_left, s_up)))
    return tilt, incidence(sun_level, pitch_rad, roll_rad, tilt)


def sunrise_tilt(azimuth_body_rad: float, pitch_rad: float, roll_rad: float, max_tilt_rad: float) -> float:
    """The tilt whose worst cosine over sunrise azimuths within ``SUNRISE_SPREAD_RAD`` of the estimate
    is best (a one-axis array cannot follow a Sun that may rise either side of its axis)."""
    spread = (-SUNRISE_SPREAD_RAD, -SUNRISE_SPREAD_RAD / 2, 0.0, SUNRISE_SPREAD_RAD / 2, SUNRISE_SPREAD_RAD)
    suns = [sun_in_level(azimuth_body_rad + offset, SUNRISE_ELEVATION_RAD) for offset in spread]
    candidates = [max_tilt_rad * k / 15 for k in range(-15, 16)]
    return max(candidates, key=lambda tilt: (min(math.cos(incidence(sun, pitch_rad, roll_rad, tilt)) for sun in suns),
                                             -abs(tilt)))


def incidence(sun_level: Vector, pitch_rad: float, roll_rad: float, tilt_rad: float) -> float:
    _, left, up = body_frame(pitch_rad, roll_rad)
    normal = [math.cos(tilt_rad) * u + math.sin(tilt_rad) * lft for u, lft in zip(up, left, strict=True)]
    cosine = sum(a * b for a, b in zip(normal, sun_level, strict=True))
    return math.acos(max(-1.0, min(1.0, cosine)))


class RoverArray(Component):
    name = "rover_array"
    hk_structure = 65
    hk_period_s = 5.0
    telemetry = (
        TelemetryDef("rarr_tilt_deg", "f32", "deg", "array tilt about the forward axis (positive: normal to the "
                     "left; 0: flat)"),
        TelemetryDef("rarr_target_deg", "f32", "deg", "tilt last commanded"),
        TelemetryDef("rarr_incidence_deg", "f32", "deg", "angle between the array's normal and the Sun (on-board "
                     "estimate; 0: facing it)"),
        TelemetryDef("rarr_moves", "u32", "", "array drive commands"),
        TelemetryDef("rarr_night", "bool", "", "pointed at the sunrise for the night"),
    )
    events = (
        EventDef(0x6050, "ROVER_ARRAY_SUNRISE", Severity.INFO, "array turned to the sunrise for the night: tilt "
                                                              "{tilt_deg:.0f} deg"),
    )
    parameters = (
        ParameterDef(0x6050, "rover_array_pointing", "bool", True, "tilt the array towards the Sun (false only "
                     "for a negative control: left flat on the deck)"),
        ParameterDef(0x6051, "rover_array_deadband_deg", "f64", 3.0, "re-point when the best tilt is this far "
                     "from the array's", 0.5, 30.0, unit="deg"),
        ParameterDef(0x6052, "rover_array_max_tilt_deg", "f64", 75.0, "the drive's travel either way (its end "
                     "stops) [est.]", 0.0, 90.0, unit="deg"),
    )

    def __init__(self, ctx: Context, hardware: RoverHardware) -> None:
        super().__init__(ctx)
        self.hw = hardware
        self.night = False
        self.moves = 0
        self.target = 0.0
        self.tilt = 0.0
        self.incidence = math.nan
        self._last_sun: tuple[float, float] | None = None  # (body azimuth, elevation) of the last valid reading
        self._attitude = (0.0, 0.0)
        self._nights = ctx.bus.subscribe(NIGHT_TOPIC)

    async def start(self) -> None:
        self.ctx.rate_groups["slow"].add(self.update)

    def _point(self, tilt: float) -> None:
        self.target = tilt
        self.moves += 1
        self.hw.array.point(tilt)

    def update(self) -> None:
        while (night := self._nights.get_nowait()) is not None:
            self.night = bool(night)
            if self.night:
                self._point_at_sunrise()
        try:
            status, sun, imu = self.hw.array.read(), self.hw.sun.read(), self.hw.imu.read()
        except NotAvailable:
            return
        self.tilt = status.tilt_rad
        if imu.valid:
            self._attitude = (imu.pitch_rad, imu.roll_rad)
        if sun.valid:
            self._last_sun = (sun.azimuth_body_rad, sun.elevation_rad)
            self.incidence = incidence(sun_in_level(*self._last_sun), *self._attitude, status.tilt_rad)
        if self.night or not status.valid or status.moving:
            return
        if not self.param("rover_array_pointing"):
            if abs(status.tilt_rad) > 1e-3:
                self._point(0.0)  # flat on the deck
            return
        if not sun.valid or self._last_sun is None:
            return
        tilt, _ = best_tilt(sun_in_level(*self._last_sun), *self._attitude,
                            math.radians(self.param("rover_array_max_tilt_deg")))
        if abs(tilt - status.tilt_rad) > math.radians(self.param("rover_array_deadband_deg")):
            self._point(tilt)

    def _point_at_sunrise(self) -> None:
        if not self.param("rover_array_pointing") or self._last_sun is None:
            return
        azimuth = self._last_sun[0] + math.pi  # half a turn of azimuth over the night
        tilt = sunrise_tilt(azimuth, *self._attitude, math.radians(self.param("rover_array_max_tilt_deg")))
        self._point(tilt)
        self.emit("ROVER_ARRAY_SUNRISE", tilt_deg=math.degrees(tilt))

    def housekeeping(self) -> dict[str, Any]:
        incidence_deg = round(math.degrees(self.incidence), 2) if math.isfinite(self.incidence) else 0.0
        return {"rarr_tilt_deg": round(math.degrees(self.tilt), 2),
                "rarr_target_deg": round(math.degrees(self.target), 2), "rarr_incidence_deg": incidence_deg,
                "rarr_moves": self.moves, "rarr_night": self.night}
