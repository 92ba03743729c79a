"""The rover machine on the in-process afap rig: deployment, drives with hazard stops, science stops,
the midday nap, a whole lunar day and night, and the Yutu-1 mechanism fault before the night."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fsw.mission import MissionDevices, build_mission
from fsw.mission.machine import AUTO_GO, GROUND_HOLD
from fsw.mission.mission import MissionControl
from fsw.mission.rover import RoverMachine
from hil.emulator.surface import SurfaceDevices, SurfaceFaults, SurfaceWorld, make_surface_devices
from tests.fsw.harness import Harness
from tests.fsw.mission.conftest import quiet_start, until

WAYPOINTS = ((10.0, 0.0), (10.0, 12.0), (0.0, 20.0))
HAZARD_SEED = 3  # the mobility emulator draws a hazard on a leg of this plan with this seed
DAY_S = 86_400.0


@dataclass
class RoverRig:
    harness: Harness
    surface: SurfaceDevices
    rover: RoverMachine

    def events(self, name: str) -> list[dict[str, Any]]:
        return [args for event, args in self.harness.events() if event == name]

    def transitions(self) -> list[tuple[str, str, str]]:
        return [(args["source"], args["dest"], args["trigger"]) for args in self.events("ROVER_TRANSITION")]

    def states(self) -> list[str]:
        return [dest for _, dest, _ in self.transitions()]

    def run(self, scenario: Any) -> Any:
        async def quiet(harness: Harness) -> Any:
            await quiet_start(harness.vehicle)
            return await scenario(harness)

        return self.harness.run(quiet, start=False)


def make_rover_rig(store: Path, *, seed: int = HAZARD_SEED, faults: SurfaceFaults | None = None,
                   params: dict[str, Any] | None = None) -> RoverRig:
    harness = Harness(store)
    world = SurfaceWorld(harness.clock.monotonic, seed, faults or SurfaceFaults())
    surface = make_surface_devices(world)
    rover = RoverMachine(harness.vehicle.ctx, surface.rover_deploy, surface.rover_mobility, surface.sun,
                         surface.rover_power, surface.rover_thermal)
    # The go/no-go parameters every machine reads belong to the mission, which this rig leaves out.
    harness.vehicle.parameters.register([definition for definition in MissionControl.parameter_defs()
                                           if definition.name in (AUTO_GO, GROUND_HOLD)])
    harness.vehicle.add(rover)
    for name, value in (params or {}).items():
        harness.vehicle.parameters.set(name, value)
    return RoverRig(harness, surface, rover)



async def deploy_with_plan(rig: RoverRig, h: Harness) -> None:
    for east, north in WAYPOINTS:
        rig.rover.add_waypoint(east, north)
    await h.nominal()
    stages = await h.fire("ROVER_DEPLOY", settle_s=1.0)
    assert stages[-1] == "COMPLETION_OK", stages


def test_deploys_drives_the_plan_with_hazard_stops_and_science_stops(store: Path) -> None:
    rig = make_rover_rig(store)

    async def scenario(h: Harness) -> None:
        await deploy_with_plan(rig, h)
        await until(rig.rover, "standby")  # deployed
        await rig.rover.changed()
        while not (rig.rover.state == "standby" and not rig.rover.guard_has_waypoint()):
            await rig.rover.changed()

    rig.run(scenario)
    states = rig.states()
    assert states[:3] == ["awaiting_deploy", "deploy", "standby"]
    assert rig.events("ROVER_DEPLOYED")
    reached = rig.events("ROVER_WAYPOINT_REACHED")
    assert [event["index"] for event in reached] == [0, 1, 2]
    for event, (east, north) in zip(reached, WAYPOINTS, strict=True):
        assert abs(event["east_m"] - east) < 0.5 and abs(event["north_m"] - north) < 0.5
    assert states.count("science_stop") == 3
    hazards = rig.events("ROVER_HAZARD_STOP")
    assert hazards, "the seeded plan has at least one hazard stop"
    # Each hazard stop is followed by the re-planning wait and a new drive on the same leg.
    transitions = rig.transitions()
    assert ("drive", "hazard_wait", "hazard") in transitions
    assert ("hazard_wait", "drive", "dwell_over") in transitions
    assert not rig.events("ROVER_WAYPOINT_SKIPPED")
    assert rig.rover.hazard_stops == len(hazards)
    position = rig.surface.rover_mobility.read()
    assert abs(position.east_m - WAYPOINTS[-1][0]) < 0.5 and abs(position.north_m - WAYPOINTS[-1][1]) < 0.5
    assert not rig.rover.mechanism_fault


def test_waypoint_command_uploads_and_drives(store: Path) -> None:
    rig = make_rover_rig(store, seed=1, params={"auto_go": True})

    async def scenario(h: Harness) -> None:
        await rig.rover.begin()
        await until(rig.rover, "standby")
        await h.nominal()  # SAFE refuses drives
        tc = h.command("ROVER_WAYPOINT", 3.0, 4.0)
        h.vehicle.dispatcher.submit(tc)
        await until(rig.rover, "science_stop")
        assert h.stages(tc)[-1] == "COMPLETION_OK"

    rig.run(scenario)
    assert rig.events("ROVER_WAYPOINT_ADDED")[0] == {"index": 0, "east_m": 3.0, "north_m": 4.0}
    assert rig.states()[:4] == ["awaiting_deploy", "deploy", "standby", "drive"]


def test_a_lunar_day_nap_night_and_wake_on_the_sun(store: Path) -> None:
    rig = make_rover_rig(store, params={"auto_go": True})
    world = rig.surface.world

    async def scenario(h: Harness) -> None:
        await rig.rover.begin()
        await until(rig.rover, "hibernate")
        hibernated_at = h.clock.monotonic()
        assert world.sun_elevation_deg() < rig.rover.param("rover_evening_sun_deg")
        assert rig.surface.rover_power.read().hibernating
        await until(rig.rover, "wake")
        woke_at = h.clock.monotonic()
        await until(rig.rover, "standby")
        return hibernated_at, woke_at

    hibernated_at, woke_at = rig.run(scenario)
    states = rig.states()
    # Morning, noon nap above 100 C, afternoon, evening, night, next morning.
    assert states[:3] == ["awaiting_deploy", "deploy", "standby"]
    nap = states.index("nap")
    assert states[nap + 1] == "standby"
    assert states[nap + 2:nap + 5] == ["prepare_night", "hibernate", "wake"]
    assert rig.events("ROVER_NAP")[0]["surface_c"] > 100.0
    hibernating = rig.events("ROVER_HIBERNATING")
    assert len(hibernating) == 1 and hibernating[0]["stowed"] is True and hibernating[0]["faults"] == "none"
    assert ("hibernate", "wake", "sunrise") in rig.transitions()
    night_s = woke_at - hibernated_at
    assert 13 * DAY_S < night_s < 17 * DAY_S  # the lunar night, plus the low Sun at each end
    assert world.sun_elevation_deg(woke_at) >= rig.rover.param("rover_wake_sun_deg")
    assert not rig.surface.rover_power.read().hibernating
    assert not rig.surface.rover_mobility.read().stowed


def test_yutu1_mechanism_fault_before_night_still_hibernates(store: Path) -> None:
    # Mechanisms fail in the afternoon of the first lunar day, during a drive.
    faults = SurfaceFaults(rover_mechanism_fault_at_s=3_000.0)
    rig = make_rover_rig(store, faults=faults, params={"auto_go": True})

    async def scenario(h: Harness) -> None:
        for east, north in WAYPOINTS:
            rig.rover.add_waypoint(east, north)
        await h.nominal()  # the rover drives in NOMINAL only
        await rig.rover.begin()
        await until(rig.rover, "hibernate", "safe")
        assert rig.surface.rover_power.read().hibernating
        await until(rig.rover, "standby")  # woke after the night, still faulty

    rig.run(scenario)
    transitions = rig.transitions()
    assert ("drive", "standby", "fault") in transitions
    assert ("prepare_night", "hibernate", "ready") in transitions
    assert "safe" not in rig.states()
    fault_events = rig.events("ROVER_MECHANISM_FAULT")
    assert {event["action"] for event in fault_events} >= {"drive", "stow"}
    stow = next(event for event in fault_events if event["action"] == "stow")
    assert stow["state"] == "prepare_night"
    hibernating = rig.events("ROVER_HIBERNATING")
    assert len(hibernating) == 1 and hibernating[0]["stowed"] is False and "stow" in hibernating[0]["faults"]
    # No drive is attempted after the fault, and the rover woke by itself after the night.
    fault_at = transitions.index(("drive", "standby", "fault"))
    assert "drive" not in [dest for _, dest, _ in transitions[fault_at + 1:]]
    assert ("hibernate", "wake", "sunrise") in transitions
    assert rig.rover.housekeeping()["rover_mechanism_fault"] is True


def test_a_failing_stow_call_does_not_stop_the_night_sequence(store: Path) -> None:
    rig = make_rover_rig(store, params={"auto_go": True})

    def broken_stow() -> None:
        raise OSError("mast drive not answering")

    rig.surface.rover_mobility.stow = broken_stow  # type: ignore[method-assign]

    async def scenario(h: Harness) -> None:
        await rig.rover.begin()
        await until(rig.rover, "hibernate", "safe")

    rig.run(scenario)
    assert rig.rover.state == "hibernate"
    fault = rig.events("ROVER_MECHANISM_FAULT")
    assert fault and fault[0]["action"] == "stow" and "mast drive not answering" in fault[0]["detail"]


def test_resumes_hibernating_after_a_restart(store: Path) -> None:
    rig = make_rover_rig(store, params={"auto_go": True})

    async def first(h: Harness) -> None:
        await rig.rover.begin()
        await until(rig.rover, "hibernate")
        await h.clock.sleep(3 * DAY_S)

    rig.run(first)
    assert rig.rover.night_seen
    again = make_rover_rig(store)
    assert again.rover.state == "idle"

    async def second(h: Harness) -> None:
        assert again.rover.state == "hibernate" and again.rover.night_seen
        await h.clock.sleep(1.0)

    again.run(second)
    assert again.events("ROVER_RESUMED")[0]["state"] == "hibernate"


def test_mission_builds_a_rover_only_with_rover_devices(store: Path) -> None:
    harness = Harness(store)
    world = SurfaceWorld(harness.clock.monotonic, 1)
    surface = make_surface_devices(world)
    lander = dict(imu=None, range_finder=None, main_engine=None, propellant=None,
                  ascent_engine=surface.ascent_engine)
    no_rover = replace(surface.suite(), rover_deploy=None, rover_mobility=None, sun=None, rover_power=None,
                       rover_thermal=None)
    without = build_mission(harness.vehicle.ctx, MissionDevices(**lander, mechanisms=no_rover))  # type: ignore[arg-type]
    assert without.rover is None and len(without.machines()) == 5
    with_rover = build_mission(harness.vehicle.ctx, MissionDevices(  # type: ignore[arg-type]
        **lander, mechanisms=replace(surface.suite(), rover_power=None)))
    assert isinstance(with_rover.rover, RoverMachine) and with_rover.rover in with_rover.machines()
    assert with_rover.rover.power is surface.power  # no rover battery given: the lander's
    assert "rover" not in with_rover.mission.phases  # started by ROVER_DEPLOY, not by the landing


def test_housekeeping_structure_and_dictionary_ids() -> None:
    assert RoverMachine.hk_structure == 45
    ids = [event.id for event in RoverMachine.events] + [p.id for p in RoverMachine.parameters]
    ids += [c.opcode for c in RoverMachine.command_defs()]
    assert all(0x4500 <= value <= 0x45FF for value in ids)
