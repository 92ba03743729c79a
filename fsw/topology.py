"""Topologies: which components a vehicle runs, in what order, and who plays which role.

As in F Prime, the components do not know each other; this module wires them. Every vehicle has
the executive core and the standard services (:func:`standard_services`); the lander adds its
ground link, device status, file delivery, payloads, GNC and mission machines, its default fault
protection table (:func:`lander`), and last the safing response (:func:`add_safing`), made from what
every component declares.
Order matters twice: components start in the order added, and the registrars (dispatcher, events,
parameters, housekeeping) index every component added before or after them.

Rate groups (defined here, run by the executive): ``fast`` 50 Hz runs the GNC cycle and the mission
machines' device checks; ``medium`` 10 Hz health and watchdog strokes, the scheduler and the device
status checks; ``slow`` 1 Hz the executive's own checks and sequence-count flushes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.executive import EXECUTIVE_APID, Executive
from fsw.core.store import Store
from fsw.devices.platform import MissionHardware, Platform, PlatformError, PlatformRequest, load_platform
from fsw.gnc.component import GncComponent
from fsw.link import SerialLink
from fsw.mission import MissionComponents, MissionDevices, build_mission
from fsw.mission.descent_fdir import DESCENT_FAULT_PROTECTION
from fsw.mission.surface_fdir import SURFACE_FAULT_PROTECTION
from fsw.payloads import build_payloads
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.protocol.security import KeyRing
from fsw.services.devices import DeviceStatusService
from fsw.services.dispatcher import Dispatcher
from fsw.services.eventaction import EventActionService
from fsw.services.events import EventService
from fsw.services.fdir_table import FaultProtectionLoader
from fsw.services.filetransfer import FileTransferService
from fsw.services.health import HealthService
from fsw.services.housekeeping import HousekeepingService
from fsw.services.linkmon import LinkMonitor
from fsw.services.modes import ModeManager
from fsw.services.monitoring import MonitoringService
from fsw.services.parameters import ParameterService
from fsw.services.ping import TestService
from fsw.services.relay import RoverRelay
from fsw.services.safing import SAFING_SEQUENCE, SafingService
from fsw.services.scheduler import Scheduler
from fsw.services.sequence_format import Sequence, Step
from fsw.services.sequences import SequenceService
from fsw.services.surface_commands import SurfaceDeviceCommands
from fsw.services.timeman import TimeManager

RATE_GROUPS: tuple[tuple[str, float], ...] = (("fast", 50.0), ("medium", 10.0), ("slow", 1.0))
# Packet sequence counts of the on-board safing TCs (the SEQ_START just below, the steps from here):
# at the top of the range, away from where a ground session's counts usually are.
SAFING_SEQ_COUNTS = 0x3FC0
# The lander's default fault protection: the surface entries, then the descent's (appended, so the
# surface entries' TCs keep their sequence counts).
LANDER_FAULT_PROTECTION = SURFACE_FAULT_PROTECTION + DESCENT_FAULT_PROTECTION


@dataclass
class FlightConfig:
    port: str
    baud: int = 115200
    clock: str = "realtime"
    store: Path = Path("build/fsw-store.sqlite")
    hal: str = "emulator"  # the platform's registered name
    seed: int = 1
    watchdog: str = "none"  # none, or a registered watchdog name (emulator, dev)
    watchdog_timeout_s: float = 3.0
    keys: Path | None = None  # TOML key file: when given, every TC must be signed
    plant_port: str | None = None  # the plant on a device bus in another process (emulator platform)
    mission: bool = True  # fly the mission machines (when the platform has the mission hardware)
    hal_config: Path | None = None  # the platform's configuration file (--hal pi: a bench TOML)
    parameters: tuple[tuple[str, Any], ...] = ()  # start-up parameter values (name, value)
    rover_port: str | None = None  # lander: the proximity radio to the rover, relayed for its APID


@dataclass
class Vehicle:
    """A deployment: the executive with its components wired, and handles on the standard services
    for whoever runs it (the process, a rig, a test)."""

    executive: Executive
    events: EventService
    parameters: ParameterService
    modes: ModeManager
    dispatcher: Dispatcher
    housekeeping: HousekeepingService
    time: TimeManager
    scheduler: Scheduler
    health_service: HealthService
    monitoring: MonitoringService
    event_action: EventActionService
    sequences: SequenceService
    link: SerialLink | None = None
    gnc: GncComponent | None = None
    mission: MissionComponents | None = None
    platform: Platform | None = field(default=None, repr=False)

    @property
    def ctx(self) -> Context:
        return self.executive.ctx

    def add(self, component: Component) -> Component:
        return self.executive.add(component)

    async def start(self) -> None:
        await self.executive.start()

    async def stop(self, reason: str = "commanded") -> None:
        await self.executive.stop(reason)

    # Read-only views of the core, for runners and tests.
    @property
    def clock(self) -> Clock:
        return self.executive.clock

    @property
    def store(self) -> Store:
        return self.executive.store

    @property
    def boot_count(self) -> int:
        return self.executive.boot_count

    @property
    def apid(self) -> int:
        return self.executive.telemetry.apid

    @property
    def dictionary(self) -> Any:
        return self.executive.dictionary

    @property
    def components(self) -> list[Component]:
        return self.executive.components

    @property
    def latches(self) -> Any:
        return self.ctx.latches

    @property
    def rate_groups(self) -> Any:
        return self.ctx.rate_groups

    @property
    def health(self) -> Any:
        return self.ctx.health

    @property
    def bus(self) -> Any:
        return self.ctx.bus


def standard_services(executive: Executive) -> Vehicle:
    """The services every vehicle has, added right after the executive's own component. Events come
    first (everything after may emit), then parameters (restored before anyone reads them), modes,
    the dispatcher, housekeeping, on-board monitoring (PUS 12) and event-action (PUS 19), the test
    service, time, the scheduler, stored sequences and health."""
    ctx = executive.ctx
    events, parameters, modes, dispatcher = EventService(ctx), ParameterService(ctx), ModeManager(ctx), Dispatcher(ctx)
    ctx.connect(events=events, parameters=parameters, modes=modes, commands=dispatcher)
    housekeeping, monitoring, event_action = HousekeepingService(ctx), MonitoringService(ctx), EventActionService(ctx)
    time, scheduler, sequences, health = TimeManager(ctx), Scheduler(ctx), SequenceService(ctx), HealthService(ctx)
    for component in (events, parameters, modes, dispatcher, housekeeping, monitoring, event_action, TestService(ctx),
                      time, scheduler, sequences, health):
        executive.add(component)
    return Vehicle(executive, events, parameters, modes, dispatcher, housekeeping, time, scheduler, health, monitoring,
                   event_action, sequences)


def core_vehicle(clock: Clock, store: Store, *, apid: int = EXECUTIVE_APID, keys: KeyRing | None = None) -> Vehicle:
    """The executive and the standard services: the frame a vehicle's own components go on."""
    return standard_services(Executive(clock, store, apid=apid, keys=keys, rate_groups=RATE_GROUPS))


