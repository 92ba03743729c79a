"""The Yutu-1 fault scenario (2014): the rover's mechanisms fail shortly before the lunar night.

A flight executive with the rover machine is wired as ``fsw.mission.build_rover`` wires it, on
emulated surface devices built here so that the surface world carries the fault. It runs on the afap
clock with the executive dormant (the flight path for quiet phases), so a whole lunar afternoon,
night and morning take about a second of wall time.

The ground uploads a plan and deploys the rover by telecommand; in the afternoon it uploads one long
leg, and the mechanisms stop working during that drive, a couple of hours before the evening Sun
elevation. The run goes on through the night until the rover is awake again (or a deadline), while
a sampler records the rover's state, battery and avionics temperature. :func:`check_yutu1` judges
the response: hibernate anyway, survive the night, wake by itself after sunrise, report the fault.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.mission.machine import AUTO_GO, GROUND_HOLD
from fsw.mission.mission import MissionControl
from fsw.mission.rover import RoverMachine
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.vehicle import Vehicle, core_vehicle
from hil.emulator.surface import SYNODIC_MONTH_S, SurfaceDevices, SurfaceFaults, SurfaceWorld, make_surface_devices

DAY_S = 86_400.0
MORNING_PLAN_M = ((10.0, 0.0), (10.0, 12.0))  # driven in the first morning, before the noon nap
AFTERNOON_LEG_M = (250.0, 12.0)  # ~1.4 h at 0.05 m/s: still driving when the mechanisms fail
LEG_BEFORE_FAULT_S = 3_600.0  # the afternoon leg is uploaded this long before the fault
FAULT_BEFORE_EVENING_S = 7_200.0  # Yutu-1's fault came shortly before its night
SAMPLE_S = 1_800.0  # the sampler's period through the night
HK_PERIOD_SCALE = 3_600.0  # a 1 s housekeeping report comes once an hour of flight time
NIGHT_DEADLINE_S = 21 * DAY_S  # after the evening: longer than the rover's own 20-day night limit
# Survival limits [est.]: a battery that never goes flat, and avionics kept above their survival
# temperature (the emulator's unheated avionics fall to -40 C).
MIN_BATTERY_SOC = 0.05
MIN_AVIONICS_C = -30.0


@dataclass(frozen=True)
class NightSample:
    t: float
    state: str
    battery_soc: float
    avionics_c: float
    hibernating: bool


@dataclass
class RoverRun:
    """What happened: rover transitions and events (with flight time), night samples, parameters."""

    seed: int
    fault_at_s: float | None
    evening_s: float
    wake_sun_deg: float
    transitions: list[tuple[float, str, str, str]] = field(default_factory=list)  # (t, source, dest, trigger)
    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)  # (t, name, args)
    samples: list[NightSample] = field(default_factory=list)
    sun_deg_at: dict[str, float] = field(default_factory=dict)  # Sun elevation when each state was entered last
    final_state: str = ""
    wall_s: float = 0.0

    def event_names(self) -> set[str]:
        return {name for _, name, _ in self.events}

    def events_named(self, name: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, args) for t, event, args in self.events if event == name]

    def entered(self, state: str) -> float | None:
        """Flight time at which the rover first entered ``state`` (None: never)."""
        return next((t for t, _, dest, _ in self.transitions if dest == state), None)

    def outcome(self) -> str:
        hibernated = self.entered("hibernate")
        if hibernated is None:
            return f"never hibernated, final state {self.final_state}"
        stowed = self.events_named("ROVER_HIBERNATING")
        faults = sorted({args["action"] for _, args in self.events_named("ROVER_MECHANISM_FAULT")})
        night = [s for s in self.samples if s.state == "hibernate"]
        text = (f"hibernated at Sun {self.sun_deg_at['hibernate']:.1f} deg"
                f"{', unstowed' if stowed and not stowed[0][1]['stowed'] else ''}")
        if self.fault_at_s is not None:
            text += f" {(hibernated - self.fault_at_s) / 3600:.1f} h after the fault"
        if night:
            text += (f"; night: battery >= {min(s.battery_soc for s in night):.0%}, "
                     f"avionics >= {min(s.avionics_c for s in night):.0f} C")
        woke = self.entered("wake")
        if woke is not None:
            text += f"; woke at Sun {self.sun_deg_at['wake']:.1f} deg after {(woke - hibernated) / DAY_S:.1f} days"
        return f"{text}; mechanism faults: {', '.join(faults) or 'none'}"


def check_yutu1(run: RoverRun) -> list[str]:
    """The unmet expectations of the Yutu-1 response (empty: the response was correct)."""
    problems = []
    hibernated = run.entered("hibernate")
    if hibernated is None:
        problems.append(f"did not hibernate (final state {run.final_state})")
    night = [s for s in run.samples if s.state == "hibernate"]
    if hibernated is not None and not night:
        problems.append("no reading through the night")
    if any(not s.hibernating for s in night):
        problems.append("rover power not in hibernation during the night")
    if night and min(s.battery_soc for s in night) < MIN_BATTERY_SOC:
        problems.append(f"battery flat in the night ({min(s.battery_soc for s in night):.0%})")
    if night and min(s.avionics_c for s in night) < MIN_AVIONICS_C:
        problems.append(f"avionics froze in the night ({min(s.avionics_c for s in night):.0f} C)")
    if not any(source == "hibernate" and dest == "wake" and trigger == "sunrise"
               for _, source, dest, trigger in run.transitions):
        problems.append("did not wake by itself at sunrise")
    elif run.sun_deg_at["wake"] < run.wake_sun_deg:
        problems.append(f"woke before sunrise (Sun {run.sun_deg_at['wake']:.1f} deg)")
    reported = [t for t, _ in run.events_named("ROVER_MECHANISM_FAULT")]
    if run.fault_at_s is not None and not any(t >= run.fault_at_s for t in reported):
        problems.append("mechanism fault not reported")
    return problems


def first_evening_s(world: SurfaceWorld, evening_sun_deg: float, step_s: float = 600.0) -> float:
    """Flight time at which the Sun first sinks below ``evening_sun_deg`` after being above it."""
    t, was_up = 0.0, world.sun_elevation_deg(0.0) >= evening_sun_deg
    while t < SYNODIC_MONTH_S:
        up = world.sun_elevation_deg(t + step_s) >= evening_sun_deg
        if was_up and not up:
            low, high = t, t + step_s
            while high - low > 1.0:
                middle = (low + high) / 2
                low, high = (middle, high) if world.sun_elevation_deg(middle) >= evening_sun_deg else (low, middle)
            return high
        t, was_up = t + step_s, up
    raise ValueError(f"the Sun never sinks below {evening_sun_deg} deg")


def build_rover_executive(clock: Clock, store: Store, world: SurfaceWorld) -> tuple[Vehicle, RoverMachine,
                                                                                     SurfaceDevices]:
    """A flight executive with the rover machine on the emulated surface devices (wired as
    ``fsw.mission.build_rover`` does, without the lander's phase machines)."""
    executive = core_vehicle(clock, store)
    surface = make_surface_devices(world)
    rover = RoverMachine(executive.ctx, surface.rover_deploy, surface.rover_mobility, surface.sun, surface.rover_power,
                         surface.rover_thermal)
    # The go/no-go parameters every machine reads belong to the mission control, left out here.
    executive.parameters.register([definition for definition in MissionControl.parameter_defs()
                                   if definition.name in (AUTO_GO, GROUND_HOLD)])
    executive.add(rover)
    return executive, rover, surface


class _Ground:
    """Telecommands into the executive's dispatcher, as the ground would send them."""

    def __init__(self, executive: Vehicle) -> None:
        self.executive = executive
        self.count = 0

    async def send(self, name: str, *args: Any) -> None:
        """Submit a command and let it run; a critical one is armed first, as the console does."""
        definition = self.executive.dispatcher.commands_by_name[name]
        if definition.critical:
            await self.send("ARM", definition.opcode)
        self.count += 1
        self.executive.dispatcher.submit(PusTc(self.executive.apid, 8, 1,
                                               appdata.encode([definition.opcode, *args]), self.count, ACK_ALL))
        await asyncio.sleep(0.01)


def fly_rover_night(seed: int = 1, *, inject_fault: bool = True, deploy: bool = True,
                    adjust: Callable[[SurfaceDevices], None] | None = None,
                    parameters: Mapping[str, Any] | None = None) -> RoverRun:
    """Run the Yutu-1 scenario: deploy, drive, mechanism fault before the evening, night, morning.

    ``inject_fault=False`` is the nominal day and night; ``deploy=False`` leaves the rover on the
    lander (it then never hibernates: the checker must say so); ``adjust`` may change the emulated
    devices before the run (a further broken device); ``parameters`` are set before the start, as
    the ground would have set them (the negative control switches the response off this way).
    """
    started = time.perf_counter()
    clock = Clock("afap")
    world = SurfaceWorld(clock.monotonic, seed)
    with tempfile.TemporaryDirectory(prefix="ilrs-yutu1-") as directory:
        store = Store(Path(directory) / "store.sqlite")
        executive, rover, surface = build_rover_executive(clock, store, world)
        for name, value in (parameters or {}).items():
            executive.parameters.preset(name, value)
        if adjust is not None:
            adjust(surface)
        evening_s = first_evening_s(world, float(rover.param("rover_evening_sun_deg")))
        fault_at_s = evening_s - FAULT_BEFORE_EVENING_S if inject_fault else None
        world.faults = SurfaceFaults(rover_mechanism_fault_at_s=fault_at_s)
        run = RoverRun(seed, fault_at_s, evening_s, float(rover.param("rover_wake_sun_deg")))
        executive.ctx.telemetry.add_sink(lambda raw: _record(raw, run, executive, world))
        try:
            run_on_clock(_fly(executive, rover, surface, run, deploy), clock)
        finally:
            store.close()
        run.final_state = rover.state
    run.wall_s = time.perf_counter() - started
    return run


def _record(raw: bytes, run: RoverRun, executive: Vehicle, world: SurfaceWorld) -> None:
    event = executive.events.decode_report(raw)
    if event is None:
        return
    name, args = event
    now = world.now()
    if name == "ROVER_TRANSITION":
        run.transitions.append((now, args["source"], args["dest"], args["trigger"]))
        run.sun_deg_at[args["dest"]] = world.sun_elevation_deg(now)
    elif name.startswith("ROVER_"):
        run.events.append((now, name, args))


async def _fly(executive: Vehicle, rover: RoverMachine, surface: SurfaceDevices, run: RoverRun,
               deploy: bool) -> None:
    clock = executive.clock
    await executive.start()
    executive.executive.set_dormant(True)  # no powered flight in this scenario: the quiet-phase rates
    # Even dormant, a month of once-a-minute cycles (health checks, counter flushes) would take most
    # of the wall time, and the rover does not run in them: its machine has its own tasks.
    for group in executive.rate_groups.values():
        group.suspend()
    executive.housekeeping.set_period_scale(HK_PERIOD_SCALE)
    try:
        ground = _Ground(executive)
        await ground.send("MODE_SET", "NOMINAL")  # the vehicle boots in SAFE, which refuses drives
        for east, north in MORNING_PLAN_M:
            await ground.send("ROVER_WAYPOINT", east, north)
        if deploy:
            await ground.send("ROVER_DEPLOY")
        leg_at = run.evening_s - FAULT_BEFORE_EVENING_S - LEG_BEFORE_FAULT_S
        await clock.sleep_until(leg_at)
        await ground.send("ROVER_WAYPOINT", *AFTERNOON_LEG_M)
        deadline = run.evening_s + NIGHT_DEADLINE_S
        while clock.monotonic() < deadline and not (run.entered("wake") and rover.state == "standby"):
            await clock.sleep(SAMPLE_S)
            if clock.monotonic() < run.evening_s - FAULT_BEFORE_EVENING_S:
                continue
            power, thermal = surface.rover_power.read(), surface.rover_thermal.read()
            run.samples.append(NightSample(clock.monotonic(), rover.state, power.battery_soc, thermal.avionics_c,
                                           power.hibernating))
    finally:
        await executive.stop("scenario over")
