"""Benchmark of ``ilrs-hil link`` over real ptys: paced and unpaced bulk rate, delay accuracy.

``run()`` returns rows {name, value, unit, peer, peer_value, ratio}; ``python -m tests.bench.bench_link``
prints them.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from pathlib import Path

import serial

from hil.link import BITS_PER_OCTET_8N1, EARTH_MOON_LIGHT_TIME_S, running_link


def _transfer(a_path: Path, b_path: Path, data: bytes) -> float:
    """Write ``data`` into A from a thread while reading it out of B; seconds from first write to last octet."""
    with serial.Serial(str(a_path), timeout=10) as a, serial.Serial(str(b_path), timeout=10) as b:
        writer = threading.Thread(target=a.write, args=(data,))
        received = bytearray()
        started = time.monotonic()
        writer.start()
        while len(received) < len(data):
            chunk = b.read(min(65536, max(1, b.in_waiting)))
            if not chunk:
                raise RuntimeError(f"transfer stalled after {len(received)} of {len(data)} octets")
            received += chunk
        elapsed = time.monotonic() - started
        writer.join()
    if bytes(received) != data:
        raise RuntimeError("data corrupted in transfer")
    return elapsed


def _raw_pty_rate(data: bytes) -> float:
    """Octets/s through one bare pty (master to slave), the ceiling for any pty bridge."""
    master, slave = os.openpty()
    try:
        import tty

        tty.setraw(slave)
        os.set_blocking(master, True)
        received = 0
        started = time.monotonic()

        def write_all() -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(master, view) :]

        writer = threading.Thread(target=write_all)
        writer.start()
        while received < len(data):
            received += len(os.read(slave, 65536))
        elapsed = time.monotonic() - started
        writer.join()
    finally:
        os.close(master)
        os.close(slave)
    return len(data) / elapsed


def _row(name: str, value: float, unit: str, peer: str, peer_value: float) -> dict[str, object]:
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "peer": peer,
        "peer_value": round(peer_value, 4),
        "ratio": round(value / peer_value, 4) if peer_value else None,
    }


def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="bench-link-") as directory:
        a_path, b_path = Path(directory) / "a", Path(directory) / "b"

        baud = 115200
        uart_rate = baud / BITS_PER_OCTET_8N1
        paced = rng.randbytes(int(uart_rate * 2))  # two seconds on the wire
        with running_link(a_path, b_path, "--baud", str(baud)):
            elapsed = _transfer(a_path, b_path, paced)
        rows.append(
            _row("link --baud 115200 bulk rate", len(paced) / elapsed, "octet/s", "8N1 UART at 115200 baud", uart_rate)
        )

        bulk = rng.randbytes(4 << 20)
        with running_link(a_path, b_path):
            elapsed = _transfer(a_path, b_path, bulk)
        rows.append(
            _row("link unimpaired bulk rate", len(bulk) / elapsed / 1e6, "MB/s", "bare pty, no bridge",
                 _raw_pty_rate(bulk) / 1e6)
        )

        with running_link(a_path, b_path, "--delay", str(EARTH_MOON_LIGHT_TIME_S)):
            latency = _transfer(a_path, b_path, b"\x00ping\x00")
        rows.append(
            _row("link --delay 1.28 one-way latency", latency, "s", "Earth-Moon light time", EARTH_MOON_LIGHT_TIME_S)
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
