"""Building the bench from its configuration: gpiozero mock pins and register-map I2C buses."""

from __future__ import annotations

import errno
from dataclasses import replace
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from fsw.clock import Clock
from fsw.devices.platform import (
    ABSENT,
    DEGRADED,
    DISABLED,
    EMULATED,
    OK,
    PlatformRequest,
    UnknownPlatform,
    load_platform,
)
from hil.config import parse_config
from hil.pi.devices import REPROBE_EVERY_CHECKS, build_devices
from hil.pi.simulated import Bmp280Model, Mpu6050Model, SimulatedI2cBus

BENCH = """
[outputs.main_valve]
kind = "valve"
mode = "real"
pin = 17
[outputs.motor_enable]
kind = "motor"
mode = "real"
pin = 24
active_high = false
[outputs.status_led]
kind = "led"
mode = "absent"
pin = 25
[inputs.arm_plug]
kind = "arm_plug"
mode = "real"
pin = 13
[imu]
mode = "real"
address = 0x68
[barometer]
mode = "real"
address = 0x76
"""


def test_gpio_lines_on_mock_pins(mock_pins: MockFactory) -> None:
    devices, _ = build_devices(parse_config(BENCH), open_bus=lambda n: SimulatedI2cBus())
    try:
        valve, motor = devices.outputs["main_valve"], devices.outputs["motor_enable"]
        assert not valve.is_on and mock_pins.pin(17).state == 0  # de-energised at start
        assert mock_pins.pin(24).state == 1  # active-low relay input held high = off
        valve.on()
        motor.on()
        assert mock_pins.pin(17).state == 1 and mock_pins.pin(24).state == 0
        assert valve.line_level() == 1 and motor.is_on
        plug = devices.inputs["arm_plug"]
        assert not plug.is_active
        mock_pins.pin(13).drive_low()  # plug closes the line to ground against the pull-up
        assert plug.is_active
        assert devices.states["status_led"] == DISABLED and "status_led" not in devices.outputs
    finally:
        devices.close()
    assert mock_pins.pin(17).state == 0  # closing leaves enables off


def test_absent_i2c_chips_are_reported_not_raised(mock_pins: MockFactory) -> None:
    devices, reports = build_devices(parse_config(BENCH), open_bus=lambda n: SimulatedI2cBus())
    assert {(r.device, r.state) for r in reports} == {("imu", ABSENT), ("barometer", ABSENT)}
    assert all("0x68" in r.reason or "0x76" in r.reason for r in reports)
    assert all("Remote I/O" in r.reason for r in reports)
    assert devices.imu is None and devices.barometer is None
    assert devices.status()["main_valve"] == OK
    devices.close()


def test_missing_i2c_bus_is_reported(mock_pins: MockFactory) -> None:
    def no_bus(number: int) -> SimulatedI2cBus:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    devices, reports = build_devices(parse_config(BENCH), open_bus=no_bus)
    assert [r.reason for r in reports if r.device == "imu"] == ["bus 1 address 0x68: cannot open /dev/i2c-1: No such "
                                                                 "file or directory"]
    devices.close()


def test_present_chips_then_a_loose_wire_degrades_and_recovers(mock_pins: MockFactory) -> None:
    bus = SimulatedI2cBus({0x68: Mpu6050Model(), 0x76: Bmp280Model()})
    devices, reports = build_devices(parse_config(BENCH), open_bus=lambda n: bus)
    assert reports == []
    assert devices.states["imu"] == devices.states["barometer"] == OK
    assert devices.check() == []
    bus.detach(0x68)
    changes = devices.check()
    assert [(c.device, c.state) for c in changes] == [("imu", DEGRADED)]
    assert devices.check() == []  # reported once, not every cycle
    bus.attach(0x68, Mpu6050Model(accel=(9.8, 0.0, 0.0)))
    bus.chips[0x68].registers[0x6B] = 0x01  # reattached awake
    assert [(c.device, c.state) for c in devices.check()] == [("imu", OK)]
    devices.close()


def test_pin_in_use_makes_only_that_line_absent(mock_pins: MockFactory) -> None:
    text = BENCH.replace("[inputs.arm_plug]", "[inputs.other]\nkind = 'limit_switch'\nmode = 'real'\npin = 6\n"
                         "[inputs.arm_plug]")
    from gpiozero import OutputDevice

    squatter = OutputDevice(6)  # another program holds the line
    try:
        devices, reports = build_devices(parse_config(text), open_bus=lambda n: SimulatedI2cBus())
        assert ("other", ABSENT) in {(r.device, r.state) for r in reports}
        assert "GPIOPinInUse" in next(r.reason for r in reports if r.device == "other")
        assert devices.states["arm_plug"] == OK
        devices.close()
    finally:
        squatter.close()


