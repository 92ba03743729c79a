"""Bench device selection: a TOML file says, per device, ``real``, ``emulated`` or ``absent``.

``real`` drives the hardware (gpiozero pins, an smbus2 I2C bus, a serial port), ``emulated``
runs the same driver against a stand-in (gpiozero mock pins, a register-level model of the chip),
``absent`` leaves the device out. Pins are BCM numbers. Every mistake is a :class:`ConfigError`
naming the dotted key that is wrong, so a bench operator can fix the file without reading code.

Example: ``hil/pi/bench.toml`` (``load_config(DEFAULT_CONFIG)``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fsw.devices.platform import PlatformError

MODES = ("real", "emulated", "absent")
OUTPUT_KINDS = ("valve", "pyro", "motor", "led")
INPUT_KINDS = ("limit_switch", "arm_plug")
# BCM 0/1 are the HAT ID EEPROM bus, 2/3 the I2C bus (SDA/SCL), 14/15 the UART (TXD/RXD).
RESERVED_PINS = {0: "ID EEPROM SDA", 1: "ID EEPROM SCL", 2: "I2C SDA", 3: "I2C SCL", 14: "UART TXD", 15: "UART RXD"}
HIGHEST_BCM_PIN = 27
MPU6050_ADDRESSES = (0x68, 0x69)
BMP280_ADDRESSES = (0x76, 0x77)


def default_config_path() -> Path:
    """The example bench configuration shipped with the package."""
    return Path(str(resources.files("hil.pi").joinpath("bench.toml")))


class ConfigError(PlatformError):
    """A bench configuration that cannot be used. ``key`` is the dotted path of the culprit."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message


class UnknownKeyError(ConfigError):
    """A key the schema does not know (usually a typo)."""


class MissingKeyError(ConfigError):
    """A required key is not there."""


class BadValueError(ConfigError):
    """A key with a value of the wrong type or out of range."""


@dataclass(frozen=True)
class OutputConfig:
    name: str
    mode: str
    pin: int
    kind: str
    active_high: bool = True
    readback_pin: int | None = None  # an input wired to the output's line, for bench-check


@dataclass(frozen=True)
class InputConfig:
    name: str
    mode: str
    pin: int
    kind: str
    pull_up: bool = True  # switch to ground, internal pull-up: pressed reads low


@dataclass(frozen=True)
class I2cDeviceConfig:
    name: str
    mode: str
    bus: int = 1
    addresses: tuple[int, ...] = ()  # one per redundant unit, unit 0 first


@dataclass(frozen=True)
class PlantLinkConfig:
    mode: str = "absent"
    port: str = ""
    baud: int = 115200


@dataclass(frozen=True)
class WatchdogConfig:
    mode: str = "absent"
    device: str = "/dev/watchdog"


@dataclass(frozen=True)
class BenchConfig:
    outputs: tuple[OutputConfig, ...] = ()
    inputs: tuple[InputConfig, ...] = ()
    imu: I2cDeviceConfig = field(default_factory=lambda: I2cDeviceConfig("imu", "absent"))
    barometer: I2cDeviceConfig = field(default_factory=lambda: I2cDeviceConfig("barometer", "absent"))
    plant: PlantLinkConfig = field(default_factory=PlantLinkConfig)
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    source: str = ""

    def output(self, name: str) -> OutputConfig:
        return next(output for output in self.outputs if output.name == name)

    def input(self, name: str) -> InputConfig:
        return next(item for item in self.inputs if item.name == name)


# ------------------------------------------------------------------------------------------ parsing


