"""PUS 11 time-based schedule and time correlation, in-process on the afap clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.protocol.verification import VerificationReport
from fsw.services.scheduler import MAX_ENTRIES, STORE_KEY
from tests.fsw.harness import Harness

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def failure(h: Harness, tc: PusTc) -> int | None:
    failures = [r for r in h.reports(tc) if not r.ok]
    return failures[0].code if failures else None


def noop(h: Harness) -> PusTc:
    return h.command("NOOP")


def insert(h: Harness, *pairs: tuple[float, PusTc]) -> PusTc:
    return h.tc(11, 4, [[release, tc.pack()] for release, tc in pairs])


def release_times(h: Harness, tc: PusTc) -> list[float]:
    """On-board times (from the TM time field) of the 1,1 reports of a released TC."""
    return [
        tm.time for tm in h.tm
        if (tm.service, tm.subtype) == (1, 1)
        and VerificationReport.unpack(1, tm.source_data).request_id == tc.request_id
    ]


def test_time_tagged_tc_runs_once_at_its_time(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        now = h.clock.onboard_time()
        later, sooner = noop(h), noop(h)
        request = insert(h, (now + 100.0, later), (now + 50.0, sooner))
        assert await h.submit(request) == OK_STAGES
        assert h.vehicle.scheduler.housekeeping()["sched_entries"] == 2
        await h.clock.sleep(49.0)
        assert h.stages(sooner) == []
        await h.clock.sleep(2.0)
        assert h.stages(sooner) == OK_STAGES
        await h.clock.sleep(60.0)
        assert h.stages(later) == OK_STAGES
        # Released exactly on time on the afap clock (the TM time field has 2^-24 s resolution).
        assert abs(release_times(h, sooner)[0] - (now + 50.0)) < 1e-3
        assert abs(release_times(h, later)[0] - (now + 100.0)) < 1e-3
        assert h.vehicle.scheduler.entries == []
        assert [name for name, _ in h.events()].count("SCHEDULE_RELEASED") == 2

    h.run(scenario)


def test_insert_rejections(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        now = h.clock.onboard_time()
        past = insert(h, (now + 10.0, noop(h)), (now - 1.0, noop(h)))
        await h.submit(past)
        assert failure(h, past) == FailureCode.TIME_PASSED
        bad_tc = h.tc(11, 4, [[now + 10.0, b"\x18\x64\xc0\x00\x00\x05garbage"]])
        await h.submit(bad_tc)
        assert failure(h, bad_tc) in {code.value for code in FailureCode if code.value < 20}
        not_bytes = h.tc(11, 4, [[now + 10.0, "text"]])
        await h.submit(not_bytes)
        assert failure(h, not_bytes) == FailureCode.BAD_ARGUMENT
        empty = h.tc(11, 4, [])
        assert await h.submit(empty) == ["ACCEPTANCE_FAILED"]
        # All or nothing: the rejected requests inserted nothing.
        assert h.vehicle.scheduler.entries == []
        fill = insert(h, *[(now + 1000.0 + i, noop(h)) for i in range(MAX_ENTRIES)])
        assert await h.submit(fill) == OK_STAGES
        over = insert(h, (now + 5000.0, noop(h)))
        await h.submit(over)
        assert failure(h, over) == FailureCode.SCHEDULE_FULL

    h.run(scenario)


def test_delete_reset_enable_disable_and_reports(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        now = h.clock.onboard_time()
        first, second, third = noop(h), noop(h), noop(h)
        await h.submit(insert(h, (now + 10.0, first), (now + 20.0, second), (now + 30.0, third)))
        delete = h.tc(11, 5, [[first.apid, first.seq_count]])
        assert await h.submit(delete) == OK_STAGES
        unknown = h.tc(11, 5, [[first.apid, first.seq_count]])
        await h.submit(unknown)
        assert failure(h, unknown) == FailureCode.UNKNOWN_SCHEDULE_ID
        assert await h.submit(h.tc(11, 17)) == OK_STAGES
        summary = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (11, 13)][-1]
        assert [[apid, seq] for _, apid, seq in summary] == [[second.apid, second.seq_count],
                                                             [third.apid, third.seq_count]]
        assert await h.submit(h.tc(11, 16)) == OK_STAGES
        detail = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (11, 10)][-1]
        assert [PusTc.unpack(raw).request_id for _, raw in detail] == [second.request_id, third.request_id]
        assert abs(detail[0][0] - (now + 20.0)) < 1e-6
        # Disabled at second's time: it is reported as missed when release is enabled again, not run late.
        assert await h.submit(h.tc(11, 2)) == OK_STAGES
        await h.clock.sleep(25.0)
        assert h.stages(second) == []
        assert await h.submit(h.tc(11, 1)) == OK_STAGES
        assert ("SCHEDULE_MISSED", second.seq_count) in [(n, a.get("seq")) for n, a in h.events()]
        await h.clock.sleep(10.0)
        assert h.stages(second) == []
        assert h.stages(third) == OK_STAGES
        await h.submit(insert(h, (h.clock.onboard_time() + 10.0, noop(h))))
        assert await h.submit(h.tc(11, 3)) == OK_STAGES
        assert h.vehicle.scheduler.entries == []
        assert (h.store.get(STORE_KEY) or {})["entries"] == []

    h.run(scenario)


def test_correlation_steps_neither_repeat_nor_skip(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        now = h.clock.onboard_time()
        a, b, c = noop(h), noop(h), noop(h)
        await h.submit(insert(h, (now + 10.0, a), (now + 500.0, b), (now + 1000.0, c)))
        await h.clock.sleep(11.0)
        assert h.stages(a) == OK_STAGES
        fast_cycles, started = h.vehicle.rate_groups["fast"].cycles, h.clock.monotonic()
        # Step back over a's release: it must not run again.
        assert await h.submit(h.command("TIME_ADJUST", -5.0)) == OK_STAGES
        await h.clock.sleep(10.0)
        assert len(release_times(h, a)) == 1
        # Step forward over b's release: b runs at once, c is still waited for at its new place.
        assert await h.submit(h.command("TIME_ADJUST", 600.0)) == OK_STAGES
        await h.clock.sleep(0.5)
        assert h.stages(b) == OK_STAGES and h.stages(c) == []
        assert await h.submit(h.command("TIME_SET", now + 990.0)) == OK_STAGES
        await h.clock.sleep(9.0)
        assert h.stages(c) == []
        await h.clock.sleep(2.0)
        assert h.stages(c) == OK_STAGES
        # Rate groups run on monotonic time: 50 Hz of it, whatever the steps did to on-board time.
        cycles = h.vehicle.rate_groups["fast"].cycles - fast_cycles
        assert abs(cycles - 50 * (h.clock.monotonic() - started)) <= 1
        events = [a for n, a in h.events() if n == "TIME_CORRELATED"]
        assert [e["how"] for e in events] == ["adjusted", "adjusted", "set"]
        hk = h.vehicle.time.housekeeping()
        assert hk["time_correlation_changes"] == 3
        assert abs(hk["time_correction_s"] - (595.0 + events[2]["step"])) < 1e-6

    h.run(scenario)


def test_schedule_survives_restart_and_passed_entries_are_reported_not_run(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    first = Harness(store)
    tcs: dict[str, Any] = {}

    async def before(h: Harness) -> None:
        now = h.clock.onboard_time()
        tcs["soon"], tcs["later"] = noop(h), noop(h)
        await h.submit(insert(h, (now + 5.0, tcs["soon"]), (now + 5000.0, tcs["later"])))
        await h.submit(h.tc(11, 2))  # release disabled: persisted too

    first.run(before)
    first.store.close()
    second = Harness(store)
    # This boot's on-board time is 100 s past the first one's: "soon" was due while it was down.
    second.clock.adjust_onboard_time(100.0)

    async def after(h: Harness) -> None:
        scheduler = h.vehicle.scheduler
        await h.clock.sleep(0.01)
        assert [e.tc.request_id for e in scheduler.entries] == [tcs["later"].request_id]
        assert not scheduler.enabled
        missed = [a for n, a in h.events() if n == "SCHEDULE_MISSED"]
        assert [m["seq"] for m in missed] == [tcs["soon"].seq_count]
        await h.clock.sleep(10.0)
        assert h.stages(tcs["soon"]) == []

    second.run(after)


def test_time_report_service_9(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        assert await h.submit(h.tc(9, 1, 2)) == OK_STAGES
        await h.clock.sleep(6.9)
        reports = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (9, 2)]
        assert len(reports) == 4  # one at once, then every 2 s
        assert reports[0][1] == 0
        bad = h.tc(9, 1, -1)
        await h.submit(bad)
        assert failure(h, bad) == FailureCode.BAD_ARGUMENT

    h.run(scenario)


def test_afap_on_board_time_carries_on_after_a_restart(tmp_path: Path) -> None:
    from tests.fsw.harness import Harness

    first = Harness(tmp_path / "s.db")

    async def fly(h: Harness) -> float:
        await h.clock.sleep(100.0)
        return h.clock.onboard_time()

    reached = first.run(fly)
    first.store.close()
    again = Harness(tmp_path / "s.db")

    async def resumed(h: Harness) -> float:
        return h.clock.onboard_time()

    restarted_at = again.run(resumed)
    # Saved every 10 s of flight time: a restart repeats at most that much, never the whole run.
    assert reached - 10.0 <= restarted_at <= reached
