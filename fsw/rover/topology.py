"""The rover: a second vehicle on the same executive and services as the lander, with its own APID,
store, clock and keys, its proximity link to the lander as its only link, and its own devices on a
device bus to the rover plant.

Rate groups are slower than the lander's: a rover driving at 5 cm/s needs no 50 Hz loop. ``fast``
(2 Hz: 2.5 cm of driving a cycle) steps the device bus, polls the radio, updates the navigation and
runs the traverse, in that order; ``slow`` (1 Hz) runs power, thermal and the night, and while
hibernating (dormant) also steps the bus and polls the radio.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fsw.clock import Clock
from fsw.core.executive import Executive
from fsw.core.store import Store
from fsw.devices import rover as rover_devices
from fsw.devices.bus import MAX_PACKET_SIZE, DeviceBusClient, register_readings
from fsw.devices.rover import RoverHardware
from fsw.link import SerialLink
from fsw.protocol.security import KeyRing
from fsw.rover.array import RoverArray
from fsw.rover.platform import RoverBus, RoverNavigation
from fsw.rover.proximity import ProximityLink
from fsw.rover.survival import RoverSurvival
from fsw.rover.traverse import RoverTraverse
from fsw.services.filetransfer import FileTransferService
from fsw.vehicle import FlightConfig, Vehicle, add_safing, standard_services

ROVER_APID = 120
ROVER_HK_PERIOD_S = 5.0
ROVER_RATE_GROUPS: tuple[tuple[str, float], ...] = (("fast", 2.0), ("medium", 2.0), ("slow", 1.0))

register_readings(rover_devices)


def rover_hardware(bus: DeviceBusClient) -> RoverHardware:
    """The rover's devices as remote devices on its device bus."""
    read = ("read",)
    return RoverHardware(
        wheels=bus.device("wheels", read), imu=bus.device("imu", read), sun=bus.device("sun", read),
        hazcam=bus.device("hazcam", (), ("capture",)), power=bus.device("power", read),
        thermal=bus.device("thermal", read), mast=bus.device("mast", read), radio=bus.device("radio", read),
        pancam=bus.device("pancam", (), ("acquire",)), array=bus.device("array", read),
    )


def rover(config: FlightConfig, clock: Clock, store: Store, bus: DeviceBusClient | None = None) -> Vehicle:
    """The rover vehicle. ``bus``: its device bus (default: a client on ``config.plant_port``)."""
    keys = KeyRing.load(config.keys) if config.keys is not None else None
    vehicle = standard_services(Executive(clock, store, apid=ROVER_APID, keys=keys, rate_groups=ROVER_RATE_GROUPS))
    ctx = vehicle.ctx
    if bus is None:
        link = SerialLink(config.plant_port, max_packet_size=MAX_PACKET_SIZE) if config.plant_port else None
        bus = DeviceBusClient(link, clock)
    hardware = rover_hardware(bus)
    vehicle.link = SerialLink(config.port, config.baud)
    proximity = ProximityLink(ctx, vehicle.link, hardware.radio)
    for component in (RoverBus(ctx, bus), proximity, RoverNavigation(ctx, hardware), RoverTraverse(ctx, hardware),
                      RoverSurvival(ctx, hardware), RoverArray(ctx, hardware), FileTransferService(ctx)):
        vehicle.add(component)
    add_safing(vehicle)
    # Everything the rover sends crosses the lander's relay: each structure every 5 s at most, the
    # standard services' included (at their 1 s default, seven of its thirteen structures were 85 % of
    # what it sent while driving).
    vehicle.housekeeping.set_minimum_period(ROVER_HK_PERIOD_S)
    for name, value in config.parameters:
        try:
            vehicle.parameters.preset(name, value)
        except (KeyError, ValueError) as error:
            raise SystemExit(f"ilrs-fsw: --param {name}: {error}") from error
    return vehicle


def rover_dictionary_vehicle() -> Vehicle:
    """A rover wired as in flight, for exporting its dictionary section (nothing is opened)."""
    store = Path(tempfile.mkdtemp(prefix="ilrs-rover-dictionary-")) / "store.sqlite"
    clock = Clock("afap")
    return rover(FlightConfig(port="loop://", store=store), clock, Store(store), DeviceBusClient(None, clock))
