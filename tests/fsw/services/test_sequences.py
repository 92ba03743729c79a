"""Stored command sequences (private service 150, SEQ_* commands), in-process on the afap clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import ACK_ACCEPTANCE, PusTc
from fsw.protocol.verification import VerificationReport
from fsw.services.sequences import STORE_KEY
from tests.fsw.harness import Harness

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def load(h: Harness, name: str, *steps: list[Any], resumable: bool | None = None) -> PusTc:
    request: list[Any] = [name, [[step[0], step[1].pack(), *step[2:]] for step in steps]]
    if resumable is not None:
        request.append(resumable)
    return h.tc(150, 1, request)


def ping(h: Harness) -> PusTc:
    return h.tc(17, 1)


def named(h: Harness, event: str) -> list[dict[str, Any]]:
    return [args for name, args in h.events() if name == event]


def failure(h: Harness, tc: PusTc) -> int | None:
    failures = [r for r in h.reports(tc) if not r.ok]
    return failures[0].code if failures else None


def completion_times(h: Harness, tc: PusTc) -> list[float]:
    """On-board times (TM time field) of the 1,7 reports of a TC."""
    return [
        tm.time for tm in h.tm
        if (tm.service, tm.subtype) == (1, 7)
        and VerificationReport.unpack(7, tm.source_data).request_id == tc.request_id
    ]


def test_three_steps_run_in_order_verified_on_their_relative_times(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.nominal()
        first, second, third = ping(h), ping(h), h.command("MODE_SET", "SAFE")
        assert await h.submit(load(h, "checkout", [0, first], [5, second], [2.5, third])) == OK_STAGES
        assert named(h, "SEQ_LOADED") == [{"name": "checkout", "steps": 3, "resumable": False}]
        started = h.clock.onboard_time()
        start = h.command("SEQ_START", "checkout")
        assert await h.submit(start, settle_s=0.01) == OK_STAGES
        assert h.stages(first) == OK_STAGES and h.stages(second) == []
        assert h.vehicle.sequences.housekeeping()["seq_active"] == "checkout:2"
        await h.clock.sleep(10.0)
        for tc in (first, second, third):
            assert h.stages(tc) == OK_STAGES
        times = [completion_times(h, tc)[0] - started for tc in (first, second, third)]
        assert abs(times[0]) < 0.05 and abs(times[1] - 5.0) < 0.05 and abs(times[2] - 7.5) < 0.05
        assert h.vehicle.modes.mode == "SAFE"
        assert named(h, "SEQ_STARTED") == [{"name": "checkout", "steps": 3}]
        assert named(h, "SEQ_COMPLETED") == [{"name": "checkout", "steps": 3}]
        hk = h.hk(15)[-1]
        assert (hk["seq_loaded"], hk["seq_running"], hk["seq_completed"], hk["seq_failed"]) == (1, 0, 1, 0)
        # A sequence runs again from its first step (the same TCs, verified again).
        assert await h.submit(h.command("SEQ_START", "checkout"), settle_s=8.0) == OK_STAGES
        assert len(completion_times(h, third)) == 2

    h.run(scenario)


def test_a_failed_step_stops_the_sequence(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        first, unknown, never = ping(h), h.tc(8, 1, [0x7FFF]), ping(h)
        await h.submit(load(h, "bad-opcode", [1, first], [1, unknown], [1, never]))
        await h.submit(h.command("SEQ_START", "bad-opcode"), settle_s=10.0)
        assert h.stages(first) == OK_STAGES
        assert failure(h, unknown) == FailureCode.UNKNOWN_COMMAND
        assert h.stages(never) == []
        assert named(h, "SEQ_STEP_FAILED") == [{
            "name": "bad-opcode", "step": 2, "code": int(FailureCode.UNKNOWN_COMMAND), "reason": "UNKNOWN_COMMAND",
            "detail": "ACCEPTANCE_FAILED no command with opcode 0x7FFF",
        }]
        assert named(h, "SEQ_COMPLETED") == []
        # A command failing in execution (1,8) stops it too.
        bad_arm, after = h.command("ARM", 0x0101), ping(h)
        await h.submit(load(h, "bad-arm", [0, bad_arm], [0, after]))
        await h.submit(h.command("SEQ_START", "bad-arm"), settle_s=1.0)
        assert h.stages(bad_arm)[-1] == "COMPLETION_FAILED" and h.stages(after) == []
        assert named(h, "SEQ_STEP_FAILED")[-1]["code"] == FailureCode.BAD_ARGUMENT
        assert h.vehicle.sequences.housekeeping()["seq_failed"] == 2

    h.run(scenario)


def test_a_sequence_loaded_to_continue_on_failure_runs_every_step(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        first, unknown, waiting, last = ping(h), h.tc(8, 1, [0x7FFF]), ping(h), ping(h)
        steps = [[0, first], [0, unknown], [0, waiting, ["no_such_point", "==", 1, 2.0]], [0, last]]
        loaded = h.tc(150, 1, ["all", [[s[0], s[1].pack(), *s[2:]] for s in steps], False, True])
        assert await h.submit(loaded) == OK_STAGES
        assert await h.submit(h.command("SEQ_START", "all"), settle_s=5.0) == OK_STAGES
        assert h.stages(first) == OK_STAGES and h.stages(last) == OK_STAGES
        assert failure(h, unknown) == FailureCode.UNKNOWN_COMMAND and h.stages(waiting) == []
        assert [(e["step"], e["reason"]) for e in named(h, "SEQ_STEP_FAILED_CONTINUING")] == [
            (2, "UNKNOWN_COMMAND"), (3, "TIMEOUT")]
        assert named(h, "SEQ_STEP_FAILED") == [] and named(h, "SEQ_COMPLETED") == [{"name": "all", "steps": 4}]
        # The listing gives the flag back (fourth), as loaded.
        assert await h.submit(h.tc(150, 4, "all")) == OK_STAGES
        listing = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (150, 5)][-1]
        assert listing[2:] == [False, True]

    h.run(scenario)


def test_telemetry_waits_pass_when_met_and_fail_on_timeout(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.nominal()
        safe, after = h.command("MODE_SET", "SAFE"), ping(h)
        # Housekeeping (structure 1, every second) carries the mode point the second step waits for.
        await h.submit(load(h, "waits", [0, safe], [0, after, ["mode", "==", "SAFE", 5.0]]))
        await h.submit(h.command("SEQ_START", "waits"), settle_s=3.0)
        assert h.stages(after) == OK_STAGES
        assert named(h, "SEQ_COMPLETED") == [{"name": "waits", "steps": 2}]
        guarded, never = ping(h), ping(h)
        await h.submit(load(h, "timeout", [0, guarded], [1, never, ["safe_entries", ">", 5, 4]]))
        started = h.clock.monotonic()
        await h.submit(h.command("SEQ_START", "timeout"), settle_s=4.9)
        assert named(h, "SEQ_STEP_FAILED") == []
        await h.clock.sleep(0.2)
        failed = named(h, "SEQ_STEP_FAILED")
        assert [(f["name"], f["step"], f["code"]) for f in failed] == [("timeout", 2, FailureCode.TIMEOUT)]
        assert h.clock.monotonic() - started >= 5.0
        assert h.stages(guarded) == OK_STAGES and h.stages(never) == []

    h.run(scenario)


def test_load_checks_every_step_and_commands_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        no_completion = h.tc(17, 1, ack=ACK_ACCEPTANCE)
        for request in (
            load(h, "x", [0, ping(h)], [-1, ping(h)]),
            load(h, "x", [0, no_completion]),
            load(h, "x", [0, ping(h), ["mode", "~", 1, 5]]),
            load(h, "x", [0, h.tc(17, 1, apid=5)]),
            h.tc(150, 1, ["x", [[0, "not a TC"]]]),
            h.tc(150, 1, ["x", []]),
        ):
            assert await h.submit(request) == ["ACCEPTANCE_FAILED"]
        assert h.vehicle.sequences.sequences == {}
        await h.submit(load(h, "slow", [100, ping(h)]))
        unknown = h.command("SEQ_START", "nothing")
        await h.submit(unknown)
        assert failure(h, unknown) == FailureCode.BAD_ARGUMENT
        await h.submit(h.command("SEQ_START", "slow"))
        twice, reload, delete = h.command("SEQ_START", "slow"), load(h, "slow", [1, ping(h)]), h.command(
            "SEQ_DELETE", "slow")
        for tc in (twice, reload, delete):
            await h.submit(tc)
            assert failure(h, tc) == FailureCode.BUSY
        assert await h.submit(h.tc(150, 2)) == OK_STAGES
        summary = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (150, 3)][-1]
        assert summary == [["slow", 1, False, 1]]
        assert await h.submit(h.command("SEQ_STOP", "slow")) == OK_STAGES
        assert named(h, "SEQ_STOPPED") == [{"name": "slow", "step": 1, "reason": "commanded"}]
        assert await h.submit(h.tc(150, 4, "slow")) == OK_STAGES
        detail = [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (150, 5)][-1]
        assert detail[0] == "slow" and detail[1][0][0] == 100 and detail[2] is False
        assert await h.submit(h.command("SEQ_DELETE", "slow")) == OK_STAGES
        assert h.vehicle.sequences.sequences == {}
        assert (h.store.get(STORE_KEY) or {})["sequences"] == []

    h.run(scenario)


def test_a_time_tagged_seq_start_starts_it(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        step = ping(h)
        await h.submit(load(h, "later", [0, step]))
        start = h.command("SEQ_START", "later")
        release = h.clock.onboard_time() + 30.0
        assert await h.submit(h.tc(11, 4, [[release, start.pack()]])) == OK_STAGES
        await h.clock.sleep(29.0)
        assert h.stages(step) == []
        await h.clock.sleep(2.0)
        assert h.stages(start) == OK_STAGES and h.stages(step) == OK_STAGES
        assert abs(completion_times(h, step)[0] - release) < 0.05

    h.run(scenario)


def test_sequences_survive_a_restart_and_a_running_one_is_reported_not_resumed(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    first = Harness(store)
    tcs: dict[str, PusTc] = {}

    async def before(h: Harness) -> None:
        tcs["a1"], tcs["a2"], tcs["b1"], tcs["b2"] = ping(h), ping(h), ping(h), ping(h)
        await h.submit(load(h, "plain", [0, tcs["a1"]], [60, tcs["a2"]]))
        await h.submit(load(h, "again", [0, tcs["b1"]], [60, tcs["b2"]], resumable=True))
        await h.submit(load(h, "idle", [0, ping(h)]))
        await h.submit(h.command("SEQ_START", "plain"))
        await h.submit(h.command("SEQ_START", "again"))
        assert h.stages(tcs["a1"]) == OK_STAGES and h.stages(tcs["b1"]) == OK_STAGES

    first.run(before)
    first.store.close()
    second = Harness(store)

    async def after(h: Harness) -> None:
        await h.clock.sleep(0.1)
        sequences = h.vehicle.sequences
        assert sorted(sequences.sequences) == ["again", "idle", "plain"]
        assert named(h, "SEQ_INTERRUPTED") == [{"name": "plain", "step": 2, "where": "its TC not sent"}]
        assert named(h, "SEQ_RESUMED") == [{"name": "again", "step": 2}]
        assert list(sequences.runs) == ["again"]
        await h.clock.sleep(61.0)
        # The resumable one went on at its second step (delay counted from the boot); the other never did.
        assert h.stages(tcs["b2"]) == OK_STAGES and h.stages(tcs["b1"]) == []
        assert h.stages(tcs["a2"]) == []
        assert named(h, "SEQ_COMPLETED") == [{"name": "again", "steps": 2}]
        assert (h.store.get(STORE_KEY) or {})["running"] == {}

    second.run(after)


def test_a_step_sent_before_the_reset_is_not_sent_again(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    first = Harness(store)
    tcs: dict[str, PusTc] = {}

    async def before(h: Harness) -> None:
        tcs["x1"], tcs["x2"], tcs["y1"] = ping(h), ping(h), ping(h)
        await h.submit(load(h, "x", [0, tcs["x1"]], [1, tcs["x2"]], resumable=True))
        await h.submit(load(h, "y", [0, tcs["y1"]]))

    first.run(before)
    # As a reset would leave it with step 1's TC gone out and its verification never heard.
    first.store.put(STORE_KEY, {**first.store.get(STORE_KEY), "running": {"x": [0, True], "y": [0, True]}})
    first.store.close()
    second = Harness(store)

    async def after(h: Harness) -> None:
        await h.clock.sleep(2.0)
        assert named(h, "SEQ_RESUMED") == [{"name": "x", "step": 2}]
        assert named(h, "SEQ_INTERRUPTED") == [{"name": "y", "step": 1, "where": "its TC sent, outcome unknown"}]
        assert h.stages(tcs["x1"]) == [] and h.stages(tcs["y1"]) == []
        assert h.stages(tcs["x2"]) == OK_STAGES

    second.run(after)


def test_a_sequence_may_stop_itself_and_start_another(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        other, never = ping(h), ping(h)
        await h.submit(load(h, "other", [0, other]))
        await h.submit(load(h, "chain", [0, h.command("SEQ_START", "other")], [1, h.command("SEQ_STOP", "chain")],
                            [1, never]))
        await h.submit(h.command("SEQ_START", "chain"), settle_s=5.0)
        assert h.stages(other) == OK_STAGES and h.stages(never) == []
        assert named(h, "SEQ_STOPPED") == [{"name": "chain", "step": 2, "reason": "commanded"}]
        assert named(h, "SEQ_COMPLETED") == [{"name": "other", "steps": 1}]
        assert h.vehicle.sequences.runs == {}

    h.run(scenario)
