"""The attitude sensors and thrusters of a rigid-body vehicle (the lander, :class:`LunarLanderPlant`,
and the ascender, :class:`hil.emulator.ascent.AscentPlant`): a strapdown IMU (two units), a star
tracker and the reaction control thrusters. They measure and act; they judge nothing.

Error figures are estimates for CE-3/5 class units (docs/gnc.md). Each device draws from its own
seeded ``random.Random``, so a seeded run repeats bit for bit. Measured values are rounded to 32-bit
floats, as the units' output words are: that is also what keeps them short on the device bus.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Protocol

from fsw.devices.codec import reading_maker
from fsw.devices.descent import RCS_THRUSTERS, RcsStatus, StarTrackerReading, StrapdownImuReading
from hil.emulator.imu_units import DualUnitImu
from hil.emulator.noise import gauss_triple
from hil.emulator.plant import FaultConfig
from hil.emulator.rigid_body import Matrix3, RigidBody, Vector3, mat_mul, mat_vec, quaternion_of, rotation_vector_matrix

_F32X3 = struct.Struct("<3f")
_F32X4 = struct.Struct("<4f")
_imu_frame = reading_maker(StrapdownImuReading)
_rcs_status = reading_maker(RcsStatus)


class AttitudeVehicle(Protocol):
    """What these devices read of the vehicle they are mounted on."""

    seed: int
    t: float
    h: float
    landed: bool
    faults: FaultConfig
    specific_force_body: Vector3
    body: RigidBody
    attitude_enabled: bool

    @property
    def angular_rate(self) -> Vector3: ...

    @property
    def rcs_pulses(self) -> int: ...

    def fire_rcs(self, on_times_s: tuple[float, ...]) -> None: ...


def _error_matrix(rng: random.Random, scale_sigma: float, misalignment_sigma: float) -> Matrix3:
    """I + scale-factor errors on the diagonal + axis misalignments off it (one unit's build)."""
    g = rng.gauss
    return tuple(tuple((1.0 + g(0.0, scale_sigma)) if i == j else g(0.0, misalignment_sigma) for j in range(3))
                 for i in range(3))  # type: ignore[return-value]


class EmulatedImu(DualUnitImu[StrapdownImuReading]):
    """Two strapdown IMU units behind one interface; ``select_unit`` chooses the one read. Each unit:
    gyro and accelerometer bias, scale factor, misalignment and white noise, seeded per unit.

    Faults: the Beresheet glitch (unit 0 erratic: dropouts and spikes) and a hard failure of unit 0
    (``imu_failure_altitude_m``): its sensor stops and the interface goes on answering with the last
    frame it had, time tag and valid flag included, as a remote terminal returns the last data
    written to its buffer: nothing in the frame says it failed, only its age. ``selections`` is the
    device's own record of the unit changes, the truth of a switch."""

    ACCEL_NOISE = 0.003  # m/s^2 per sample
    ACCEL_SCALE_SIGMA = 200e-6
    GYRO_NOISE = 0.0005  # rad/s per 50 Hz sample [est.]
    GYRO_BIAS_SIGMA = math.radians(0.003)  # rad/s (~10 deg/h) [est.]
    GYRO_SCALE_SIGMA = 100e-6
    MISALIGNMENT_SIGMA = 1e-4  # rad

    def __init__(self, plant: AttitudeVehicle) -> None:
        super().__init__(plant)
        self.gyro_biases = [tuple(self.rng.gauss(0.0, self.GYRO_BIAS_SIGMA) for _ in range(3)) for _ in range(2)]
        self.accel_errors = [_error_matrix(self.rng, self.ACCEL_SCALE_SIGMA, self.MISALIGNMENT_SIGMA) for _ in range(2)]
        self.gyro_errors = [_error_matrix(self.rng, self.GYRO_SCALE_SIGMA, self.MISALIGNMENT_SIGMA) for _ in range(2)]

    def read(self) -> StrapdownImuReading:
        p = self.plant
        if p.faults.accelerometer_stuck_off:
            self.accelerometer_on = False
        glitch_alt = p.faults.imu_glitch_altitude_m
        if glitch_alt is not None and p.h < glitch_alt and not p.landed:
            self.glitched_units.add(0)
        failure_alt = p.faults.imu_failure_altitude_m
        if failure_alt is not None and self.failed_at is None and p.h < failure_alt and not p.landed:
            self.failed_at = (p.t, p.h)
            self.frozen_frames[0] = self._frame(0)
        if not self.powered:
            return StrapdownImuReading(p.t, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), self.unit, False, False)
        frozen = self.frozen_frames.get(self.unit)
        if frozen is not None:
            return frozen
        return self._frame(self.unit)

    def _frame(self, unit: int) -> StrapdownImuReading:
        """What ``unit`` measures now."""
        p = self.plant
        rng = self.rng
        if self.accelerometer_on:
            fx, fy, fz = mat_vec(self.accel_errors[unit], p.specific_force_body)
            bx, by, bz = self.biases[unit]
            nx, ny, nz = gauss_triple(rng, self.ACCEL_NOISE)
            sf = (fx + bx + nx, fy + by + ny, fz + bz + nz)
        else:
            sf = (0.0, 0.0, 0.0)
        wx, wy, wz = mat_vec(self.gyro_errors[unit], p.angular_rate)
        gx, gy, gz = self.gyro_biases[unit]
        nx, ny, nz = gauss_triple(rng, self.GYRO_NOISE)
        rates = (wx + gx + nx, wy + gy + ny, wz + gz + nz)
        valid = True
        if unit in self.glitched_units:
            g = rng.gauss
            # Beresheet-like: intermittent dropouts and large spikes from the failing unit.
            if self.rng.random() < 0.4:
                valid = False
            else:
                sf = (sf[0] + g(0.0, 25.0), sf[1] + g(0.0, 25.0), sf[2] + g(0.0, 25.0))
                rates = (rates[0] + g(0.0, 0.3), rates[1] + g(0.0, 0.3), rates[2] + g(0.0, 0.3))
        return _imu_frame(p.t, _F32X3.unpack(_F32X3.pack(*sf)), _F32X3.unpack(_F32X3.pack(*rates)), unit,
                          self.accelerometer_on, valid)


