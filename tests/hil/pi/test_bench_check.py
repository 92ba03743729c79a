"""bench-check on mock pins, register-map I2C buses and a pty standing in for a looped-back UART."""

from __future__ import annotations

import os
import threading
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockConnectedPin, MockFactory

from hil.bench_check import FAIL, PASS, SKIP, BenchCheck, CheckResult, uart_loopback
from hil.cli import main
from hil.config import parse_config
from hil.pi.simulated import Bmp280Model, Mpu6050Model, SimulatedI2cBus

EMULATED = """
[outputs.valve]
kind = "valve"
mode = "emulated"
pin = 17
[outputs.pyro]
kind = "pyro"
mode = "emulated"
pin = 22
[inputs.plug]
kind = "arm_plug"
mode = "emulated"
pin = 13
[imu]
mode = "emulated"
addresses = [0x68, 0x69]
[barometer]
mode = "emulated"
"""

REAL = """
[outputs.led]
kind = "led"
mode = "real"
pin = 25
readback_pin = 26
[outputs.relay]
kind = "motor"
mode = "real"
pin = 24
active_high = false
[imu]
mode = "real"
[barometer]
mode = "real"
"""


def by_device(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    found: dict[str, list[CheckResult]] = {}
    for result in results:
        found.setdefault(result.device, []).append(result)
    return found


def test_all_emulated_bench_passes_and_skips_pyro_unless_asked() -> None:
    results = by_device(BenchCheck(parse_config(EMULATED)).run())
    assert [r.result for r in results["valve"]] == [PASS]
    assert [r.result for r in results["pyro"]] == [SKIP]
    assert [r.result for r in results["plug"]] == [PASS] and "open" in results["plug"][0].detail
    assert [r.check for r in results["imu"]] == ["MPU-6050 at 0x68", "MPU-6050 at 0x69"]
    assert all(r.result == PASS for r in results["imu"] + results["barometer"])
    assert "1.000 g" in results["imu"][0].detail and "101325 Pa" in results["barometer"][0].detail
    with_pyro = by_device(BenchCheck(parse_config(EMULATED), pyro=True).run())
    assert [r.result for r in with_pyro["pyro"]] == [PASS]


def test_readback_jumper_and_active_low_relay(mock_pins: MockFactory) -> None:
    mock_pins.pin(25, pin_class=MockConnectedPin, input_pin=mock_pins.pin(26))  # the jumper 25 -> 26
    bus = SimulatedI2cBus({0x68: Mpu6050Model(), 0x76: Bmp280Model()})
    results = by_device(BenchCheck(parse_config(REAL), open_bus=lambda n: bus).run())
    assert results["led"][0].result == PASS and "via BCM 26" in results["led"][0].detail
    assert results["relay"][0].result == PASS and "[0, 1, 0, 1]" in results["relay"][0].detail
    assert mock_pins.pin(25).state == 0 and mock_pins.pin(24).state == 1  # left de-energised


def test_missing_jumper_absent_chip_and_wrong_chip_fail(mock_pins: MockFactory) -> None:
    impostor = Mpu6050Model()
    impostor.registers[0x75] = 0x70
    bus = SimulatedI2cBus({0x68: impostor})
    results = by_device(BenchCheck(parse_config(REAL), open_bus=lambda n: bus).run())
    assert results["led"][0].result == FAIL  # nothing drives BCM 26
    assert results["imu"][0].result == FAIL and "WHO_AM_I 0x70" in results["imu"][0].detail
    assert results["barometer"][0].result == FAIL and "Remote I/O" in results["barometer"][0].detail


def test_imu_not_at_rest_fails_the_plausibility_check(mock_pins: MockFactory) -> None:
    bus = SimulatedI2cBus({0x68: Mpu6050Model(accel=(0.0, 0.0, 0.0)), 0x76: Bmp280Model(pressure_pa=5_000.0)})
    results = by_device(BenchCheck(parse_config(REAL), open_bus=lambda n: bus).run())
    assert results["imu"][0].result == FAIL and "0.000 g" in results["imu"][0].detail
    assert results["barometer"][0].result == FAIL


@contextmanager
def pty_far_end(respond: Callable[[bytes], bytes]) -> Iterator[str]:
    """A pty whose far end answers what it reads with ``respond(data)``: a loopback plug when identity."""
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if data:
                os.write(master, respond(data))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield name
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        thread.join(2)


def test_uart_loopback_through_a_pty() -> None:
    with pty_far_end(lambda data: data) as port:
        result = uart_loopback(port, timeout_s=2.0)
    assert result.result == PASS, result.detail


def test_uart_loopback_detects_corruption_and_silence() -> None:
    with pty_far_end(lambda data: data.replace(b"\x55", b"\x54")) as port:
        corrupted = uart_loopback(port, timeout_s=1.0)
    assert corrupted.result == FAIL and "first difference at octet 85" in corrupted.detail
    with pty_far_end(lambda data: b"") as port:
        silent = uart_loopback(port, timeout_s=0.3)
    assert silent.result == FAIL and "nothing came back" in silent.detail
    missing = uart_loopback("/nonexistent/ttyUSB7", timeout_s=0.3)
    assert missing.result == FAIL


def test_cli_table_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(EMULATED)
    with pty_far_end(lambda data: data) as port:
        assert main(["bench-check", "--config", str(good), "--uart", port]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["device", "check", "result", "detail"]
    assert f"uart {port}" in out and out.rstrip().endswith("6 passed, 0 failed, 3 skipped")
    bad_uart = main(["bench-check", "--config", str(good), "--uart", "/nonexistent/ttyUSB7"])
    assert bad_uart == 1 and "1 failed" in capsys.readouterr().out
    broken = tmp_path / "broken.toml"
    broken.write_text("[imu]\nmode = 'real'\naddress = 0x10\n")
    assert main(["bench-check", "--config", str(broken)]) == 2
    assert "imu.address" in capsys.readouterr().err
