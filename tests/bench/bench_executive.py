"""Executive benchmarks: 50 Hz rate-group jitter in real time under command load, afap speed, RSS.

Jitter: ``ilrs-fsw``'s flight wiring runs as a child process on a pty link (through ``ilrs-hil
link``) with its default emulated watchdog, while this process, as the ground, sends 50 NOOP
commands per second and receives their verification reports and the housekeeping. The child
records the fast group's wake-up lateness (the rate group's own window of the last 1000 cycles)
and writes it out at shutdown. The run is repeated pinned to one core with ``taskset -c 0``.

``python -m tests.bench.bench_executive`` prints the rows; ``ILRS_BENCH_JITTER_S`` sets the length
of each jitter run (default 12 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.rows import Row

COMMAND_RATE_HZ = 50.0
DEFAULT_JITTER_S = 12.0
AFAP_VIRTUAL_S = 300.0


# --- child: the flight software, recording its fast group's lateness ---------------------------
def _child(port: str, store: str, output: str) -> int:
    import fsw.app as app
    import fsw.topology as topology
    from fsw.clock import Clock
    from fsw.clock import run as run_on_clock
    from fsw.vehicle import FlightConfig

    captured: list[Any] = []
    build = topology.lander  # (the flight process imports the lander's wiring when it runs it)

    def capturing_build(*args: Any, **kwargs: Any) -> Any:
        vehicle = build(*args, **kwargs)
        captured.append(vehicle)
        return vehicle

    topology.lander = capturing_build  # type: ignore[assignment]
    clock = Clock("realtime")
    config = FlightConfig(port=port, store=Path(store), watchdog="emulator")
    try:
        run_on_clock(app.run_flight(config, clock), clock)
    finally:
        if captured:
            fast = captured[0].rate_groups["fast"]
            Path(output).write_text(json.dumps({
                "lateness_s": list(fast._jitter), "cycles": fast.cycles, "overruns": fast.overruns,
                "tm_sent": captured[0].executive.telemetry.sent, "cmds_completed": captured[0].dispatcher.completed,
            }))
    return 0


# --- parent: ground load and measurement -------------------------------------------------------
def _vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _load(ground_port: str, seconds: float, child_pid: int, rate_hz: float) -> dict[str, float]:
    from ground.client import GroundClient

    client = GroundClient(ground_port)
    await client.open()
    tm_seen: list[int] = []
    client.listeners.append(lambda tm: tm_seen.append(tm.service))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15.0
    while not tm_seen and loop.time() < deadline:  # the first housekeeping says the software is up
        await asyncio.sleep(0.05)
    if not tm_seen:
        raise RuntimeError("flight software did not come up")
    records = []
    start = loop.time()
    period = 1.0 / (rate_hz or COMMAND_RATE_HZ)
    sent = 0
    rss_peak = 0
    while loop.time() - start < seconds:
        if rate_hz:
            records.append(client.send(8, 1, [0x0002]))  # NOOP, all acknowledgements asked
        sent += 1
        if sent % 50 == 0:
            rss_peak = max(rss_peak, _vm_rss_kib(child_pid))
        await asyncio.sleep(max(0.0, start + sent * period - loop.time()))
    await asyncio.sleep(0.5)
    completed = sum(record.completed for record in records)
    await client.close()
    return {"sent": len(records), "completed": completed, "tm": len(tm_seen), "rss_kib": rss_peak}


def jitter_run(seconds: float, pinned: bool, rate_hz: float = COMMAND_RATE_HZ) -> dict[str, Any]:
    from hil.link.process import running_link

    with tempfile.TemporaryDirectory(prefix="ilrs-bench-exec-") as directory:
        tmp = Path(directory)
        fsw_port, ground_port, output = tmp / "fsw", tmp / "ground", tmp / "jitter.json"
        command = [sys.executable, "-m", "tests.bench.bench_executive", "--child", str(fsw_port),
                   str(tmp / "store.sqlite"), str(output)]
        if pinned:
            command = ["taskset", "-c", "0", *command]
        with running_link(fsw_port, ground_port):
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                load = asyncio.run(_load(str(ground_port), seconds, child.pid, rate_hz))
            finally:
                child.send_signal(signal.SIGTERM)
                _, stderr = child.communicate(timeout=20)
        if not output.exists():
            raise RuntimeError(f"flight child wrote no samples: {stderr.decode(errors='replace')[-2000:]}")
        result = json.loads(output.read_text())
    lateness = sorted(result["lateness_s"])
    return {
        **load, **result, "samples": len(lateness),
        "p50_ms": statistics.median(lateness) * 1e3,
        "p99_ms": lateness[min(len(lateness) - 1, int(0.99 * len(lateness)))] * 1e3,
        "max_ms": lateness[-1] * 1e3,
    }


def afap_speed(virtual_s: float = AFAP_VIRTUAL_S) -> dict[str, float]:
    from fsw.clock import Clock
    from fsw.clock import run as run_on_clock
    from fsw.core.store import Store
    from fsw.vehicle import core_vehicle

    logging.getLogger("fsw").setLevel(logging.ERROR)  # events would go to stderr
    with tempfile.TemporaryDirectory(prefix="ilrs-bench-afap-") as directory:
        clock = Clock("afap")
        store = Store(Path(directory) / "store.sqlite")
        executive = core_vehicle(clock, store)
        executive.ctx.telemetry.add_sink(lambda packet: None)

        async def main() -> tuple[float, int]:
            await executive.start()
            cycles_before = sum(group.cycles for group in executive.rate_groups.values())
            started = time.perf_counter()
            await clock.sleep(virtual_s)
            wall = time.perf_counter() - started
            cycles = sum(group.cycles for group in executive.rate_groups.values()) - cycles_before
            await executive.stop("bench over")
            return wall, cycles

        wall, cycles = run_on_clock(main(), clock)  # type: ignore[misc]
        store.close()
    return {"ticks_per_s": cycles / wall, "speedup": virtual_s / wall}


def run() -> list[Row]:
    seconds = float(os.environ.get("ILRS_BENCH_JITTER_S", DEFAULT_JITTER_S))
    rows: list[Row] = []
    variants = [(" 50 cmd/s", False, COMMAND_RATE_HZ), (" no commands", False, 0.0)]
    if shutil.which("taskset"):
        variants.append((" 50 cmd/s pinned to core 0", True, COMMAND_RATE_HZ))
    for label, pinned, rate_hz in variants:
        result = jitter_run(seconds, pinned, rate_hz)
        rows += [
            Row(f"exec 50 Hz jitter p50{label}", result["p50_ms"], "ms"),
            Row(f"exec 50 Hz jitter p99{label}", result["p99_ms"], "ms"),
            Row(f"exec 50 Hz jitter max{label}", result["max_ms"], "ms"),
            Row(f"exec 50 Hz jitter p99 < 1 ms met{label}", float(result["p99_ms"] < 1.0), "bool"),
            Row(f"exec 50 Hz overruns{label}", float(result["overruns"]), "cycles"),
        ]
        if rate_hz:
            completed = result["completed"] / max(1, result["sent"])
            rows.append(Row(f"exec NOOP commands completed of sent{label}", completed, "fraction"))
        if not pinned and rate_hz:
            rows.append(Row("exec ilrs-fsw run RSS", result["rss_kib"] / 1024.0, "MiB"))
    speed = afap_speed()
    rows += [
        Row("exec afap rate-group ticks", speed["ticks_per_s"], "ticks/s"),
        Row("exec afap flight time per wall time", speed["speedup"], "x"),
    ]
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(*argv[1:4])
    from tests.bench.rows import format_table

    print(format_table(run()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
