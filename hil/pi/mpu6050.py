"""InvenSense MPU-6050 accelerometer and gyroscope on I2C, as the lander's ``Imu``.

Register map (MPU-6000/6050 Register Map rev 4.2): WHO_AM_I 0x75 reads 0x68 whatever AD0 is;
PWR_MGMT_1 0x6B resets to 0x40 (SLEEP) and is written 0x01 (awake, clock from the X gyro PLL);
PWR_MGMT_2 0x6C bits 5..3 put the accelerometer axes in standby; GYRO_CONFIG 0x1B and
ACCEL_CONFIG 0x1C are written 0 for the default ranges; ACCEL_XOUT_H 0x3B starts 14 big-endian
octets: accel x, y, z, temperature, gyro x, y, z.

Scale at the default ranges: +-2 g is 16384 LSB/g, +-250 deg/s is 131 LSB/(deg/s); temperature is
raw / 340 + 36.53 deg C.

Mounting: the chip's X axis is the body x (thrust) axis, Y the body y, Z the body z. A MEMS IMU has
no attitude of its own; on the bench ``pitch`` and ``yaw`` are the tilt of the thrust axis read
from gravity, which holds while the board is not being accelerated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fsw.devices.descent import ImuReading
from hil.pi.i2c import I2cBus, signed16

WHO_AM_I = 0x75
WHO_AM_I_VALUE = 0x68
PWR_MGMT_1 = 0x6B
PWR_MGMT_2 = 0x6C
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
ACCEL_XOUT_H = 0x3B
GYRO_XOUT_H = 0x43
SLEEP_BIT = 0x40
CLOCK_PLL_XGYRO = 0x01
ACCEL_STANDBY_BITS = 0x38  # STBY_XA | STBY_YA | STBY_ZA

STANDARD_GRAVITY = 9.80665
ACCEL_LSB_PER_G = 16384.0
GYRO_LSB_PER_DEG_S = 131.0
ACCEL_SCALE = STANDARD_GRAVITY / ACCEL_LSB_PER_G  # m/s^2 per LSB
GYRO_SCALE = math.radians(1.0) / GYRO_LSB_PER_DEG_S  # rad/s per LSB


@dataclass(frozen=True, slots=True)
class Mpu6050Sample:
    accel: tuple[float, float, float]  # m/s^2
    gyro: tuple[float, float, float]  # rad/s
    temperature_c: float


class Mpu6050:
    """One chip: identification, configuration and a burst read of all sensors."""

    def __init__(self, bus: I2cBus, address: int = 0x68) -> None:
        self.bus = bus
        self.address = address

    def who_am_i(self) -> int:
        return self.bus.read_byte_data(self.address, WHO_AM_I)

    def configure(self) -> None:
        """Wake up with the PLL clock and select the +-2 g / +-250 deg/s ranges."""
        self.bus.write_byte_data(self.address, PWR_MGMT_1, CLOCK_PLL_XGYRO)
        self.bus.write_byte_data(self.address, GYRO_CONFIG, 0x00)
        self.bus.write_byte_data(self.address, ACCEL_CONFIG, 0x00)

    def set_sleep(self, asleep: bool) -> None:
        self.bus.write_byte_data(self.address, PWR_MGMT_1, (SLEEP_BIT if asleep else 0) | CLOCK_PLL_XGYRO)

    def set_accelerometer(self, on: bool) -> None:
        value = self.bus.read_byte_data(self.address, PWR_MGMT_2)
        value = value & ~ACCEL_STANDBY_BITS if on else value | ACCEL_STANDBY_BITS
        self.bus.write_byte_data(self.address, PWR_MGMT_2, value & 0xFF)

    def sample(self) -> Mpu6050Sample:
        # One burst, so the seven values come from the same sampling instant.
        raw = self.bus.read_i2c_block_data(self.address, ACCEL_XOUT_H, 14)
        if len(raw) != 14:
            raise OSError(f"short read from MPU-6050: {len(raw)} of 14 octets")
        words = [signed16(raw[i], raw[i + 1]) for i in range(0, 14, 2)]
        ax, ay, az, temperature, gx, gy, gz = words
        return Mpu6050Sample(
            (ax * ACCEL_SCALE, ay * ACCEL_SCALE, az * ACCEL_SCALE),
            (gx * GYRO_SCALE, gy * GYRO_SCALE, gz * GYRO_SCALE),
            temperature / 340.0 + 36.53,
        )


def tilt_from_gravity(accel: tuple[float, float, float]) -> tuple[float, float]:
    """(pitch, yaw) of the body x axis from a static accelerometer reading (see module notes)."""
    ax, ay, az = accel
    return math.atan2(ay, ax), math.atan2(az, math.hypot(ax, ay))


class PiImu:
    """``fsw.devices.descent.Imu`` over one or two MPU-6050 (unit 0 at the first address).

    An I2C error never raises out of :meth:`read`: the reading comes back with ``valid=False`` and
    ``errors`` counts it, so a loose wire degrades the sensor instead of the flight software.
    """

    def __init__(self, bus: I2cBus, addresses: tuple[int, ...] = (0x68,),
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not addresses:
            raise ValueError("an IMU needs at least one address")
        self.chips = [Mpu6050(bus, address) for address in addresses]
        self.clock = clock
        self.unit = 0
        self.powered = True
        self.accelerometer_on = True
        self.errors = 0
        self.last_error = ""

    @property
    def chip(self) -> Mpu6050:
        return self.chips[self.unit]

    def start(self) -> None:
        """Check the identity of every unit and configure it (raises OSError or ValueError)."""
        for chip in self.chips:
            identity = chip.who_am_i()
            if identity != WHO_AM_I_VALUE:
                raise ValueError(f"WHO_AM_I at 0x{chip.address:02X} is 0x{identity:02X}, not 0x{WHO_AM_I_VALUE:02X}")
            chip.configure()

    def set_power(self, on: bool) -> None:
        self.powered = on
        self._guarded(lambda: self.chip.set_sleep(not on))

    def set_accelerometer(self, on: bool) -> None:
        self.accelerometer_on = on
        self._guarded(lambda: self.chip.set_accelerometer(on))

    def select_unit(self, unit: int) -> None:
        if not 0 <= unit < len(self.chips):
            raise ValueError(f"no IMU unit {unit} (configured: {len(self.chips)})")
        self.unit = unit

    def read(self) -> ImuReading:
        t = self.clock()
        if not self.powered:
            return self._invalid(t)
        try:
            sample = self.chip.sample()
        except OSError as error:
            self._count(error)
            return self._invalid(t)
        pitch, yaw = tilt_from_gravity(sample.accel)
        force = sample.accel if self.accelerometer_on else (0.0, 0.0, 0.0)
        return ImuReading(t, force, sample.gyro, pitch, yaw, self.unit, self.accelerometer_on, True)

    def _invalid(self, t: float) -> ImuReading:
        return ImuReading(t, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0, 0.0, self.unit, self.accelerometer_on, False)

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError as error:
            self._count(error)

    def _count(self, error: OSError) -> None:
        self.errors += 1
        self.last_error = str(error)
