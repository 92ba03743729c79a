"""Mission test rig: an in-process executive (tests/fsw/harness.py) on the afap clock, emulated lander
and surface devices, and stub guidance drivers standing in for the descent and ascent GNC."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from fsw.mission import MissionComponents, MissionDevices, build_mission
from fsw.mission.drivers import Report
from fsw.vehicle import Vehicle
from hil.emulator.devices import make_lander_devices
from hil.emulator.plant import FaultConfig, LunarLanderPlant, PlantConfig
from hil.emulator.surface import SurfaceDevices, SurfaceFaults, SurfaceWorld, make_surface_devices
from tests.fsw.harness import Harness

QUIET_HK_PERIOD_S = 3_600.0


class StubDescentDriver:
    """Reports the outcome after a nominal 12 min descent."""

    def __init__(self, outcome: str = "landed", duration_s: float = 720.0) -> None:
        self.outcome = outcome
        self.duration_s = duration_s
        self.begun: list[bool] = []

    def begin(self, report: Report, resumed: bool) -> None:
        self.begun.append(resumed)
        asyncio.get_running_loop().call_later(self.duration_s, report, self.outcome)


class StubAscentDriver:
    """Reports the ascent stages of a ~6 min ascent and shuts the engine down at cutoff."""

    def __init__(self, engine: Any, fail_at: str | None = None) -> None:
        self.engine = engine
        self.fail_at = fail_at
        self.begun: list[bool] = []

    def begin(self, report: Report, resumed: bool) -> None:
        self.begun.append(resumed)
        loop = asyncio.get_running_loop()

        def stage(name: str) -> None:
            if name == self.fail_at:
                report("failed")
                return
            if name == "cutoff":
                self.engine.set_on(False)
            report(name)

        for delay, name in ((15.0, "pitch_over"), (60.0, "orbit_insertion"), (360.0, "cutoff"), (365.0, "in_orbit")):
            loop.call_later(delay, stage, name)


@dataclass
class Rig:
    harness: Harness
    surface: SurfaceDevices
    components: MissionComponents
    descent: StubDescentDriver
    ascent: StubAscentDriver
    plant: LunarLanderPlant

    @property
    def vehicle(self) -> Vehicle:
        return self.harness.vehicle

    def transitions(self, machine: str) -> list[tuple[str, str, str]]:
        return [(args["source"], args["dest"], args["trigger"]) for name, args in self.harness.events()
                if name.endswith("_TRANSITION") and args["machine"] == machine]

    def states(self, machine: str) -> list[str]:
        return [dest for _, dest, _ in self.transitions(machine)]

    def run(self, scenario: Any, *, full_start: bool = False) -> Any:
        """Run a scenario. Without ``full_start`` the executive's rate groups stay off and housekeeping is
        slow, so that days of flight time cost no wall time (the 50 Hz group would)."""
        if full_start:
            return self.harness.run(scenario)

        async def quiet(harness: Harness) -> Any:
            await quiet_start(harness.vehicle)
            return await scenario(harness)

        return self.harness.run(quiet, start=False)


async def quiet_start(executive: Vehicle) -> None:
    for structure in executive.housekeeping.structures.values():
        structure.period = QUIET_HK_PERIOD_S
    for component in executive.components:
        await component.start()
    executive.modes.boot_complete(None)


async def until(machine: Any, *states: str) -> None:
    """Until the state machine is in one of ``states`` (it says when it changes)."""
    while machine.state not in states:
        await machine.changed()


def make_rig(store: Path, *, seed: int = 1, surface_faults: SurfaceFaults | None = None,
             lander_faults: FaultConfig | None = None, params: dict[str, Any] | None = None,
             descent_outcome: str = "landed", ascent_fail_at: str | None = None,
             world_kwargs: dict[str, Any] | None = None) -> Rig:
    harness = Harness(store)
    plant = LunarLanderPlant(seed, PlantConfig(faults=lander_faults or FaultConfig()))
    lander = make_lander_devices(plant)
    world = SurfaceWorld(harness.clock.monotonic, seed, surface_faults or SurfaceFaults(), **(world_kwargs or {}))
    surface = make_surface_devices(world)
    descent = StubDescentDriver(descent_outcome)
    ascent = StubAscentDriver(surface.ascent_engine, ascent_fail_at)
    # The mission rig flies no rover: its machine is tested on its own (test_rover.py).
    mechanisms = replace(surface.suite(), rover_deploy=None, rover_mobility=None, sun=None, rover_power=None,
                         rover_thermal=None)
    devices = MissionDevices(imu=lander.imu, range_finder=lander.range_finder, main_engine=lander.main_engine,
                             propellant=lander.propellant, ascent_engine=surface.ascent_engine, mechanisms=mechanisms)
    components = build_mission(harness.vehicle.ctx, devices, descent_driver=descent, ascent_driver=ascent)
    for machine in components.wiring_order():
        harness.vehicle.add(machine)
    for name, value in (params or {}).items():
        harness.vehicle.parameters.set(name, value)
    return Rig(harness, surface, components, descent, ascent, plant)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"
