"""The rover's device ports: six-wheel mobility, IMU, sun sensor, hazard cameras, power, solar array
drive, thermal, mast, proximity radio and panoramic camera.

As for the lander, the rover's flight software only talks to these ``typing.Protocol`` classes; the
backend is the rover plant behind a device bus of its own. Site frame: metres east and north of the
lander, heading in radians counter-clockwise from east. Body frame: ``forward`` along the rover's
heading, ``left`` to its left. Readings carry ``t`` (seconds of the plant's time) and ``valid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

WHEELS = 6


@dataclass(frozen=True, slots=True)
class WheelsReading:
    """Wheel odometry and motor state. ``distance_m``: each wheel's rolled distance since power-on
    (encoder counts times the wheel's circumference, signed); ``current_a``: motor currents."""

    t: float
    distance_m: tuple[float, ...]
    current_a: tuple[float, ...]
    commanded_speed_m_s: float
    commanded_yaw_rate_rad_s: float
    valid: bool


@dataclass(frozen=True, slots=True)
class RoverImuReading:
    t: float
    yaw_rate_rad_s: float  # about the local vertical, counter-clockwise positive
    pitch_rad: float  # nose up positive (from the accelerometers' gravity vector)
    roll_rad: float
    valid: bool


@dataclass(frozen=True, slots=True)
class RoverSunReading:
    """Sun sensor on the rover's deck: the Sun's azimuth in the body frame (counter-clockwise from
    forward) and elevation; not valid with the Sun below the horizon."""

    t: float
    azimuth_body_rad: float
    elevation_rad: float
    valid: bool


@dataclass(frozen=True, slots=True)
class ElevationImage:
    """Stereo hazard-camera product: a height grid in the body frame at capture time.

    Cell ``(i, j)`` lies ``near_m + i * cell_m`` ahead and ``(j - (cols - 1) / 2) * cell_m`` to the
    left of the rover; ``heights_mm`` holds ``rows * cols`` heights (row-major, millimetres, relative
    to the ground under the rover), ``-32768`` where stereo found no match. ``moved_m`` is the visual
    odometry: the rover's displacement since the previous image, from matched features.
    """

    t: float
    near_m: float
    cell_m: float
    rows: int
    cols: int
    heights_mm: tuple[int, ...]
    moved_m: float
    valid: bool


NO_MATCH_MM = -32768


@dataclass(frozen=True, slots=True)
class RoverPowerReading:
    t: float
    array_w: float  # solar array output
    load_w: float  # total bus load
    battery_wh: float
    battery_soc: float
    valid: bool


@dataclass(frozen=True, slots=True)
class ArrayStatus:
    """The solar array's one-axis drive: the panel hinged along the rover's forward axis, its tilt
    positive with the normal turned to the rover's left (0: flat on the deck)."""

    t: float
    tilt_rad: float
    target_rad: float
    moving: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class RoverThermalReading:
    t: float
    electronics_c: float  # warm electronics box
    heater_on: bool  # survival heater (thermostat-driven when enabled)
    heater_enabled: bool
    valid: bool


@dataclass(frozen=True, slots=True)
class MastStatus:
    t: float
    stowed: bool
    moving: bool
    fault: bool  # the drive did not reach its end stop
    valid: bool


@dataclass(frozen=True, slots=True)
class RadioStatus:
    """The UHF proximity transceiver's receiver: carrier lock on the lander and its signal strength."""

    t: float
    locked: bool
    rssi_dbm: float
    valid: bool


@dataclass(frozen=True, slots=True)
class PanoramicImage:
    """A panoramic camera frame: its size and a digest of its pixels (the pixels travel separately,
    as a product)."""

    t: float
    width: int
    height: int
    pixels: bytes
    valid: bool


@runtime_checkable
class Wheels(Protocol):
    def drive(self, speed_m_s: float, yaw_rate_rad_s: float) -> None: ...
    def stop(self) -> None: ...
    def read(self) -> WheelsReading: ...


@runtime_checkable
class RoverImu(Protocol):
    def read(self) -> RoverImuReading: ...


@runtime_checkable
class RoverSunSensor(Protocol):
    def read(self) -> RoverSunReading: ...


@runtime_checkable
class HazardCameras(Protocol):
    def capture(self) -> ElevationImage | None:
        """A slow acquisition: None until the image has come back (next cycle)."""


@runtime_checkable
class RoverPower(Protocol):
    def hibernate(self, on: bool) -> None: ...
    def read(self) -> RoverPowerReading: ...


@runtime_checkable
class SolarArrayDrive(Protocol):
    def point(self, tilt_rad: float) -> None: ...
    def read(self) -> ArrayStatus: ...


@runtime_checkable
class RoverThermal(Protocol):
    def enable_heater(self, on: bool) -> None: ...
    def read(self) -> RoverThermalReading: ...


@runtime_checkable
class Mast(Protocol):
    def stow(self) -> None: ...
    def unstow(self) -> None: ...
    def read(self) -> MastStatus: ...


@runtime_checkable
class ProximityRadio(Protocol):
    def read(self) -> RadioStatus: ...


@runtime_checkable
class PanoramicCamera(Protocol):
    def acquire(self) -> PanoramicImage | None: ...


@dataclass(frozen=True)
class RoverHardware:
    """The rover's devices as a platform provides them."""

    wheels: Wheels
    imu: RoverImu
    sun: RoverSunSensor
    hazcam: HazardCameras
    power: RoverPower
    thermal: RoverThermal
    mast: Mast
    radio: ProximityRadio
    pancam: PanoramicCamera
    array: SolarArrayDrive
