"""With keys, the flight side executes signed TCs only: each refusal is a 1,2 with its own code,
the anti-replay counter survives a restart, and a retransmission is recognised, not re-executed."""

from __future__ import annotations

from pathlib import Path

from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.protocol.security import KeyRing, sign
from fsw.services.linkmon import LinkMonitor
from tests.fsw.harness import Harness

KEY = bytes(range(32))


def signed_harness(path: Path) -> tuple[Harness, LinkMonitor]:
    h = Harness(path, keys=KeyRing({1: KEY}))
    monitor = LinkMonitor(h.vehicle.ctx, SerialLink("loop://"))
    h.vehicle.add(monitor)
    return h, monitor


def noop(h: Harness, seq_count: int) -> PusTc:
    opcode = h.vehicle.dispatcher.commands_by_name["NOOP"].opcode
    return PusTc(100, 8, 1, appdata.encode([opcode]), seq_count=seq_count)


def test_signed_commands_run_and_each_refusal_has_its_code(tmp_path: Path) -> None:
    h, monitor = signed_harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        executed = h.vehicle.dispatcher.completed
        cases = [
            (sign(noop(h, 1), 1, 10, KEY), ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"], None),
            (noop(h, 2).pack(), ["ACCEPTANCE_FAILED"], FailureCode.MISSING_SECURITY_HEADER),
            (sign(noop(h, 3), 9, 11, KEY), ["ACCEPTANCE_FAILED"], FailureCode.UNKNOWN_SPI),
            (sign(noop(h, 4), 1, 12, bytes(32)), ["ACCEPTANCE_FAILED"], FailureCode.BAD_MAC),
            (sign(noop(h, 5), 1, 10, KEY), ["ACCEPTANCE_FAILED"], FailureCode.REPLAYED_SEQUENCE),
            (sign(noop(h, 6), 1, 9, KEY), ["ACCEPTANCE_FAILED"], FailureCode.REPLAYED_SEQUENCE),
            (sign(noop(h, 7), 1, 11, KEY), ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"], None),
        ]
        for raw, stages, code in cases:
            monitor.take(raw)
            await h.clock.sleep(0.1)
            tc = PusTc.unpack(raw)
            assert h.stages(tc) == stages
            if code is not None:
                assert h.reports(tc)[0].code == code
        assert h.vehicle.dispatcher.completed - executed == 2
        assert monitor.housekeeping()["link_auth_rejected"] == 5
        assert h.hk(1)[-1]["authenticated"] is True

    h.run(scenario)
    h.store.close()
    again, monitor = signed_harness(tmp_path / "s.db")

    async def after_restart(h: Harness) -> None:
        stale = sign(noop(h, 8), 1, 11, KEY)
        monitor.take(stale)
        await h.clock.sleep(0.1)
        assert h.reports(PusTc.unpack(stale))[0].code == FailureCode.REPLAYED_SEQUENCE
        fresh = sign(noop(h, 9), 1, 12, KEY)
        monitor.take(fresh)
        await h.clock.sleep(0.1)
        assert h.stages(PusTc.unpack(fresh))[-1] == "COMPLETION_OK"

    again.run(after_restart)


def test_a_retransmission_gets_its_verification_again_and_runs_once(tmp_path: Path) -> None:
    h, monitor = signed_harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        raw = sign(noop(h, 1), 1, 100, KEY)
        completed = h.vehicle.dispatcher.completed
        for _ in range(3):
            monitor.take(raw)
            await h.clock.sleep(0.1)
        assert h.vehicle.dispatcher.completed - completed == 1
        assert h.stages(PusTc.unpack(raw)) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"] * 3
        assert h.vehicle.dispatcher.duplicates == 2
        assert [name for name, _ in h.events()].count("CMD_DUPLICATE") == 2

    h.run(scenario)


def test_without_keys_the_software_says_it_is_unauthenticated(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(0.1)
        assert ("UNAUTHENTICATED", {}) in h.events()
        assert h.hk(1)[-1]["authenticated"] is False
        assert [tm.subtype for tm in h.tm if tm.service == 5][:2] == [1, 4]  # BOOT info, then high

    h.run(scenario)
