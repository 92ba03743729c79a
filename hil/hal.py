"""Backend selection: the one door through which the flight software reaches device backends.

``select_backend("pi", config_path)`` builds the Raspberry Pi devices named in a bench TOML file
(``hil/pi/bench.toml`` when no path is given) and returns them with the problems found on the
way; ``select_backend("emulator")`` returns an empty device set (the emulator plant's devices are
built with the plant, see ``hil.emulator``). Hardware that is missing never raises here: it comes
back as a :class:`DeviceReport` for the flight side to turn into events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Device states as reported in telemetry.
OK = "OK"  # real hardware answering
EMULATED = "EMULATED"  # a stand-in runs the real driver
ABSENT = "ABSENT"  # configured but not found at start-up
DEGRADED = "DEGRADED"  # found at start-up, failing now
DISABLED = "DISABLED"  # configured absent
STATES = (OK, EMULATED, ABSENT, DEGRADED, DISABLED)
BACKENDS = ("emulator", "pi")


@dataclass(frozen=True)
class DeviceReport:
    """A device's change of state: ``state`` is ABSENT, DEGRADED, or OK/EMULATED after a recovery."""

    device: str
    state: str
    reason: str


class DeviceSet(Protocol):
    backend: str

    async def start(self) -> None:
        """Open what needs the event loop (serial links); called once the loop runs."""

    def status(self) -> dict[str, str]:
        """State of every configured device, by name."""

    def check(self) -> list[DeviceReport]:
        """Exercise the devices cheaply and report those whose state changed since the last check."""

    def close(self) -> None:
        """Leave every output safe (de-energised) and release the hardware."""

    async def stop(self) -> None:
        """Close the serial links, then :meth:`close`."""


class EmptyDeviceSet:
    backend = "emulator"

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def status(self) -> dict[str, str]:
        return {}

    def check(self) -> list[DeviceReport]:
        return []

    def close(self) -> None:
        pass


class BackendError(ValueError):
    pass


def select_backend(name: str, config_path: str | Path | None = None) -> tuple[DeviceSet, list[DeviceReport]]:
    """Devices of the named backend and the problems met building them.

    Raises :class:`BackendError` for an unknown backend and ``hil.config.ConfigError`` for a bad
    configuration file: those are operator mistakes to fix before flight, not hardware faults.
    """
    if name == "emulator":
        return EmptyDeviceSet(), []
    if name == "pi":
        from hil.config import default_config_path, load_config
        from hil.pi.devices import build_devices

        config = load_config(config_path if config_path is not None else default_config_path())
        return build_devices(config)
    raise BackendError(f"unknown device backend {name!r} (expected one of {', '.join(BACKENDS)})")


def surface_state_path_for(store: str | Path) -> Path:
    """The emulated surface hardware's state file, next to the flight store ``store``."""
    store = Path(store)
    return store.with_name(store.name + ".surface-hardware.sqlite")


def emulator_mission_backend(seed: int, clock: object, plant_port: str | None = None,
                             surface_state: str | Path | None = None) -> tuple[object, object]:
    """The emulator's mission devices: the device bus to the lander/ascender plant (in this process,
    or another one on ``plant_port``) and the in-process surface, rendezvous and return devices.

    Returns ``(bus, surface devices)``. The surface mechanisms are time-driven emulators on the
    flight clock's on-board time; the powered-flight physics is the plant on the bus. With
    ``surface_state`` (a file, see :func:`surface_state_path_for`) the surface hardware keeps its
    state there and continues from it after a restart of the flight software; without, it lives
    in memory only.
    """
    import hil.interfaces
    import hil.surface
    from fsw.gnc import setup as gnc_setup
    from fsw.link import SerialLink
    from hil.devicebus import MAX_PACKET_SIZE, DeviceBusClient, DeviceBusServer, LocalDeviceBus, register_readings
    from hil.emulator.surface import HardwareTime, SurfaceWorld, make_surface_devices, open_surface_devices
    from hil.plant_process import LanderWorld

    register_readings(hil.interfaces, hil.surface, gnc_setup)
    bus: DeviceBusClient
    if plant_port:
        bus = DeviceBusClient(SerialLink(plant_port, max_packet_size=MAX_PACKET_SIZE), clock)  # type: ignore[arg-type]
    else:
        world = LanderWorld(seed)
        bus = LocalDeviceBus(DeviceBusServer(world.devices, world.advance, world.handover), clock)  # type: ignore[arg-type]
    onboard = clock.onboard_time  # type: ignore[attr-defined]
    if surface_state is not None:
        return bus, open_surface_devices(surface_state, onboard, seed)
    return bus, make_surface_devices(SurfaceWorld(HardwareTime(onboard), seed))
