"""The surface devices as one set (:class:`SurfaceDevices`) and the hardware-state file that keeps
them across a restart of the flight software (see the package's doc)."""

from __future__ import annotations

import atexit
import json
import logging
import math
import sqlite3
import struct
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fsw.devices.surface import SurfaceSuite
from hil.emulator.ascent import EmulatedAscentEngine
from hil.emulator.surface.electrical import LanderPower
from hil.emulator.surface.instruments import EmulatedCamera, EmulatedDosimeter, EmulatedRadar
from hil.emulator.surface.orbit import (
    EmulatedOrbitEngines,
    EmulatedOrbiterAccelerometers,
    EmulatedSeparation,
    PadAscender,
)
from hil.emulator.surface.power import EmulatedPower, EmulatedSunSensor, EmulatedThermal
from hil.emulator.surface.rendezvous import EmulatedDocking, EmulatedRendezvous
from hil.emulator.surface.rover import EmulatedRoverDeploy, EmulatedRoverMobility
from hil.emulator.surface.sampling import EmulatedArm, EmulatedContainer, EmulatedDrill, EmulatedTransfer
from hil.emulator.surface.world import HardwareTime, SurfaceFaults, SurfaceWorld, _Device

STATE_VERSION = 1
READING_SAVE_INTERVAL_S = 0.25  # wall time between saves of what readings change (see the package doc)

log = logging.getLogger("fsw.devices.surface")


