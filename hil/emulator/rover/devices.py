"""The rover's emulated devices, reading the rover plant's truth with seeded noise."""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from fsw.devices.rover import (
    ArrayStatus,
    ElevationImage,
    MastStatus,
    PanoramicImage,
    RadioStatus,
    RoverImuReading,
    RoverPowerReading,
    RoverSunReading,
    RoverThermalReading,
    WheelsReading,
)
from hil.emulator.rover.plant import BATTERY_WH, RoverPlant

GYRO_BIAS_RAD_S = math.radians(0.5) / 3600.0  # [est.] 0.5 deg/h
SUN_NOISE_RAD = math.radians(0.2)  # [est.]
STEREO_NOISE_M = 0.01  # [est.] at a few metres
VO_NOISE = 0.03  # fraction of the displacement [est.]


class _RoverDevice:
    def __init__(self, plant: RoverPlant, name: str) -> None:
        self.plant = plant
        self.rng = random.Random(f"rover-{name}-{plant.seed}")


class EmulatedWheels(_RoverDevice):
    def drive(self, speed_m_s: float, yaw_rate_rad_s: float) -> None:
        self.plant.command_drive(speed_m_s, yaw_rate_rad_s)

    def stop(self) -> None:
        self.plant.command_drive(0.0, 0.0)

    def read(self) -> WheelsReading:
        plant = self.plant
        turning = plant.speed_cmd != 0.0 and not plant.embedded
        # A wheel that digs in or pushes against a rock works harder [est.].
        base = 0.4 if (plant.speed_cmd or plant.yaw_rate_cmd) else 0.0
        extra = 1.2 if (plant.embedded or plant.blocked_by is not None or plant.slip > 0.5) and turning else 0.0
        currents = tuple(round(base + extra + self.rng.gauss(0, 0.02), 3) for _ in range(6))
        return WheelsReading(plant.t, tuple(round(d, 4) for d in plant.wheel_distance), currents,
                             plant.speed_cmd, plant.yaw_rate_cmd, plant.dead is None)


class EmulatedRoverImu(_RoverDevice):
    def read(self) -> RoverImuReading:
        plant = self.plant
        rate = (0.0 if plant.embedded or plant.hibernating else plant.yaw_rate_cmd) + GYRO_BIAS_RAD_S
        pitch = math.radians(plant.terrain.slope_deg(plant.east, plant.north, plant.heading))
        roll = math.radians(plant.terrain.slope_deg(plant.east, plant.north, plant.heading + math.pi / 2))
        return RoverImuReading(plant.t, rate + self.rng.gauss(0, 1e-5), pitch, roll,
                               plant.dead is None and not plant.hibernating)


class EmulatedRoverSunSensor(_RoverDevice):
    def read(self) -> RoverSunReading:
        azimuth, elevation = self.plant.sun()
        body = (azimuth - self.plant.heading + self.rng.gauss(0, SUN_NOISE_RAD)) % (2 * math.pi)
        return RoverSunReading(self.plant.t, body, elevation, elevation > math.radians(1.0) and self.plant.dead is None)


class EmulatedHazardCameras(_RoverDevice):
    NEAR_M, CELL_M, ROWS, COLS = 0.8, 0.2, 30, 31

    def __init__(self, plant: RoverPlant, name: str) -> None:
        super().__init__(plant, name)
        self._last: tuple[float, float] | None = None

    def capture(self) -> ElevationImage:
        plant = self.plant
        e0, n0, psi = plant.east, plant.north, plant.heading
        base = plant.terrain.ground(e0, n0)
        c, s = math.cos(psi), math.sin(psi)
        cells = []
        for i in range(self.ROWS):
            forward = self.NEAR_M + i * self.CELL_M
            for j in range(self.COLS):
                left = (j - (self.COLS - 1) / 2) * self.CELL_M
                cells.append((e0 + forward * c - left * s, n0 + forward * s + left * c))
        gauss = self.rng.gauss
        heights = [round((height - base + gauss(0, STEREO_NOISE_M)) * 1000)
                   for height in plant.terrain.heights(cells)]
        moved = 0.0 if self._last is None else math.hypot(e0 - self._last[0], n0 - self._last[1])
        self._last = (e0, n0)
        moved *= 1.0 + self.rng.gauss(0, VO_NOISE)
        return ElevationImage(plant.t, self.NEAR_M, self.CELL_M, self.ROWS, self.COLS, tuple(heights),
                              round(moved, 4), plant.dead is None and not plant.hibernating)


