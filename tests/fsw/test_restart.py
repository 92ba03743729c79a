"""Persistence across ``kill -9`` and a corrupted store, with the real ``ilrs-fsw run`` process on ptys."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from fsw.clock import Clock
from fsw.core.latches import Latches
from fsw.core.store import Store
from fsw.protocol.packet import PusTc
from fsw.protocol.verification import VerificationReport
from tests.fsw.flight_process import Ground, flight_and_ground

pytestmark = pytest.mark.slow
ARM_WINDOW_ID = 0x0101
NOOP = 0x0002
BOOT_TIMEOUT_S = 15.0


async def booted(ground: Ground, since: int) -> dict:
    """Wait for the first executive housekeeping of a boot; return it."""
    hk = await ground.until(lambda: ground.hk(1, since), BOOT_TIMEOUT_S)
    assert hk, "the flight software did not come up"
    return hk[0]


async def test_parameter_schedule_and_latch_survive_kill_9(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    # A latch recorded by an earlier life of the software (its act already done).
    seed_store = Store(store)
    Latches(seed_store, Clock("afap")).fire("descent_pyro")
    seed_store.close()
    async with flight_and_ground(tmp_path) as (flight, ground):
        first = await booted(ground, 0)
        assert first["boot_count"] == 1
        setting = ground.client.send(20, 3, [[ARM_WINDOW_ID, 42.5]])
        assert (await ground.client.wait(setting, 5.0)).completed
        now = first["onboard_time"]
        soon = PusTc(100, 8, 1, b"\x81\x02", seq_count=9001)  # NOOP, due while the software is down
        later = PusTc(100, 8, 1, b"\x81\x02", seq_count=9002)
        insert = ground.client.send(11, 4, [[now + 3.0, soon.pack()], [now + 3600.0, later.pack()]])
        assert (await ground.client.wait(insert, 5.0)).completed, insert.stage_names()
        flight.kill9()
        # Durable on disk at the moment of the kill, before any orderly shutdown.
        on_disk = Store(store)
        assert on_disk.get("parameters") == {"arm_window_s": 42.5}
        assert len(on_disk.get("schedule")["entries"]) == 2
        on_disk.close()
        await asyncio.sleep(3.5)  # "soon" falls due while nothing runs
        mark = len(ground.tm)
        flight.start()
        second = await booted(ground, mark)
        assert second["boot_count"] == 2
        report = ground.client.send(20, 1, [ARM_WINDOW_ID])
        assert (await ground.client.wait(report, 5.0)).completed
        assert ground.reports(20, 2, mark)[-1] == [[ARM_WINDOW_ID, 42.5]]
        summary = ground.client.send(11, 17)
        assert (await ground.client.wait(summary, 5.0)).completed
        assert [[apid, seq] for _, apid, seq in ground.reports(11, 13, mark)[-1]] == [[100, 9002]]
        missed = [args for event_id, args in ground.events(mark) if event_id == 0x0B02]
        assert [m["seq"] for m in missed] == [9001]
        health = await ground.until(lambda: ground.hk(12, mark), 5.0)
        assert health[-1]["latches_fired"] == 1
        await asyncio.sleep(0.5)
        verified = [VerificationReport.unpack(tm.subtype, tm.source_data).request_id
                    for tm in ground.tm if tm.service == 1]
        assert soon.request_id not in verified, "a passed entry must never run late"


async def test_garbage_in_the_store_boots_safe_with_an_event(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    async with flight_and_ground(tmp_path) as (flight, ground):
        await booted(ground, 0)
        mode_set = ground.client.send(8, 1, [0x0101, "NOMINAL"])
        assert (await ground.client.wait(mode_set, 5.0)).completed
        flight.kill9()
        # Garbage over the database and its write-ahead log (where recent pages live until a checkpoint).
        for path in (store, Path(f"{store}-wal")):
            with open(path, "r+b") as file:
                file.write(os.urandom(4096))
        mark = len(ground.tm)
        flight.start()
        hk = await booted(ground, mark)
        # Events emitted before the ground link is wired are kept in the on-board log: dump it.
        dump = ground.client.send(8, 1, [0x0201, 0])
        assert (await ground.client.wait(dump, 5.0)).completed
        logged = [entry for chunk in ground.reports(5, 130, mark) for entry in chunk]
        corrupted = [args for _, event_id, args in logged if event_id == 0x0003]  # STORE_CORRUPTED
        assert len(corrupted) == 1 and corrupted[0]["reason"]
        assert hk["mode"] == "SAFE"
        record, rtt = await ground.client.ping(5.0)
        assert record.completed and rtt is not None
        assert flight.process is not None and flight.process.poll() is None
    assert Path(f"{store}.corrupt").exists()  # kept for analysis
