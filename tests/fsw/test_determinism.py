"""A seeded emulator run gives the same telemetry twice (afap clock, plant in process)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from pathlib import Path

from fsw.clock import Clock, run
from fsw.core.store import Store
from fsw.protocol import appdata
from fsw.protocol.packet import PusTm
from fsw.topology import lander
from fsw.vehicle import FlightConfig
from hil.emulator.plant import LunarLanderPlant
from tests.fsw.gnc.uplink_support import preload_uplink

WALL_DEPENDENT_STRUCTURES = {1}
LINK_STATE_EVENT = 0x0502  # cycle-time and jitter figures are measured in wall time
# The octets the tty has taken so far, and those still waiting for it: as many as its far end has
# read, at the far end's own pace.
WALL_DEPENDENT_POINTS = {"link_octets_out", "link_output_backlog"}


def fly(tmp: Path, seed: int, seconds: float, read_pause_s: float = 0.0) -> list[tuple[int, int, float, object]]:
    """The telemetry of ``seconds`` of flight; ``read_pause_s``: the far end of the ground tty pauses
    this long after each read (a slow reader fills the tty, and the link's output waits)."""
    clock = Clock("afap")
    packets: list[bytes] = []
    # A real tty whose other end nobody writes to: the ground is silent, so nothing but the seed
    # decides what happens.
    master, slave = os.openpty()
    tty.setraw(slave)
    drain = threading.Thread(target=_drain, args=(master, read_pause_s), daemon=True)
    drain.start()

    async def main() -> None:
        config = FlightConfig(port=os.ttyname(slave), clock="afap", store=tmp / "s.db", seed=seed, watchdog="none")
        store = Store(tmp / "s.db")
        # The ground's descent uplink, as it stands in the store once its commands have been taken (the
        # emulator platform's plant starts from the same seeded state).
        preload_uplink(store, LunarLanderPlant(seed))
        executive = lander(config, clock, store)
        link = executive.link
        executive.ctx.telemetry.add_sink(packets.append)
        executive.parameters.set("auto_go", True)  # no ground here to give the go for descent
        await link.open()
        await executive.start()
        await clock.sleep(seconds)
        await executive.stop()
        await link.close()

    run(main(), clock)
    os.close(slave)
    out = []
    for raw in packets:
        tm = PusTm.unpack(raw)
        value = appdata.decode(tm.source_data) if tm.service in (3, 5) else tm.source_data
        if tm.service == 3 and value[0] in WALL_DEPENDENT_STRUCTURES:
            continue
        if tm.service == 5 and value[0] == LINK_STATE_EVENT:
            continue  # names the tty, which differs between runs
        if tm.service == 3 and isinstance(value[1], dict):
            value = [value[0], {k: v for k, v in value[1].items() if k not in WALL_DEPENDENT_POINTS}]
        out.append((tm.service, tm.subtype, tm.time, value))
    return out


def _drain(fd: int, pause_s: float) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 65536 if pause_s == 0 else 512):
            time.sleep(pause_s)


def test_same_seed_same_telemetry(tmp_path: Path) -> None:
    first = fly(tmp_path / "a", 5, 120.0)
    second = fly(tmp_path / "b", 5, 120.0, read_pause_s=0.02)  # whatever pace the ground reads at
    assert len(first) > 200
    gnc = [v for s, _, _, v in first if s == 3 and v[0] == 30 and v[1].get("gnc_vehicle") == "lander"]
    assert gnc, "descent telemetry flowed"
    assert first == second


def test_another_seed_other_telemetry(tmp_path: Path) -> None:
    assert fly(tmp_path / "a", 5, 60.0) != fly(tmp_path / "b", 6, 60.0)
