"""What every vehicle is: the executive, the standard services on it, the safing response made from
what its components declare, and the process configuration they are run with.

The lander's topology (:mod:`fsw.topology`) and the rover's (:mod:`fsw.rover.topology`) build on
this; neither vehicle's own components are imported here, so a rover's flight software loads none of
the lander's GNC or mission machines.

Rate groups (defined here, run by the executive): ``fast`` 50 Hz runs the GNC cycle and the mission
machines' device checks; ``medium`` 10 Hz health and watchdog strokes, the scheduler and the device
status checks; ``slow`` 1 Hz the executive's own checks and sequence-count flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsw.clock import Clock
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.executive import EXECUTIVE_APID, Executive
from fsw.core.store import Store
from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.protocol.security import KeyRing
from fsw.services.dispatcher import Dispatcher
from fsw.services.eventaction import EventActionService
from fsw.services.events import EventService
from fsw.services.health import HealthService
from fsw.services.housekeeping import HousekeepingService
from fsw.services.modes import ModeManager
from fsw.services.monitoring import MonitoringService
from fsw.services.parameters import ParameterService
from fsw.services.ping import TestService
from fsw.services.safing import SAFING_SEQUENCE, SafingService
from fsw.services.scheduler import Scheduler
from fsw.services.sequence_format import Sequence, Step
from fsw.services.sequences import SequenceService
from fsw.services.timeman import TimeManager

if TYPE_CHECKING:  # the lander's parts, named by the fields a lander fills
    from fsw.devices.platform import Platform
    from fsw.gnc.component import GncComponent
    from fsw.mission import MissionComponents

RATE_GROUPS: tuple[tuple[str, float], ...] = (("fast", 50.0), ("medium", 10.0), ("slow", 1.0))
# Packet sequence counts of the on-board safing TCs (the SEQ_START just below, the steps from here):
# at the top of the range, away from where a ground session's counts usually are.
SAFING_SEQ_COUNTS = 0x3FC0


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
