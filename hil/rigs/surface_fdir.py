"""Surface fault protection with no ground in the loop: battery under-voltage, drill over-current and
loss of the ground during sampling, each flown with its response and as its negative control.

The flight side is the lander's surface software wired as the topology wires it: the standard
services (PUS 12 monitoring, PUS 19 event-action, stored sequences), the ground link monitor, the
partner payloads, the mission machines with the power component (``fsw.mission.build_mission``) and
the default fault protection table (``fsw.topology.add_fault_protection``). A stand-in for descent
guidance reports the touchdown after a nominal 12 min descent. The plant is the emulated surface
(:mod:`hil.emulator.surface`) with the fault in its world. Everything runs on the afap clock with the
executive dormant and its rate groups suspended (as the Yutu-1 rig does); housekeeping comes every
``hk_scale`` seconds of flight time per second of its period, so that hours of surface time cost a
few seconds of wall time.

The negative control is the same run with the scenario's event-action disabled (PUS 19,5) by the
ground before the fault: the fault is still detected (MONITOR_VIOLATION), nothing answers it.
Outcomes are judged from the plant's truth (:mod:`hil.rigs.surface_fdir_checks`), never from what the
flight software reports.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.link import SerialLink
from fsw.mission import MissionComponents, MissionDevices, build_mission
from fsw.mission.drivers import Report
from fsw.mission.surface_fdir import (
    ACTION_DRILL_ABANDON,
    ACTION_GROUND_LOST,
    ACTION_LOAD_SHED,
    GROUND_SILENCE_S,
    PMON_GROUND_SILENCE,
)
from fsw.payloads import build_payloads
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.services.linkmon import LinkMonitor
from fsw.topology import add_fault_protection
from fsw.vehicle import Vehicle, core_vehicle
from hil.emulator.devices import make_lander_devices
from hil.emulator.plant import LunarLanderPlant
from hil.emulator.surface import PowerTruth, SurfaceDevices, SurfaceFaults, SurfaceWorld, make_surface_devices

DESCENT_S = 720.0  # the stand-in's nominal powered descent
BATTERY_START_SOC = 0.40  # after the descent and a first stretch of site survey [est.]
SOLAR_OUTPUT_FRACTION = 0.4  # a lost array string and dust on the rest [est.]
BATTERY_RUN_S = 12 * 3600.0  # after the landing
HARD_LAYER_M = 0.9  # CE-5's drill stopped at about 1 m in resistant material; this depth is an estimate
DRILL_RUN_S = 2 * 3600.0  # after the drill meets the hard layer, at most
PING_PERIOD_S = 300.0  # the ground pings during supervised sampling
LINK_LOST_AFTER_GO_S = 600.0  # contact lost 10 min into drilling
QUIET_HK_SCALE = 30.0  # once the drill is home nothing fast is left to watch
GROUND_RUN_AFTER_LIMIT_S = 3600.0  # the run goes on an hour past the silence limit


@dataclass(frozen=True)
class PlantSample:
    """The plant's truth at one moment (world seconds)."""

    t: float
    soc: float
    bus_v: float
    drill_mode: str
    drill_depth_m: float
    drill_current_a: float
    winding_c: float
    arm_busy: bool
    scoops: int


@dataclass
class SurfaceRun:
    """What happened: flight events (world time), plant samples, final truth and the run's marks."""

    scenario: str
    response: bool
    seed: int
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    samples: list[PlantSample] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)  # landed, fault, link_lost, ... (world s)
    power: PowerTruth | None = None
    drill_damaged_at: float | None = None
    peak_winding_c: float = 0.0
    drill_depth_m: float = 0.0
    container_g: float = 0.0
    core_delivered_g: float = 0.0
    scoops: int = 0
    lines: dict[str, bool] = field(default_factory=dict)
    instruments_on: list[str] = field(default_factory=list)
    final_mode: str = ""
    wall_s: float = 0.0

    def names(self) -> list[str]:
        return [name for _, name, _ in self.events]

    def first(self, event: str, /, **args: Any) -> float | None:
        """World time of the first ``event`` whose arguments include ``args`` (None: never)."""
        return next((t for t, name, values in self.events
                     if name == event and all(values.get(k) == v for k, v in args.items())), None)


