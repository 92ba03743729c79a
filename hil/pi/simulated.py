"""Register-level stand-ins for the bench I2C chips, behind the same three calls as smbus2.

An ``emulated`` I2C device in the bench configuration is one of these on a :class:`SimulatedI2cBus`:
the real driver runs against it unchanged, register by register. An address nobody answers raises
``OSError(121, "Remote I/O error")`` exactly as the kernel's i2c-dev does for a missing chip.
"""

from __future__ import annotations

import errno
import math
import os

from hil.pi import bmp280, mpu6050
from hil.pi.bmp280 import DATASHEET_CALIBRATION, Calibration


class RegisterChip:
    """256 octet registers; block reads auto-increment the address like the real chips do."""

    def __init__(self) -> None:
        self.registers = bytearray(256)
        self.writes: list[tuple[int, int]] = []

    def read(self, register: int) -> int:
        return self.registers[register & 0xFF]

    def write(self, register: int, value: int) -> None:
        self.writes.append((register, value))
        self.registers[register & 0xFF] = value & 0xFF


def _remote_io_error() -> OSError:
    return OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))


class SimulatedI2cBus:
    def __init__(self, chips: dict[int, RegisterChip] | None = None) -> None:
        self.chips: dict[int, RegisterChip] = dict(chips or {})
        self.transactions = 0

    def attach(self, address: int, chip: RegisterChip) -> RegisterChip:
        self.chips[address] = chip
        return chip

    def detach(self, address: int) -> None:
        """The chip stops answering (a wire came loose)."""
        self.chips.pop(address, None)

    def _chip(self, address: int) -> RegisterChip:
        self.transactions += 1
        chip = self.chips.get(address)
        if chip is None:
            raise _remote_io_error()
        return chip

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        return self._chip(i2c_addr).read(register)

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self._chip(i2c_addr).write(register, value)

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        chip = self._chip(i2c_addr)
        return [chip.read(register + offset) for offset in range(length)]

    def close(self) -> None:
        pass


def _to_raw16(value: float) -> int:
    return max(-0x8000, min(0x7FFF, round(value))) & 0xFFFF


class Mpu6050Model(RegisterChip):
    """An MPU-6050 at rest, or under whatever specific force and rate the test sets (SI units)."""

    def __init__(self, accel: tuple[float, float, float] = (mpu6050.STANDARD_GRAVITY, 0.0, 0.0),
                 gyro: tuple[float, float, float] = (0.0, 0.0, 0.0), temperature_c: float = 25.0) -> None:
        super().__init__()
        self.registers[mpu6050.WHO_AM_I] = mpu6050.WHO_AM_I_VALUE
        self.registers[mpu6050.PWR_MGMT_1] = mpu6050.SLEEP_BIT  # power-on reset value
        self.accel, self.gyro, self.temperature_c = accel, gyro, temperature_c

    def set_motion(self, accel: tuple[float, float, float], gyro: tuple[float, float, float]) -> None:
        self.accel, self.gyro = accel, gyro

    def read(self, register: int) -> int:
        if mpu6050.ACCEL_XOUT_H <= register < mpu6050.ACCEL_XOUT_H + 14:
            return self._data()[register - mpu6050.ACCEL_XOUT_H]
        return super().read(register)

    def _data(self) -> bytes:
        if self.registers[mpu6050.PWR_MGMT_1] & mpu6050.SLEEP_BIT:
            return bytes(14)  # asleep since reset: nothing measured
        accel_off = self.registers[mpu6050.PWR_MGMT_2] & mpu6050.ACCEL_STANDBY_BITS == mpu6050.ACCEL_STANDBY_BITS
        accel = (0.0, 0.0, 0.0) if accel_off else self.accel
        words = [a / mpu6050.ACCEL_SCALE for a in accel]
        words.append((self.temperature_c - 36.53) * 340.0)
        words += [w / mpu6050.GYRO_SCALE for w in self.gyro]
        return b"".join(_to_raw16(word).to_bytes(2, "big") for word in words)


class Bmp280Model(RegisterChip):
    """A BMP280 with the datasheet's trimming values, measuring the pressure and temperature set."""

    def __init__(self, pressure_pa: float = 101325.0, temperature_c: float = 20.0,
                 calibration: Calibration = DATASHEET_CALIBRATION) -> None:
        super().__init__()
        self.registers[bmp280.CHIP_ID] = bmp280.CHIP_ID_VALUE
        raw = calibration.pack()
        self.registers[bmp280.CALIBRATION:bmp280.CALIBRATION + len(raw)] = raw
        self.calibration = calibration
        self.pressure_pa, self.temperature_c = pressure_pa, temperature_c

    def read(self, register: int) -> int:
        if bmp280.PRESS_MSB <= register < bmp280.PRESS_MSB + 6:
            return self._data()[register - bmp280.PRESS_MSB]
        return super().read(register)

    def write(self, register: int, value: int) -> None:
        if register == bmp280.RESET and value == 0xB6:
            self.registers[bmp280.CTRL_MEAS] = 0
        super().write(register, value)

    def raw_values(self) -> tuple[int, int]:
        """(adc_p, adc_t) that the compensation turns into the set values (found by bisection)."""
        adc_t = _bisect(lambda adc: bmp280.compensate_temperature(adc, self.calibration)[0] / 100.0,
                        self.temperature_c, increasing=True)
        _, t_fine = bmp280.compensate_temperature(adc_t, self.calibration)
        adc_p = _bisect(lambda adc: bmp280.compensate_pressure(adc, t_fine, self.calibration) / 256.0,
                        self.pressure_pa, increasing=False)
        return adc_p, adc_t

    def _data(self) -> bytes:
        if self.registers[bmp280.CTRL_MEAS] & 0b11 == 0:  # sleep mode since reset: nothing measured
            adc_p = adc_t = bmp280.SKIPPED
        else:
            adc_p, adc_t = self.raw_values()
        return bytes([adc_p >> 12, (adc_p >> 4) & 0xFF, (adc_p & 0xF) << 4,
                      adc_t >> 12, (adc_t >> 4) & 0xFF, (adc_t & 0xF) << 4])


def _bisect(function: object, target: float, increasing: bool) -> int:
    low, high = 1, (1 << 20) - 1
    assert callable(function)
    while low < high:
        middle = (low + high) // 2
        value = function(middle)
        below = value < target if increasing else value > target
        if below:
            low = middle + 1
        else:
            high = middle
    if not math.isfinite(function(low)):
        raise ValueError("target outside the sensor's range")
    return low