def test_emulated_devices_run_the_real_drivers_on_stand_ins() -> None:
    text = """
[outputs.pyro]
kind = "pyro"
mode = "emulated"
pin = 22
readback_pin = 26
[imu]
mode = "emulated"
addresses = [0x68, 0x69]
[barometer]
mode = "emulated"
[watchdog]
mode = "emulated"
"""
    devices, reports = build_devices(parse_config(text), open_bus=lambda n: pytest.fail("no real bus wanted"))
    assert reports == []
    assert {name: devices.states[name] for name in ("pyro", "imu", "barometer", "watchdog")} == dict.fromkeys(
        ("pyro", "imu", "barometer", "watchdog"), EMULATED)
    assert devices.imu is not None and devices.imu.read().valid
    assert devices.barometer is not None and devices.barometer.read().pressure_pa == pytest.approx(101325.0, abs=1)
    devices.close()


def test_plant_port_missing_and_watchdog_missing_are_reported(tmp_path: Path) -> None:
    text = f"""
[plant]
mode = "real"
port = "{tmp_path / 'ttyUSB9'}"
[watchdog]
mode = "real"
device = "{tmp_path / 'watchdog'}"
"""
    devices, reports = build_devices(parse_config(text))
    assert {(r.device, r.state) for r in reports} == {("plant", ABSENT), ("watchdog", ABSENT)}
    assert devices.plant is not None  # kept: the link retries until the USB-UART appears
    (tmp_path / "watchdog").write_bytes(b"")
    devices, reports = build_devices(parse_config(text))
    assert devices.states["watchdog"] == OK and devices.watchdog_device == str(tmp_path / "watchdog")


def test_platforms_are_found_by_name(tmp_path: Path, mock_pins: MockFactory) -> None:
    request = PlatformRequest(clock=Clock("afap"), store=tmp_path / "store.sqlite", mission=False)
    emulator = load_platform("emulator")(request)
    assert emulator.devices.status() == {} and emulator.reports == [] and emulator.mission is None
    path = tmp_path / "bench.toml"
    path.write_text("[imu]\nmode = 'emulated'\n")
    pi = load_platform("pi")(replace(request, config=path))
    assert pi.devices.status()["imu"] == EMULATED and pi.reports == []
    pi.devices.close()
    with pytest.raises(UnknownPlatform) as refused:
        load_platform("arduino")
    assert refused.value.known == ["emulator", "pi"] and "emulator, pi" in str(refused.value)


def test_chip_missing_at_start_up_is_found_by_a_later_probe(mock_pins: MockFactory) -> None:
    bus = SimulatedI2cBus()
    devices, reports = build_devices(parse_config(BENCH), open_bus=lambda n: bus)
    assert {r.device for r in reports} == {"imu", "barometer"}
    bus.attach(0x76, Bmp280Model())  # plugged in after boot
    changes = [change for _ in range(REPROBE_EVERY_CHECKS) for change in devices.check()]
    assert [(c.device, c.state, c.reason) for c in changes] == [("barometer", OK, "found")]
    assert devices.barometer is not None and devices.barometer.read().valid
    assert devices.states["imu"] == ABSENT
    devices.close()


async def test_plant_link_state_follows_the_port(tmp_path: Path) -> None:
    config = parse_config("[plant]\nmode = 'real'\nport = 'loop://'\n")
    devices, reports = build_devices(config)
    assert reports == [] and devices.states["plant"] == OK
    assert [(c.device, c.state) for c in devices.check()] == [("plant", DEGRADED)]  # not opened yet
    await devices.start()
    assert [(c.device, c.state) for c in devices.check()] == [("plant", OK)]
    await devices.stop()
    assert [(c.device, c.state) for c in devices.check()] == [("plant", DEGRADED)]


def test_no_pin_factory_at_all_makes_every_line_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpiozero import Device
    from gpiozero.exc import BadPinFactory

    def no_factory() -> None:
        raise BadPinFactory("Unable to load any default pin factory!")

    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setattr(Device, "_default_pin_factory", staticmethod(no_factory))
    devices, reports = build_devices(parse_config(BENCH), open_bus=lambda n: SimulatedI2cBus())
    lines = {r.device: r.reason for r in reports if r.device not in ("imu", "barometer")}
    assert set(lines) == {"main_valve", "motor_enable", "arm_plug"}
    assert lines["main_valve"] == "BCM 17: BadPinFactory: Unable to load any default pin factory!"
    assert devices.outputs == {} and devices.inputs == {}
    devices.close()