class _Touchdown:
    """Stands in for descent guidance: reports the landing after a nominal descent."""

    def begin(self, report: Report, resumed: bool) -> None:
        asyncio.get_running_loop().call_later(DESCENT_S, report, "landed")


@dataclass
class SurfaceVehicle:
    vehicle: Vehicle
    mission: MissionComponents
    link: LinkMonitor
    serial: SerialLink
    surface: SurfaceDevices


def build_surface_vehicle(clock: Clock, store: Store, world: SurfaceWorld, seed: int) -> SurfaceVehicle:
    """The lander's surface software on emulated devices, wired as ``fsw.topology.lander`` wires it
    (without the GNC: the descent is the stand-in's)."""
    vehicle = core_vehicle(clock, store)
    ctx = vehicle.ctx
    surface = make_surface_devices(world)
    # Closed before the start: the rig's ground hands its TCs to the link monitor's intake, as the
    # serial intake does, and the telemetry goes to the rig's sink only.
    serial = SerialLink("loop://")
    link = LinkMonitor(ctx, serial)
    vehicle.add(link)
    for payload in build_payloads(ctx, seed=seed, devices=surface.payloads()):
        vehicle.add(payload)
    lander = make_lander_devices(LunarLanderPlant(seed))
    mechanisms = replace(surface.suite(), rover_deploy=None, rover_mobility=None, sun=None, rover_power=None,
                         rover_thermal=None)
    devices = MissionDevices(imu=lander.imu, range_finder=lander.range_finder, main_engine=lander.main_engine,
                             propellant=lander.propellant, ascent_engine=surface.ascent_engine, mechanisms=mechanisms)
    components = build_mission(ctx, devices, descent_driver=_Touchdown())
    for component in components.wiring_order():
        vehicle.add(component)
    add_fault_protection(vehicle)
    return SurfaceVehicle(vehicle, components, link, serial, surface)


class Ground:
    """Telecommands up the link, as the ground sends them (critical ones armed first)."""

    def __init__(self, rig: SurfaceVehicle) -> None:
        self.rig = rig
        self.count = 0

    def _send(self, service: int, subtype: int, data: Any = None) -> None:
        vehicle = self.rig.vehicle
        self.count += 1
        app_data = b"" if data is None else appdata.encode(data)
        self.rig.link.take(PusTc(vehicle.apid, service, subtype, app_data, self.count, ACK_ALL).pack())

    async def request(self, service: int, subtype: int, data: Any = None) -> None:
        self._send(service, subtype, data)
        await asyncio.sleep(0.01)

    async def command(self, name: str, *args: Any) -> None:
        definition = self.rig.vehicle.dispatcher.commands_by_name[name]
        if definition.critical:
            await self.command("ARM", definition.opcode)
        await self.request(8, 1, [definition.opcode, *args])


async def _until(machine: Any, *states: str) -> None:
    while machine.state not in states:
        await machine.changed()


def fly_surface(scenario: str, seed: int = 1, *, response: bool = True) -> SurfaceRun:
    """Fly one scenario ("battery", "drill" or "ground"); ``response=False`` is its negative control."""
    plan = SCENARIO_PLANS[scenario]
    started = time.perf_counter()
    clock = Clock("afap")
    world = SurfaceWorld(clock.monotonic, seed, plan.faults)
    run = SurfaceRun(scenario, response, seed)
    with tempfile.TemporaryDirectory(prefix=f"ilrs-surface-{scenario}-") as directory:
        store = Store(Path(directory) / "store.sqlite")
        rig = build_surface_vehicle(clock, store, world, seed)
        plan.prepare(rig)
        vehicle = rig.vehicle
        vehicle.ctx.telemetry.add_sink(lambda raw: _record(raw, run, vehicle, world))
        try:
            run_on_clock(_fly(rig, run, plan), clock)
        finally:
            store.close()
    run.wall_s = time.perf_counter() - started
    return run


