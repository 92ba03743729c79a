"""A dead device bus in powered flight: reported with its reason, the vehicle goes SAFE, guidance ends,
the bus is tried again at a bounded rate and, when it answers, the engine is commanded safe (the
plant's record shows it). Negative control: with ``fdir_bus_safe`` off the same fault leaves the vehicle
NOMINAL with its engine burning and nobody flying it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsw.devices.bus import LINK_LOST
from fsw.gnc.component import GncComponent
from fsw.gnc.guidance import MAIN_BRAKING
from hil.devicebus import DeviceBusServer
from hil.plant_process import LanderWorld
from tests.fsw.gnc.uplink_support import preload_uplink
from tests.fsw.harness import Harness
from tests.hil.bus_doubles import PullableBus

SEED = 3
OUTAGE_S = 5.0


def fly_and_pull_the_bus(tmp_path: Path, respond: bool) -> tuple[Harness, GncComponent, LanderWorld,
                                                                     DeviceBusServer, list[str], dict[str, Any]]:
    world = LanderWorld(SEED)
    server = DeviceBusServer(world.devices, world.advance)
    harness = Harness(tmp_path / "store.sqlite")
    preload_uplink(harness.store, world)
    bus = PullableBus(server, harness.clock)
    gnc = GncComponent(harness.vehicle.ctx, bus)
    harness.vehicle.add(gnc)
    outcomes: list[str] = []
    seen: dict[str, Any] = {}

    async def scenario(h: Harness) -> None:
        await h.nominal()
        h.vehicle.parameters.preset("fdir_bus_safe", respond)
        gnc.descent_driver.begin(outcomes.append, False)
        while gnc.descent is None or gnc.descent.phase != MAIN_BRAKING:
            await h.clock.sleep(0.1)
        await h.clock.sleep(1.0)
        bus.down = True
        await h.clock.sleep(OUTAGE_S)
        seen.update(mode=h.vehicle.modes.mode, engine_on=world.plant.engine_on, hk=gnc.housekeeping())
        bus.down = False
        await h.clock.sleep(2.0)

    harness.run(scenario)
    return harness, gnc, world, server, outcomes, seen


def test_a_dead_bus_in_powered_flight_safes_the_vehicle_and_the_engine_when_it_returns(tmp_path: Path) -> None:
    harness, gnc, world, server, outcomes, seen = fly_and_pull_the_bus(tmp_path, respond=True)
    events = harness.events()
    names = [name for name, _ in events]
    dead = [args for name, args in events if name == "DEVICE_BUS_DEAD"]
    assert len(dead) == 1 and dead[0]["reason"] == LINK_LOST and "SAFE" in dead[0]["response"]
    assert seen["mode"] == "SAFE" and "SAFE_ENTERED" in names
    assert outcomes == ["aborted"]  # guidance ended: the mission machine safes its phase
    assert seen["hk"]["gnc_bus_state"] == "dead" and seen["hk"]["gnc_bus_outages"] == 1
    assert OUTAGE_S - 2 <= seen["hk"]["gnc_bus_probes"] <= OUTAGE_S + 1  # one attempt a second: bounded
    recovered = [args for name, args in events if name == "DEVICE_BUS_RECOVERED"]
    assert len(recovered) == 1 and OUTAGE_S - 1 <= recovered[0]["outage_s"] <= OUTAGE_S + 1.5
    assert [args["engine"] for name, args in events if name == "ENGINE_SAFED"] == ["main_engine"]
    # The plant's truth: the safing reached the engine, which is off with no thrust commanded.
    safing = [(method, args) for _, name, method, args in server.applied if name == "main_engine"][-2:]
    assert safing == [("set_thrust", (0.0,)), ("set_on", (False,))]
    assert not world.plant.engine_on and world.plant.thrust_cmd == 0.0
    assert gnc.housekeeping()["gnc_bus_state"] == "ok"


def test_negative_control_with_the_response_off_the_vehicle_stays_nominal_with_the_engine_burning(
        tmp_path: Path) -> None:
    harness, _, _, _, outcomes, seen = fly_and_pull_the_bus(tmp_path, respond=False)
    names = [name for name, _ in harness.events()]
    assert "DEVICE_BUS_DEAD" in names  # still reported
    assert seen["mode"] == "NOMINAL" and "SAFE_ENTERED" not in names
    assert outcomes == [] and "ENGINE_SAFED" not in names
    assert seen["engine_on"], "the engine burns on through the outage with nobody flying it"