def lander(config: FlightConfig, clock: Clock, store: Store) -> Vehicle:
    """The lander: the standard services, its ground link, device status, file delivery, payloads
    and, when the platform has the mission hardware, the GNC and the mission machines."""
    keys = KeyRing.load(config.keys) if config.keys is not None else None
    vehicle = core_vehicle(clock, store, keys=keys)
    ctx = vehicle.ctx
    link_monitor: LinkMonitor | None = None

    def on_state(state: str, detail: str) -> None:
        if link_monitor is not None:
            link_monitor.on_link_state(state, detail)

    vehicle.link = SerialLink(config.port, config.baud, on_state=on_state)
    link_monitor = LinkMonitor(ctx, vehicle.link)
    vehicle.add(link_monitor)
    platform = vehicle.platform = open_platform(config, clock)
    vehicle.add(DeviceStatusService(ctx, platform.devices, platform.reports))
    vehicle.add(FileTransferService(ctx))
    if config.rover_port:
        add_rover_relay(vehicle, config.rover_port)
    for payload in build_payloads(ctx, seed=config.seed, devices=platform.payloads):
        vehicle.add(payload)
    if platform.mission is not None and config.mission:
        add_mission(vehicle, platform.mission)
    add_fault_protection(vehicle)
    add_safing(vehicle)
    for name, value in config.parameters:
        try:
            vehicle.parameters.preset(name, value)
        except KeyError as error:
            raise SystemExit(f"ilrs-fsw: --param {name}: no such parameter") from error
        except ValueError as error:
            raise SystemExit(f"ilrs-fsw: --param {name}: {error}") from error
    return vehicle


def add_rover_relay(vehicle: Vehicle, port: str) -> RoverRelay:
    """The relay for the rover's APID over the proximity radio on ``port``."""
    from fsw.rover.topology import ROVER_APID

    relay: RoverRelay | None = None

    def on_state(state: str, detail: str) -> None:
        if relay is not None:
            relay.on_link_state(state, detail)

    relay = RoverRelay(vehicle.ctx, SerialLink(port, on_state=on_state), ROVER_APID)
    vehicle.add(relay)
    return relay


