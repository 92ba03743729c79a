"""The device bus's round trip between two processes over a pty, beside a bare pty ping-pong.

Most 50 Hz cycles of a powered flight are a round trip of the device bus (the attitude control fires
in most cycles, and only a cycle that commands nothing may be flown ahead): the flight side's request goes
to the plant process, which answers with the cycle's readings. This bench serves three stand-in
sensors (a reading of three floats each) from a plant-side process (``DeviceBusServer`` behind
``hil.devicebus.serve``) and steps it from this process with a ``DeviceBusClient`` on the afap clock,
as ``make run`` does. The peer is the floor of the transport: two processes passing packets of the
same sizes back and forth through a bare pty with blocking reads and writes, no framing, no CBOR,
no event loop.

A second row steps a plant process with stand-in work on both sides (the plant busy for
``PLANT_WORK_S`` a step, the flight side for ``FLIGHT_WORK_S`` a cycle, about what a powered flight's
two sides spend) with the bus pipelined, as a flying controller uses it, beside the same cycles in
lock-step: what the plant stepping while the flight side computes buys when the kernel places the two
processes as it likes. A third row has each request fly four cycles ahead, as a powered flight's
requests mostly do between two guidance cycles, each of them sent as soon as the plant has flown it,
beside the same cycles with all four in the reply (sent when the last is flown).

``python -m tests.bench.bench_device_bus`` prints the rows.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path
from typing import Any

from tests.bench.rows import Row

DEVICES = ("imu", "altimeter", "velocimeter")
DEFAULT_SECONDS = 1.0
PLANT_WORK_S = 0.00025  # stand-in for the plant's answer in a powered flight (docs/hil-bench.md)
FLIGHT_WORK_S = 0.0003  # stand-in for the flight software's cycle
AHEAD = 4  # cycles flown ahead a request between two 10 Hz guidance cycles


def _busy(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


class _Sensor:
    def read(self) -> list[float]:
        return [1.5, -2.25, 3.125]


async def _serve(path: Path, work_s: float = 0.0, stream_ahead: bool = True) -> None:
    from fsw.devices.bus import MAX_PACKET_SIZE
    from fsw.link import SerialLink
    from hil.devicebus import DeviceBusServer, serve
    from hil.link.bridge import PtyPair

    link = SerialLink("pty", max_packet_size=MAX_PACKET_SIZE)
    pair = PtyPair()
    pair.publish(path)
    await link.open_fd(pair.master_fd)
    print("ready", flush=True)
    await serve(link, DeviceBusServer({name: _Sensor() for name in DEVICES}, lambda dt: _busy(work_s),
                                      stream_ahead=stream_ahead))


def _client(path: Path) -> tuple[Any, Any, Any]:
    """(afap clock, serial link, device bus client reading every stand-in sensor) for the plant at ``path``."""
    from fsw.clock import Clock
    from fsw.devices.bus import MAX_PACKET_SIZE, DeviceBusClient
    from fsw.link import SerialLink

    clock = Clock("afap")
    link = SerialLink(str(path), max_packet_size=MAX_PACKET_SIZE)
    bus = DeviceBusClient(link, clock)
    for name in DEVICES:
        bus.device(name)
    return clock, link, bus


def _bus_round_trips(path: Path, seconds: float) -> tuple[float, int, int]:
    """(round trips a second, request octets, reply octets) of a client stepping the plant at ``path``."""
    from fsw.clock import run as run_on_clock

    clock, link, bus = _client(path)

    async def main() -> float:
        await bus.open()
        await bus.exchange(0, 0.02)  # the first carries the poll list
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for _ in range(50):
                await bus.exchange(0, 0.02)
            count += 50
        rate = count / (time.perf_counter() - started)
        await bus.close()
        return rate

    rate = run_on_clock(main(), clock)
    return rate, link.counters.octets_out // max(1, link.counters.packets_out), \
        link.counters.octets_in // max(1, link.counters.packets_in)


def _bus_cycles(path: Path, seconds: float, pipeline: bool, ahead: int = 0) -> float:
    """Cycles a second of a client that exchanges (asking ``ahead`` cycles flown ahead), works
    ``FLIGHT_WORK_S`` and waits for its next cycle."""
    from fsw.clock import run as run_on_clock

    clock, _, bus = _client(path)

    async def main() -> float:
        await bus.open()
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for _ in range(50):
                await bus.exchange(ahead, 0.02, pipeline=pipeline)
                _busy(FLIGHT_WORK_S)
                await clock.sleep(0.02)
            count += 50
        rate = count / (time.perf_counter() - started)
        await bus.exchange(0, 0.02)  # the reply to the request sent ahead
        await bus.close()
        return rate

    return run_on_clock(main(), clock)


_ECHO = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
size = int(sys.argv[2])
reply = bytes(int(sys.argv[3]))
while True:
    got = 0
    while got < size:
        chunk = os.read(fd, 65536)
        if not chunk:
            sys.exit(0)
        got += len(chunk)
    os.write(fd, reply)
"""


