"""Powered-flight device ports: what the flight software needs from the IMU, range finders, velocimeters,
imager, engines and gauges.

The flight side only ever talks to these ``typing.Protocol`` classes; the backend (emulator plant
or Raspberry Pi adapters) is chosen at start-up. Every reading is a small frozen dataclass with a
``valid`` flag and a timestamp ``t`` (seconds of mission elapsed time, the executive's clock).

Frames and conventions (SI units throughout):

* Local-level frame at the lander: ``(up, downrange, crossrange)``. Downrange is along the
  descent ground track, crossrange completes a right-handed-enough set for a near-planar descent.
* Attitude is given by the thrust axis: ``pitch`` tilts it from local vertical towards
  +downrange, ``yaw`` towards +crossrange. Braking therefore flies at a large negative pitch.
  The lander's own sensors measure body rates (strapdown IMU) and an attitude quaternion (star
  tracker) in the descent inertial frame: the axes of the Moon-centred descent frame at the
  alignment epoch the ground uplinks (``DESCENT_FRAME_SET``), i.e. the local-level frame at the
  descent start point (``s = c = 0``) then; the Moon turns away from it at its sidereal rate.
  Quaternions are ``(w, x, y, z)`` and turn body vectors into that frame.
* Body frame: ``x`` = thrust axis (the lander's "up" when standing), ``y`` = the pitch direction,
  ``z`` completes the triad. :func:`body_to_local` turns a body vector into local-level.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Vector3 = tuple[float, float, float]

MAIN_ENGINE_MIN_THRUST_N = 1500.0
MAIN_ENGINE_MAX_THRUST_N = 7500.0
ASCENT_ENGINE_THRUST_N = 3000.0

#: Long beam of the laser range finder is tilted from the body -x axis by this angle (towards -y)
#: so that it looks at the ground while the lander flies nearly horizontal in main braking.
LRF_LONG_BEAM_MOUNT_RAD = math.radians(70.0)
#: Short beam looks straight down the body -x axis (useful once the lander is vertical).
LRF_SHORT_BEAM_MOUNT_RAD = 0.0


# ---------------------------------------------------------------- readings


@dataclass(frozen=True, slots=True)
class ImuReading:
    """A platform IMU (the bench's), which reports attitude angles of its own."""

    t: float
    specific_force_body: Vector3  # m/s^2, non-gravitational acceleration in body frame
    angular_rate_body: Vector3  # rad/s
    pitch: float  # rad, attitude from the inertial unit aided by the star sensor
    yaw: float
    unit: int  # which redundant unit produced the reading (0 or 1)
    accelerometer_on: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class StrapdownImuReading:
    """The lander's strapdown IMU: what its gyros and accelerometers measure, nothing derived."""

    t: float
    specific_force_body: Vector3  # m/s^2, non-gravitational acceleration in body frame
    angular_rate_body: Vector3  # rad/s, inertial rate in body axes
    unit: int  # which redundant unit produced the reading (0 or 1)
    accelerometer_on: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class StarTrackerReading:
    """The newest attitude solution: ``t`` is the time it was taken (it repeats until the next)."""

    t: float
    quaternion: tuple[float, float, float, float]  # body to descent inertial, (w, x, y, z)
    valid: bool


@dataclass(frozen=True, slots=True)
class RcsStatus:
    t: float
    enabled: bool
    pulses: int  # pulses the thruster drive electronics have started since power-on
    valid: bool


@dataclass(frozen=True, slots=True)
class RangeReading:
    t: float
    slant_range_m: float  # along the active beam
    beam: str  # "long" or "short"
    valid: bool


@dataclass(frozen=True, slots=True)
class VelocityReading:
    t: float
    velocity_body: Vector3  # m/s, lander velocity relative to the ground in body frame
    valid: bool


@dataclass(frozen=True, slots=True)
class RangeVelocityReading:
    t: float
    range_m: float  # along body -x
    velocity_body: Vector3
    valid: bool


#: Count of an elevation cell without a measurement: no laser return, or hidden from the imager.
NO_RETURN = -32768
_HEIGHT_COUNT_MAX = 32767


@dataclass(frozen=True, slots=True)
class ElevationImageReading:
    """3-D laser imager product: the elevation of the ground in its field of view, and nothing else
    (no hazard flags, no sites: judging the ground is the flight software's job).

    A ``rows`` x ``cols`` grid on level ground, rows along downrange and columns along crossrange.
    Cell ``(i, j)`` is centred ``(origin_downrange_m + i * cell_m, origin_crossrange_m + j * cell_m)``
    from the point under the imager, as the imager measured its own position and pointing. ``counts``
    holds one big-endian int16 per cell, row after row: the ground's height relative to the imager in
    steps of ``height_step_m`` (negative: below it), or :data:`NO_RETURN`. Compact on the device bus:
    a 64 x 64 image is 8 KiB.
    """

    t: float
    rows: int
    cols: int
    cell_m: float
    origin_downrange_m: float
    origin_crossrange_m: float
    height_step_m: float
    counts: bytes
    valid: bool

    def heights(self) -> list[float | None]:
        """Heights relative to the imager (m), row after row; None where the cell has no measurement.
        A malformed image (wrong length) reads as all unknown."""
        n = self.rows * self.cols
        if n <= 0 or len(self.counts) != 2 * n:
            return [None] * max(0, n)
        step = self.height_step_m
        return [None if c == NO_RETURN else c * step for c in struct.unpack(f">{n}h", self.counts)]


def pack_heights(heights: Sequence[float | None], height_step_m: float) -> bytes:
    """Encode heights (m, None for no measurement) as :attr:`ElevationImageReading.counts`."""
    counts = []
    for h in heights:
        if h is None or h != h:  # None or NaN
            counts.append(NO_RETURN)
        else:
            counts.append(max(-_HEIGHT_COUNT_MAX, min(_HEIGHT_COUNT_MAX, round(h / height_step_m))))
    return struct.pack(f">{len(counts)}h", *counts)


@dataclass(frozen=True, slots=True)
class EngineStatus:
    t: float
    on: bool
    commanded_thrust_n: float
    measured_thrust_n: float  # thrust feedback (chamber-pressure derived)
    valid: bool


@dataclass(frozen=True, slots=True)
class PropellantReading:
    t: float
    mass_kg: float
    valid: bool


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """Generic health word a backend may report (free text reasons for telemetry)."""

    t: float
    ok: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- devices


@runtime_checkable
class Imu(Protocol):
    def set_power(self, on: bool) -> None: ...
    def set_accelerometer(self, on: bool) -> None: ...
    def select_unit(self, unit: int) -> None: ...
    def read(self) -> ImuReading: ...


@runtime_checkable
class StrapdownImu(Protocol):
    def set_power(self, on: bool) -> None: ...
    def set_accelerometer(self, on: bool) -> None: ...
    def select_unit(self, unit: int) -> None: ...
    def read(self) -> StrapdownImuReading: ...


@runtime_checkable
class StarTracker(Protocol):
    def read(self) -> StarTrackerReading: ...


#: The lander's reaction control thrusters (numbering and geometry in docs/gnc.md); on-times travel in
#: whole milliseconds, one per thruster.
RCS_THRUSTERS = 16


@runtime_checkable
class ReactionControl(Protocol):
    """Attitude thrusters driven by on-times: ``fire`` starts one pulse on each thruster with a
    non-zero on-time (milliseconds); ``set_enabled`` powers the valve drivers."""

    def set_enabled(self, on: bool) -> None: ...
    def fire(self, on_ms: tuple[int, ...]) -> None: ...
    def read(self) -> RcsStatus: ...


@runtime_checkable
class LaserRangeFinder(Protocol):
    def set_power(self, on: bool) -> None: ...
    def select_beam(self, beam: str) -> None: ...
    def read(self) -> RangeReading: ...


@runtime_checkable
class LaserDopplerVelocimeter(Protocol):
    def set_power(self, on: bool) -> None: ...
    def read(self) -> VelocityReading: ...


@runtime_checkable
class MicrowaveRangeVelocity(Protocol):
    def set_power(self, on: bool) -> None: ...
    def read(self) -> RangeVelocityReading: ...


@runtime_checkable
class HazardImager(Protocol):
    """The descent imagers: the 3-D laser imager's fine image at the hover (``scan``) and the optical
    camera's coarse elevation image of a wide area in the approach (``point_coarse`` then
    ``coarse_scan``), both as :class:`ElevationImageReading` relative to the point under the lander."""

    def scan(self) -> ElevationImageReading | None:
        """The latest elevation image; None while a requested image is still being acquired
        (ask again next cycle)."""
        ...

    def point_coarse(self, downrange_m: float, crossrange_m: float) -> None:
        """Centre the next coarse image this far from the point under the lander (the aim as the
        flight software knows it)."""
        ...

    def coarse_scan(self) -> ElevationImageReading | None:
        """The coarse elevation image about the pointed offset (valid only from the approach's
        heights); None while it is being acquired."""
        ...


@runtime_checkable
class MainEngine(Protocol):
    def set_on(self, on: bool) -> None: ...
    def set_thrust(self, newtons: float) -> None: ...
    def read(self) -> EngineStatus: ...


@runtime_checkable
class AscentEngine(Protocol):
    def set_on(self, on: bool) -> None: ...
    def read(self) -> EngineStatus: ...


@runtime_checkable
class PropellantGauge(Protocol):
    def read(self) -> PropellantReading: ...
