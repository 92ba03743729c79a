"""Two IMU units behind one bus terminal: power, the accelerometer switch, unit selection and its
record, the per-unit accelerometer biases and the fault bookkeeping. The strapdown IMU
(``hil.emulator.attitude_devices.EmulatedImu``, on the lander and on the ascender) adds its frames."""

from __future__ import annotations

import random
from typing import Any, Generic, TypeVar

Frame = TypeVar("Frame")


class DualUnitImu(Generic[Frame]):
    ACCEL_BIAS_SIGMA = 0.0005  # m/s^2 (~50 micro-g) [est.]

    def __init__(self, plant: Any) -> None:
        self.plant = plant
        self.rng = random.Random(f"imu-{plant.seed}")
        self.powered = True
        self.accelerometer_on = True
        self.unit = 0
        self.biases = [tuple(self.rng.gauss(0.0, self.ACCEL_BIAS_SIGMA) for _ in range(3)) for _ in range(2)]
        self.glitched_units: set[int] = set()
        self.frozen_frames: dict[int, Frame] = {}  # failed unit -> the frame its interface repeats
        self.failed_at: tuple[float, float] | None = None  # plant time and altitude of the hard failure
        self.selections: list[tuple[float, int, float]] = []  # (plant time, unit, altitude) of each change

    def set_power(self, on: bool) -> None:
        self.powered = on

    def set_accelerometer(self, on: bool) -> None:
        self.accelerometer_on = on and not self.plant.faults.accelerometer_stuck_off

    def select_unit(self, unit: int) -> None:
        if unit not in (0, 1):
            raise ValueError(f"no IMU unit {unit}")
        if unit != self.unit:
            self.selections.append((self.plant.t, unit, self.plant.h))
        self.unit = unit
