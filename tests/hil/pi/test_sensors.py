"""MPU-6050 and BMP280 drivers against register maps at the smbus2 boundary."""

from __future__ import annotations

import errno
import math

import pytest

from fsw.devices.descent import Imu
from hil.pi import bmp280, mpu6050
from hil.pi.bmp280 import DATASHEET_CALIBRATION, Bmp280, PiBarometer, compensate_pressure, compensate_temperature
from hil.pi.mpu6050 import PiImu
from hil.pi.simulated import Bmp280Model, Mpu6050Model, RegisterChip, SimulatedI2cBus


def raw_mpu(words: list[int]) -> RegisterChip:
    """An MPU-6050 register file poked by hand, independent of the model's own conversions."""
    chip = RegisterChip()
    chip.registers[0x75] = 0x68
    for index, word in enumerate(words):
        chip.registers[0x3B + 2 * index:0x3B + 2 * index + 2] = (word & 0xFFFF).to_bytes(2, "big")
    return chip


def test_absent_address_raises_remote_io_error_like_the_kernel() -> None:
    bus = SimulatedI2cBus()
    with pytest.raises(OSError) as caught:
        bus.read_byte_data(0x68, 0x75)
    assert caught.value.errno == errno.EREMOTEIO == 121


def test_mpu6050_start_checks_identity_and_wakes_with_default_ranges() -> None:
    chip = Mpu6050Model()
    imu = PiImu(SimulatedI2cBus({0x68: chip}), (0x68,), clock=lambda: 12.5)
    imu.start()
    assert chip.writes == [(0x6B, 0x01), (0x1B, 0x00), (0x1C, 0x00)]
    assert isinstance(imu, Imu)


def test_mpu6050_scales_raw_counts_to_si() -> None:
    # 1 g on x, -0.5 g on z; 131 counts = 1 deg/s on gyro x, -262 = -2 deg/s on z; temperature 0 -> 36.53 C
    chip = raw_mpu([16384, 0, -8192, 0, 131, 0, -262])
    sample = mpu6050.Mpu6050(SimulatedI2cBus({0x68: chip})).sample()
    assert sample.accel == pytest.approx((9.80665, 0.0, -4.903325))
    assert sample.gyro == pytest.approx((math.radians(1.0), 0.0, math.radians(-2.0)))
    assert sample.temperature_c == pytest.approx(36.53)


def test_imu_reading_and_tilt_from_gravity() -> None:
    tilt = math.radians(30.0)
    g = mpu6050.STANDARD_GRAVITY
    chip = Mpu6050Model(accel=(g * math.cos(tilt), g * math.sin(tilt), 0.0), gyro=(0.1, -0.2, 0.05))
    imu = PiImu(SimulatedI2cBus({0x68: chip}), clock=lambda: 3.0)
    imu.start()
    reading = imu.read()
    assert reading.valid and reading.t == 3.0 and reading.unit == 0
    assert reading.specific_force_body == pytest.approx((g * math.cos(tilt), g * math.sin(tilt), 0.0), abs=2e-3)
    assert reading.angular_rate_body == pytest.approx((0.1, -0.2, 0.05), abs=2e-4)
    assert reading.pitch == pytest.approx(tilt, abs=1e-3) and reading.yaw == pytest.approx(0.0, abs=1e-3)


def test_imu_power_accelerometer_and_unit_selection_drive_registers() -> None:
    unit0, unit1 = Mpu6050Model(), Mpu6050Model(gyro=(0.0, 0.0, 0.3))
    imu = PiImu(SimulatedI2cBus({0x68: unit0, 0x69: unit1}), (0x68, 0x69))
    imu.start()
    imu.set_accelerometer(False)
    assert unit0.registers[0x6C] & 0x38 == 0x38
    reading = imu.read()
    assert reading.valid and not reading.accelerometer_on and reading.specific_force_body == (0.0, 0.0, 0.0)
    imu.set_accelerometer(True)
    assert unit0.registers[0x6C] & 0x38 == 0
    imu.select_unit(1)
    assert imu.read().unit == 1 and imu.read().angular_rate_body[2] == pytest.approx(0.3, abs=1e-3)
    imu.set_power(False)
    assert unit1.registers[0x6B] & 0x40 and not imu.read().valid
    with pytest.raises(ValueError):
        imu.select_unit(2)


