"""Device status: start-up reports become events, a failing sensor degrades and recovers, HK counts states."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from fsw.clock import Clock
from fsw.services.devices import DeviceStatusService
from fsw.topology import open_platform
from fsw.vehicle import FlightConfig
from hil.config import parse_config
from hil.pi.devices import build_devices
from hil.pi.simulated import Mpu6050Model, SimulatedI2cBus
from tests.fsw.harness import Harness

BENCH = """
[outputs.status_led]
kind = "led"
mode = "real"
pin = 25
[imu]
mode = "real"
[barometer]
mode = "real"
[watchdog]
mode = "absent"
"""


@pytest.fixture
def mock_pins() -> MockFactory:
    previous, Device.pin_factory = Device.pin_factory, MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = previous


def test_absent_degraded_recovered_events_and_housekeeping(tmp_path: Path, mock_pins: MockFactory) -> None:
    bus = SimulatedI2cBus({0x68: Mpu6050Model()})  # IMU fitted, barometer missing
    devices, reports = build_devices(parse_config(BENCH), open_bus=lambda n: bus)
    h = Harness(tmp_path / "s.db")
    h.vehicle.add(DeviceStatusService(h.vehicle.ctx, devices, reports))

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(1.5)
        bus.detach(0x68)
        await h.clock.sleep(2.0)
        fitted = Mpu6050Model()
        fitted.registers[0x6B] = 0x01
        bus.attach(0x68, fitted)
        await h.clock.sleep(2.0)

    h.run(scenario)
    device_events = [(name, args) for name, args in h.events() if name.startswith("DEVICE_")]
    assert device_events[0] == ("DEVICE_ABSENT", {"device": "barometer",
                                                  "reason": "bus 1 address 0x76: no acknowledge (Remote I/O error)"})
    assert [(name, args["device"]) for name, args in device_events[1:]] == [
        ("DEVICE_DEGRADED", "imu"), ("DEVICE_RECOVERED", "imu")]
    first = h.hk(13)[0]
    assert first["devices_backend"] == "pi"
    assert (first["devices_configured"], first["devices_ok"], first["devices_absent"]) == (5, 2, 1)
    assert "barometer=ABSENT" in first["device_states"] and "watchdog=DISABLED" in first["device_states"]
    assert any(values["devices_degraded"] == 1 for values in h.hk(13))
    assert h.hk(13)[-1]["devices_degraded"] == 0
    assert mock_pins.pin(25).state == 0  # stop closed the outputs de-energised


def test_emulator_platform_has_no_devices_and_a_bad_config_or_name_stops_the_start(tmp_path: Path) -> None:
    platform = open_platform(FlightConfig(port="loop://", store=tmp_path / "s.db", mission=False), Clock("afap"))
    assert platform.devices.status() == {} and platform.reports == [] and platform.mission is None
    bad = tmp_path / "bench.toml"
    bad.write_text("[imu]\nmode = 'maybe'\n")
    with pytest.raises(SystemExit, match=r"imu\.mode"):
        open_platform(FlightConfig(port="loop://", hal="pi", hal_config=bad), Clock("afap"))
    with pytest.raises(SystemExit, match=r"unknown platform 'arduino' \(known: emulator, pi\)"):
        open_platform(FlightConfig(port="loop://", hal="arduino"), Clock("afap"))