class EmulatedStarTracker:
    """Attitude solutions at ``RATE_HZ`` with noise (larger about the boresight, body +z) and
    outages: none while the body turns faster than the tracker can follow, and seeded random
    ones (stray light, a lost star pattern) of a few seconds."""

    RATE_HZ = 4.0  # [est.]
    CROSS_NOISE_RAD = 5e-5  # ~10 arcsec, 1 sigma [est.]
    BORESIGHT_NOISE_RAD = 3e-4  # ~60 arcsec [est.]
    MAX_RATE_RAD_S = math.radians(3.0)  # [est.] tracking lost above this body rate
    OUTAGE_CHANCE = 0.004  # per solution [est.]
    OUTAGE_S = 3.0

    def __init__(self, plant: AttitudeVehicle) -> None:
        self.plant = plant
        self.rng = random.Random(f"star-tracker-{plant.seed}")
        self.last = StarTrackerReading(plant.t, (1.0, 0.0, 0.0, 0.0), False)
        self.next_t = plant.t
        self.outage_until = -math.inf
        self.outages = 0  # the tracker's own count of outages begun (random ones)

    def read(self) -> StarTrackerReading:
        p = self.plant
        if p.t + 1e-9 < self.next_t:
            return self.last
        self.next_t = p.t + 1.0 / self.RATE_HZ
        wx, wy, wz = p.angular_rate
        if self.rng.random() < self.OUTAGE_CHANCE and p.t >= self.outage_until:
            self.outage_until = p.t + self.OUTAGE_S
            self.outages += 1
        if p.t < self.outage_until or wx * wx + wy * wy + wz * wz > self.MAX_RATE_RAD_S**2:
            self.last = StarTrackerReading(p.t, self.last.quaternion, False)
            return self.last
        g = self.rng.gauss
        ex, ey, ez = g(0.0, self.CROSS_NOISE_RAD), g(0.0, self.CROSS_NOISE_RAD), g(0.0, self.BORESIGHT_NOISE_RAD)
        # The measured attitude: the true one turned by the small error, as the tracker's
        # quaternion output (the conversion happens here, at the device).
        q = quaternion_of(mat_mul(p.body.matrix, rotation_vector_matrix((ex, ey, ez))))
        self.last = StarTrackerReading(p.t, _F32X4.unpack(_F32X4.pack(*q)), True)
        return self.last


class EmulatedRcs:
    """A vehicle's sixteen reaction control thrusters (the lander's ``hil.emulator.rigid_body.RCS_LAYOUT``,
    the ascender's ``hil.emulator.ascender_body.ASCENDER_RCS_LAYOUT``)."""

    MAX_ON_MS = 1_000

    def __init__(self, plant: AttitudeVehicle) -> None:
        self.plant = plant

    def set_enabled(self, on: bool) -> None:
        self.plant.attitude_enabled = on

    def fire(self, on_ms: tuple[int, ...]) -> None:
        if len(on_ms) != RCS_THRUSTERS:
            raise ValueError(f"{len(on_ms)} on-times for {RCS_THRUSTERS} thrusters")
        if any(not isinstance(ms, int) or not 0 <= ms <= self.MAX_ON_MS for ms in on_ms):
            raise ValueError(f"on-times must be whole milliseconds in 0..{self.MAX_ON_MS}")
        self.plant.fire_rcs(tuple(ms / 1000.0 for ms in on_ms))

    def read(self) -> RcsStatus:
        p = self.plant
        return _rcs_status(p.t, p.attitude_enabled, p.rcs_pulses, True)
