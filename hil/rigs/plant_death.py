"""The plant process dies (or hangs) in powered flight (``ilrs-hil scenario plant_death``).

Real processes as ``make run`` has them: the link bridge, the plant on its own pty (the device bus),
the flight software on the afap clock, and a ground-side reader of the telemetry. The ground leaves
SAFE, uplinks the descent state, target and terrain map (the plant's orbit-determination product) and
gives the go for descent (time on board waits for it, ``ground_hold``), and once the ground sees main braking the plant
process is SIGKILLed: its pty goes with it. Expected of the flight software: report the dead bus
(``DEVICE_BUS_DEAD``), go SAFE at once, keep talking to the ground (housekeeping and pings after the
kill), stay alive, no traceback in its log. The negative control flies the same with the fault
response off (``--param fdir_bus_safe=false``): the vehicle must then *not* go SAFE (it sits NOMINAL
with guidance frozen until the powered-descent state times out, 1200 s of flight later).

The ``hang`` variant SIGSTOPs the plant instead: its pty stays open and it just stops answering, so
the bus dies by timeout (every retry of a wall-time wait, the afap clock held all the while); after a
while it gets SIGCONT, the bus answers the next attempt and the engine's safing reaches the plant,
whose own report (written on exit) must show the engine off with no thrust commanded.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.packet import PusTm
from ground.client import GroundClient
from ground.descent_uplink import load_product, uplink_commands
from hil.link.process import running_link
from hil.rigs.mission_run import BOOT_LINE, stop, wait_for_line, wait_for_text

MODE_SET, ARM, GO_DESCENT = 0x0101, 0x0001, 0x4007
DESCENT_UPLINK = {"DESCENT_STATE_SET": 0x3040, "DESCENT_TARGET_SET": 0x3041, "DESCENT_FRAME_SET": 0x3044,
                  "DESCENT_MAP_BEGIN": 0x3042, "DESCENT_MAP_SEGMENT": 0x3043}
GNC_PHASE, DEVICE_BUS_DEAD, SAFE_ENTERED = 0x3002, 0x3003, 0x0402
DEVICE_BUS_RECOVERED, ENGINE_SAFED = 0x3006, 0x3007
HANG_S = 3.0  # wall seconds the hung plant stays stopped after the bus was declared dead
KILL_PHASE = "main_braking"
SAFE_WITHIN_S = 60.0  # on-board seconds after the bus's death within which SAFE must (or must not) come
OBSERVE_S = 6.0  # wall seconds of watching after the kill
BOOT_TIMEOUT_S = 30.0
BRAKING_TIMEOUT_S = 60.0


@dataclass
class PlantDeathRun:
    respond: bool
    fault: str = "kill"  # kill | hang
    reached_braking: bool = False
    dead: list[dict[str, Any]] = field(default_factory=list)  # DEVICE_BUS_DEAD arguments
    safe_after_s: float | None = None  # on-board seconds from the bus's death to SAFE (None: not within the window)
    hk_after_kill: int = 0
    ping_after_kill: bool = False
    fsw_alive: bool = False
    traceback: bool = False
    wall_s: float = 0.0
    log: str = ""
    recovered: list[dict[str, Any]] = field(default_factory=list)  # DEVICE_BUS_RECOVERED (hang)
    engines_safed: list[str] = field(default_factory=list)  # ENGINE_SAFED engines (hang)
    truth: dict[str, Any] = field(default_factory=dict)  # the plant's report on exit (hang)

    def outcome(self) -> str:
        if not self.reached_braking:
            return f"never reached {KILL_PHASE}"
        reason = self.dead[0]["reason"] if self.dead else "not reported"
        safe = f"SAFE {self.safe_after_s:.1f} s after" if self.safe_after_s is not None else "no SAFE"
        what = "killed" if self.fault == "kill" else "hung"
        return (f"plant {what} in {KILL_PHASE}: bus dead ({reason}), {safe}; {self.hk_after_kill} housekeeping "
                f"reports and {'a' if self.ping_after_kill else 'no'} ping answer after the kill; flight software "
                f"{'alive' if self.fsw_alive else 'gone'}{', traceback in its log' if self.traceback else ''}")


class _Telemetry:
    def __init__(self, client: GroundClient) -> None:
        self.tm: list[PusTm] = []
        client.listeners.append(self.tm.append)

    def events(self, event_id: int, since: int = 0) -> list[tuple[float, dict[str, Any]]]:
        found = []
        for tm in self.tm[since:]:
            if tm.service == 5 and 1 <= tm.subtype <= 4:
                number, args = appdata.decode(tm.source_data)
                if number == event_id:
                    found.append((tm.time, args))
        return found

    def hk_count(self, since: int) -> int:
        return sum((tm.service, tm.subtype) == (3, 25) for tm in self.tm[since:])

    async def until(self, predicate: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := predicate()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return value


def fly_plant_death(seed: int = 1, respond: bool = True, run_dir: Path | None = None,
                    fault: str = "kill") -> PlantDeathRun:
    """Fly into main braking, kill (or hang) the plant process, watch; see the module's doc."""
    run_dir = run_dir or Path(tempfile.mkdtemp(prefix="ilrs-plant-death-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_fly(seed, respond, run_dir, fault))


async def _fly(seed: int, respond: bool, run_dir: Path, fault: str) -> PlantDeathRun:
    started = time.monotonic()
    run = PlantDeathRun(respond, fault)
    fsw_port, ground_port, plant_port = run_dir / "fsw.tty", run_dir / "ground.tty", run_dir / "plant.tty"
    log_path = run_dir / "fsw.log"
    python = sys.executable
    with running_link(fsw_port, ground_port):
        report = run_dir / "plant-report.json"
        product = run_dir / "od-product.json"
        plant = subprocess.Popen([python, "-m", "hil.cli", "plant", "--pty", str(plant_port), "--seed", str(seed),
                                  "--report", str(report), "--od-product", str(product)], stdout=subprocess.PIPE,
                                 text=True)
        fsw: subprocess.Popen[Any] | None = None
        client = GroundClient(str(ground_port))
        with log_path.open("w") as log:
            try:
                if not wait_for_line(plant, "plant ready", 15.0):
                    raise RuntimeError("the plant did not start")
                fsw = subprocess.Popen(
                    [python, "-m", "fsw.cli", "run", "--port", str(fsw_port), "--plant-port", str(plant_port),
                     "--clock", "afap", "--store", str(run_dir / "fsw-store.sqlite"), "--seed", str(seed),
                     "--verbose", "--param", "ground_hold=true", "--param", f"fdir_bus_safe={str(respond).lower()}"],
                    stdout=log, stderr=subprocess.STDOUT)
                if not wait_for_text(log_path, BOOT_LINE, fsw, BOOT_TIMEOUT_S):
                    raise RuntimeError("the flight software did not boot")
                await client.open()
                telemetry = _Telemetry(client)
                await _descent_go(client, product)
                await _watch(run, client, telemetry, plant, fsw)
                run.fsw_alive = fsw.poll() is None
            finally:
                await client.close()
                if fsw is not None:
                    stop(fsw)
                if plant.poll() is None:
                    plant.send_signal(signal.SIGCONT)
                stop(plant)
        if report.exists():
            run.truth = json.loads(report.read_text())
    run.log = log_path.read_text(errors="replace")
    run.traceback = "Traceback" in run.log
    run.wall_s = time.monotonic() - started
    return run


async def _descent_go(client: GroundClient, product: Path) -> None:
    """The ground's descent uplink, NOMINAL, then the armed go once the mission waits for it."""
    for name, args in uplink_commands(load_product(product)):
        record = await client.wait(client.send(8, 1, [DESCENT_UPLINK[name], *args.values()]), 10.0)
        if not record.completed:
            raise RuntimeError(f"{name}: {record.stage_names()}")
    mode_set = await client.wait(client.send(8, 1, [MODE_SET, "NOMINAL"]), 10.0)
    if not mode_set.completed:
        raise RuntimeError(f"MODE_SET NOMINAL: {mode_set.stage_names()}")
    deadline = time.monotonic() + BRAKING_TIMEOUT_S
    while time.monotonic() < deadline:
        armed = await client.wait(client.send(8, 1, [ARM, GO_DESCENT]), 10.0)
        go = await client.wait(client.send(8, 1, [GO_DESCENT]), 10.0) if armed.completed else armed
        if go.completed:
            return
        await asyncio.sleep(0.2)  # the pre-descent checks still running: the go is for later
    raise RuntimeError("GO_DESCENT not taken")


async def _watch(run: PlantDeathRun, client: GroundClient, telemetry: _Telemetry, plant: subprocess.Popen[Any],
                 fsw: subprocess.Popen[Any]) -> None:
    run.reached_braking = bool(await telemetry.until(
        lambda: [args for _, args in telemetry.events(GNC_PHASE) if args.get("new") == KILL_PHASE],
        BRAKING_TIMEOUT_S))
    if not run.reached_braking:
        return
    await asyncio.sleep(0.3)
    mark = len(telemetry.tm)
    if run.fault == "kill":
        plant.kill()
        plant.wait(10)
        await telemetry.until(lambda: telemetry.events(DEVICE_BUS_DEAD, mark), OBSERVE_S)
        await asyncio.sleep(OBSERVE_S / 2)
    else:
        plant.send_signal(signal.SIGSTOP)
        await telemetry.until(lambda: telemetry.events(DEVICE_BUS_DEAD, mark), 3 * OBSERVE_S)
        await asyncio.sleep(HANG_S)
        plant.send_signal(signal.SIGCONT)
        await telemetry.until(lambda: telemetry.events(ENGINE_SAFED, mark), 3 * OBSERVE_S)
        run.recovered = [args for _, args in telemetry.events(DEVICE_BUS_RECOVERED, mark)]
        run.engines_safed = [args["engine"] for _, args in telemetry.events(ENGINE_SAFED, mark)]
    record, _ = await client.ping(5.0)
    run.ping_after_kill = record.completed
    dead = telemetry.events(DEVICE_BUS_DEAD, mark)
    run.dead = [args for _, args in dead]
    if dead:
        died_at = dead[0][0]
        safe = [at for at, _ in telemetry.events(SAFE_ENTERED, mark) if at - died_at <= SAFE_WITHIN_S]
        run.safe_after_s = safe[0] - died_at if safe else None
    run.hk_after_kill = telemetry.hk_count(mark)
    run.fsw_alive = fsw.poll() is None


def check_plant_death(run: PlantDeathRun) -> list[str]:
    """The unmet expectations of the response (empty: correct)."""
    problems = _common(run)
    if run.safe_after_s is None:
        problems.append(f"no SAFE within {SAFE_WITHIN_S:g} s of the bus's death")
    return problems


def check_negative_control(run: PlantDeathRun) -> list[str]:
    """With the response off the vehicle must not go SAFE: the fault ends badly."""
    problems = _common(run)
    if run.safe_after_s is not None:
        problems.append("SAFE although the fault response was off")
    return problems


def check_hang(run: PlantDeathRun) -> list[str]:
    """The hung plant: dead by timeout, SAFE, and on its return the engine safed in the plant's truth."""
    problems = check_plant_death(run)
    if run.dead and run.dead[0]["reason"] != "timeout":
        problems.append(f"dead for {run.dead[0]['reason']}, not a timeout")
    if not run.recovered:
        problems.append("no DEVICE_BUS_RECOVERED after the plant resumed")
    if run.engines_safed != ["main_engine"]:
        problems.append(f"engines safed: {run.engines_safed}")
    engine = run.truth.get("main_engine", {})
    if engine.get("on", True) or engine.get("thrust_cmd_n") != 0.0:
        problems.append(f"the plant's engine is not safe: {engine}")
    return problems


def _common(run: PlantDeathRun) -> list[str]:
    problems = []
    if not run.reached_braking:
        return [f"never reached {KILL_PHASE}"]
    if not run.dead:
        problems.append("no DEVICE_BUS_DEAD after the kill")
    if run.hk_after_kill == 0:
        problems.append("no housekeeping after the kill")
    if not run.ping_after_kill:
        problems.append("no ping answer after the kill")
    if not run.fsw_alive:
        problems.append("the flight software died")
    if run.traceback:
        problems.append("traceback in the flight log")
    return problems
