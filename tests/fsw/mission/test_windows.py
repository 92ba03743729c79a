"""Ascent and TEI windows: a go before the window waits for it, a go after it is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsw.core.errors import CommandStartFailed
from fsw.protocol.errors import FailureCode
from tests.fsw.mission.conftest import make_rig, until


def test_a_go_ascent_before_the_window_waits_for_it_and_one_after_it_is_refused(store: Path) -> None:
    rig = make_rig(store)
    rig.harness.store.put("mission.mission", {"state": "ascent", "entered": rig.harness.clock.onboard_time(),
                                              "data": {}})
    ascent = rig.components.ascent
    clock = rig.harness.clock
    seen: dict[str, float] = {}

    async def scenario(h):
        await until(ascent, "awaiting_go")
        now = clock.onboard_time()
        # A window that closed a minute ago: refused, nothing lit.
        h.vehicle.parameters.set("ascent_window_open_s", now - 600.0)
        h.vehicle.parameters.set("ascent_window_close_s", now - 60.0)
        with pytest.raises(CommandStartFailed) as refused:
            ascent.go("GO_ASCENT")
        seen["refusal"] = refused.value.code
        seen["reason"] = str(refused.value)
        assert ascent.state == "awaiting_go" and rig.surface.ascent_engine.plant.lit_at is None
        # The next window opens in 20 min: the go is taken now, the ignition waits for the opening.
        opens = clock.onboard_time() + 1_200.0
        h.vehicle.parameters.set("ascent_window_open_s", opens)
        h.vehicle.parameters.set("ascent_window_close_s", opens + 300.0)
        seen["opens"] = opens
        await ascent.go("GO_ASCENT")
        seen["went"] = clock.onboard_time()
        await until(ascent, "vertical_rise", "safe")

    rig.run(scenario)
    assert seen["refusal"] == FailureCode.TIME_PASSED and "window closed" in seen["reason"]
    assert seen["went"] >= seen["opens"]
    assert ascent.state == "vertical_rise"
    assert rig.surface.ascender_separation.fire_count == 1  # the hardware's record: one ignition, in the window
    names = [name for name, _ in rig.harness.events()]
    assert names.count("ASCENT_WINDOW_WAIT") == 1 and names.count("ASCENT_IGNITION") == 1


def test_a_go_tei_after_its_window_is_refused(store: Path) -> None:
    rig = make_rig(store, params={"lunar_orbit_wait_s": 60.0})
    rig.harness.store.put("mission.mission", {"state": "lunar_orbit_wait", "entered": rig.harness.clock.onboard_time(),
                                              "data": {}})
    returns = rig.components.returns
    seen: dict[str, object] = {}

    async def scenario(h):
        await until(returns, "awaiting_go")
        now = h.clock.onboard_time()
        h.vehicle.parameters.set("tei_window_open_s", now - 100.0)
        h.vehicle.parameters.set("tei_window_close_s", now - 10.0)
        with pytest.raises(CommandStartFailed) as refused:
            returns.go("GO_TEI")
        seen["code"] = refused.value.code

    rig.run(scenario)
    assert seen["code"] == FailureCode.TIME_PASSED
    assert returns.state == "awaiting_go" and rig.surface.orbit_engines.burns == []