def _pty_ping_pong(request: int, reply: int, seconds: float) -> float:
    """Round trips a second of ``request`` octets out and ``reply`` octets back through a bare pty."""
    master, slave = os.openpty()
    tty.setraw(slave)
    echo = subprocess.Popen([sys.executable, "-c", _ECHO, os.ttyname(slave), str(request), str(reply)])
    try:
        out = bytes(request)
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            os.write(master, out)
            got = 0
            while got < reply:
                got += len(os.read(master, 65536))
            count += 1
        return count / (time.perf_counter() - started)
    finally:
        echo.kill()
        echo.wait()
        os.close(master)
        os.close(slave)


def _with_plant(path: Path, work_s: float, stream_ahead: bool = True) -> subprocess.Popen[str]:
    plant = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_device_bus", "--serve", str(path), str(work_s),
                              "stream" if stream_ahead else "batch"], stdout=subprocess.PIPE, text=True)
    assert plant.stdout is not None
    if plant.stdout.readline().strip() != "ready":
        plant.kill()
        raise RuntimeError("the bench's plant process did not start")
    return plant


def run(budget: Any = None) -> list[Row]:
    seconds = max(0.2, 5 * float(getattr(budget, "seconds", DEFAULT_SECONDS / 5)))
    with tempfile.TemporaryDirectory(prefix="ilrs-bench-bus-") as folder:
        path = Path(folder) / "plant.tty"
        plant = _with_plant(path, 0.0)
        try:
            rate, request, reply = _bus_round_trips(path, seconds)
        finally:
            plant.terminate()
            plant.wait(10)
        cycles: dict[str, float] = {}
        for name, pipeline, ahead, stream in (("pipelined", True, 0, True), ("lock-step", False, 0, True),
                                              ("streamed", True, AHEAD, True), ("batched", True, AHEAD, False)):
            plant = _with_plant(Path(folder) / f"plant-{name}.tty", PLANT_WORK_S, stream)
            try:
                cycles[name] = _bus_cycles(Path(folder) / f"plant-{name}.tty", seconds, pipeline, ahead)
            finally:
                plant.terminate()
                plant.wait(10)
    floor = _pty_ping_pong(request, reply, seconds)
    work = f"plant {PLANT_WORK_S * 1e3:g} ms, flight {FLIGHT_WORK_S * 1e3:g} ms"
    return [Row("device bus round trip (flight side afap, plant process, pty)", round(rate, 1), "round trip/s",
                f"bare pty ping-pong of the same octets ({request} out, {reply} back)", round(floor, 1)),
            Row(f"device bus cycle, pipelined (stand-in work: {work})", round(cycles["pipelined"], 1), "cycle/s",
                "the same cycles in lock-step", round(cycles["lock-step"], 1)),
            Row(f"device bus cycle, {AHEAD} flown ahead a request, each sent as flown (stand-in work: {work})",
                round(cycles["streamed"], 1), "cycle/s", f"the same with the {AHEAD} in the reply",
                round(cycles["batched"], 1))]


if __name__ == "__main__":
    if len(sys.argv) in (3, 4, 5) and sys.argv[1] == "--serve":
        asyncio.run(_serve(Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) >= 4 else 0.0,
                           sys.argv[4:] != ["batch"]))
    else:
        for row in run():
            print(row)