def test_imu_i2c_error_gives_invalid_reading_not_an_exception() -> None:
    bus = SimulatedI2cBus({0x68: Mpu6050Model()})
    imu = PiImu(bus)
    imu.start()
    bus.detach(0x68)
    reading = imu.read()
    assert not reading.valid and imu.errors == 1 and "Remote I/O" in imu.last_error
    imu.set_power(True)  # no exception either
    assert imu.errors == 2


def test_imu_refuses_a_chip_that_is_not_an_mpu6050() -> None:
    chip = Mpu6050Model()
    chip.registers[0x75] = 0x70  # an MPU-6500 answers 0x70
    with pytest.raises(ValueError, match="WHO_AM_I"):
        PiImu(SimulatedI2cBus({0x68: chip})).start()


def test_bmp280_datasheet_worked_example() -> None:
    # BMP280 datasheet section 3.12: adc_T 519888 -> 25.08 C, adc_P 415148 -> 100653.27 Pa.
    centi_c, t_fine = compensate_temperature(519888, DATASHEET_CALIBRATION)
    assert (centi_c, t_fine) == (2508, 128422)
    assert compensate_pressure(415148, t_fine, DATASHEET_CALIBRATION) / 256 == pytest.approx(100653.27, abs=0.05)


def test_bmp280_reads_calibration_from_registers_and_configures() -> None:
    chip = Bmp280Model()
    barometer = PiBarometer(SimulatedI2cBus({0x76: chip}), 0x76)
    barometer.start()
    assert barometer.chip.calibration == DATASHEET_CALIBRATION
    assert chip.registers[0xF4] == bmp280.CTRL_MEAS_VALUE == 0b001_011_11
    assert chip.writes[-1] == (0xF4, bmp280.CTRL_MEAS_VALUE)


def test_bmp280_raw_data_registers_decode_to_the_datasheet_example() -> None:
    chip = RegisterChip()
    chip.registers[0xD0] = 0x58
    chip.registers[0x88:0xA0] = DATASHEET_CALIBRATION.pack()
    adc_p, adc_t = 415148, 519888
    chip.registers[0xF7:0xFD] = bytes([adc_p >> 12, (adc_p >> 4) & 0xFF, (adc_p & 0xF) << 4,
                                       adc_t >> 12, (adc_t >> 4) & 0xFF, (adc_t & 0xF) << 4])
    pressure, temperature = Bmp280(SimulatedI2cBus({0x77: chip}), 0x77).measure() or (0.0, 0.0)
    assert temperature == 25.08
    assert pressure == pytest.approx(100653.27, abs=0.05)


def test_barometer_reading_tracks_the_chip_and_degrades_on_errors() -> None:
    chip = Bmp280Model(pressure_pa=1500.0, temperature_c=-10.0)
    bus = SimulatedI2cBus({0x76: chip})
    barometer = PiBarometer(bus, clock=lambda: 7.0)
    assert not barometer.read().valid  # still in sleep mode: nothing measured yet (0x80000)
    barometer.start()
    reading = barometer.read()
    assert reading.valid and reading.t == 7.0
    assert reading.pressure_pa == pytest.approx(1500.0, abs=1.0)
    assert reading.temperature_c == pytest.approx(-10.0, abs=0.01)
    bus.detach(0x76)
    assert not barometer.read().valid and barometer.errors == 1


def test_bmp280_wrong_chip_id_is_refused() -> None:
    chip = Bmp280Model()
    chip.registers[0xD0] = 0x60  # a BME280
    with pytest.raises(ValueError, match="chip id"):
        PiBarometer(SimulatedI2cBus({0x76: chip})).start()
