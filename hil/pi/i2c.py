"""The I2C boundary: the three smbus2 calls the drivers use, and how an absent chip shows up.

Linux's i2c-dev driver reports a chip that does not acknowledge its address as ``OSError`` with
errno 121 (EREMOTEIO, "Remote I/O error"); a missing bus (I2C not enabled, not a Pi) is
``FileNotFoundError`` when the bus is opened.
"""

from __future__ import annotations

import errno
from typing import Protocol

EREMOTEIO = errno.EREMOTEIO  # 121 on Linux


class I2cBus(Protocol):
    def read_byte_data(self, i2c_addr: int, register: int) -> int: ...
    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None: ...
    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...


def open_smbus(bus_number: int) -> I2cBus:
    """``/dev/i2c-<bus_number>`` through smbus2 (raises OSError when the bus does not exist)."""
    from smbus2 import SMBus

    return SMBus(bus_number)


def describe_i2c_error(error: OSError) -> str:
    if error.errno == EREMOTEIO:
        return "no acknowledge (Remote I/O error)"
    return f"{error.strerror or error} (errno {error.errno})"


def signed16(high: int, low: int) -> int:
    value = (high << 8) | low
    return value - 0x10000 if value & 0x8000 else value
