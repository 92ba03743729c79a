"""Bosch BMP280 barometric pressure and temperature sensor on I2C.

From the BMP280 datasheet (BST-BMP280-DS001): chip id register 0xD0 reads 0x58; the trimming
parameters dig_T1..dig_P9 are little-endian at 0x88..0x9F (T1 and P1 unsigned, the rest signed);
ctrl_meas 0xF4 holds osrs_t[7:5], osrs_p[4:2], mode[1:0]; config 0xF5 the standby time and IIR
filter; the results are 20-bit values at 0xF7..0xFC (press msb, lsb, xlsb, temp msb, lsb, xlsb).
A channel that has not been measured reads 0x80000. Compensation uses the datasheet's integer
formulas (section 3.11.3: 32-bit temperature, 64-bit pressure), giving 0.01 deg C and Q24.8 Pa.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from hil.pi.i2c import I2cBus

CHIP_ID = 0xD0
CHIP_ID_VALUE = 0x58
RESET = 0xE0
STATUS = 0xF3
CTRL_MEAS = 0xF4
CONFIG = 0xF5
PRESS_MSB = 0xF7
CALIBRATION = 0x88
CALIBRATION_LENGTH = 24
SKIPPED = 0x80000
MODE_NORMAL = 0b11
OVERSAMPLING_X1 = 0b001
OVERSAMPLING_X4 = 0b011
# Temperature x1, pressure x4, normal mode: the datasheet's "low power" weather-station setting.
CTRL_MEAS_VALUE = (OVERSAMPLING_X1 << 5) | (OVERSAMPLING_X4 << 2) | MODE_NORMAL
# Standby 62.5 ms between measurements, IIR filter off: fresh values at ~16 Hz.
CONFIG_VALUE = 0b001 << 5


@dataclass(frozen=True, slots=True)
class Calibration:
    t1: int
    t2: int
    t3: int
    p1: int
    p2: int
    p3: int
    p4: int
    p5: int
    p6: int
    p7: int
    p8: int
    p9: int

    @classmethod
    def unpack(cls, raw: bytes | list[int]) -> Calibration:
        return cls(*struct.unpack("<HhhHhhhhhhhh", bytes(raw)))

    def pack(self) -> bytes:
        return struct.pack("<HhhHhhhhhhhh", self.t1, self.t2, self.t3, self.p1, self.p2, self.p3, self.p4,
                           self.p5, self.p6, self.p7, self.p8, self.p9)


#: The worked example of the datasheet (section 3.12), also used by the simulated chip.
DATASHEET_CALIBRATION = Calibration(27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000)


def _c_divide(numerator: int, denominator: int) -> int:
    """C integer division: truncates towards zero (Python's // floors)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def compensate_temperature(adc_t: int, cal: Calibration) -> tuple[int, int]:
    """(temperature in 0.01 deg C, t_fine) from the raw 20-bit temperature."""
    var1 = (((adc_t >> 3) - (cal.t1 << 1)) * cal.t2) >> 11
    var2 = (((((adc_t >> 4) - cal.t1) * ((adc_t >> 4) - cal.t1)) >> 12) * cal.t3) >> 14
    t_fine = var1 + var2
    return (t_fine * 5 + 128) >> 8, t_fine


def compensate_pressure(adc_p: int, t_fine: int, cal: Calibration) -> int:
    """Pressure in Pa as Q24.8 (divide by 256), from the raw 20-bit pressure; 0 if undefined."""
    var1 = t_fine - 128000
    var2 = var1 * var1 * cal.p6
    var2 = var2 + ((var1 * cal.p5) << 17)
    var2 = var2 + (cal.p4 << 35)
    var1 = ((var1 * var1 * cal.p3) >> 8) + ((var1 * cal.p2) << 12)
    var1 = (((1 << 47) + var1) * cal.p1) >> 33
    if var1 == 0:
        return 0  # avoids a division by zero, as the datasheet does
    p = 1048576 - adc_p
    p = _c_divide(((p << 31) - var2) * 3125, var1)
    var1 = (cal.p9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (cal.p8 * p) >> 19
    return ((p + var1 + var2) >> 8) + (cal.p7 << 4)


@dataclass(frozen=True, slots=True)
class BarometerReading:
    t: float
    pressure_pa: float
    temperature_c: float
    valid: bool


class Bmp280:
    """One chip: identification, calibration, configuration and a burst read of both channels."""

    def __init__(self, bus: I2cBus, address: int = 0x76) -> None:
        self.bus = bus
        self.address = address
        self.calibration: Calibration | None = None

    def chip_id(self) -> int:
        return self.bus.read_byte_data(self.address, CHIP_ID)

    def read_calibration(self) -> Calibration:
        raw = self.bus.read_i2c_block_data(self.address, CALIBRATION, CALIBRATION_LENGTH)
        if len(raw) != CALIBRATION_LENGTH:
            raise OSError(f"short read of BMP280 calibration: {len(raw)} of {CALIBRATION_LENGTH} octets")
        self.calibration = Calibration.unpack(raw)
        return self.calibration

    def configure(self) -> None:
        # config is written first: the datasheet says writes to it in normal mode may be ignored.
        self.bus.write_byte_data(self.address, CONFIG, CONFIG_VALUE)
        self.bus.write_byte_data(self.address, CTRL_MEAS, CTRL_MEAS_VALUE)

    def read_raw(self) -> tuple[int, int]:
        """(adc_p, adc_t), both 20-bit."""
        raw = self.bus.read_i2c_block_data(self.address, PRESS_MSB, 6)
        if len(raw) != 6:
            raise OSError(f"short read from BMP280: {len(raw)} of 6 octets")
        adc_p = (raw[0] << 12) | (raw[1] << 4) | (raw[2] >> 4)
        adc_t = (raw[3] << 12) | (raw[4] << 4) | (raw[5] >> 4)
        return adc_p, adc_t

    def measure(self) -> tuple[float, float] | None:
        """(pressure Pa, temperature deg C), or None while the chip has no measurement yet."""
        calibration = self.calibration or self.read_calibration()
        adc_p, adc_t = self.read_raw()
        if adc_p == SKIPPED or adc_t == SKIPPED:
            return None
        centi_c, t_fine = compensate_temperature(adc_t, calibration)
        q24_8 = compensate_pressure(adc_p, t_fine, calibration)
        if q24_8 == 0:
            return None
        return q24_8 / 256.0, centi_c / 100.0


class PiBarometer:
    """A BMP280 whose read never raises: an I2C error or a missing measurement gives ``valid=False``."""

    def __init__(self, bus: I2cBus, address: int = 0x76, clock: Callable[[], float] = time.monotonic) -> None:
        self.chip = Bmp280(bus, address)
        self.clock = clock
        self.errors = 0
        self.last_error = ""

    def start(self) -> None:
        """Check the chip id, read the calibration, start normal mode (raises OSError or ValueError)."""
        identity = self.chip.chip_id()
        if identity != CHIP_ID_VALUE:
            raise ValueError(f"chip id at 0x{self.chip.address:02X} is 0x{identity:02X}, not 0x{CHIP_ID_VALUE:02X}")
        self.chip.read_calibration()
        self.chip.configure()

    def read(self) -> BarometerReading:
        t = self.clock()
        try:
            values = self.chip.measure()
        except OSError as error:
            self.errors += 1
            self.last_error = str(error)
            return BarometerReading(t, 0.0, 0.0, False)
        if values is None:
            return BarometerReading(t, 0.0, 0.0, False)
        return BarometerReading(t, values[0], values[1], True)
