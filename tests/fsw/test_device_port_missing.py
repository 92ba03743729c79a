"""The plant's device port missing when the flight software boots (its process not running, its pty
path gone after a reboot): the real ``ilrs-fsw run`` comes up without it, reports the device bus ABSENT
(event and device state) and keeps answering the ground."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fsw.flight_process import flight_and_ground

DEVICE_ABSENT = 0x0D01
BOOT_TIMEOUT_S = 20.0


async def test_a_missing_plant_port_is_reported_absent_and_the_ground_is_still_served(tmp_path: Path) -> None:
    missing = tmp_path / "plant.tty"  # nothing there: the plant process is gone with its pty
    async with flight_and_ground(tmp_path, "--plant-port", str(missing), "--clock", "afap") as (flight, ground):
        hk = await ground.until(lambda: ground.hk(13), BOOT_TIMEOUT_S)
        assert hk, "the flight software did not come up"
        absent = await ground.until(
            lambda: [args for event_id, args in ground.events() if event_id == DEVICE_ABSENT], 10.0)
        assert absent and absent[0]["device"] == "device_bus" and str(missing) in absent[0]["reason"]
        states = await ground.until(lambda: [v for v in ground.hk(13) if "device_bus=ABSENT" in v["device_states"]],
                                    10.0)
        assert states and states[-1]["devices_absent"] == 1
        record, rtt = await ground.client.ping(5.0)
        assert record.completed and rtt is not None
        assert flight.process is not None and flight.process.poll() is None
    assert flight.process is not None and flight.process.stderr is not None
    log = flight.process.stderr.read().decode(errors="replace")
    assert "Traceback" not in log and "SerialException" not in log, log


async def test_after_the_plant_process_died_a_rebooted_flight_software_comes_up_without_it(tmp_path: Path) -> None:
    """The plant killed (its pty gone, a stale symlink left), then the flight computer rebooted."""
    port = tmp_path / "plant.tty"
    plant = subprocess.Popen([sys.executable, "-m", "hil.cli", "plant", "--pty", str(port), "--seed", "2"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert plant.stdout is not None and plant.stdout.readline().startswith("plant ready")
        async with flight_and_ground(tmp_path, "--plant-port", str(port), "--clock", "afap") as (flight, ground):
            assert await ground.until(lambda: ground.hk(13), BOOT_TIMEOUT_S), "the flight software did not come up"
            plant.kill()
            plant.wait(10)
            assert port.is_symlink() and not port.exists()  # the path is there, its device is not
            flight.kill9()
            mark = len(ground.tm)
            flight.start()
            absent = await ground.until(
                lambda: [args for event_id, args in ground.events(mark) if event_id == DEVICE_ABSENT], BOOT_TIMEOUT_S)
            assert absent and absent[0]["device"] == "device_bus"
            record, _ = await ground.client.ping(5.0)
            assert record.completed
            assert flight.process is not None and flight.process.poll() is None
        assert flight.process is not None and flight.process.stderr is not None
        log = flight.process.stderr.read().decode(errors="replace")
        assert "Traceback" not in log and "SerialException" not in log, log
    finally:
        if plant.poll() is None:
            plant.kill()
            plant.wait(10)
