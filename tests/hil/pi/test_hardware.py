"""On a Raspberry Pi only (skipped elsewhere by conftest.py): the real pin factory and I2C bus."""

from __future__ import annotations

import os

import pytest

from hil.pi.i2c import open_smbus

pytestmark = pytest.mark.hardware


def test_default_pin_factory_loads_on_the_pi() -> None:
    if os.environ.get("GPIOZERO_PIN_FACTORY") == "mock":
        pytest.skip("GPIOZERO_PIN_FACTORY=mock overrides the Pi's own factory")
    from gpiozero import Device, OutputDevice

    line = OutputDevice(21, initial_value=False)  # BCM 21 is unused by the bench wiring
    try:
        line.on()
        assert line.pin.state == 1
        line.off()
        assert line.pin.state == 0
    finally:
        line.close()
    assert type(Device.pin_factory).__name__ != "MockFactory"


def test_i2c_bus_1_is_enabled() -> None:
    bus = open_smbus(1)  # FileNotFoundError when dtparam=i2c_arm=on is missing
    bus.close()  # type: ignore[attr-defined]

