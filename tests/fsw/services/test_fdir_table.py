"""The fault protection table: loaded once through the ground's own requests, visible, changeable,
deletable for good; entries this vehicle cannot carry wait for a boot that can."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsw.core.component import Component
from fsw.core.declarations import command
from fsw.protocol import appdata
from fsw.protocol.packet import PusTc
from fsw.services.fdir_table import (
    Command,
    EventAction,
    FaultProtectionLoader,
    FaultProtectionTable,
    Monitor,
    Step,
    StoredSequence,
)
from tests.fsw.harness import Harness

PMON, ACTION, LATE = 0x7F10, 0x7F10, 0x7F11
TABLE = FaultProtectionTable(
    monitors=(Monitor(PMON, "cmds_rejected", 1.0, 1, ("limit", None, 2)),
              Monitor(0x7F12, "no_such_point", 1.0, 1, ("limit", None, 1))),
    sequences=(StoredSequence("GO_SAFE", (Step(0.0, Command("NOOP")), Step(0.0, Command("MODE_SET", ("SAFE",))))),
               StoredSequence("LATER", (Step(0.0, Command("LATE_COMMAND")),))),
    actions=(EventAction(ACTION, "MONITOR_VIOLATION", (("pmon", PMON),), Command("SEQ_START", ("GO_SAFE",))),
             EventAction(LATE, "MONITOR_VIOLATION", (("pmon", PMON),), Command("LATE_COMMAND"), enabled=False),
             # Starts a sequence this vehicle cannot hold yet: waits with it.
             EventAction(0x7F13, "MONITOR_VIOLATION", None, Command("SEQ_START", ("LATER",)), enabled=False)),
)


class LateComponent(Component):
    """A component a later build adds: the table entry that needs its command loads then."""

    name = "late"

    @command(0x7E01)
    def cmd_late_command(self) -> None:
        """Do nothing, late."""


def harness(path: Path, *, late: bool = False) -> Harness:
    h = Harness(path)
    if late:
        h.vehicle.add(LateComponent(h.vehicle.ctx))
    h.vehicle.add(FaultProtectionLoader(h.vehicle.ctx, TABLE))
    return h


def listing(h: Harness, service: int, subtype: int) -> Any:
    return [appdata.decode(tm.source_data) for tm in h.tm if (tm.service, tm.subtype) == (service, subtype)][-1]


def loaded_events(h: Harness) -> list[dict[str, Any]]:
    return [args for name, args in h.events() if name == "FDIR_TABLE_LOADED"]


def test_the_table_loads_at_first_boot_as_ordinary_definitions_and_works(tmp_path: Path) -> None:
    h = harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(1.0)
        assert await h.submit(h.tc(12, 8, [PMON])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        assert listing(h, 12, 9)[1] == [[PMON, "cmds_rejected", 1.0, 1, ["limit", None, 2], True]]
        await h.submit(h.tc(19, 10, [ACTION]))
        [[action_id, event_id, qualifier, tc_bytes, enabled]] = listing(h, 19, 11)
        assert (action_id, event_id, qualifier, enabled) == (ACTION, 0x0E01, {"pmon": PMON}, True)
        action = PusTc.unpack(tc_bytes)  # a whole TC, as the ground would have written it
        opcode = h.vehicle.dispatcher.commands_by_name["SEQ_START"].opcode
        assert (action.service, action.subtype, appdata.decode(action.app_data)) == (8, 1, [opcode, "GO_SAFE"])
        await h.submit(h.tc(150, 2))
        assert listing(h, 150, 3) == [["GO_SAFE", 2, False, 0]]
        await h.nominal()
        for _ in range(3):  # three rejected TCs: the monitored point goes above its limit
            await h.submit(h.tc(8, 1, [0x7FFF]))
            await h.clock.sleep(1.0)
        await h.clock.sleep(3.0)

    h.run(scenario)
    [loaded] = loaded_events(h)
    assert loaded["count"] == 3  # the monitor, a sequence and an action; the others cannot load here
    assert h.vehicle.modes.mode == "SAFE"
    assert ("SEQ_COMPLETED", {"name": "GO_SAFE", "steps": 2}) in h.events()


def test_a_definition_the_ground_deleted_stays_deleted_across_boots(tmp_path: Path) -> None:
    h = harness(tmp_path / "s.db")

    async def delete(h: Harness) -> None:
        await h.clock.sleep(1.0)
        assert await h.submit(h.tc(12, 2, [PMON])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        assert await h.submit(h.tc(12, 6, [PMON])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]

    h.run(delete)
    h.store.close()
    again = harness(tmp_path / "s.db")

    async def check(h: Harness) -> None:
        await h.clock.sleep(1.0)
        await h.submit(h.tc(12, 8))
        assert PMON not in [item[0] for item in listing(h, 12, 9)[1]]
        await h.submit(h.tc(19, 6))
        assert [ACTION, 0x0E01, True, 0] in listing(h, 19, 7)

    again.run(check)
    assert loaded_events(again) == []


def test_an_entry_a_later_build_can_carry_loads_at_its_first_boot(tmp_path: Path) -> None:
    h = harness(tmp_path / "s.db")
    h.run(lambda h: h.clock.sleep(1.0))
    h.store.close()
    again = harness(tmp_path / "s.db", late=True)

    async def check(h: Harness) -> None:
        await h.clock.sleep(1.0)
        await h.submit(h.tc(19, 6))
        assert [LATE, 0x0E01, False, 0] in listing(h, 19, 7)  # loaded as the table has it: disabled

    again.run(check)
    assert [args["entries"] for args in loaded_events(again)] == ["sequence:LATER, action:0x7F11, action:0x7F13"]


def test_an_id_the_ground_took_first_is_reported_and_left_alone(tmp_path: Path) -> None:
    ground = Harness(tmp_path / "s.db")  # a vehicle without the table, where the ground made PMON 0x7F10

    async def add(h: Harness) -> None:
        definition = [PMON, "cmds_failed", 5.0, 2, ["limit", None, 9]]
        assert await h.submit(h.tc(12, 5, [definition])) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]

    ground.run(add)
    ground.store.close()
    h = harness(tmp_path / "s.db")

    async def check(h: Harness) -> None:
        await h.clock.sleep(1.0)
        await h.submit(h.tc(12, 8, [PMON]))
        assert listing(h, 12, 9)[1] == [[PMON, "cmds_failed", 5.0, 2, ["limit", None, 9], False]]

    h.run(check)
    failed = [args for name, args in h.events() if name == "FDIR_ENTRY_FAILED"]
    assert [args["entry"] for args in failed] == ["pmon:0x7F10"] and failed[0]["code"] == 51  # DEFINITION_EXISTS
    h.store.close()
    third = harness(tmp_path / "s.db")
    third.run(lambda h: h.clock.sleep(1.0))
    assert not [name for name, _ in third.events() if name == "FDIR_ENTRY_FAILED"]  # not tried again
