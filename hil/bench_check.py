"""``ilrs-hil bench-check``: prove the bench wiring before the flight software runs on it.

Every configured output is switched on and off and its level read back (through a jumper to a
``readback_pin`` when one is configured, else from the pin driver); every input is read; every I2C
chip is probed for its identity register and one sample is checked for plausibility at rest; the
watchdog device is looked for (never opened: opening arms it); a UART given with ``--uart`` is
tested with a loopback pattern (jumper TX to RX, or a loopback plug). Pyro enables are only
toggled with ``--pyro``. Prints a table; the exit code is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hil.config import BenchConfig, ConfigError, I2cDeviceConfig, OutputConfig, default_config_path, load_config
from hil.pi.i2c import I2cBus, describe_i2c_error, open_smbus

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
SETTLE_S = 0.005  # relay board inputs and jumpers settle well within this
UART_PATTERN = bytes(range(256)) + b"\x00\xff\x55\xaa" * 16
AT_REST_G = (0.8, 1.2)  # |a| of a board lying still, in g
PLAUSIBLE_PRESSURE_PA = (30_000.0, 110_000.0)
PLAUSIBLE_TEMPERATURE_C = (-20.0, 60.0)


@dataclass(frozen=True)
class CheckResult:
    device: str
    check: str
    result: str
    detail: str = ""


@dataclass
class BenchCheck:
    config: BenchConfig
    open_bus: Callable[[int], I2cBus] = open_smbus
    pin_factory: Any = None  # None: gpiozero's default (GPIOZERO_PIN_FACTORY, or the Pi's own)
    uart: str | None = None
    uart_baud: int = 115200
    uart_timeout_s: float = 2.0
    pyro: bool = False
    settle_s: float = SETTLE_S

    def run(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        for output in self.config.outputs:
            results += self.check_output(output)
        for item in self.config.inputs:
            results += self.check_input(item)
        results += self.check_imu(self.config.imu)
        results += self.check_barometer(self.config.barometer)
        results += self.check_watchdog()
        results += self.check_plant_port()
        if self.uart is not None:
            results.append(uart_loopback(self.uart, self.uart_baud, self.uart_timeout_s))
        return results

    # --------------------------------------------------------------------------------- GPIO
    def _factory(self, mode: str) -> Any:
        if mode == "emulated":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        return self.pin_factory

    def check_output(self, output: OutputConfig) -> list[CheckResult]:
        from hil.pi.gpio import DigitalOutput, ReadbackInput

        if output.mode == "absent":
            return [CheckResult(output.name, "toggle", SKIP, "configured absent")]
        if output.kind == "pyro" and not self.pyro:
            return [CheckResult(output.name, "toggle", SKIP, "pyro line: give --pyro to toggle it")]
        factory = self._factory(output.mode)
        with contextlib.ExitStack() as stack:
            try:
                line = _quietly(lambda: DigitalOutput(output, factory))
                stack.callback(line.close)
                stack.callback(line.off)
                readback = None
                if output.readback_pin is not None:
                    readback = _quietly(lambda: ReadbackInput(output.readback_pin, factory))  # type: ignore[arg-type]
                    stack.callback(readback.close)
            except Exception as error:  # gpiozero's errors come in several families
                return [CheckResult(output.name, "toggle", FAIL, f"BCM {output.pin}: {type(error).__name__}: {error}")]
            how = f"via BCM {output.readback_pin}" if readback is not None else "from the pin driver"
            levels = []
            for energise in (True, False, True, False):
                line.set(energise)
                time.sleep(self.settle_s)
                levels.append(readback.line_level() if readback is not None else line.line_level())
            on_level = 1 if output.active_high else 0
            expected = [on_level, 1 - on_level, on_level, 1 - on_level]
            result = PASS if levels == expected else FAIL
            return [CheckResult(output.name, f"toggle BCM {output.pin}", result,
                                f"levels on/off/on/off {levels} {how}, expected {expected}")]

    def check_input(self, item: Any) -> list[CheckResult]:
        from hil.pi.gpio import DigitalInput

        if item.mode == "absent":
            return [CheckResult(item.name, "read", SKIP, "configured absent")]
        try:
            line = _quietly(lambda: DigitalInput(item, self._factory(item.mode)))
        except Exception as error:
            return [CheckResult(item.name, f"read BCM {item.pin}", FAIL, f"{type(error).__name__}: {error}")]
        try:
            state = "closed" if line.is_active else "open"
            detail = f"{item.kind} {state} (level {line.line_level()})"
            return [CheckResult(item.name, f"read BCM {item.pin}", PASS, detail)]
        finally:
            line.close()

    # ---------------------------------------------------------------------------------- I2C
    def _bus(self, config: I2cDeviceConfig) -> Iterator[I2cBus]:
        if config.mode == "emulated":
            from hil.pi.simulated import Bmp280Model, Mpu6050Model, SimulatedI2cBus

            model = Mpu6050Model if config.name == "imu" else Bmp280Model
            yield SimulatedI2cBus({address: model() for address in config.addresses})
            return
        bus = self.open_bus(config.bus)
        try:
            yield bus
        finally:
            closer = getattr(bus, "close", None)
            if closer is not None:
                closer()

    def _with_bus(self, config: I2cDeviceConfig, probe: Callable[[I2cBus, int], CheckResult]) -> list[CheckResult]:
        if config.mode == "absent":
            return [CheckResult(config.name, "probe", SKIP, "configured absent")]
        try:
            with contextlib.contextmanager(self._bus)(config) as bus:
                return [probe(bus, address) for address in config.addresses]
        except OSError as error:
            return [CheckResult(config.name, f"open /dev/i2c-{config.bus}", FAIL, error.strerror or str(error))]

    def check_imu(self, config: I2cDeviceConfig) -> list[CheckResult]:
        from hil.pi.mpu6050 import STANDARD_GRAVITY, WHO_AM_I_VALUE, Mpu6050

        def probe(bus: I2cBus, address: int) -> CheckResult:
            check = f"MPU-6050 at 0x{address:02X}"
            chip = Mpu6050(bus, address)
            try:
                identity = chip.who_am_i()
                if identity != WHO_AM_I_VALUE:
                    return CheckResult(config.name, check, FAIL, f"WHO_AM_I 0x{identity:02X}, expected 0x68")
                chip.configure()
                time.sleep(0.05)  # first conversion after wake-up
                sample = chip.sample()
            except OSError as error:
                return CheckResult(config.name, check, FAIL, describe_i2c_error(error))
            g = math.hypot(*sample.accel) / STANDARD_GRAVITY
            result = PASS if AT_REST_G[0] <= g <= AT_REST_G[1] else FAIL
            return CheckResult(config.name, check, result, f"WHO_AM_I 0x68, |a| = {g:.3f} g at rest, "
                               f"{sample.temperature_c:.1f} C")

        return self._with_bus(config, probe)

    def check_barometer(self, config: I2cDeviceConfig) -> list[CheckResult]:
        from hil.pi.bmp280 import CHIP_ID_VALUE, Bmp280

        def probe(bus: I2cBus, address: int) -> CheckResult:
            check = f"BMP280 at 0x{address:02X}"
            chip = Bmp280(bus, address)
            try:
                identity = chip.chip_id()
                if identity != CHIP_ID_VALUE:
                    return CheckResult(config.name, check, FAIL, f"chip id 0x{identity:02X}, expected 0x58")
                chip.read_calibration()
                chip.configure()
                values = None
                for _ in range(20):  # the first conversion takes ~10 ms at these settings
                    values = chip.measure()
                    if values is not None:
                        break
                    time.sleep(0.01)
            except OSError as error:
                return CheckResult(config.name, check, FAIL, describe_i2c_error(error))
            if values is None:
                return CheckResult(config.name, check, FAIL, "chip id 0x58 but no measurement came")
            pressure, temperature = values
            plausible = (PLAUSIBLE_PRESSURE_PA[0] <= pressure <= PLAUSIBLE_PRESSURE_PA[1]
                         and PLAUSIBLE_TEMPERATURE_C[0] <= temperature <= PLAUSIBLE_TEMPERATURE_C[1])
            return CheckResult(config.name, check, PASS if plausible else FAIL,
                               f"chip id 0x58, {pressure:.0f} Pa, {temperature:.2f} C")

        return self._with_bus(config, probe)

    # ------------------------------------------------------------------- watchdog and UARTs
    def check_watchdog(self) -> list[CheckResult]:
        watchdog = self.config.watchdog
        if watchdog.mode != "real":
            return [CheckResult("watchdog", "device", SKIP, f"configured {watchdog.mode}")]
        if not os.path.exists(watchdog.device):
            return [CheckResult("watchdog", watchdog.device, FAIL, "missing: add dtparam=watchdog=on, reboot")]
        if not os.access(watchdog.device, os.W_OK):
            return [CheckResult("watchdog", watchdog.device, FAIL, "not writable by this user")]
        return [CheckResult("watchdog", watchdog.device, PASS, "present and writable (not opened: that arms it)")]

    def check_plant_port(self) -> list[CheckResult]:
        plant = self.config.plant
        if plant.mode != "real":
            return [CheckResult("plant", "port", SKIP, f"configured {plant.mode}")]
        if "://" in plant.port or os.path.exists(plant.port):
            return [CheckResult("plant", plant.port, PASS, "present (loop it back and give --uart to test it)")]
        return [CheckResult("plant", plant.port, FAIL, "missing: USB-UART unplugged?")]


def uart_loopback(port: str, baud: int = 115200, timeout_s: float = 2.0,
                  pattern: bytes = UART_PATTERN) -> CheckResult:
    """Write a pattern with every octet value and read it back through the loopback jumper."""
    import serial

    check = f"loopback {len(pattern)} octets at {baud}"
    try:
        with serial.serial_for_url(port, baudrate=baud, timeout=0.05, write_timeout=timeout_s) as link:
            link.reset_input_buffer()
            link.write(pattern)
            received = bytearray()
            deadline = time.monotonic() + timeout_s
            while len(received) < len(pattern) and time.monotonic() < deadline:
                received += link.read(len(pattern) - len(received))
    except (serial.SerialException, OSError) as error:
        return CheckResult(f"uart {port}", check, FAIL, str(error))
    received_bytes = bytes(received)
    if received_bytes == pattern:
        return CheckResult(f"uart {port}", check, PASS, "pattern came back intact")
    if not received_bytes:
        return CheckResult(f"uart {port}", check, FAIL, "nothing came back (TX-RX jumper missing?)")
    first_bad = next((i for i, (a, b) in enumerate(zip(received_bytes, pattern, strict=False)) if a != b),
                     min(len(received_bytes), len(pattern)))
    return CheckResult(f"uart {port}", check, FAIL,
                       f"{len(received_bytes)} of {len(pattern)} octets back, first difference at octet {first_bad}")


def _quietly(make: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpiozero's pin-factory fallback warnings; failures are reported
        return make()


def format_table(results: list[CheckResult]) -> str:
    headers = ("device", "check", "result", "detail")
    rows = [(r.device, r.check, r.result, r.detail) for r in results]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
    lines = ["  ".join(f"{cell:<{widths[i]}}" if i < 3 else cell for i, cell in enumerate(row)).rstrip()
             for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths) + "  ------")
    failed = sum(r.result == FAIL for r in results)
    passed = sum(r.result == PASS for r in results)
    skipped = sum(r.result == SKIP for r in results)
    lines.append(f"{passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, metavar="TOML",
                        help="bench device selection (default: the example hil/pi/bench.toml)")
    parser.add_argument("--uart", metavar="PORT", help="serial port with TX looped to RX, to test with a pattern")
    parser.add_argument("--baud", type=int, default=115200, help="UART loopback baud rate")
    parser.add_argument("--pyro", action="store_true",
                        help="also toggle pyro enables (bench only: they must drive LEDs, never igniters)")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config or default_config_path())
    except ConfigError as error:
        print(f"ilrs-hil bench-check: {error}", file=sys.stderr)
        return 2
    results = BenchCheck(config, uart=args.uart, uart_baud=args.baud, pyro=args.pyro).run()
    print(format_table(results))
    return 1 if any(r.result == FAIL for r in results) else 0
