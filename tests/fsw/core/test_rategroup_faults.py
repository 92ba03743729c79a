"""A rate-group member that raises is caught, counted and reported; the group and its other members
carry on; a member that fails every cycle is taken out of the group with a HIGH event."""

from __future__ import annotations

from pathlib import Path

from fsw.core.rategroup import MAX_CONSECUTIVE_FAULTS
from tests.fsw.harness import Harness


def test_a_failing_member_is_reported_and_the_group_carries_on(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    ticks = {"healthy": 0, "flaky": 0, "broken": 0}

    def healthy() -> None:
        ticks["healthy"] += 1

    def flaky() -> None:  # fails every third cycle, never ten in a row
        ticks["flaky"] += 1
        if ticks["flaky"] % 3 == 0:
            raise ValueError("a glitch")

    def broken() -> None:
        ticks["broken"] += 1
        raise RuntimeError("always")

    medium = h.vehicle.rate_groups["medium"]
    for member in (broken, flaky, healthy):
        medium.add(member)

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(5.0)  # 50 cycles at 10 Hz

    h.run(scenario)
    assert ticks["healthy"] >= 49  # the members after the failing ones ran every cycle
    assert ticks["broken"] == MAX_CONSECUTIVE_FAULTS and broken not in medium.members
    assert ticks["flaky"] >= 49 and flaky in medium.members
    assert medium.members_disabled == 1 and medium.member_faults == MAX_CONSECUTIVE_FAULTS + ticks["flaky"] // 3
    events = h.events()
    disabled = [args for name, args in events if name == "RATE_GROUP_MEMBER_DISABLED"]
    assert disabled == [{"group": "medium", "member": broken.__qualname__, "error": "RuntimeError: always"}]
    failed = [args["member"] for name, args in events if name == "RATE_GROUP_MEMBER_FAILED"]
    assert failed.count(broken.__qualname__) == 1  # once per streak, not once per cycle
    assert failed.count(flaky.__qualname__) == ticks["flaky"] // 3
    hk = h.hk(1)[-1]
    assert hk["medium_members_disabled"] == 1 and hk["medium_member_faults"] >= MAX_CONSECUTIVE_FAULTS


def test_control_without_the_catch_a_raising_member_would_stop_its_group(tmp_path: Path) -> None:
    # The negative control: the same member run the way the group ran members before (no catch)
    # ends the group's task with the exception.
    h = Harness(tmp_path / "s.db")
    medium = h.vehicle.rate_groups["medium"]

    async def uncaught(member: object) -> None:
        raise RuntimeError("always")

    medium._run_member = uncaught  # type: ignore[method-assign]
    medium.add(lambda: None)

    async def scenario(h: Harness) -> None:
        cycles = medium.cycles
        await h.clock.sleep(2.0)
        assert medium.cycles == cycles  # the group stopped at its first cycle

    h.run(scenario)
