"""SAFE that acts: entering SAFE runs the safing response (the built-in sequence SAFING), whatever the
mission is doing. Outcomes are read from the emulated hardware's own state (drill depth and mode,
arm, instrument power, rover wheels, heaters), never from the flight software's telemetry.

The rig is the lander's wiring in-process on the afap clock: the mission machines with the rover and
the survival heaters on the emulated surface, the three payloads, and the safing response exactly as
``fsw.vehicle.add_safing`` wires it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsw.mission import MissionComponents, MissionDevices, build_mission
from fsw.payloads import build_payloads
from fsw.protocol.packet import PusTm
from fsw.services.safing import SAFING_SEQUENCE
from fsw.vehicle import add_safing
from hil.emulator.devices import make_lander_devices
from hil.emulator.plant import LunarLanderPlant, PlantConfig
from hil.emulator.surface import SurfaceDevices, SurfaceWorld, make_surface_devices
from tests.fsw.harness import Harness
from tests.fsw.mission.conftest import StubAscentDriver, StubDescentDriver, quiet_start

OK_STAGES = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
FAR_WAYPOINT = (300.0, 0.0)  # 6000 s of driving at 5 cm/s: still under way when SAFE comes


@dataclass
class Lander:
    harness: Harness
    surface: SurfaceDevices
    mission: MissionComponents

    def events(self, name: str) -> list[dict[str, Any]]:
        return [args for event, args in self.harness.events() if event == name]

    def run(self, scenario: Any) -> Any:
        async def quiet(harness: Harness) -> Any:
            await quiet_start(harness.vehicle)
            return await scenario(harness)

        return self.harness.run(quiet, start=False)


def severity(h: Harness, name: str) -> list[int]:
    """PUS 5 subtypes (1 INFO .. 4 HIGH) of the reports of event ``name``."""
    decode = h.vehicle.events.decode_report
    return [PusTm.unpack(raw).subtype for raw in h.packets if (event := decode(raw)) is not None and event[0] == name]


def lander(store: Path, seed: int = 1) -> Lander:
    harness = Harness(store)
    vehicle = harness.vehicle
    plant_devices = make_lander_devices(LunarLanderPlant(seed, PlantConfig()))
    surface = make_surface_devices(SurfaceWorld(harness.clock.monotonic, seed))
    devices = MissionDevices(imu=plant_devices.imu, range_finder=plant_devices.range_finder,
                             main_engine=plant_devices.main_engine, propellant=plant_devices.propellant,
                             ascent_engine=surface.ascent_engine, mechanisms=surface.suite())
    mission = build_mission(vehicle.ctx, devices, descent_driver=StubDescentDriver(),
                            ascent_driver=StubAscentDriver(surface.ascent_engine))
    for component in mission.wiring_order():
        vehicle.add(component)
    for payload in build_payloads(vehicle.ctx, seed=seed, devices=surface.payloads()):
        vehicle.add(payload)
    add_safing(vehicle)
    vehicle.parameters.set("auto_go", True)  # the go/no-go points pass: the phases come by themselves
    return Lander(harness, surface, mission)


async def until(predicate: Any, h: Harness, step_s: float = 30.0, limit_s: float = 20_000.0) -> None:
    waited = 0.0
    while not predicate():
        assert waited < limit_s, "condition not reached"
        await h.clock.sleep(step_s)
        waited += step_s


async def drilling_and_driving(rig: Lander, h: Harness) -> None:
    """NOMINAL, payloads on, a far waypoint; on until the drill is well down and the rover on its way."""
    await h.nominal()
    for command in ("CAM_POWER_ON", "GPR_POWER_ON", "NDOS_POWER_ON"):
        assert await h.submit(h.command(command)) == OK_STAGES, command
    assert await h.submit(h.command("ROVER_WAYPOINT", *FAR_WAYPOINT)) == OK_STAGES
    surface, mission = rig.surface, rig.mission
    await until(lambda: mission.mission.state == "surface_operations", h, step_s=10.0)
    assert await h.fire("ROVER_DEPLOY") == OK_STAGES
    await until(lambda: mission.rover is not None and mission.rover.state == "drive"
                and surface.drill.read().depth_m > 0.3, h)
    assert surface.drill.mode == "drilling" and surface.rover_mobility.goal is not None
    assert surface.camera.powered and surface.radar.powered and surface.dosimeter.powered


def test_safe_mid_drill_stops_and_retracts_the_drill_and_safes_the_lander(tmp_path: Path) -> None:
    rig = lander(tmp_path / "store.sqlite")
    surface = rig.surface

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(1.0)
        # The boot into SAFE ran the response too, on idle components: every step completed.
        assert [args["name"] for args in rig.events("SEQ_COMPLETED")] == [SAFING_SEQUENCE]
        await drilling_and_driving(rig, h)
        depth_at_safe = surface.drill.read().depth_m
        assert await h.submit(h.command("MODE_SET", "SAFE"), settle_s=1.0) == OK_STAGES
        where = (surface.rover_mobility.east, surface.rover_mobility.north)
        await h.clock.sleep(1_200.0)  # a retract of a metre takes ~200 s
        # The hardware's own state: drill stopped and home, arm stowed, instruments off, wheels still,
        # the lander's survival heaters on and its power not cut.
        assert surface.drill.mode == "idle" and surface.drill.depth == 0.0
        assert surface.arm.stowed and surface.arm.busy_until is None
        assert not (surface.camera.powered or surface.radar.powered or surface.dosimeter.powered)
        assert surface.rover_mobility.goal is None
        assert (surface.rover_mobility.east, surface.rover_mobility.north) == where
        assert surface.thermal.heaters and not surface.power.hibernating
        assert depth_at_safe > 0.3
        # What the ground saw: a commanded SAFE (MEDIUM), SAFING started and completed, no failed step.
        assert rig.events("SAFE_COMMANDED") == [{"origin": "ground"}] and severity(h, "SAFE_COMMANDED") == [3]
        assert rig.events("SAFE_ENTERED") == []
        assert [args["name"] for args in rig.events("SEQ_COMPLETED")] == [SAFING_SEQUENCE] * 2
        assert rig.events("SEQ_STEP_FAILED_CONTINUING") == []
        assert rig.events("SAMPLING_SAFE_POINT")[0]["state"] == "drilling"
        assert rig.mission.sampling.state == "held" and rig.mission.mission.state == "surface_operations"
        # SAFE holds: the rover does not drive on, the drill stays home.
        await h.clock.sleep(3_600.0)
        assert surface.rover_mobility.goal is None and surface.drill.depth == 0.0
        # The ground resumes: NOMINAL, then GO_SAMPLING delivers the core and goes on with the scoop.
        await h.nominal()
        assert await h.fire("GO_SAMPLING") == OK_STAGES
        await until(lambda: rig.mission.sampling.state == "scooping", h, step_s=5.0, limit_s=600.0)
        assert surface.container.read().sample_mass_g > 100.0  # the core, delivered

    rig.run(scenario)

    # Negative control: the same SAFE with the safing response deleted: the drill keeps drilling.
    control = lander(tmp_path / "control.sqlite")
    surface = control.surface

    async def without_safing(h: Harness) -> None:
        await h.clock.sleep(1.0)
        await drilling_and_driving(control, h)
        assert await h.submit(h.command("SEQ_DELETE", SAFING_SEQUENCE)) == OK_STAGES
        depth_at_safe = surface.drill.read().depth_m
        assert await h.submit(h.command("MODE_SET", "SAFE"), settle_s=1.0) == OK_STAGES
        await h.clock.sleep(1_200.0)
        assert surface.drill.mode == "drilling" and surface.drill.depth > depth_at_safe + 0.5
        assert surface.camera.powered and surface.rover_mobility.goal is not None
        failed = [args for args in control.events("CMD_FAILED") if args["reason"] == "BAD_ARGUMENT"]
        assert failed and "SAFING" in failed[-1]["detail"]  # the SEQ_START found no SAFING: said so

    control.run(without_safing)


def test_safe_mid_scoop_lets_the_stroke_end_then_stows_the_arm(tmp_path: Path) -> None:
    rig = lander(tmp_path / "store.sqlite")
    arm, sampling = rig.surface.arm, rig.mission.sampling

    async def scenario(h: Harness) -> None:
        await h.nominal()
        await until(lambda: sampling.state == "scooping" and arm.busy_until is not None, h, step_s=10.0)
        scoops, stroke_ends = arm.scoops, arm.busy_until
        assert await h.submit(h.command("MODE_SET", "SAFE"), settle_s=1.0) == OK_STAGES
        assert sampling.state == "held" and arm.busy_until == stroke_ends  # not cut mid-stroke
        await h.clock.sleep(stroke_ends - h.clock.monotonic() + 60.0)
        assert arm.scoops == scoops + 1 and arm.busy_until is None and arm.stowed  # stroke done, then stowed
        assert rig.events("SAMPLING_SAFE_POINT")[0]["state"] == "scooping"
        await h.clock.sleep(3_600.0)
        assert arm.scoops == scoops + 1 and arm.stowed  # no scoop in SAFE

    rig.run(scenario)


def test_the_response_can_be_disabled_and_replaced_by_the_ground(tmp_path: Path) -> None:
    rig = lander(tmp_path / "store.sqlite")

    async def scenario(h: Harness) -> None:
        await h.clock.sleep(1.0)
        await h.nominal()
        listing = h.vehicle.sequences.sequences[SAFING_SEQUENCE].to_cbor()
        assert listing[2:] == [False, True]  # not resumable, continues past a failed step
        assert len(listing[1]) == 6  # sampling, rover, three payloads, heaters
        assert await h.submit(h.command("CAM_POWER_ON")) == OK_STAGES
        assert await h.submit(h.tc(20, 3, [[0x0410, False]])) == OK_STAGES  # safing_enabled
        assert await h.submit(h.command("MODE_SET", "SAFE"), settle_s=5.0) == OK_STAGES
        assert rig.surface.camera.powered
        assert len(rig.events("SAFING_DISABLED")) == 1
        # A ground replacement (150,1) is what runs next time; the built-in does not overwrite it.
        await h.nominal()
        assert await h.submit(h.tc(20, 3, [[0x0410, True]])) == OK_STAGES
        camera_off = h.command("CAM_POWER_OFF")
        assert await h.submit(h.tc(150, 1, [SAFING_SEQUENCE, [[0, camera_off.pack()]]])) == OK_STAGES
        assert await h.submit(h.command("MODE_SET", "SAFE"), settle_s=5.0) == OK_STAGES
        assert not rig.surface.camera.powered
        assert h.stages(camera_off) == OK_STAGES

    rig.run(scenario)
    again = lander(tmp_path / "store.sqlite")

    async def after_restart(h: Harness) -> None:
        await h.clock.sleep(5.0)
        # Restored SAFE: the response runs again at the boot, the ground's version of it.
        assert [args["name"] for args in again.events("SEQ_STARTED")] == [SAFING_SEQUENCE]
        assert len(h.vehicle.sequences.sequences[SAFING_SEQUENCE].steps) == 1

    again.run(after_restart)
