"""SAFE as a mode: a commanded SAFE is a MEDIUM event and an autonomous one a HIGH event (PUS 5
subtypes differ by severity, so each has its own id); SAFE survives a reboot; only the ground's own
MODE_SET NOMINAL leaves it (not a stored sequence's, an event-action's or a time-tag's)."""

from __future__ import annotations

import os
from pathlib import Path

from fsw.core.store import Store
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTm
from tests.fsw.harness import Harness

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def severity(h: Harness, name: str) -> list[int]:
    """PUS 5 subtypes (1 INFO .. 4 HIGH) of the reports of event ``name``."""
    decode = h.vehicle.events.decode_report
    return [PusTm.unpack(raw).subtype for raw in h.packets if (event := decode(raw)) is not None and event[0] == name]


def test_commanded_safe_is_medium_and_autonomous_safe_is_high(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")

    async def scenario(h: Harness) -> None:
        await h.nominal()
        assert await h.submit(h.command("MODE_SET", "SAFE")) == OK_STAGES
        await h.nominal()
        h.vehicle.modes.enter_safe("sampling: seal not confirmed")  # a mission machine's fault response
        await h.clock.sleep(0.1)

    h.run(scenario)
    assert severity(h, "SAFE_COMMANDED") == [3] and severity(h, "SAFE_ENTERED") == [4]
    assert ("SAFE_ENTERED", {"reason": "sampling: seal not confirmed"}) in h.events()
    # A boot after a fault (a store that does not read back) is autonomous too.
    store = tmp_path / "broken.db"
    healthy = Store(store)
    healthy.put("mode", "NOMINAL")
    healthy.close()
    with open(store, "r+b") as file:
        file.write(os.urandom(4096))
    broken = Harness(store)
    broken.run(lambda h: h.clock.sleep(0.1))
    assert broken.vehicle.modes.mode == "SAFE"
    assert ("SAFE_ENTERED", {"reason": "persistent store corrupted"}) in broken.events()
    assert severity(broken, "SAFE_ENTERED") == [4]


def test_safe_persists_across_a_reboot_and_only_the_grounds_mode_set_nominal_leaves_it(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    h = Harness(store)

    async def first(h: Harness) -> None:
        await h.nominal()
        assert await h.submit(h.command("MODE_SET", "SAFE")) == OK_STAGES

    h.run(first)
    h.store.close()
    h = Harness(store)

    async def second(h: Harness) -> None:
        assert h.vehicle.modes.mode == "SAFE"  # restored after the reboot
        nominal = h.command("MODE_SET", "NOMINAL")
        # A stored sequence's MODE_SET NOMINAL is refused ...
        assert await h.submit(h.tc(150, 1, ["leave", [[0, nominal.pack()]]])) == OK_STAGES
        assert await h.submit(h.command("SEQ_START", "leave"), settle_s=1.0) == OK_STAGES
        assert h.stages(nominal)[-1] == "COMPLETION_FAILED"
        assert h.reports(nominal)[-1].code == FailureCode.WRONG_MODE
        # ... and so is a time-tagged one, loaded earlier by the ground, when its time comes.
        tagged = h.command("MODE_SET", "NOMINAL")
        assert await h.submit(h.tc(11, 4, [[h.clock.onboard_time() + 1.0, tagged.pack()]])) == OK_STAGES
        await h.clock.sleep(2.0)
        assert h.stages(tagged)[-1] == "COMPLETION_FAILED"
        assert h.vehicle.modes.mode == "SAFE"
        # Only the ground's own MODE_SET NOMINAL leaves SAFE.
        await h.nominal()
        assert h.vehicle.modes.mode == "NOMINAL"

    h.run(second)
