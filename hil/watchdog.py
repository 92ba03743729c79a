"""The hardware watchdog: a timer the flight software must stroke, or it resets the computer.

Backends of the flight software's :class:`fsw.devices.watchdog.Watchdog` port:

- ``EmulatedWatchdog``: a thread with a deadline in wall time. Starved past its timeout it records
  the bite in a JSON file (``<store>.watchdog.json``: bite count, time, timeout) and restarts the
  process in place (``os.execv``), as a reset would. The bite action is injectable for tests.
  Like any in-process emulation it dies with the process: a ``kill -9`` is not a bite.
- ``DevWatchdog``: the Linux ``/dev/watchdog`` driver (any octet strokes, ``V`` then close is the
  magic close that disarms it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL_S = 0.02
# ioctl WDIOC_SETTIMEOUT = _IOWR('W', 6, int)
WDIOC_SETTIMEOUT = 0xC0045706


def restart_process() -> None:
    """What a reset does to the flight software: start again from scratch, same arguments."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.execv(sys.executable, [sys.executable, *sys.argv])


def record_path_for(store: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(store)}.watchdog.json")


def read_bite_record(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The bite record, or an empty record when there is none or it does not parse."""
    if path is None:
        return {"bites": 0}
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {"bites": 0}
    if not isinstance(record, dict) or not isinstance(record.get("bites"), int):
        return {"bites": 0}
    return record


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(staging, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    staging.replace(path)


class EmulatedWatchdog:
    """A wall-time watchdog thread. ``on_bite`` runs in that thread once, after the bite is recorded."""

    def __init__(self, record_path: str | os.PathLike[str] | None = None,
                 on_bite: Callable[[], None] = restart_process, poll_s: float = POLL_S) -> None:
        self.record_path = None if record_path is None else Path(record_path)
        self.on_bite = on_bite
        self.poll_s = poll_s
        self.timeout_s = 0.0
        self.strokes = 0
        self.bitten = False
        self._deadline = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float) -> None:
        if not timeout_s > 0:
            raise ValueError(f"watchdog timeout must be positive, got {timeout_s}")
        self.timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        self._thread.start()

    def stroke(self) -> None:
        # One float store: atomic under the GIL, cheap enough for every rate-group cycle.
        self._deadline = time.monotonic() + self.timeout_s
        self.strokes += 1

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None

    def resets_recorded(self) -> int:
        return int(read_bite_record(self.record_path)["bites"])

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_s):
            if time.monotonic() > self._deadline:
                self.bitten = True
                self._record_bite()
                self.on_bite()
                return

    def _record_bite(self) -> None:
        if self.record_path is None:
            return
        record = read_bite_record(self.record_path)
        record.update(bites=record["bites"] + 1, last_bite_unix=time.time(), timeout_s=self.timeout_s,
                      pid=os.getpid())
        with contextlib.suppress(OSError):  # a full disk must not stop the reset itself
            _write_atomically(self.record_path, json.dumps(record))


class DevWatchdog:
    """The Linux watchdog device. Needs the driver loaded and permission to open the device."""

    def __init__(self, path: str | os.PathLike[str] = "/dev/watchdog") -> None:
        self.path = Path(path)
        self.strokes = 0
        self._fd: int | None = None

    def start(self, timeout_s: float) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC)
        # Not every driver lets the timeout be set; its own default then applies.
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._fd, WDIOC_SETTIMEOUT, struct.pack("i", max(1, round(timeout_s))))

    def resets_recorded(self) -> int:
        # The Linux driver tells only whether the last boot was its doing (bootstatus), not how often.
        return 0

    def stroke(self) -> None:
        if self._fd is not None:
            os.write(self._fd, b"\0")
            self.strokes += 1

    def stop(self) -> None:
        if self._fd is not None:
            os.write(self._fd, b"V")  # magic close: the driver disarms instead of biting
            os.close(self._fd)
            self._fd = None