def _record(raw: bytes, run: SurfaceRun, vehicle: Vehicle, world: SurfaceWorld) -> None:
    event = vehicle.events.decode_report(raw)
    if event is not None:
        run.events.append((world.now(), *event))


def sample(surface: SurfaceDevices) -> PlantSample:
    power, drill, arm = surface.power.truth(), surface.drill, surface.arm
    current = drill.motor_current_a()  # advances the drill model to now
    return PlantSample(surface.world.now(), power.soc, power.bus_v, drill.mode, drill.depth, current,
                       drill.winding_c, arm.busy_until is not None, arm.scoops)


def _final_truth(rig: SurfaceVehicle, run: SurfaceRun) -> None:
    surface = rig.surface
    run.samples.append(sample(surface))
    run.power = surface.power.truth()
    drill = surface.drill
    run.drill_damaged_at, run.peak_winding_c, run.drill_depth_m = drill.damaged_at, drill.peak_winding_c, drill.depth
    run.container_g, run.scoops = surface.container.mass_g, surface.arm.scoops
    run.core_delivered_g = run.marks.get("core_g", 0.0)
    run.lines = dict(surface.power.lines)
    run.instruments_on = sorted(name for name, device in surface.power.instruments.items() if device.powered)
    run.final_mode = rig.vehicle.modes.mode


@dataclass(frozen=True)
class Plan:
    faults: SurfaceFaults
    hk_scale: float  # flight seconds between reports of a 1 s structure
    sample_s: float  # the truth sampler's period
    action: int  # the event-action a negative control disables
    script: Callable[[SurfaceVehicle, SurfaceRun, Ground], Awaitable[None]]  # the ground's part and the run's end
    prepare: Callable[[SurfaceVehicle], None] = lambda rig: None


async def _fly(rig: SurfaceVehicle, run: SurfaceRun, plan: Plan) -> None:
    vehicle = rig.vehicle
    await rig.serial.close()
    await vehicle.start()
    vehicle.executive.set_dormant(True)
    for group in vehicle.rate_groups.values():
        group.suspend()
    vehicle.housekeeping.set_period_scale(plan.hk_scale)
    sampler = asyncio.get_running_loop().create_task(_sample(rig, run, plan.sample_s))
    try:
        ground = Ground(rig)
        await ground.command("MODE_SET", "NOMINAL")
        if not run.response:
            await ground.request(19, 5, [plan.action])  # the negative control: nothing answers the fault
        await plan.script(rig, run, ground)
    finally:
        sampler.cancel()
        _final_truth(rig, run)  # before the shutdown, which powers the payloads off
        await vehicle.stop("scenario over")


async def _sample(rig: SurfaceVehicle, run: SurfaceRun, period_s: float) -> None:
    clock = rig.vehicle.clock
    while True:
        run.samples.append(sample(rig.surface))
        await clock.sleep(period_s)


async def _landed(rig: SurfaceVehicle, run: SurfaceRun, ground: Ground, *, auto_go: bool) -> None:
    """Through the descent to the surface: the ground gives the descent go unless ``auto_go``."""
    mission = rig.mission.mission
    if not auto_go:
        await _until(mission, "awaiting_descent_go")
        await ground.command("GO_DESCENT")
    await _until(mission, "surface_operations")
    run.marks["landed"] = rig.surface.world.now()


# --- a. battery under-voltage -----------------------------------------------------------------------
def _battery_prepare(rig: SurfaceVehicle) -> None:
    power = rig.surface.power
    power.energy_wh = BATTERY_START_SOC * power.capacity_wh