def load_config(path: str | Path) -> BenchConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError("", f"cannot read {path}: {error.strerror or error}") from error
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<string>") -> BenchConfig:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("", f"{source} is not valid TOML: {error}") from error
    _only(document, "", {"outputs", "inputs", "imu", "barometer", "plant", "watchdog"})
    outputs = tuple(_output(name, body) for name, body in _table(document, "outputs").items())
    inputs = tuple(_input(name, body) for name, body in _table(document, "inputs").items())
    config = BenchConfig(
        outputs=outputs,
        inputs=inputs,
        imu=_i2c_device(document, "imu", MPU6050_ADDRESSES, max_units=2),
        barometer=_i2c_device(document, "barometer", BMP280_ADDRESSES, max_units=1),
        plant=_plant(document),
        watchdog=_watchdog(document),
        source=source,
    )
    _check_pins_unique(config)
    return config


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise UnknownKeyError(_join(where, key), f"unknown key (expected one of {', '.join(sorted(allowed))})")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _table(parent: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise BadValueError(_join(where, key), f"expected a table, got {type(value).__name__}")
    return value


def _get(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise MissingKeyError(_join(where, key), "required")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # TOML booleans are not integers, even though Python's bool is one.
    if isinstance(value, bool) and bool not in kinds:
        raise BadValueError(_join(where, key), f"expected {_names(kinds)}, got a boolean")
    if not isinstance(value, kinds):
        raise BadValueError(_join(where, key), f"expected {_names(kinds)}, got {type(value).__name__} {value!r}")
    return value


def _names(kinds: tuple[type, ...]) -> str:
    words = {int: "an integer", bool: "true/false", str: "text", list: "a list", float: "a number"}
    return " or ".join(words.get(kind, kind.__name__) for kind in kinds)


def _mode(table: dict[str, Any], where: str, allowed: tuple[str, ...] = MODES) -> str:
    mode = _get(table, "mode", where, str)
    if mode not in allowed:
        raise BadValueError(_join(where, "mode"), f"{mode!r} is not one of {', '.join(allowed)}")
    return mode


def _pin(table: dict[str, Any], key: str, where: str, required: bool = True) -> int | None:
    pin = _get(table, key, where, int, ... if required else None)
    if pin is None:
        return None
    if not 0 <= pin <= HIGHEST_BCM_PIN:
        raise BadValueError(_join(where, key), f"BCM pin {pin} outside 0..{HIGHEST_BCM_PIN}")
    if pin in RESERVED_PINS:
        raise BadValueError(_join(where, key), f"BCM pin {pin} is the {RESERVED_PINS[pin]} line")
    return int(pin)


def _output(name: str, body: Any) -> OutputConfig:
    where = f"outputs.{name}"
    if not isinstance(body, dict):
        raise BadValueError(where, f"expected a table, got {type(body).__name__}")
    _only(body, where, {"mode", "pin", "kind", "active_high", "readback_pin"})
    kind = _get(body, "kind", where, str)
    if kind not in OUTPUT_KINDS:
        raise BadValueError(f"{where}.kind", f"{kind!r} is not one of {', '.join(OUTPUT_KINDS)}")
    pin = _pin(body, "pin", where)
    assert pin is not None
    return OutputConfig(name, _mode(body, where), pin, kind, _get(body, "active_high", where, bool, True),
                        _pin(body, "readback_pin", where, required=False))


def _input(name: str, body: Any) -> InputConfig:
    where = f"inputs.{name}"
    if not isinstance(body, dict):
        raise BadValueError(where, f"expected a table, got {type(body).__name__}")
    _only(body, where, {"mode", "pin", "kind", "pull_up"})
    kind = _get(body, "kind", where, str)
    if kind not in INPUT_KINDS:
        raise BadValueError(f"{where}.kind", f"{kind!r} is not one of {', '.join(INPUT_KINDS)}")
    pin = _pin(body, "pin", where)
    assert pin is not None
    return InputConfig(name, _mode(body, where), pin, kind, _get(body, "pull_up", where, bool, True))


def _i2c_device(document: dict[str, Any], name: str, valid_addresses: tuple[int, ...],
                max_units: int) -> I2cDeviceConfig:
    body = _table(document, name)
    if not body:
        return I2cDeviceConfig(name, "absent")
    _only(body, name, {"mode", "bus", "address", "addresses"})
    mode = _mode(body, name)
    bus = _get(body, "bus", name, int, 1)
    if bus < 0:
        raise BadValueError(f"{name}.bus", f"bus number {bus} is negative")
    if "address" in body and "addresses" in body:
        raise BadValueError(f"{name}.addresses", "give address or addresses, not both")
    if "addresses" in body:
        raw = _get(body, "addresses", name, list)
        key = f"{name}.addresses"
    else:
        raw = [_get(body, "address", name, int, valid_addresses[0])]
        key = f"{name}.address"
    if not 1 <= len(raw) <= max_units:
        raise BadValueError(key, f"expected 1 to {max_units} addresses, got {len(raw)}")
    addresses = []
    for address in raw:
        if isinstance(address, bool) or not isinstance(address, int):
            raise BadValueError(key, f"expected integer addresses, got {address!r}")
        if address not in valid_addresses:
            choices = " or ".join(f"0x{a:02X}" for a in valid_addresses)
            raise BadValueError(key, f"0x{address:02X} is not an address of the {name} ({choices})")
        addresses.append(address)
    if len(set(addresses)) != len(addresses):
        raise BadValueError(key, "the same address twice")
    return I2cDeviceConfig(name, mode, bus, tuple(addresses))


def _plant(document: dict[str, Any]) -> PlantLinkConfig:
    body = _table(document, "plant")
    if not body:
        return PlantLinkConfig()
    _only(body, "plant", {"mode", "port", "baud"})
    # The emulated plant is the whole emulator HAL (--hal emulator), not a device of this one.
    mode = _mode(body, "plant", ("real", "absent"))
    port = _get(body, "port", "plant", str, ... if mode == "real" else "")
    baud = _get(body, "baud", "plant", int, 115200)
    if baud <= 0:
        raise BadValueError("plant.baud", f"baud rate must be positive, got {baud}")
    return PlantLinkConfig(mode, port, baud)


def _watchdog(document: dict[str, Any]) -> WatchdogConfig:
    body = _table(document, "watchdog")
    if not body:
        return WatchdogConfig()
    _only(body, "watchdog", {"mode", "device"})
    return WatchdogConfig(_mode(body, "watchdog"), _get(body, "device", "watchdog", str, "/dev/watchdog"))


def _check_pins_unique(config: BenchConfig) -> None:
    owners: dict[int, str] = {}
    claims = [(f"outputs.{o.name}.pin", o.pin) for o in config.outputs]
    claims += [(f"outputs.{o.name}.readback_pin", o.readback_pin) for o in config.outputs if o.readback_pin is not None]
    claims += [(f"inputs.{i.name}.pin", i.pin) for i in config.inputs]
    for key, pin in claims:
        assert pin is not None
        if pin in owners:
            raise BadValueError(key, f"BCM pin {pin} is already used by {owners[pin]}")
        owners[pin] = key
