"""Powered flight survives a restart of the flight software: the GNC component checkpoints its
controller and a new process resumes it, propagating over the flight it did not see.

The plant (:class:`hil.plant_process.LanderWorld` behind a device bus server) outlives the two
executives, as the plant process outlives a killed flight process; the server lets a reset outage of
plant time pass, engine burning, when the restarted flight computer first exchanges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fsw.gnc.checkpoints import CHECKPOINT_KEY
from fsw.gnc.component import GncComponent
from fsw.gnc.guidance import APPROACH, HOVER, MAIN_BRAKING
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.plant_process import LanderWorld
from tests.fsw.gnc.uplink_support import preload_uplink
from tests.fsw.harness import Harness

SEED = 3
RESET_OUTAGE_S = 1.0
# Extra flight time after reaching the phase, so that the kill is not on a checkpoint boundary.
PAST_PHASE_S = 0.37


class CountingEngine:
    """The plant's main engine, counting ignition commands."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.ignitions = 0

    def set_on(self, on: bool) -> None:
        self.ignitions += bool(on)
        self._engine.set_on(on)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def flight_computer(store: Path, server: DeviceBusServer,
                    world: LanderWorld | None = None) -> tuple[Harness, GncComponent]:
    """One boot on ``store``; ``world``: the ground's descent uplink of its plant first (the first boot)."""
    harness = Harness(store)
    if world is not None:
        preload_uplink(harness.store, world)
    gnc = GncComponent(harness.vehicle.ctx, LocalDeviceBus(server, harness.clock))
    harness.vehicle.add(gnc)
    return harness, gnc


def phase_reached(gnc: GncComponent, phase: str) -> bool:
    return gnc.descent is not None and gnc.descent.phase == phase


@pytest.fixture
def plant() -> tuple[LanderWorld, DeviceBusServer, CountingEngine]:
    world = LanderWorld(SEED)
    engine = CountingEngine(world.devices["main_engine"])
    world.devices["main_engine"] = engine
    return world, DeviceBusServer(world.devices, world.advance, RESET_OUTAGE_S), engine


@pytest.mark.parametrize("phase", [MAIN_BRAKING, APPROACH, HOVER])
def test_descent_resumes_after_a_restart_and_lands(tmp_path: Path, plant: Any, phase: str) -> None:
    world, server, engine = plant
    store = tmp_path / "store.sqlite"
    outcomes: list[str] = []

    first, gnc = flight_computer(store, server, world)

    async def fly_into_phase(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, False)
        while not phase_reached(gnc, phase):
            await h.clock.sleep(0.1)
        await h.clock.sleep(PAST_PHASE_S)

    first.run(fly_into_phase)
    first.store.close()  # the process dies: what the store holds is all the next one has
    assert engine.ignitions == 1 and not world.plant.landed and outcomes == []
    plant_t_at_kill = world.plant.t

    second, gnc = flight_computer(store, server)

    async def resume(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, True)
        while not outcomes:
            await h.clock.sleep(1.0)

    second.run(resume)
    assert outcomes == ["landed"]
    touchdown = world.plant.touchdown
    assert touchdown is not None and touchdown.safe, touchdown
    assert engine.ignitions == 1, "the engine was ignited again after the restart"
    assert server.flight_restarts == 1
    resumed = [args for name, args in second.events() if name == "GNC_RESUMED"]
    assert len(resumed) == 1 and resumed[0]["phase"] == phase
    # The controller saw neither the reset outage nor the cycles flown after its last checkpoint.
    assert RESET_OUTAGE_S <= resumed[0]["gap"] <= RESET_OUTAGE_S + 1.0 + 0.05
    assert world.plant.t > plant_t_at_kill + RESET_OUTAGE_S
    assert "GNC_CHECKPOINT_LOST" not in [name for name, _ in second.events()]
    assert second.store.get(CHECKPOINT_KEY)["finished"] == "landed"  # the phase is over


def test_without_a_checkpoint_guidance_starts_afresh_and_says_so(tmp_path: Path, plant: Any) -> None:
    world, server, _ = plant
    harness, gnc = flight_computer(tmp_path / "store.sqlite", server, world)

    async def resume(h: Harness) -> None:
        gnc.descent_driver.begin(lambda outcome: None, True)
        while gnc.descent is None:
            await h.clock.sleep(0.1)

    harness.run(resume)
    lost = [args for name, args in harness.events() if name == "GNC_CHECKPOINT_LOST"]
    assert lost == [{"vehicle": "lander", "reason": "none saved"}]
    assert "GNC_RESUMED" not in [name for name, _ in harness.events()]


@pytest.mark.parametrize("phase", ["vertical_rise", "orbit_insertion"])
def test_ascent_resumes_after_a_restart_and_reaches_orbit(tmp_path: Path, plant: Any, phase: str) -> None:
    world, server, _ = plant
    world.plant.landed = True  # the descent is behind us: the ascender stands on the lander
    store = tmp_path / "store.sqlite"
    stages: list[str] = []

    first, gnc = flight_computer(store, server, world)

    async def fly_into_phase(h: Harness) -> None:
        gnc.ascent_driver.begin(stages.append, False)
        gnc.ascender.engine.set_on(True)  # the ascent machine's latched ignition
        while gnc.ascent is None or gnc.ascent.phase != phase:
            await h.clock.sleep(0.1)
        await h.clock.sleep(PAST_PHASE_S)

    first.run(fly_into_phase)
    first.store.close()
    reported_before = list(stages)

    second, gnc = flight_computer(store, server)

    async def resume(h: Harness) -> None:
        gnc.ascent_driver.begin(stages.append, True)
        while "in_orbit" not in stages:
            await h.clock.sleep(1.0)

    second.run(resume)
    # After the restart every stage reached is said again, in order (the machine takes what it missed).
    assert stages[: len(reported_before)] == reported_before
    assert stages[len(reported_before):] == ["pitch_over", "orbit_insertion", "cutoff", "in_orbit"], stages
    resumed = [args for name, args in second.events() if name == "GNC_RESUMED"]
    assert len(resumed) == 1 and resumed[0]["vehicle"] == "ascender" and resumed[0]["gap"] >= RESET_OUTAGE_S
    orbit = world.report()["ascent"]
    assert orbit["periapsis_km"] > 10.0 and orbit["apoapsis_km"] < 250.0, orbit
    assert not world.ascender.engine_on


def test_a_reset_after_the_landing_but_before_the_mission_took_the_report_says_it_again(
        tmp_path: Path, plant: Any) -> None:
    world, server, engine = plant
    assert not world.plant.landed
    store = tmp_path / "store.sqlite"
    outcomes: list[str] = []
    first, gnc = flight_computer(store, server, world)

    async def land(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, False)
        while not outcomes:
            await h.clock.sleep(1.0)

    first.run(land)
    first.store.close()
    assert outcomes == ["landed"]
    exchanges = server.exchanges

    second, gnc = flight_computer(store, server)  # the mission machine comes back in powered_descent

    async def resume(h: Harness) -> None:
        gnc.descent_driver.begin(outcomes.append, True)
        await h.clock.sleep(1.0)

    second.run(resume)
    assert outcomes == ["landed", "landed"]
    assert gnc.descent is None and engine.ignitions == 1
    assert server.exchanges == exchanges  # nothing flown again: the dormant GNC never touched the plant
