"""Build the bench's devices from a :class:`hil.config.BenchConfig`, degrading instead of crashing.

``build_devices(config)`` returns ``(PiDevices, reports)``. A device that cannot be brought up
(no pin factory, pin in use, I2C bus missing, chip not acknowledging or of the wrong kind, plant
port missing, no watchdog device) is left out of the bundle, marked ABSENT, and described in one
:class:`fsw.devices.platform.DeviceReport`; everything else keeps working.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fsw.devices.platform import ABSENT, DEGRADED, DISABLED, EMULATED, OK, DeviceReport
from hil.config import BenchConfig, I2cDeviceConfig
from hil.pi.bmp280 import PiBarometer
from hil.pi.gpio import DigitalInput, DigitalOutput, ReadbackInput
from hil.pi.i2c import I2cBus, describe_i2c_error, open_smbus
from hil.pi.mpu6050 import PiImu
from hil.pi.plant_link import PlantBusClient
from hil.pi.simulated import Bmp280Model, Mpu6050Model, SimulatedI2cBus

BusOpener = Callable[[int], I2cBus]
REPROBE_EVERY_CHECKS = 10  # absent I2C chips are looked for again every 10 s at the 1 Hz check


class BusUnavailableError(OSError):
    """The I2C bus device itself is missing (I2C not enabled, or not a Pi)."""


@dataclass
class PiDevices:
    config: BenchConfig
    outputs: dict[str, DigitalOutput] = field(default_factory=dict)
    inputs: dict[str, DigitalInput] = field(default_factory=dict)
    readbacks: dict[str, ReadbackInput] = field(default_factory=dict)  # by output name
    imu: PiImu | None = None
    barometer: PiBarometer | None = None
    plant: PlantBusClient | None = None
    watchdog_device: str | None = None
    states: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    buses: dict[tuple[str, int], I2cBus] = field(default_factory=dict)
    open_bus: BusOpener = open_smbus
    clock: Callable[[], float] = time.monotonic
    backend: str = "pi"
    checks: int = 0

    async def start(self) -> None:
        if self.plant is not None:
            await self.plant.open()

    async def stop(self) -> None:
        if self.plant is not None:
            await self.plant.close()
        self.close()

    def status(self) -> dict[str, str]:
        return dict(self.states)

    def check(self) -> list[DeviceReport]:
        changes: list[DeviceReport] = []
        self.checks += 1
        for name, sensor in (("imu", self.imu), ("barometer", self.barometer)):
            if sensor is None or self.states.get(name) not in (OK, EMULATED, DEGRADED):
                continue
            errors_before = sensor.errors
            valid = sensor.read().valid
            failing = not valid and sensor.errors > errors_before
            self._transition(name, failing, sensor.last_error, changes)
        if self.checks % REPROBE_EVERY_CHECKS == 0:
            # A chip missing at start-up (loose wire, plugged in late) is looked for again.
            for name in ("imu", "barometer"):
                if self.states.get(name) == ABSENT and self.bring_up_sensor(name) is None:
                    changes.append(DeviceReport(name, self.states[name], "found"))
        if self.plant is not None:
            self._transition("plant", not self.plant.connected, self.plant.detail or "port not open", changes)
        return changes

    def bring_up_sensor(self, name: str) -> str | None:
        """Open, identify and configure the named I2C sensor; None on success, else the reason."""
        config: I2cDeviceConfig = getattr(self.config, name)
        try:
            bus = _bus(self, config, self.open_bus)
            if name == "imu":
                imu = PiImu(bus, config.addresses, self.clock)
                imu.start()
                self.imu = imu
            else:
                barometer = PiBarometer(bus, config.addresses[0], self.clock)
                barometer.start()
                self.barometer = barometer
        except (OSError, ValueError) as error:
            return _i2c_reason(config, error)
        self.states[name] = EMULATED if config.mode == "emulated" else OK
        self.reasons.pop(name, None)
        return None

    def _transition(self, name: str, failing: bool, reason: str, changes: list[DeviceReport]) -> None:
        state = self.states[name]
        healthy_state = EMULATED if self._mode(name) == "emulated" else OK
        if failing and state == healthy_state:
            self.states[name] = DEGRADED
            self.reasons[name] = reason
            changes.append(DeviceReport(name, DEGRADED, reason))
        elif not failing and state in (DEGRADED, ABSENT):
            self.states[name] = healthy_state
            self.reasons.pop(name, None)
            changes.append(DeviceReport(name, healthy_state, "recovered"))

    def _mode(self, name: str) -> str:
        if name in ("imu", "barometer"):
            return getattr(self.config, name).mode
        return "real"

    def close(self) -> None:
        for output in self.outputs.values():
            with contextlib.suppress(Exception):  # shutting down: best effort, every line gets its turn
                output.off()
                output.close()
        lines: list[DigitalInput | ReadbackInput] = [*self.inputs.values(), *self.readbacks.values()]
        for device in lines:
            with contextlib.suppress(Exception):
                device.close()
        for bus in self.buses.values():
            closer = getattr(bus, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()


def build_devices(config: BenchConfig, *, open_bus: BusOpener = open_smbus,
                  clock: Callable[[], float] = time.monotonic) -> tuple[PiDevices, list[DeviceReport]]:
    devices = PiDevices(config, open_bus=open_bus, clock=clock)
    reports: list[DeviceReport] = []

    def absent(name: str, reason: str) -> None:
        devices.states[name] = ABSENT
        devices.reasons[name] = reason
        reports.append(DeviceReport(name, ABSENT, reason))

    mock_factory = _MockFactoryOnDemand()
    for output in config.outputs:
        if output.mode == "absent":
            devices.states[output.name] = DISABLED
            continue
        factory = mock_factory.get() if output.mode == "emulated" else None
        try:
            devices.outputs[output.name] = _quietly(partial(DigitalOutput, output, factory))
            if output.readback_pin is not None:
                devices.readbacks[output.name] = _quietly(partial(ReadbackInput, output.readback_pin, factory))
        except Exception as error:  # gpiozero raises ImportError, ValueError, OSError and its own kinds
            absent(output.name, f"BCM {output.pin}: {_gpio_reason(error)}")
            continue
        devices.states[output.name] = EMULATED if output.mode == "emulated" else OK
    for item in config.inputs:
        if item.mode == "absent":
            devices.states[item.name] = DISABLED
            continue
        factory = mock_factory.get() if item.mode == "emulated" else None
        try:
            devices.inputs[item.name] = _quietly(partial(DigitalInput, item, factory))
        except Exception as error:
            absent(item.name, f"BCM {item.pin}: {_gpio_reason(error)}")
            continue
        devices.states[item.name] = EMULATED if item.mode == "emulated" else OK

    for name in ("imu", "barometer"):
        if getattr(config, name).mode == "absent":
            devices.states[name] = DISABLED
        else:
            reason = devices.bring_up_sensor(name)
            if reason is not None:
                absent(name, reason)

    plant = config.plant
    if plant.mode == "absent":
        devices.states["plant"] = DISABLED
    else:
        # The link itself opens later, inside the event loop, and keeps retrying; a device path
        # that is not there now is worth an event at once.
        devices.plant = PlantBusClient(plant.port, plant.baud)
        if "://" not in plant.port and not os.path.exists(plant.port):
            absent("plant", f"{plant.port} does not exist (USB-UART unplugged?); retrying")
        else:
            devices.states["plant"] = OK

    watchdog = config.watchdog
    if watchdog.mode == "absent":
        devices.states["watchdog"] = DISABLED
    elif watchdog.mode == "emulated":
        devices.states["watchdog"] = EMULATED
    # Opening the device would arm it: only check that it is there and writable.
    elif not os.path.exists(watchdog.device):
        absent("watchdog", f"{watchdog.device} does not exist (watchdog driver not loaded?)")
    elif not os.access(watchdog.device, os.W_OK):
        absent("watchdog", f"{watchdog.device} is not writable by this user")
    else:
        devices.watchdog_device = watchdog.device
        devices.states["watchdog"] = OK
    return devices, reports


class _MockFactoryOnDemand:
    """One gpiozero MockFactory shared by every emulated line, made only if one is configured."""

    def __init__(self) -> None:
        self.factory: Any = None

    def get(self) -> Any:
        if self.factory is None:
            from gpiozero.pins.mock import MockFactory

            self.factory = MockFactory()
        return self.factory


def _quietly(make: Callable[[], Any]) -> Any:
    # gpiozero warns once per pin factory it falls back from; the failure itself is reported.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def _gpio_reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _bus(devices: PiDevices, config: I2cDeviceConfig, open_bus: BusOpener) -> I2cBus:
    key = (config.mode, config.bus)
    bus = devices.buses.get(key)
    if bus is None:
        if config.mode == "emulated":
            bus = SimulatedI2cBus()
        else:
            try:
                bus = open_bus(config.bus)
            except OSError as error:
                raise BusUnavailableError(f"cannot open /dev/i2c-{config.bus}: {error.strerror or error}") from error
        devices.buses[key] = bus
    if isinstance(bus, SimulatedI2cBus) and config.mode == "emulated":
        for address in config.addresses:
            bus.attach(address, Mpu6050Model() if config.name == "imu" else Bmp280Model())
    return bus


def _i2c_reason(config: I2cDeviceConfig, error: OSError | ValueError) -> str:
    where = f"bus {config.bus} address {', '.join(f'0x{a:02X}' for a in config.addresses)}"
    if isinstance(error, OSError) and not isinstance(error, BusUnavailableError) and error.errno is not None:
        return f"{where}: {describe_i2c_error(error)}"
    return f"{where}: {error}"