def add_mission(vehicle: Vehicle, hardware: MissionHardware) -> GncComponent:
    """The GNC on the device bus (with the ground's commands to its devices), the ground's commands to the
    surface mechanisms, then the mission machines on the GNC's devices and the platform's mechanisms."""
    gnc = GncComponent(vehicle.ctx, hardware.bus)
    vehicle.add(gnc)
    vehicle.add(SurfaceDeviceCommands(vehicle.ctx, hardware.surface))
    devices = MissionDevices(imu=gnc.lander.imu, range_finder=gnc.lander.range_finder,
                             main_engine=gnc.lander.main_engine, propellant=gnc.lander.propellant,
                             ascent_engine=gnc.ascender.engine, mechanisms=hardware.surface)
    components = build_mission(vehicle.ctx, devices, descent_driver=gnc.descent_driver,
                               ascent_driver=gnc.ascent_driver)
    for machine in components.wiring_order():
        vehicle.add(machine)
    gnc.watch_machines({"mission": components.mission, "ascent": components.ascent})
    vehicle.gnc, vehicle.mission = gnc, components
    return gnc


def add_fault_protection(vehicle: Vehicle) -> FaultProtectionLoader:
    """The default fault protection table, added last: it loads the entries whose points, events
    and commands the components before it declare (docs/fault-protection.md)."""
    loader = FaultProtectionLoader(vehicle.ctx, LANDER_FAULT_PROTECTION)
    vehicle.add(loader)
    return loader


def safing_sequence(vehicle: Vehicle) -> Sequence | None:
    """The built-in SAFING sequence: every component's safing steps, motion stopped first, then power
    cut, then survival made sure of (wiring order within a rank); None when no component has one."""
    wanted = sorted(((step.rank, order, step) for order, component in enumerate(vehicle.components)
                     for step in component.safing_steps()), key=lambda item: (item[0], item[1]))
    steps = []
    for number, (_, _, step) in enumerate(wanted):
        definition = vehicle.dispatcher.commands_by_name.get(step.command)
        if definition is None:
            raise ValueError(f"safing step {step.command}: no such command")
        tc = PusTc(vehicle.apid, 8, 1, appdata.encode([definition.opcode, *step.args]),
                   seq_count=SAFING_SEQ_COUNTS + number, ack_flags=ACK_ALL)
        steps.append(Step(0.0, tc.pack()))
    return Sequence(SAFING_SEQUENCE, tuple(steps), continue_on_failure=True) if steps else None


def add_safing(vehicle: Vehicle) -> SafingService | None:
    """The safing response, once every component is wired: the built-in sequence SAFING, and the
    service that starts it on every entry into SAFE."""
    sequence = safing_sequence(vehicle)
    if sequence is None:
        return None
    vehicle.sequences.add_builtin(sequence)
    start = vehicle.dispatcher.commands_by_name["SEQ_START"].opcode
    # No success reports: the start shows as SEQ_STARTED, and a failure is reported whatever the flags.
    tc = PusTc(vehicle.apid, 8, 1, appdata.encode([start, SAFING_SEQUENCE]), seq_count=SAFING_SEQ_COUNTS - 1,
               ack_flags=0)
    safing = SafingService(vehicle.ctx, tc)
    vehicle.add(safing)
    return safing


def open_platform(config: FlightConfig, clock: Clock) -> Platform:
    """The configured platform's devices; missing hardware is reported, a bad configuration stops the start."""
    request = PlatformRequest(clock=clock, store=config.store, seed=config.seed, config=config.hal_config,
                              plant_port=config.plant_port, mission=config.mission)
    try:
        return load_platform(config.hal)(request)
    except PlatformError as error:
        raise SystemExit(f"ilrs-fsw: {error}") from error


def dictionary_vehicle() -> Vehicle:
    """A lander wired as in flight, for exporting the dictionary (no link is opened), with its rover
    relay: the ground must know the relay's housekeeping and events whenever a rover flies. Everything
    the wiring keeps on disk (the store, the emulated hardware's state) goes to a scratch folder."""
    store = Path(tempfile.mkdtemp(prefix="ilrs-dictionary-")) / "store.sqlite"
    return lander(FlightConfig(port="loop://", store=store, rover_port="loop://"), Clock("afap"), Store(store))
