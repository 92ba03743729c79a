"""The watchdog backends: the emulator bites when starved (recorded, injected action), not when stroked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fsw.devices.watchdog import Watchdog
from hil.watchdog import DevWatchdog, EmulatedWatchdog, read_bite_record, record_path_for


def test_backends_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(EmulatedWatchdog(), Watchdog)
    assert isinstance(DevWatchdog(tmp_path / "wd"), Watchdog)


def test_starved_emulator_records_the_bite_and_runs_the_action(tmp_path: Path) -> None:
    record = record_path_for(tmp_path / "store.sqlite")
    bitten = threading.Event()
    watchdog = EmulatedWatchdog(record, on_bite=bitten.set, poll_s=0.005)
    watchdog.start(0.05)
    assert bitten.wait(5.0)
    assert watchdog.bitten
    first = read_bite_record(record)
    assert first["bites"] == 1 and first["timeout_s"] == 0.05 and first["pid"] == os.getpid()
    # A second bite (after the restart) adds to the count.
    again = threading.Event()
    second = EmulatedWatchdog(record, on_bite=again.set, poll_s=0.005)
    second.start(0.05)
    assert again.wait(5.0)
    assert read_bite_record(record)["bites"] == 2


def test_stroked_emulator_does_not_bite_and_stop_disarms(tmp_path: Path) -> None:
    bites: list[int] = []
    watchdog = EmulatedWatchdog(tmp_path / "wd.json", on_bite=lambda: bites.append(1), poll_s=0.005)
    # The timeout is generous against a loaded machine; the strokes come every 10 ms.
    watchdog.start(1.0)
    for _ in range(100):
        watchdog.stroke()
        time.sleep(0.01)
    watchdog.stop()
    assert not watchdog.running
    time.sleep(0.05)
    assert bites == [] and not (tmp_path / "wd.json").exists()
    assert watchdog.strokes == 100


def test_emulator_rejects_a_bad_timeout() -> None:
    with pytest.raises(ValueError):
        EmulatedWatchdog().start(0.0)


def test_bite_record_that_does_not_parse_counts_as_none(tmp_path: Path) -> None:
    path = tmp_path / "wd.json"
    path.write_text("{not json")
    assert read_bite_record(path) == {"bites": 0}
    path.write_text(json.dumps({"bites": "many"}))
    assert read_bite_record(path) == {"bites": 0}
    assert read_bite_record(None) == {"bites": 0}


def test_dev_watchdog_strokes_and_closes_with_the_magic_character(tmp_path: Path) -> None:
    # A plain file stands in for the device node: the octets written are what the driver would see.
    device = tmp_path / "watchdog"
    device.touch()
    watchdog = DevWatchdog(device)
    watchdog.start(3.0)
    watchdog.stroke()
    watchdog.stroke()
    watchdog.stop()
    assert device.read_bytes() == b"\0\0V"


RESTARTING_SCRIPT = """
import sys, time
from hil.watchdog import EmulatedWatchdog, read_bite_record
record = sys.argv[1]
bites = read_bite_record(record)["bites"]
print(f"life {bites}", flush=True)
if bites >= 2:
    sys.exit(0)
EmulatedWatchdog(record, poll_s=0.01).start(0.1)  # never stroked: bites, and restarts this process
time.sleep(30)
sys.exit(3)
"""


@pytest.mark.slow
def test_default_bite_restarts_the_process_in_place(tmp_path: Path) -> None:
    script = tmp_path / "starved.py"
    script.write_text(RESTARTING_SCRIPT)
    record = tmp_path / "store.sqlite.watchdog.json"
    process = subprocess.Popen([sys.executable, str(script), str(record)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    stdout, stderr = process.communicate(timeout=60)
    # Three lives of one process (execv keeps the pid), two bites recorded.
    assert stdout.split("\n")[:3] == ["life 0", "life 1", "life 2"], stderr
    assert process.returncode == 0
    assert read_bite_record(record)["bites"] == 2
    assert read_bite_record(record)["pid"] == process.pid