@dataclass
class SurfaceDevices:
    world: SurfaceWorld
    arm: EmulatedArm
    drill: EmulatedDrill
    container: EmulatedContainer
    transfer: EmulatedTransfer
    radar: EmulatedRadar
    camera: EmulatedCamera
    dosimeter: EmulatedDosimeter
    ascender_separation: EmulatedSeparation
    ascender_release: EmulatedSeparation
    returner_separation: EmulatedSeparation
    rendezvous: EmulatedRendezvous
    docking: EmulatedDocking
    orbit_engines: EmulatedOrbitEngines
    orbiter_accelerometers: EmulatedOrbiterAccelerometers
    ascent_engine: EmulatedAscentEngine
    power: LanderPower
    thermal: EmulatedThermal
    sun: EmulatedSunSensor
    rover_deploy: EmulatedRoverDeploy
    rover_mobility: EmulatedRoverMobility
    rover_power: EmulatedPower
    rover_thermal: EmulatedThermal

    hardware: SurfaceHardware | None = field(default=None, repr=False, compare=False)

    def suite(self) -> SurfaceSuite:
        """These devices as the flight software's ports."""
        return SurfaceSuite(
            drill=self.drill, arm=self.arm, container=self.container, transfer=self.transfer, radar=self.radar,
            power=self.power, pdu=self.power, ascender_separation=self.ascender_separation,
            rendezvous_radar=self.rendezvous,
            approach_thrusters=self.rendezvous, docking=self.docking, ascender_release=self.ascender_release,
            orbit_engines=self.orbit_engines, returner_separation=self.returner_separation,
            orbiter_accelerometers=self.orbiter_accelerometers,
            rover_deploy=self.rover_deploy, rover_mobility=self.rover_mobility, sun=self.sun,
            rover_power=self.rover_power, rover_thermal=self.rover_thermal, thermal=self.thermal,
        )

    def payloads(self) -> dict[str, object]:
        """The partner payloads' devices, by payload name (``fsw.payloads.add_payloads``)."""
        return {"camera": self.camera, "neutron_dosimeter": self.dosimeter, "radar": self.radar}

    def devices(self) -> dict[str, _Device]:
        """Every device with a state to keep, by its name in the hardware-state file (the ascent
        engine's state is its ascender's; the payload-only instruments keep none)."""
        found: dict[str, _Device] = {}
        for f in fields(self):
            if f.name not in ("world", "hardware"):
                device = getattr(self, f.name)
                if isinstance(device, EmulatedAscentEngine):
                    device = device.plant
                if isinstance(device, _Device):
                    found[f.name] = device
        return found

    def world_state(self) -> dict[str, Any]:
        now = self.world.now
        return {"version": STATE_VERSION, "seed": self.world.seed,
                "time": now.state() if isinstance(now, HardwareTime) else None}

    def state(self) -> dict[str, Any]:
        """The physical state of the world and of every device, as JSON-ready values."""
        return {**self.world_state(), "devices": {name: device.state() for name, device in self.devices().items()}}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`. A device the state does not name stays as made (fresh)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"hardware state version {state.get('version')!r}, expected {STATE_VERSION}")
        saved_time, now = state["time"], self.world.now
        if isinstance(now, HardwareTime) and saved_time is not None:
            now.epoch, now.latest = float(saved_time["epoch"]), float(saved_time["latest"])
        devices = self.devices()
        for name, device_state in state["devices"].items():
            if name in devices:
                devices[name].restore(device_state)


def make_surface_devices(world: SurfaceWorld) -> SurfaceDevices:
    container = EmulatedContainer(world)
    ascender_separation = EmulatedSeparation(world, "ascender_separation")
    rendezvous = EmulatedRendezvous(world, ascender_separation)
    power = LanderPower(world)
    orbit_engines = EmulatedOrbitEngines(world)
    arm = EmulatedArm(world, container, supply=lambda: power.line_on("arm"))
    drill = EmulatedDrill(world, container, supply=lambda: power.line_on("drill"))
    radar, camera, dosimeter = EmulatedRadar(world), EmulatedCamera(world.seed), EmulatedDosimeter(world.seed)
    power.attach(drill, arm, {"camera": camera, "dosimeter": dosimeter, "radar": radar})
    return SurfaceDevices(
        world=world,
        arm=arm,
        drill=drill,
        container=container,
        transfer=EmulatedTransfer(world),
        radar=radar,
        camera=camera,
        dosimeter=dosimeter,
        ascender_separation=ascender_separation,
        ascender_release=EmulatedSeparation(world, "ascender_release"),
        returner_separation=EmulatedSeparation(world, "returner_separation"),
        rendezvous=rendezvous,
        docking=EmulatedDocking(world, rendezvous),
        orbit_engines=orbit_engines,
        orbiter_accelerometers=EmulatedOrbiterAccelerometers(world, orbit_engines, rendezvous),
        ascent_engine=EmulatedAscentEngine(PadAscender(world)),
        power=power,
        thermal=EmulatedThermal(world),
        sun=EmulatedSunSensor(world),
        rover_deploy=EmulatedRoverDeploy(world),
        rover_mobility=EmulatedRoverMobility(world),
        rover_power=EmulatedPower(world),
        rover_thermal=EmulatedThermal(world),
    )


class CorruptHardwareState(ValueError):
    pass


class SurfaceHardwareFile:
    """The hardware-state file: one SQLite row per device (its physical state and its random stream,
    JSON), plus the world's time and seed.

    Each save is one transaction of the rows that changed, so a kill at any moment leaves the file
    either before or after the whole change. WAL with synchronous=NORMAL: a commit survives the
    death of the process at once (the kernel has it); only a host crash may lose the last ones.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db: sqlite3.Connection | None = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none (no file, or nothing saved yet).
        Raises :class:`CorruptHardwareState` when the file cannot be read back."""
        if not self.path.exists():
            return None
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            try:
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "hardware" not in tables:
                    if tables:
                        raise CorruptHardwareState(f"no hardware table in {self.path}")
                    return None  # made, but killed before its first save
                rows = {name: (text, rng) for name, text, rng in db.execute("SELECT name, state, rng FROM hardware")}
            finally:
                db.close()
            if "world" not in rows:
                raise CorruptHardwareState(f"no world row in {self.path}")
            state = json.loads(rows.pop("world")[0])
            state["devices"] = devices = {}
            for name, (text, rng) in rows.items():
                devices[name] = json.loads(text)
                if rng is not None:
                    devices[name]["rng"] = json.loads(rng)
            return state
        except (sqlite3.Error, ValueError, TypeError, AttributeError) as error:
            if isinstance(error, CorruptHardwareState):
                raise
            raise CorruptHardwareState(f"{self.path}: {error}") from error

    def set_aside(self) -> Path:
        """Move an unreadable file out of the way as ``<path>.corrupt`` (kept for a look), with its
        WAL sidecars; returns the new path. (The flight store does the same with its own code: the
        hardware is not the flight software.)"""
        aside = self.path.with_name(self.path.name + ".corrupt")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.replace(Path(f"{aside}{suffix}"))
        return aside

    def _open(self) -> sqlite3.Connection:
        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS hardware (name TEXT PRIMARY KEY, state TEXT NOT NULL, rng TEXT)")
            self.db = db
        return self.db

    def save(self, world: dict[str, Any], devices: dict[str, dict[str, Any]],
             streams: dict[str, dict[str, Any]] | None = None) -> None:
        """Save, in one transaction, the world, the physical state of ``devices`` and the random
        ``streams`` given (a device's stream row stays as it was when not given)."""
        db = self._open()
        rows = [("world", json.dumps(world))] + [(name, json.dumps(state)) for name, state in devices.items()]
        with db:
            db.execute("BEGIN")
            db.executemany("INSERT INTO hardware (name, state) VALUES (?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET state = excluded.state", rows)
            if streams:
                db.executemany("UPDATE hardware SET rng = ? WHERE name = ?",
                               [(json.dumps(stream), name) for name, stream in streams.items()])

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


class SurfaceHardware:
    """Keeps the hardware-state file in step with the devices: an act is saved before it returns,
    what readings change at most every ``reading_save_interval_s`` of wall time. The random streams
    (2.5 kB each) go with the readings' saves only: a killed run may repeat a little noise, never
    lose an act."""

    def __init__(self, devices: SurfaceDevices, file: SurfaceHardwareFile,
                 reading_save_interval_s: float = READING_SAVE_INTERVAL_S) -> None:
        self.devices = devices
        self.file = file
        self.reading_save_interval_s = reading_save_interval_s
        self.names = {device: name for name, device in devices.devices().items()}
        self.saves = 0
        self._streams_changed: set[_Device] = set()
        self._last_save_wall = -math.inf
        devices.world.on_change = self.on_change
        # An orderly exit keeps the last readings' changes too.
        atexit.register(_flush_if_alive, weakref.ref(self))

    def on_change(self, act: bool) -> None:
        if time.monotonic() - self._last_save_wall >= self.reading_save_interval_s:
            self.flush()
        elif act:
            self.flush(streams=False)

    def flush(self, streams: bool = True) -> None:
        """Save the world and the devices changed since the last save (with their random streams
        unless ``streams`` is False)."""
        world = self.devices.world
        world.now()  # the time of the change is part of it (not every act reads the clock)
        changed, world.changed = world.changed, set()
        changed &= self.names.keys()
        self._streams_changed |= changed
        saved_streams: dict[str, dict[str, Any]] = {}
        if streams:
            for device in self._streams_changed:
                stream = device.stream_state()
                if stream is not None:
                    saved_streams[self.names[device]] = stream
            self._streams_changed = set()
            self._last_save_wall = time.monotonic()
        self.file.save(self.devices.world_state(), {self.names[d]: d.physical_state() for d in changed},
                       saved_streams)
        self.saves += 1

    def save_all(self) -> None:
        world = self.devices.world
        world.changed = set(self.names)
        self.flush()

    def close(self) -> None:
        self.flush()
        self.file.close()
        self.devices.world.on_change = None


def _flush_if_alive(ref: weakref.ref[SurfaceHardware]) -> None:
    hardware = ref()
    if hardware is not None and hardware.file.db is not None:
        hardware.flush()


def open_surface_devices(path: str | Path, onboard: Callable[[], float], seed: int = 1,
                         faults: SurfaceFaults | None = None, *,
                         reading_save_interval_s: float = READING_SAVE_INTERVAL_S,
                         **world_kwargs: Any) -> SurfaceDevices:
    """The surface devices kept in the hardware-state file ``path``: continued from it when it
    holds a saved state, fresh (epoch: on-board time now) when it is missing, and fresh with a
    warning when it cannot be read (the file is set aside as ``<path>.corrupt``)."""
    file = SurfaceHardwareFile(path)
    try:
        saved = file.load()
    except CorruptHardwareState as error:
        aside = file.set_aside()
        log.warning("surface hardware state %s is unreadable (%s): starting with fresh hardware, the file kept "
                    "as %s", file.path, error, aside)
        saved = None
    world = SurfaceWorld(HardwareTime(onboard), seed, faults or SurfaceFaults(), **world_kwargs)
    devices = make_surface_devices(world)
    if saved is not None:
        try:
            devices.restore(saved)
        except (KeyError, TypeError, ValueError, AttributeError, struct.error) as error:
            aside = file.set_aside()
            log.warning("surface hardware state %s does not fit the devices (%s): starting with fresh hardware, "
                        "the file kept as %s", file.path, error, aside)
            world = SurfaceWorld(HardwareTime(onboard), seed, faults or SurfaceFaults(), **world_kwargs)
            devices = make_surface_devices(world)
    hardware = SurfaceHardware(devices, file, reading_save_interval_s)
    hardware.save_all()  # the epoch is kept from the first moment
    devices.hardware = hardware
    return devices
