"""Exactly once across ``kill -9``: the real ``ilrs-fsw run`` with signed commanding takes more TCs
than its duplicate window holds, is killed, and restarts on the same store. A retransmission of a
command still in the window gets its original verification and does nothing; one that fell out of
the window is refused by the anti-replay check and does nothing either.

Executions are counted from the camera's product files (``<store>.products``), which each
acquisition writes, not from the flight software's counters."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from fsw.core.store import Store
from fsw.protocol.errors import FailureCode
from fsw.protocol.security import KeyRing
from fsw.protocol.verification import Subtype, VerificationReport
from fsw.services.dispatcher import DUPLICATE_WINDOW
from fsw.services.tc_window import KEY_PREFIX
from ground.client import CommandRecord, Signer
from tests.fsw.flight_process import Ground, flight_and_ground

pytestmark = pytest.mark.slow  # two boots and a thousand signed TCs over ptys: about 15 s
MODE_SET, NOOP, CAM_POWER_ON, CAM_ACQUIRE = 0x0101, 0x0002, 0x2001, 0x2003
IN_FLIGHT = 16
BOOT_TIMEOUT_S = 15.0
VERDICT_TIMEOUT_S = 5.0


def products(store: Path) -> list[str]:
    directory = Path(f"{store}.products")
    return sorted(path.name for path in directory.glob("cam_*")) if directory.exists() else []


async def completed(ground: Ground, service: int, subtype: int, data: object = None) -> CommandRecord:
    record = await ground.client.wait(ground.client.send(service, subtype, data), VERDICT_TIMEOUT_S)
    assert record.completed, record.stage_names()
    return record


async def booted(ground: Ground, since: int) -> dict:
    hk = await ground.until(lambda: ground.hk(1, since), BOOT_TIMEOUT_S)
    assert hk, "the flight software did not come up"
    return hk[0]


def verdict(ground: Ground, record: CommandRecord, since: int) -> list[VerificationReport]:
    """The verification reports for ``record``'s TC heard since ``since``."""
    found = []
    for tm in ground.tm[since:]:
        if tm.service == 1:
            report = VerificationReport.unpack(tm.subtype, tm.source_data)
            if report.request_id == record.request_id:
                found.append(report)
    return found


async def retransmit(ground: Ground, record: CommandRecord) -> list[VerificationReport]:
    """Send ``record``'s octets again; the reports it gets, up to a final one."""
    mark = len(ground.tm)
    ground.client.link.send(record.raw)

    def final() -> bool:
        return any(not r.ok or r.subtype == Subtype.COMPLETION_OK for r in verdict(ground, record, mark))

    assert await ground.until(final, VERDICT_TIMEOUT_S), "no verdict for the retransmission"
    await asyncio.sleep(0.2)  # anything after the verdict would be a second execution's reports
    return verdict(ground, record, mark)


async def test_retransmissions_after_kill_9_get_their_verdict_and_never_run_twice(tmp_path: Path) -> None:
    store, keys = tmp_path / "store.sqlite", tmp_path / "keys.toml"
    KeyRing.generate(keys)
    async with flight_and_ground(tmp_path, "--no-mission", "--keys", str(keys), store=store) as (flight, ground):
        ground.client.signer = Signer(keys)
        await booted(ground, 0)
        await completed(ground, 8, 1, [MODE_SET, "NOMINAL"])
        await completed(ground, 8, 1, [CAM_POWER_ON])
        old = await completed(ground, 8, 1, [CAM_ACQUIRE, 0.01])
        # More than the window holds after ``old``: it falls out, and ``recent`` is well inside.
        count = itertools.count()

        async def commander() -> None:
            while next(count) < DUPLICATE_WINDOW + 50:
                await completed(ground, 8, 1, [NOOP])

        await asyncio.gather(*(commander() for _ in range(IN_FLIGHT)))
        recent = await completed(ground, 8, 1, [CAM_ACQUIRE, 0.01])
        assert products(store) == ["cam_0001.pgm", "cam_0002.pgm"]
        flight.kill9()

        on_disk = Store(store)
        assert sum(key.startswith(KEY_PREFIX) for key in on_disk) == DUPLICATE_WINDOW  # bounded
        on_disk.close()
        mark = len(ground.tm)
        flight.start()
        await booted(ground, mark)

        again = await retransmit(ground, recent)
        assert [r.subtype for r in again] == [Subtype.ACCEPTANCE_OK, Subtype.START_OK, Subtype.COMPLETION_OK]
        assert [r.pack() for r in again] == [r.pack() for r in recent.stages]  # the original reports
        stale = await retransmit(ground, old)
        assert [(r.subtype, r.code) for r in stale] == [(Subtype.ACCEPTANCE_FAILED, FailureCode.REPLAYED_SEQUENCE)]
        assert products(store) == ["cam_0001.pgm", "cam_0002.pgm"]  # neither ran again
        hk = await ground.until(lambda: [h for h in ground.hk(1, mark) if h["cmds_duplicate"]], BOOT_TIMEOUT_S)
        assert hk and hk[-1]["cmds_duplicate"] == 1 and hk[-1]["cmds_completed"] == 0

