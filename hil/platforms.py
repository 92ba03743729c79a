"""This distribution's platforms and watchdogs, registered in ``pyproject.toml`` under the
``ilrs_fsw.platforms`` and ``ilrs_fsw.watchdogs`` entry-point groups (see :mod:`fsw.devices.platform`).

- ``emulator``: the lander/ascender plant behind the device bus (in this process, or another one on
  ``plant_port``) and the emulated surface, rendezvous, return and rover mechanisms, whose state
  lives in a file next to the flight store so that a flight-software restart does not reset them,
  and the partner payloads' instruments (with or without the mission).
- ``pi``: the Raspberry Pi bench devices named in a bench TOML file (``hil/pi/bench.toml`` when
  none is given); no partner payloads.
"""

from __future__ import annotations

from pathlib import Path

from fsw.devices.bus import MAX_PACKET_SIZE, DeviceBusClient
from fsw.devices.platform import (
    DeviceBusDevices,
    DeviceSet,
    MissionHardware,
    NoDevices,
    Platform,
    PlatformRequest,
)
from fsw.link import SerialLink
from hil.watchdog import DevWatchdog, EmulatedWatchdog, record_path_for


def surface_state_path_for(store: str | Path) -> Path:
    """The emulated surface hardware's state file, next to the flight store ``store``."""
    store = Path(store)
    return store.with_name(store.name + ".surface-hardware.sqlite")


def ascender_record_path_for(store: str | Path) -> Path:
    """Where the plant writes the ascender's state at cut-off, for the rendezvous plant to start from."""
    store = Path(store)
    return store.with_name(store.name + ".ascender-cutoff.json")


def emulator(request: PlatformRequest) -> Platform:
    if not request.mission:
        # The instruments only, without the mission's hardware-state file.
        from hil.emulator.surface import SurfaceWorld, make_surface_devices

        instruments = make_surface_devices(SurfaceWorld(request.clock.monotonic, request.seed)).payloads()
        return Platform(NoDevices("emulator"), payloads=instruments)
    from hil.devicebus import DeviceBusServer, LocalDeviceBus
    from hil.emulator.surface import open_surface_devices
    from hil.plant_process import LanderWorld

    bus: DeviceBusClient
    devices: DeviceSet
    if request.plant_port:
        # The plant's port may be missing (its process not started, or gone): reported ABSENT, retried.
        bus = DeviceBusClient(SerialLink(request.plant_port, max_packet_size=MAX_PACKET_SIZE), request.clock)
        devices = DeviceBusDevices("emulator", bus)
    else:
        world = LanderWorld(request.seed, ascender_record=ascender_record_path_for(request.store))
        bus = LocalDeviceBus(DeviceBusServer(world.devices, world.advance), request.clock)
        devices = NoDevices("emulator")
    surface = open_surface_devices(surface_state_path_for(request.store), request.clock.onboard_time, request.seed,
                                   ascender_record=str(ascender_record_path_for(request.store)))
    return Platform(devices, [], MissionHardware(bus, surface.suite()), surface.payloads())


def pi(request: PlatformRequest) -> Platform:
    from hil.config import default_config_path, load_config
    from hil.pi.devices import build_devices

    config = load_config(request.config if request.config is not None else default_config_path())
    devices, reports = build_devices(config)
    return Platform(devices, reports)


def emulated_watchdog(store: Path) -> EmulatedWatchdog:
    return EmulatedWatchdog(record_path_for(store))


def dev_watchdog(store: Path) -> DevWatchdog:
    return DevWatchdog()
