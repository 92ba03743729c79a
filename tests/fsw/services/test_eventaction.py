"""PUS 19 event-action, and the fault-protection chain PUS 12 -> event -> PUS 19 -> TC, in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cbor2
from spacepackets.ecss import PusTc as SpTc

from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.services.eventaction import STORE_KEY
from tests.fsw.harness import Harness
from tests.fsw.services.test_monitoring import OK_STAGES, Probe, failure, limit, reports

VIOLATION = 0x0E01  # MONITOR_VIOLATION
CMD_REJECTED = 0x0101


def harness(path: Path) -> tuple[Harness, Probe]:
    h = Harness(path)
    probe = Probe(h.vehicle.ctx)
    h.vehicle.add(probe)
    return h, probe


def triggered(h: Harness) -> list[dict[str, Any]]:
    return [args for name, args in h.events() if name == "EVENT_ACTION_TRIGGERED"]


async def arm_fault_protection(h: Harness, action_enabled: bool) -> PusTc:
    """NOMINAL; PMON 1 on probe_temp > 50 (3 repetitions); action 7: MODE_SET SAFE on its violation."""
    assert await h.submit(h.command("MODE_SET", "NOMINAL")) == OK_STAGES
    assert await h.submit(h.tc(12, 5, [limit(1, high=50.0)])) == OK_STAGES
    assert await h.submit(h.tc(12, 1, [1])) == OK_STAGES
    safe = h.command("MODE_SET", "SAFE")
    assert await h.submit(h.tc(19, 1, [[7, VIOLATION, {"pmon": 1}, safe.pack()]])) == OK_STAGES
    if action_enabled:
        assert await h.submit(h.tc(19, 4, [7])) == OK_STAGES
    await h.clock.sleep(3.0)
    assert h.vehicle.modes.mode == "NOMINAL"
    return safe


def test_out_of_limits_point_makes_the_vehicle_safe(tmp_path: Path) -> None:
    h, probe = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        safe = await arm_fault_protection(h, action_enabled=True)
        probe.temp = 60.0
        await h.clock.sleep(2.0)
        assert h.vehicle.modes.mode == "NOMINAL"  # fewer samples than the repetition number so far
        await h.clock.sleep(3.0)
        assert [t[5] for report in reports(h, 12, 12) for t in report if t[0] == 1][-1] == "ABOVE_HIGH_LIMIT"
        assert [a["pmon"] for n, a in h.events() if n == "MONITOR_VIOLATION"] == [1]
        assert [(a["action"], a["name"]) for a in triggered(h)] == [(7, "MONITOR_VIOLATION")]
        assert h.stages(safe) == OK_STAGES
        assert h.vehicle.modes.mode == "SAFE"
        # Decided on board: an autonomous SAFE (HIGH), not a commanded one (MEDIUM).
        assert ("SAFE_ENTERED", {"reason": "MODE_SET SAFE from the event-action"}) in h.events()
        assert not [name for name, _ in h.events() if name == "SAFE_COMMANDED"]
        assert await h.submit(h.tc(19, 6)) == OK_STAGES
        assert reports(h, 19, 7)[-1] == [[7, VIOLATION, True, 1]]

    h.run(scenario)


def test_disabled_action_does_not_run(tmp_path: Path) -> None:
    h, probe = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        safe = await arm_fault_protection(h, action_enabled=False)
        probe.temp = 60.0
        await h.clock.sleep(6.0)
        assert [a["pmon"] for n, a in h.events() if n == "MONITOR_VIOLATION"] == [1]
        assert triggered(h) == [] and h.stages(safe) == []
        assert h.vehicle.modes.mode == "NOMINAL"
        # Enabled, but the event-action function is off: still nothing.
        assert await h.submit(h.tc(19, 4, [7])) == OK_STAGES
        assert await h.submit(h.tc(19, 9)) == OK_STAGES
        probe.temp = 20.0
        await h.clock.sleep(5.0)
        probe.temp = 60.0
        await h.clock.sleep(5.0)
        assert [a["pmon"] for n, a in h.events() if n == "MONITOR_VIOLATION"] == [1, 1]
        assert triggered(h) == [] and h.vehicle.modes.mode == "NOMINAL"

    h.run(scenario)


def test_qualifier_selects_the_definition(tmp_path: Path) -> None:
    h, probe = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        ping = h.tc(17, 1)
        await h.submit(h.tc(12, 5, [limit(1, high=50.0, repetition=1), limit(2, high=90.0, repetition=1)]))
        await h.submit(h.tc(12, 1, [1, 2]))
        await h.submit(h.tc(19, 1, [[1, VIOLATION, {"pmon": 2}, ping.pack()]]))
        await h.submit(h.tc(19, 4, [1]))
        probe.temp = 60.0  # violates pmon 1 only
        await h.clock.sleep(3.0)
        assert triggered(h) == [] and h.stages(ping) == []
        probe.temp = 95.0
        await h.clock.sleep(3.0)
        assert [a["action"] for a in triggered(h)] == [1]
        assert h.stages(ping) == OK_STAGES
        assert any((tm.service, tm.subtype) == (17, 2) for tm in h.tm)

    h.run(scenario)


def test_loop_guard_bounds_an_action_that_triggers_itself(tmp_path: Path) -> None:
    h, _ = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        # The action is a TC that is rejected, and a rejection is the event it acts on.
        rejected = h.tc(17, 1, [1])
        await h.submit(h.tc(19, 1, [[3, CMD_REJECTED, None, rejected.pack()]]))
        await h.submit(h.tc(19, 4, [3]))
        await h.submit(rejected)
        await h.clock.sleep(5.0)
        # The action ran once; its own rejection came within the minimum interval and was held back
        # (dropped, not delayed), so the loop is broken rather than slowed down.
        assert [a["action"] for a in triggered(h)] == [3]
        assert [n for n, _ in h.events()].count("EVENT_ACTION_THROTTLED") == 1
        assert h.vehicle.event_action.housekeeping()["evact_throttled"] == 1
        # A later occurrence (past the interval) triggers it again, once.
        await h.submit(h.tc(17, 1, [2]))
        await h.clock.sleep(5.0)
        assert len(triggered(h)) == 2
        assert [n for n, _ in h.events()].count("EVENT_ACTION_THROTTLED") == 2
        assert await h.submit(h.tc(19, 5, [3])) == OK_STAGES
        await h.submit(h.tc(17, 1, [3]))
        await h.clock.sleep(3.0)
        assert len(triggered(h)) == 2

    h.run(scenario)


def test_requests_rejections_reports_and_persistence(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    h, _ = harness(store)
    noop_raw: dict[str, bytes] = {}

    async def before(h: Harness) -> None:
        noop = h.command("NOOP")
        noop_raw["tc"] = noop.pack()
        # From an outside ground: spacepackets builds the 19,1 request.
        raw = SpTc(service=19, message_subtype=1, apid=100, seq_count=500,
                   app_data=cbor2.dumps([[1, VIOLATION, {"pmon": 1}, noop.pack()], [2, 0x0001, None, noop.pack()]]))
        assert await h.submit(PusTc.unpack(bytes(raw.pack()))) == OK_STAGES
        assert await h.submit(h.tc(19, 4, [1])) == OK_STAGES
        for data, subtype, code in (
            ([[1, VIOLATION, None, noop.pack()]], 1, FailureCode.DEFINITION_EXISTS),
            ([[4, 0x7777, None, noop.pack()]], 1, FailureCode.UNKNOWN_EVENT),
            ([[4, 0x1301, None, noop.pack()]], 1, FailureCode.BAD_ARGUMENT),  # its own events
            ([[4, VIOLATION, None, b"\x18\x64"]], 1, FailureCode.TOO_SHORT),
            ([[4, VIOLATION, None, h.tc(17, 1, apid=200).pack()]], 1, FailureCode.UNKNOWN_APID),
            ([[4, VIOLATION, 5, noop.pack()]], 1, FailureCode.BAD_ARGUMENT),
            ([1], 2, FailureCode.DEFINITION_ENABLED),
            ([9], 4, FailureCode.UNKNOWN_DEFINITION),
        ):
            tc = h.tc(19, subtype, data)
            assert await h.submit(tc) == ["ACCEPTANCE_FAILED"] and failure(h, tc) == code, (data, subtype)
        assert await h.submit(h.tc(19, 10, [1])) == OK_STAGES
        assert reports(h, 19, 11)[-1] == [[1, VIOLATION, {"pmon": 1}, noop.pack(), True]]
        assert await h.submit(h.tc(19, 8)) == OK_STAGES

    h.run(before)
    h.store.close()
    again, _ = harness(store)

    async def after(h: Harness) -> None:
        await h.clock.sleep(0.1)
        assert await h.submit(h.tc(19, 10)) == OK_STAGES
        assert reports(h, 19, 11)[-1] == [[1, VIOLATION, {"pmon": 1}, noop_raw["tc"], True],
                                          [2, 0x0001, None, noop_raw["tc"], False]]
        assert await h.submit(h.tc(19, 2, [2])) == OK_STAGES
        assert await h.submit(h.tc(19, 3)) == OK_STAGES
        assert appdata.decode(appdata.encode(h.store.get(STORE_KEY)))["definitions"] == []

    again.run(after)
