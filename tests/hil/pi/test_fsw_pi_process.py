"""``ilrs-fsw run --hal pi`` on mock pins, as its own process behind ``ilrs-hil link``: an independent
ground (spacepackets, cobs, pyserial) pings it and sees the absent I2C sensors reported as events."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cbor2
import pytest
import serial
from cobs import cobs
from spacepackets.ecss import PusTc, PusTm

from hil.config import default_config_path
from hil.link.process import running_link

pytestmark = pytest.mark.slow
APID = 100
DEVICE_ABSENT = 0x0D01
DEVICES_HK = 13


def read_tms(port: serial.Serial, buffer: bytearray) -> list[PusTm]:
    buffer += port.read(4096)
    *frames, rest = bytes(buffer).split(b"\x00")
    buffer[:] = rest
    return [PusTm.unpack(cobs.decode(encoded), timestamp_len=7) for encoded in frames if encoded]


def test_pi_backend_boots_off_pi_answers_pings_and_reports_absent_sensors(tmp_path: Path) -> None:
    # The shipped bench, on an I2C bus number no machine has: the sensors are absent everywhere.
    config = tmp_path / "bench.toml"
    config.write_text(default_config_path().read_text().replace("bus = 1", "bus = 29"))
    fsw_port, ground_port = tmp_path / "fsw", tmp_path / "ground"
    with running_link(fsw_port, ground_port):
        ground = serial.Serial(str(ground_port), 115200, timeout=0.05)  # open first: boot events must not be missed
        fsw = subprocess.Popen(
            [sys.executable, "-m", "fsw.cli", "run", "--hal", "pi", "--hal-config", str(config), "--port",
             str(fsw_port), "--store", str(tmp_path / "store.sqlite"), "--watchdog", "none"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "PYTHONUNBUFFERED": "1"},
        )
        try:
            buffer = bytearray()
            tms: list[PusTm] = []
            ping = PusTc(service=17, message_subtype=1, apid=APID, seq_count=1)
            pinged = False
            deadline = time.monotonic() + 20.0
            while time.monotonic() < deadline:
                tms += read_tms(ground, buffer)
                booted = any(tm.service == 5 for tm in tms)
                if booted and not pinged:
                    ground.write(b"\x00" + cobs.encode(ping.pack()) + b"\x00")
                    pinged = True
                answered = any((tm.service, tm.message_subtype) == (17, 2) for tm in tms)
                hk = [cbor2.loads(tm.source_data) for tm in tms if (tm.service, tm.message_subtype) == (3, 25)]
                if answered and any(sid == DEVICES_HK for sid, _ in hk):
                    break
        finally:
            fsw.terminate()
            _, err = fsw.communicate(timeout=10)
            ground.close()
    assert fsw.returncode == 0, err
    assert answered
    events = [cbor2.loads(tm.source_data) for tm in tms if tm.service == 5]
    absent = {args["device"]: args["reason"] for event_id, args in events if event_id == DEVICE_ABSENT}
    assert set(absent) >= {"imu", "barometer"}
    assert "cannot open /dev/i2c-29" in absent["imu"]
    devices = next(values for sid, values in hk if sid == DEVICES_HK)
    assert devices["devices_backend"] == "pi"
    assert "main_valve=OK" in devices["device_states"] and "imu=ABSENT" in devices["device_states"]
    assert devices["devices_absent"] >= 2
