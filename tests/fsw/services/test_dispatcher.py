from pathlib import Path

from fsw.core.errors import CommandFailed
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import ACK_ACCEPTANCE, ACK_COMPLETION
from tests.fsw.harness import Harness

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def failure_code(h: Harness, tc) -> int | None:  # type: ignore[no-untyped-def]
    failures = [r for r in h.reports(tc) if not r.ok]
    assert len(failures) == 1, h.stages(tc)
    return failures[0].code


def test_ping_is_verified_and_answered_in_order(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        tc = h.tc(17, 1)
        assert await h.submit(tc) == OK_STAGES
        kinds = [(tm.service, tm.subtype) for tm in h.tm if tm.service in (1, 17)]
        assert kinds[-4:] == [(1, 1), (1, 3), (17, 2), (1, 7)]

    h.run(scenario)


def test_acknowledgement_flags_choose_the_success_reports(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        assert await h.submit(h.tc(17, 1, ack=0)) == []
        assert await h.submit(h.tc(17, 1, ack=ACK_ACCEPTANCE | ACK_COMPLETION)) == ["ACCEPTANCE_OK", "COMPLETION_OK"]
        # Failures are reported whatever the flags say.
        assert await h.submit(h.tc(99, 1, ack=0)) == ["ACCEPTANCE_FAILED"]

    h.run(scenario)


def test_each_rejection_has_its_own_code(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        cases = [
            (h.tc(99, 1), FailureCode.UNKNOWN_SERVICE),
            (h.tc(17, 99), FailureCode.UNKNOWN_SUBTYPE),
            (h.tc(17, 1, apid=101), FailureCode.UNKNOWN_APID),
            (h.tc(8, 1, raw=b"\xff\xff"), FailureCode.BAD_CBOR),
            (h.tc(8, 1, {"not": "a list"}), FailureCode.BAD_ARGUMENT),
            (h.tc(8, 1, [0x7777]), FailureCode.UNKNOWN_COMMAND),
            (h.command("MODE_SET", "FLYING"), FailureCode.ARGUMENT_RANGE),
            (h.command("MODE_SET", 3.5), FailureCode.ARGUMENT_RANGE),
            (h.command("MODE_SET"), FailureCode.BAD_ARGUMENT),
            (h.command("EVENT_LOG_DUMP", "ten"), FailureCode.BAD_ARGUMENT),
            (h.command("EVENT_LOG_DUMP", 100000), FailureCode.ARGUMENT_RANGE),
            (h.tc(17, 1, [1]), FailureCode.BAD_ARGUMENT),
        ]
        for tc, code in cases:
            assert await h.submit(tc) == ["ACCEPTANCE_FAILED"], tc
            assert failure_code(h, tc) == code, tc
        rejected = [args for name, args in h.events() if name == "CMD_REJECTED"]
        assert len(rejected) == len(cases)
        assert h.vehicle.dispatcher.rejected == len(cases)
        # Still alive.
        assert await h.submit(h.tc(17, 1)) == OK_STAGES

    h.run(scenario)


def test_enum_accepts_its_index_for_a_compact_uplink(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        assert await h.submit(h.command("MODE_SET", 1)) == OK_STAGES
        assert h.vehicle.modes.mode == "NOMINAL"

    h.run(scenario)


def test_wrong_mode_is_rejected(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        h.vehicle.modes.mode = "BOOT"  # only commands allowed in every mode pass now
        tc = h.command("EVENT_LOG_CLEAR")
        assert await h.submit(tc) == ["ACCEPTANCE_FAILED"]
        assert failure_code(h, tc) == FailureCode.WRONG_MODE
        assert await h.submit(h.command("NOOP")) == OK_STAGES

    h.run(scenario)


def test_handler_failures_are_reported_and_the_executive_survives(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ZeroDivisionError("boom")

    def refusing() -> None:
        raise CommandFailed(FailureCode.EXECUTION_FAILED, "valve stuck")

    async def scenario(h: Harness) -> None:
        dispatcher = h.vehicle.dispatcher
        noop = dispatcher.commands_by_name["NOOP"]
        for handler, opcode in ((broken, 0x7F01), (refusing, 0x7F02)):
            from dataclasses import replace

            dispatcher.register([replace(noop, name=f"T{opcode}", opcode=opcode, handler=handler)])
        tc = h.tc(8, 1, [0x7F01])
        assert await h.submit(tc) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert failure_code(h, tc) == FailureCode.EXECUTION_FAILED
        tc = h.tc(8, 1, [0x7F02])
        assert await h.submit(tc) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert [r.data for r in h.reports(tc) if not r.ok] == ["valve stuck"]
        assert await h.submit(h.tc(17, 1)) == OK_STAGES
        assert calls == [1]
        assert dispatcher.failed == 2

    h.run(scenario)


def test_critical_command_needs_a_live_arm(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    fired = []

    async def scenario(h: Harness) -> None:
        dispatcher = h.vehicle.dispatcher
        from dataclasses import replace

        noop = dispatcher.commands_by_name["NOOP"]
        dispatcher.register([replace(noop, name="PYRO_FIRE", opcode=0x0F10, critical=True,
                                     handler=lambda: fired.append(h.clock.monotonic()))])
        fire = h.tc(8, 1, [0x0F10])
        assert await h.submit(fire) == ["ACCEPTANCE_FAILED"]
        assert failure_code(h, fire) == FailureCode.NOT_ARMED
        # Arming a command that is not critical is refused.
        assert await h.submit(h.command("ARM", 0x0002)) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert await h.submit(h.command("ARM", 0x0F10)) == OK_STAGES
        assert await h.submit(h.tc(8, 1, [0x0F10])) == OK_STAGES
        assert len(fired) == 1
        # One arm, one fire.
        assert await h.submit(h.tc(8, 1, [0x0F10])) == ["ACCEPTANCE_FAILED"]
        # An arm expires after the window (parameter arm_window_s, default 10 s).
        assert await h.submit(h.command("ARM", 0x0F10)) == OK_STAGES
        await h.clock.sleep(10.5)
        late = h.tc(8, 1, [0x0F10])
        assert await h.submit(late) == ["ACCEPTANCE_FAILED"]
        assert failure_code(h, late) == FailureCode.NOT_ARMED
        assert len(fired) == 1

    h.run(scenario)


def test_progress_reports_carry_step_ids(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def slow(progress) -> None:  # type: ignore[no-untyped-def]
        for step in range(3):
            await h.clock.sleep(1.0)
            progress(step)

    async def scenario(h: Harness) -> None:
        from dataclasses import replace

        dispatcher = h.vehicle.dispatcher
        dispatcher.register([replace(dispatcher.commands_by_name["NOOP"], name="SLOW", opcode=0x0F20, handler=slow)])
        tc = h.tc(8, 1, [0x0F20])
        dispatcher.submit(tc)
        await h.clock.sleep(0.5)
        assert h.stages(tc) == ["ACCEPTANCE_OK", "START_OK"]  # in flight, not failed
        await h.clock.sleep(5)
        reports = h.reports(tc)
        assert [r.subtype.name for r in reports] == ["ACCEPTANCE_OK", "START_OK", "PROGRESS_OK", "PROGRESS_OK",
                                                     "PROGRESS_OK", "COMPLETION_OK"]
        assert [r.step for r in reports if r.step is not None] == [0, 1, 2]

    h.run(scenario)