class EmulatedRoverPower(_RoverDevice):
    def hibernate(self, on: bool) -> None:
        if self.plant.dead is None:
            self.plant.hibernating = bool(on)
            if on:
                self.plant.command_drive(0.0, 0.0)

    def read(self) -> RoverPowerReading:
        plant = self.plant
        return RoverPowerReading(plant.t, round(plant.array_w(), 2), round(plant.load_w(), 2),
                                 round(plant.battery_wh, 2), round(plant.battery_wh / BATTERY_WH, 4),
                                 plant.dead is None)


class EmulatedSolarArray(_RoverDevice):
    def point(self, tilt_rad: float) -> None:
        self.plant.command_array(tilt_rad)

    def read(self) -> ArrayStatus:
        plant = self.plant
        return ArrayStatus(plant.t, round(plant.array_tilt, 5), round(plant.array_target, 5), plant.array_moving(),
                           plant.dead is None)


class EmulatedRoverThermal(_RoverDevice):
    def enable_heater(self, on: bool) -> None:
        self.plant.heater_enabled = bool(on)

    def read(self) -> RoverThermalReading:
        plant = self.plant
        return RoverThermalReading(plant.t, round(plant.box_c + self.rng.gauss(0, 0.2), 2), plant.heater_on(),
                                   plant.heater_enabled, plant.dead is None)


class EmulatedMast(_RoverDevice):
    def stow(self) -> None:
        self.plant.command_mast(True)

    def unstow(self) -> None:
        self.plant.command_mast(False)

    def read(self) -> MastStatus:
        plant = self.plant
        moving = plant.mast_moving_until is not None
        return MastStatus(plant.t, plant.mast_stowed, moving, plant.config.faults.mast_fault, plant.dead is None)


class EmulatedProximityRadio(_RoverDevice):
    def read(self) -> RadioStatus:
        up, rssi = self.plant.radio_link()
        return RadioStatus(self.plant.t, up, round(rssi, 1), self.plant.dead is None)


class EmulatedPanoramicCamera(_RoverDevice):
    WIDTH, HEIGHT = 64, 48

    def __init__(self, plant: RoverPlant, name: str) -> None:
        super().__init__(plant, name)
        self.acquired: list[dict[str, Any]] = []  # the camera's own record: what it took, where

    def acquire(self) -> PanoramicImage:
        plant = self.plant
        c, s = math.cos(plant.heading), math.sin(plant.heading)
        pixels = bytearray()
        for row in range(self.HEIGHT):
            distance = 2.0 + row * 0.25
            for col in range(self.WIDTH):
                left = (col - self.WIDTH / 2) * 0.1
                h = plant.terrain.height(plant.east + distance * c - left * s, plant.north + distance * s + left * c)
                pixels.append(max(0, min(255, int(128 + 400 * h + self.rng.gauss(0, 3)))))
        digest = hashlib.sha256(bytes(pixels)).hexdigest()
        self.acquired.append({"t": plant.t, "east_m": plant.east, "north_m": plant.north, "sha256": digest})
        return PanoramicImage(plant.t, self.WIDTH, self.HEIGHT, bytes(pixels), plant.dead is None)


def make_rover_devices(plant: RoverPlant) -> dict[str, Any]:
    return {
        "wheels": EmulatedWheels(plant, "wheels"), "imu": EmulatedRoverImu(plant, "imu"),
        "sun": EmulatedRoverSunSensor(plant, "sun"), "hazcam": EmulatedHazardCameras(plant, "hazcam"),
        "power": EmulatedRoverPower(plant, "power"), "thermal": EmulatedRoverThermal(plant, "thermal"),
        "mast": EmulatedMast(plant, "mast"), "radio": EmulatedProximityRadio(plant, "radio"),
        "pancam": EmulatedPanoramicCamera(plant, "pancam"), "array": EmulatedSolarArray(plant, "array"),
    }