async def _battery_script(rig: SurfaceVehicle, run: SurfaceRun, ground: Ground) -> None:
    await _landed(rig, run, ground, auto_go=False)
    for name in ("CAM_POWER_ON", "NDOS_POWER_ON", "GPR_POWER_ON"):  # the site survey's instruments
        await ground.command(name)
    clock = rig.vehicle.clock
    end = clock.monotonic() + BATTERY_RUN_S
    while clock.monotonic() < end:
        await clock.sleep(600.0)
        if not run.response and rig.surface.power.over_discharged_at is not None:
            await clock.sleep(1800.0)  # the control: a little of what follows, then stop
            return


# --- b. drill over-current ---------------------------------------------------------------------------
async def _drill_script(rig: SurfaceVehicle, run: SurfaceRun, ground: Ground) -> None:
    vehicle = rig.vehicle
    vehicle.parameters.set("auto_go", True)  # sampling without a ground go: nobody in the loop
    await _landed(rig, run, ground, auto_go=True)
    clock, drill, arm = vehicle.clock, rig.surface.drill, rig.surface.arm
    deadline = clock.monotonic() + DRILL_RUN_S
    while drill.depth < HARD_LAYER_M - 1e-6 and clock.monotonic() < deadline:
        await clock.sleep(1.0)
        drill.motor_current_a()
    run.marks["hard_layer"] = rig.surface.world.now()
    end = clock.monotonic() + DRILL_RUN_S
    while clock.monotonic() < end:
        await clock.sleep(1.0)
        drill.motor_current_a()
        if drill.mode != "drilling" and "drill_stopped" not in run.marks:
            run.marks["drill_stopped"] = rig.surface.world.now()
        home = drill.depth <= 0.0 and drill.mode == "idle" and drill.core_g == 0.0
        if home and "drill_stopped" in run.marks and "core_g" not in run.marks:
            run.marks["core_g"] = rig.surface.container.mass_g
            vehicle.housekeeping.set_period_scale(QUIET_HK_SCALE)  # the drill is home: the scoop is slow
        if arm.scoops >= 1:  # a scoop sample delivered
            return
        if drill.damaged_at is not None and clock.monotonic() - drill.damaged_at > 600.0:
            return


# --- c. loss of the ground ---------------------------------------------------------------------------
async def _ground_script(rig: SurfaceVehicle, run: SurfaceRun, ground: Ground) -> None:
    await _landed(rig, run, ground, auto_go=False)
    sampling = rig.mission.sampling
    await _until(sampling, "awaiting_go")
    await ground.request(12, 1, [PMON_GROUND_SILENCE])  # supervised sampling: a silence is now a fault
    await ground.command("GO_SAMPLING")
    clock, world = rig.vehicle.clock, rig.surface.world
    run.marks["go"] = world.now()
    lost = clock.monotonic() + LINK_LOST_AFTER_GO_S
    while clock.monotonic() + PING_PERIOD_S <= lost:
        await clock.sleep(PING_PERIOD_S)
        await ground.request(17, 1)
    run.marks["last_tc"] = world.now()
    await clock.sleep(max(0.0, lost - clock.monotonic()))
    run.marks["link_lost"] = world.now()
    run.marks["limit"] = run.marks["last_tc"] + GROUND_SILENCE_S
    await clock.sleep(run.marks["limit"] - world.now() + GROUND_RUN_AFTER_LIMIT_S)


SCENARIO_PLANS: dict[str, Plan] = {
    "battery": Plan(SurfaceFaults(solar_output_fraction=SOLAR_OUTPUT_FRACTION), 60.0, 600.0, ACTION_LOAD_SHED,
                    _battery_script, _battery_prepare),
    "drill": Plan(SurfaceFaults(hard_layer_depth_m=HARD_LAYER_M), 2.0, 30.0, ACTION_DRILL_ABANDON, _drill_script),
    "ground": Plan(SurfaceFaults(), 10.0, 60.0, ACTION_GROUND_LOST, _ground_script),
}
