"""Platforms: who provides the hardware behind the device ports, found by name at start-up.

A platform is a factory registered under the ``ilrs_fsw.platforms`` entry-point group (this
distribution registers ``emulator`` and ``pi``; a partner's package registers its own in its
``pyproject.toml`` without touching this one). ``ilrs-fsw run --hal NAME`` resolves NAME there,
calls the factory with a :class:`PlatformRequest` and gets back a :class:`Platform`: the device
set whose health the flight software reports, when the platform can fly the mission the
:class:`MissionHardware`, and the devices of the partner payloads it carries. Watchdogs come the
same way from ``ilrs_fsw.watchdogs``.

Hardware that is missing never raises: it comes back as a :class:`DeviceReport` for the flight
side to turn into events. A configuration that cannot be used raises :class:`PlatformError`: that
is an operator's mistake to fix before flight.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from fsw.devices.bus import DeviceBusClient
from fsw.devices.surface import SurfaceSuite
from fsw.devices.watchdog import Watchdog

PLATFORM_GROUP = "ilrs_fsw.platforms"
WATCHDOG_GROUP = "ilrs_fsw.watchdogs"

# Device states as reported in telemetry.
OK = "OK"  # real hardware answering
EMULATED = "EMULATED"  # a stand-in runs the real driver
ABSENT = "ABSENT"  # configured but not found at start-up
DEGRADED = "DEGRADED"  # found at start-up, failing now
DISABLED = "DISABLED"  # configured absent
STATES = (OK, EMULATED, ABSENT, DEGRADED, DISABLED)


class PlatformError(ValueError):
    """A platform that cannot be used as configured (unknown name, bad configuration file)."""


class UnknownPlatform(PlatformError):
    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} {name!r} (known: {', '.join(known) or 'none installed'})")
        self.name = name
        self.known = known


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


class NoDevices:
    """A platform whose devices all sit behind the mission hardware: nothing to report separately."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

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


class DeviceBusDevices:
    """The device set of a platform whose devices sit behind a device bus to another process: one
    device, the bus itself. Its port missing at start-up is ABSENT (the flight software starts
    without it and the link keeps trying the port); lost later, or dead, DEGRADED; OK once it answers."""

    DEVICE = "device_bus"

    def __init__(self, backend: str, bus: DeviceBusClient) -> None:
        self.backend = backend
        self.bus = bus
        self._state = OK
        self._reported: str | None = None

    async def start(self) -> None:
        await self.bus.open()

    async def stop(self) -> None:
        await self.bus.close()

    def _now(self) -> tuple[str, str]:
        bus, link = self.bus, self.bus.link
        port = link.port if link is not None else "in process"
        if link is not None and not link.connected:
            if link.counters.disconnects == 0:
                return ABSENT, f"{port}: no device there (retrying)"
            return DEGRADED, f"{port}: link lost (retrying)"
        if bus.dead is not None:
            return DEGRADED, f"{port}: no answer ({bus.dead})"
        return OK, port

    def status(self) -> dict[str, str]:
        return {self.DEVICE: self._now()[0]}

    def check(self) -> list[DeviceReport]:
        state, reason = self._now()
        if state == self._reported or (self._reported is None and state == OK):
            self._reported = state
            return []
        self._reported = state
        return [DeviceReport(self.DEVICE, state, reason)]

    def close(self) -> None:
        pass


class PlatformClock(Protocol):
    """The flight clock as a platform may use it."""

    def monotonic(self) -> float: ...
    def onboard_time(self) -> float: ...
    def hold(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class PlatformRequest:
    clock: PlatformClock
    store: Path  # the flight store: a platform keeps its own state files next to it
    seed: int = 1
    config: Path | None = None  # the platform's own configuration file, if it takes one
    plant_port: str | None = None  # a plant in another process, for platforms that have one
    mission: bool = True  # build the mission hardware (when the platform has it)


@dataclass(frozen=True)
class MissionHardware:
    """What flying the mission needs: the powered-flight devices behind the device bus, and the
    mechanisms of the lander, ascender, orbiter and rover."""

    bus: DeviceBusClient
    surface: SurfaceSuite


@dataclass
class Platform:
    devices: DeviceSet
    reports: list[DeviceReport] = field(default_factory=list)
    mission: MissionHardware | None = None
    # The partner payloads' devices, by payload name (fsw.payloads.add_payloads); a payload the
    # platform has no device for is absent.
    payloads: dict[str, object] = field(default_factory=dict)


PlatformFactory = Callable[[PlatformRequest], Platform]
WatchdogFactory = Callable[[Path], Watchdog]  # the flight store's path: where a bite may be recorded


def _registered(group: str) -> dict[str, Any]:
    return {entry.name: entry for entry in entry_points(group=group)}


def platform_names() -> list[str]:
    return sorted(_registered(PLATFORM_GROUP))


def watchdog_names() -> list[str]:
    return sorted(_registered(WATCHDOG_GROUP))


def load_platform(name: str) -> PlatformFactory:
    """The factory registered as ``name``; :class:`UnknownPlatform` lists the known ones."""
    factory: PlatformFactory = _load(PLATFORM_GROUP, "platform", name)
    return factory


def load_watchdog(name: str) -> WatchdogFactory:
    factory: WatchdogFactory = _load(WATCHDOG_GROUP, "watchdog", name)
    return factory


def _load(group: str, kind: str, name: str) -> Any:
    registered = _registered(group)
    entry = registered.get(name)
    if entry is None:
        raise UnknownPlatform(kind, name, sorted(registered))
    return entry.load()
