"""The lander's topology: which components it runs, in what order, and who plays which role.

As in F Prime, the components do not know each other; this module wires them. The lander is a
vehicle (:mod:`fsw.vehicle`: the executive core, the standard services, the safing response) with
its ground link, device status, file delivery, payloads, GNC and mission machines, and its default
fault protection table (:func:`lander`), and last the safing response (:func:`fsw.vehicle.add_safing`), made from
what every component declares.
Order matters twice: components start in the order added, and the registrars (dispatcher, events,
parameters, housekeeping) index every component added before or after them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fsw.clock import Clock
from fsw.core.store import Store
from fsw.devices.platform import MissionHardware, Platform, PlatformError, PlatformRequest, load_platform
from fsw.gnc.component import GncComponent
from fsw.link import SerialLink
from fsw.mission import MissionDevices, build_mission
from fsw.mission.descent_fdir import DESCENT_FAULT_PROTECTION
from fsw.mission.surface_fdir import SURFACE_FAULT_PROTECTION
from fsw.payloads import build_payloads
from fsw.protocol.security import KeyRing
from fsw.services.devices import DeviceStatusService
from fsw.services.fdir_table import FaultProtectionLoader
from fsw.services.filetransfer import FileTransferService
from fsw.services.linkmon import LinkMonitor
from fsw.services.relay import RoverRelay
from fsw.services.surface_commands import SurfaceDeviceCommands
from fsw.vehicle import FlightConfig, Vehicle, add_safing, core_vehicle

# The lander's default fault protection: the surface entries, then the descent's (appended, so the
# surface entries' TCs keep their sequence counts).
LANDER_FAULT_PROTECTION = SURFACE_FAULT_PROTECTION + DESCENT_FAULT_PROTECTION


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
