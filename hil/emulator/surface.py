"""Seeded emulators of the surface, rendezvous and return devices (:mod:`fsw.devices.surface`).

The devices are passive: each read integrates the model from the previous read to ``now()`` in
closed form, so a flight code that waits hours between reads costs nothing. Every device draws from
its own ``random.Random`` seeded from the world seed and its name. Figures marked [est.] are
estimates, listed in docs/state-machines.md.

The devices stand for hardware that outlives the flight computer. Their world time is on-board time
since an epoch (:class:`HardwareTime`), and :func:`open_surface_devices` keeps the physical state of
every device, its random stream and the epoch in a hardware-state file (SQLite), so that a restart of
the flight software finds the container as full, the pyros as fired and the Sun as high as it left
them. The physical change of a command (an act) is saved before it returns; what a reading changes
(noise drawn, a model integrated) and the random streams are saved at most every
``READING_SAVE_INTERVAL_S`` of wall time: a kill may repeat that much noise, never lose an act.

Faults (:class:`SurfaceFaults`) reproduce the mission-profile scenarios: rock at a depth (the drill
torque rises and the drive stalls, CE-5), a sealing failure, and a rover mechanism fault before the
lunar night (Yutu-1).
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import logging
import math
import random
import sqlite3
import struct
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N, EngineStatus
from fsw.devices.surface import (
    ArmStatus,
    BurnStatus,
    ContainerStatus,
    DeployStatus,
    DockingStatus,
    DrillStatus,
    ImageProduct,
    MobilityStatus,
    PowerStatus,
    RadarProfile,
    RendezvousReading,
    SeparationStatus,
    SunReading,
    SurfaceSuite,
    ThermalStatus,
    TransferStatus,
)

G0 = 9.80665
SYNODIC_MONTH_S = 29.530589 * 86_400.0
REGOLITH_CORE_G_PER_M = 250.0  # [est.] ~0.5 kg over the 2 m design depth
SCOOP_MEAN_G = 130.0  # [est.] per scoop cycle
SCOOP_SIGMA_G = 20.0
SCOOP_CYCLE_S = 600.0  # [est.] reach, scoop, deliver
DRILL_TORQUE_REGOLITH_NM = 8.0  # [est.]
DRILL_TORQUE_PER_M_NM = 6.0  # [est.] compaction increases with depth
DRILL_STALL_TORQUE_NM = 60.0  # [est.] drive current limit
DRILL_RETRACT_RATE_M_S = 0.005
SEAL_TIME_S = 300.0
TRANSFER_TIME_S = {"lander_to_ascender": 1200.0, "ascender_to_returner": 1800.0}
TEI_THRUST_N = 4 * 150.0
MCC_THRUST_N = 2 * 25.0
ORBITER_ISP_S = 315.0  # [est.]
ORBITER_MASS_KG = 2300.0  # [est.] orbiter + returner with samples, before TEI
STATE_VERSION = 1
READING_SAVE_INTERVAL_S = 0.25  # wall time between saves of what readings change (see module doc)
_MT_WORDS = 625  # random.Random (Mersenne Twister) state: 624 words and the position

log = logging.getLogger("fsw.devices.surface")


@dataclass(frozen=True)
class SurfaceFaults:
    rock_depth_m: float | None = None  # drill meets rock here: torque climbs and the drive stalls
    radar_sees_rock: bool = True  # the GPR reports the rock (False: a buried rock the radar misses)
    seal_fails: bool = False
    rover_mechanism_fault_at_s: float | None = None  # Yutu-1: mechanisms stop working from this time
    transfer_fault: bool = False
    docking_claws_fail: bool = False


class HardwareTime:
    """World time of the emulated hardware: seconds of on-board time since the hardware's epoch.

    The epoch (on-board time when the hardware was first made) is kept with the hardware state, so
    that the world goes on across a restart of the flight software, whose monotonic clock starts
    at 0 again. It never goes backwards: while a restarted flight clock is still behind the last
    time the hardware saw, the world waits for it.
    """

    def __init__(self, onboard: Callable[[], float], epoch: float | None = None, latest: float = 0.0) -> None:
        self.onboard = onboard
        self.epoch = onboard() if epoch is None else epoch
        self.latest = latest

    def __call__(self) -> float:
        t = self.onboard() - self.epoch
        if t > self.latest:
            self.latest = t
        return self.latest

    def state(self) -> dict[str, float]:
        return {"epoch": self.epoch, "latest": self.latest}


@dataclass
class SurfaceWorld:
    """Shared state of the emulated surface segment: time source, seed, faults."""

    now: Callable[[], float]
    seed: int = 1
    faults: SurfaceFaults = field(default_factory=SurfaceFaults)
    # Sun: phase of the lunar day at t = 0 (0 = sunrise, 0.5 = sunset), see sun_elevation_deg.
    sun_phase_at_start: float = 0.05
    rendezvous_range_m: float = 60_000.0  # [est.] after orbit insertion, closing by orbit phasing
    rendezvous_drift_m_s: float = -0.35  # [est.] ~2 days of far-range phasing
    # Bookkeeping for the hardware-state file (see _recorded): devices changed since the last save,
    # how deep in device calls we are (a call that calls another device saves once, at the end),
    # and whether an act happened in this call (a reading may complete one: a scoop delivered).
    changed: set[_Device] = field(default_factory=set, repr=False, compare=False)
    on_change: Callable[[bool], None] | None = field(default=None, repr=False, compare=False)
    call_depth: int = field(default=0, repr=False, compare=False)
    acted: bool = field(default=False, repr=False, compare=False)

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{name}-{self.seed}")

    def sun_elevation_deg(self, t: float | None = None) -> float:
        """Elevation of the Sun at a low-latitude site: a sine over the synodic month."""
        t = self.now() if t is None else t
        phase = self.sun_phase_at_start + t / SYNODIC_MONTH_S
        return 80.0 * math.sin(2.0 * math.pi * phase)


# ---------------------------------------------------------------- state of a device


def encode_rng(rng: random.Random) -> dict[str, Any]:
    version, words, gauss_next = rng.getstate()
    return {"version": version, "mt": base64.b64encode(struct.pack(f"<{_MT_WORDS}I", *words)).decode("ascii"),
            "gauss_next": gauss_next}


def decode_rng(state: dict[str, Any]) -> random.Random:
    words = struct.unpack(f"<{_MT_WORDS}I", base64.b64decode(state["mt"], validate=True))
    gauss_next = state["gauss_next"]
    if gauss_next is not None and not isinstance(gauss_next, float):
        raise ValueError(f"bad gauss_next {gauss_next!r}")
    rng = random.Random()
    rng.setstate((state["version"], words, gauss_next))
    return rng


class _Device:
    """A device whose physical state (``STATE`` attributes and ``rng``, if any) survives a restart."""

    world: SurfaceWorld
    STATE: tuple[str, ...] = ()

    def physical_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.STATE}

    def stream_state(self) -> dict[str, Any] | None:
        """The device's random stream (None: it has none)."""
        rng = getattr(self, "rng", None)
        return encode_rng(rng) if isinstance(rng, random.Random) else None

    def state(self) -> dict[str, Any]:
        state = self.physical_state()
        stream = self.stream_state()
        if stream is not None:
            state["rng"] = stream
        return state

    def restore(self, state: dict[str, Any]) -> None:
        for name in self.STATE:
            setattr(self, name, state[name])
        if isinstance(getattr(self, "rng", None), random.Random):
            self.rng = decode_rng(state["rng"])


_Call = TypeVar("_Call", bound=Callable[..., Any])


def _recorded(act: bool) -> Callable[[_Call], _Call]:
    """Mark a device method as changing the device: the world's owner saves it when the outermost
    device call returns; at once for an act, soon for a reading."""

    def decorate(method: _Call) -> _Call:
        @functools.wraps(method)
        def call(self: _Device, *args: Any, **kwargs: Any) -> Any:
            world = self.world
            world.call_depth += 1
            try:
                return method(self, *args, **kwargs)
            finally:
                world.changed.add(self)
                world.acted = world.acted or act
                world.call_depth -= 1
                if world.call_depth == 0:
                    acted, world.acted = world.acted, False
                    if world.on_change is not None:
                        world.on_change(acted)

        return call  # type: ignore[return-value]

    return decorate


_act = _recorded(True)
_reading = _recorded(False)


# ---------------------------------------------------------------- sampling


class EmulatedDrill(_Device):
    STATE = ("depth", "core_g", "target", "rate", "mode", "last")

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer) -> None:
        self.world = world
        self.container = container
        self.rng = world.rng("drill")
        self.depth = 0.0
        self.core_g = 0.0
        self.target = 0.0
        self.rate = 0.0
        self.mode = "idle"  # idle | drilling | retracting | stalled
        self.last = world.now()

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.mode == "drilling":
            limit = self.target
            rock = self.world.faults.rock_depth_m
            if rock is not None:
                limit = min(limit, rock)
            new_depth = min(limit, self.depth + self.rate * dt)
            self.core_g += (new_depth - self.depth) * REGOLITH_CORE_G_PER_M
            self.depth = new_depth
            if rock is not None and self.depth >= rock - 1e-9:
                self.mode = "stalled"
            elif self.depth >= self.target - 1e-9:
                self.mode = "idle"
        elif self.mode == "retracting":
            self.depth = max(0.0, self.depth - DRILL_RETRACT_RATE_M_S * dt)
            if self.depth <= 0.0:
                self.mode = "idle"

    @_act
    def start(self, target_depth_m: float, rate_m_s: float) -> None:
        self._advance()
        if self.mode == "stalled":
            return
        self.target, self.rate, self.mode = target_depth_m, rate_m_s, "drilling"

    @_act
    def stop(self) -> None:
        self._advance()
        if self.mode == "drilling":
            self.mode = "idle"

    @_act
    def retract(self) -> None:
        self._advance()
        self.mode = "retracting"

    @_act
    def deliver_core(self) -> None:
        self._advance()
        if self.depth <= 0.0 and self.mode == "idle":
            self.container.receive(self.core_g)
            self.core_g = 0.0

    @_reading
    def read(self) -> DrillStatus:
        self._advance()
        torque = DRILL_TORQUE_REGOLITH_NM + DRILL_TORQUE_PER_M_NM * self.depth
        if self.mode == "stalled":
            torque = DRILL_STALL_TORQUE_NM
        elif self.mode != "drilling":
            torque = 0.5 if self.mode == "retracting" else 0.0
        torque = max(0.0, torque + self.rng.gauss(0.0, 0.3))
        return DrillStatus(
            self.last,
            self.depth,
            torque,
            self.mode == "stalled",
            self.mode == "drilling",
            self.mode == "retracting",
            self.core_g,
            True,
        )


class EmulatedContainer(_Device):
    STATE = ("mass_g", "seal_started")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("container")
        self.mass_g = 0.0
        self.seal_started: float | None = None

    @_act
    def receive(self, grams: float) -> None:
        if self.seal_started is None:
            self.mass_g += grams

    @_act
    def seal(self) -> None:
        if self.seal_started is None:
            self.seal_started = self.world.now()

    @_reading
    def read(self) -> ContainerStatus:
        now = self.world.now()
        done = self.seal_started is not None and now - self.seal_started >= SEAL_TIME_S
        sealed = done and not self.world.faults.seal_fails
        sealing = self.seal_started is not None and not done
        noisy = max(0.0, self.mass_g + self.rng.gauss(0.0, 0.5))
        return ContainerStatus(now, noisy, self.seal_started is not None, sealing, sealed, True)


class EmulatedArm(_Device):
    STATE = ("busy_until", "pending_g", "scoops", "stowed")

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer) -> None:
        self.world = world
        self.container = container
        self.rng = world.rng("arm")
        self.busy_until: float | None = None
        self.pending_g = 0.0
        self.scoops = 0
        self.stowed = True

    def _advance(self) -> None:
        if self.busy_until is not None and self.world.now() >= self.busy_until:
            self.busy_until = None
            self.scoops += 1
            self.container.receive(self.pending_g)

    @_act
    def start_scoop(self, point: int) -> None:
        self._advance()
        if self.busy_until is None:
            self.stowed = False
            self.pending_g = max(40.0, self.rng.gauss(SCOOP_MEAN_G, SCOOP_SIGMA_G))
            self.busy_until = self.world.now() + SCOOP_CYCLE_S

    @_act
    def stow(self) -> None:
        self._advance()
        if self.busy_until is None:
            self.stowed = True

    @_reading
    def read(self) -> ArmStatus:
        self._advance()
        return ArmStatus(self.world.now(), self.busy_until is not None, self.scoops, self.stowed, False, True)


class EmulatedTransfer(_Device):
    STATE = ("stage", "started")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.stage = ""
        self.started = 0.0
        self.completed: set[str] = set()

    @_act
    def start(self, stage: str) -> None:
        if stage not in TRANSFER_TIME_S:
            raise ValueError(f"unknown transfer stage {stage!r}")
        self.stage, self.started = stage, self.world.now()

    def physical_state(self) -> dict[str, Any]:
        return {**super().physical_state(), "completed": sorted(self.completed)}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.completed = {str(stage) for stage in state["completed"]}

    @_reading
    def read(self) -> TransferStatus:
        now = self.world.now()
        fault = self.world.faults.transfer_fault
        if self.stage and not fault and now - self.started >= TRANSFER_TIME_S[self.stage]:
            self.completed.add(self.stage)
        done = self.stage in self.completed
        return TransferStatus(now, self.stage, bool(self.stage) and not done and not fault, done, fault, True)


class EmulatedRadar(_Device):
    MAX_DEPTH_M = 3.0

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("gpr")

    @_reading
    def survey(self) -> RadarProfile:
        rock = self.world.faults.rock_depth_m
        seen = rock if rock is not None and self.world.faults.radar_sees_rock else None
        if seen is not None:
            seen = max(0.0, seen + self.rng.gauss(0.0, 0.05))
        return RadarProfile(self.world.now(), seen, self.MAX_DEPTH_M, True)


class EmulatedCamera(_Device):
    def __init__(self, world: SurfaceWorld, width: int = 64, height: int = 48) -> None:
        self.world = world
        self.rng = world.rng("camera")
        self.width, self.height = width, height

    @_reading
    def capture(self) -> ImageProduct:
        data = bytes(self.rng.randrange(256) for _ in range(self.width * self.height))
        return ImageProduct(self.world.now(), self.width, self.height, data, True)


# ---------------------------------------------------------------- separation, docking, rendezvous


class EmulatedSeparation(_Device):
    STATE = ("fire_count",)

    def __init__(self, world: SurfaceWorld, name: str) -> None:
        self.world = world
        self.name = name
        self.fire_count = 0

    @_act
    def fire(self) -> None:
        self.fire_count += 1

    def read(self) -> SeparationStatus:
        fired = self.fire_count > 0
        return SeparationStatus(self.world.now(), fired, fired, True)


class EmulatedRendezvous(_Device):
    """1-D closing model along the line of sight: range r, range rate v, commanded acceleration a.

    Far range closes by orbit phasing at a constant drift; the orbiter's thrusters add ``a``. Contact
    stops the motion at r = 0; latched claws hold it there. The radar sees up to 100 km.
    """

    RADAR_MAX_M = 100_000.0
    MAX_ACCEL = 0.1
    STATE = ("r", "v", "a", "last", "claws_closed", "latched")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("rendezvous")
        self.r = world.rendezvous_range_m
        self.v = world.rendezvous_drift_m_s
        self.a = 0.0
        self.last = world.now()
        self.claws_closed = False
        self.latched = False

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if dt <= 0 or self.latched:
            return
        r = self.r + self.v * dt + 0.5 * self.a * dt * dt
        v = self.v + self.a * dt
        if r <= 0.0:
            r, v = 0.0, 0.0
        self.r, self.v = r, v

    # Docking mechanism (EmulatedDocking): the claws act on this model's state.
    @_act
    def close_claws(self, capture_range_m: float) -> None:
        self._advance()
        self.claws_closed = True
        if self.r <= capture_range_m and not self.world.faults.docking_claws_fail:
            self.latched, self.r, self.v, self.a = True, 0.0, 0.0, 0.0

    @_act
    def open_claws(self) -> None:
        self.claws_closed = False
        self.latched = False

    @_reading
    def advance(self) -> None:
        self._advance()

    # ApproachThrusters
    @_act
    def command_acceleration(self, acceleration_m_s2: float) -> None:
        self._advance()
        self.a = max(-self.MAX_ACCEL, min(self.MAX_ACCEL, acceleration_m_s2))

    # RendezvousRadar
    @_reading
    def read(self) -> RendezvousReading:
        self._advance()
        if self.r > self.RADAR_MAX_M:
            return RendezvousReading(self.last, 0.0, 0.0, False)
        return RendezvousReading(
            self.last,
            max(0.0, self.r + self.rng.gauss(0.0, 0.01 + 1e-4 * self.r)),
            self.v + self.rng.gauss(0.0, 0.002),
            True,
        )


class EmulatedDocking(_Device):
    # The claws' envelope [est.] is wider than the 0.3 m the approach aims at, which it judges on a
    # noisy radar range.
    CAPTURE_RANGE_M = 0.5

    def __init__(self, world: SurfaceWorld, rendezvous: EmulatedRendezvous) -> None:
        self.world = world
        self.rendezvous = rendezvous

    def close_claws(self) -> None:
        self.rendezvous.close_claws(self.CAPTURE_RANGE_M)

    def open_claws(self) -> None:
        self.rendezvous.open_claws()

    def read(self) -> DockingStatus:
        rv = self.rendezvous
        rv.advance()
        return DockingStatus(self.world.now(), rv.r <= self.CAPTURE_RANGE_M, rv.claws_closed, rv.latched, True)


class EmulatedOrbitEngines(_Device):
    """Orbiter engines: 4 x 150 N for trans-Earth injection, 2 x 25 N for mid-course corrections."""

    THRUST = {"tei": TEI_THRUST_N, "mcc": MCC_THRUST_N}
    STATE = ("mass", "engine_set", "started", "delta_v", "last")

    def __init__(self, world: SurfaceWorld, mass_kg: float = ORBITER_MASS_KG) -> None:
        self.world = world
        self.mass = mass_kg
        self.engine_set = "tei"
        self.started: float | None = None
        self.delta_v = 0.0
        self.last = world.now()

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.started is None or dt <= 0:
            return
        thrust = self.THRUST[self.engine_set]
        burned = thrust / (ORBITER_ISP_S * G0) * dt
        new_mass = self.mass - burned
        self.delta_v += ORBITER_ISP_S * G0 * math.log(self.mass / new_mass)
        self.mass = new_mass

    @_act
    def start_burn(self, engine_set: str) -> None:
        if engine_set not in self.THRUST:
            raise ValueError(f"unknown engine set {engine_set!r}")
        self._advance()
        self.engine_set, self.started, self.delta_v = engine_set, self.world.now(), 0.0

    @_act
    def stop_burn(self) -> None:
        self._advance()
        self.started = None

    @_reading
    def read(self) -> BurnStatus:
        self._advance()
        on = self.started is not None
        return BurnStatus(
            self.last, on, self.engine_set, self.THRUST[self.engine_set] if on else 0.0, self.delta_v, True, True
        )


class EmulatedAscentEngine(_Device):
    """Fixed-thrust 3000 N ascent engine (``fsw.devices.descent.AscentEngine``): thrust builds up in 0.2 s."""

    RISE_S = 0.2
    STATE = ("lit_at",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.lit_at: float | None = None

    @_act
    def set_on(self, on: bool) -> None:
        self.lit_at = self.world.now() if on else None

    def read(self) -> EngineStatus:
        now = self.world.now()
        on = self.lit_at is not None
        thrust = ASCENT_ENGINE_THRUST_N * min(1.0, (now - self.lit_at) / self.RISE_S) if on else 0.0  # type: ignore[operator]
        return EngineStatus(now, on, ASCENT_ENGINE_THRUST_N if on else 0.0, thrust, True)


# ---------------------------------------------------------------- power, thermal, sun, rover


class EmulatedSunSensor(_Device):
    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world

    def read(self) -> SunReading:
        return SunReading(self.world.now(), self.world.sun_elevation_deg(), True)


class EmulatedPower(_Device):
    """Battery integrated in closed form between reads from solar input and load."""

    STATE = ("hibernating", "energy_wh", "last")

    def __init__(
        self,
        world: SurfaceWorld,
        capacity_wh: float = 1200.0,
        array_w: float = 300.0,
        load_w: float = 90.0,
        hibernation_load_w: float = 2.0,
    ) -> None:
        self.world = world
        self.capacity_wh = capacity_wh
        self.array_w = array_w
        self.active_load_w = load_w
        self.hibernation_load_w = hibernation_load_w
        self.hibernating = False
        self.energy_wh = 0.8 * capacity_wh
        self.last = world.now()

    def _solar(self, t: float) -> float:
        return self.array_w * max(0.0, math.sin(math.radians(self.world.sun_elevation_deg(t))))

    def _load(self) -> float:
        return self.hibernation_load_w if self.hibernating else self.active_load_w

    def _advance(self) -> None:
        now = self.world.now()
        # Integrate in steps of at most an hour so that a long gap follows the Sun.
        t = self.last
        while t < now:
            step = min(3600.0, now - t)
            net = self._solar(t + step / 2) - self._load()
            self.energy_wh = max(0.0, min(self.capacity_wh, self.energy_wh + net * step / 3600.0))
            t += step
        self.last = now

    @_act
    def set_hibernation(self, on: bool) -> None:
        self._advance()
        self.hibernating = on

    @_reading
    def read(self) -> PowerStatus:
        self._advance()
        return PowerStatus(
            self.last, self.energy_wh / self.capacity_wh, self._solar(self.last), self._load(), self.hibernating, True
        )


class EmulatedThermal(_Device):
    STATE = ("heaters",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.heaters = False

    @_act
    def set_heaters(self, on: bool) -> None:
        self.heaters = on

    def read(self) -> ThermalStatus:
        elevation = self.world.sun_elevation_deg()
        surface = -190.0 + 310.0 * max(0.0, math.sin(math.radians(elevation))) if elevation > 0 else -190.0
        avionics = 20.0 if elevation > 0 or self.heaters else -40.0  # [est.] radioisotope heat keeps it above -50
        return ThermalStatus(self.world.now(), avionics, avionics - 5.0, surface, self.heaters, True)


class EmulatedRoverDeploy(_Device):
    DEPLOY_TIME_S = 1800.0
    STATE = ("released_at",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.released_at: float | None = None

    @_act
    def release(self) -> None:
        if self.released_at is None:
            self.released_at = self.world.now()

    def read(self) -> DeployStatus:
        now = self.world.now()
        released = self.released_at is not None
        on_surface = released and now - self.released_at >= self.DEPLOY_TIME_S  # type: ignore[operator]
        return DeployStatus(now, released, on_surface, False, True)


class EmulatedRoverMobility(_Device):
    """Drives straight at 0.05 m/s [est. Yutu-2 class]; stops at seeded hazards along the way."""

    SPEED_M_S = 0.05
    HAZARD_PROBABILITY = 0.3  # per drive leg [est.]
    STATE = ("east", "north", "goal", "hazard_at", "hazard_stop", "arrived", "stowed", "last")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("mobility")
        self.east = self.north = 0.0
        self.goal: tuple[float, float] | None = None
        self.hazard_at: float | None = None  # distance along the leg at which a hazard stops the drive
        self.hazard_stop = False
        self.arrived = False
        self.stowed = False
        self.last = world.now()

    def _fault(self) -> bool:
        at = self.world.faults.rover_mechanism_fault_at_s
        return at is not None and self.world.now() >= at

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.goal is None or dt <= 0:
            return
        ge, gn = self.goal
        de, dn = ge - self.east, gn - self.north
        remaining = math.hypot(de, dn)
        step = self.SPEED_M_S * dt
        if self.hazard_at is not None and step >= self.hazard_at:
            fraction = self.hazard_at / remaining if remaining else 1.0
            self.east += de * fraction
            self.north += dn * fraction
            self.goal, self.hazard_at, self.hazard_stop = None, None, True
            return
        if self.hazard_at is not None:
            self.hazard_at -= step
        if step >= remaining:
            self.east, self.north, self.goal, self.arrived = ge, gn, None, True
        else:
            self.east += de * step / remaining
            self.north += dn * step / remaining

    @_act
    def drive_to(self, east_m: float, north_m: float) -> None:
        self._advance()
        if self._fault() or self.stowed:
            return
        self.goal = (east_m, north_m)
        self.arrived = self.hazard_stop = False
        distance = math.hypot(east_m - self.east, north_m - self.north)
        self.hazard_at = self.rng.uniform(0.2, 0.9) * distance if self.rng.random() < self.HAZARD_PROBABILITY else None

    @_act
    def stop(self) -> None:
        self._advance()
        self.goal = None

    @_act
    def stow(self) -> None:
        self._advance()
        if not self._fault():
            self.goal = None
            self.stowed = True

    @_act
    def unstow(self) -> None:
        if not self._fault():
            self.stowed = False

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        if self.goal is not None:
            east, north = self.goal
            self.goal = (float(east), float(north))

    @_reading
    def read(self) -> MobilityStatus:
        self._advance()
        return MobilityStatus(
            self.last,
            self.east,
            self.north,
            self.goal is not None,
            self.arrived,
            self.hazard_stop,
            self.stowed,
            self._fault(),
            True,
        )


@dataclass
class SurfaceDevices:
    world: SurfaceWorld
    arm: EmulatedArm
    drill: EmulatedDrill
    container: EmulatedContainer
    transfer: EmulatedTransfer
    radar: EmulatedRadar
    camera: EmulatedCamera
    ascender_separation: EmulatedSeparation
    ascender_release: EmulatedSeparation
    returner_separation: EmulatedSeparation
    rendezvous: EmulatedRendezvous
    docking: EmulatedDocking
    orbit_engines: EmulatedOrbitEngines
    ascent_engine: EmulatedAscentEngine
    power: EmulatedPower
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
            power=self.power, ascender_separation=self.ascender_separation, rendezvous_radar=self.rendezvous,
            approach_thrusters=self.rendezvous, docking=self.docking, ascender_release=self.ascender_release,
            orbit_engines=self.orbit_engines, returner_separation=self.returner_separation,
            rover_deploy=self.rover_deploy, rover_mobility=self.rover_mobility, sun=self.sun,
            rover_power=self.rover_power, rover_thermal=self.rover_thermal,
        )

    def devices(self) -> dict[str, _Device]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("world", "hardware")}

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
    rendezvous = EmulatedRendezvous(world)
    return SurfaceDevices(
        world=world,
        arm=EmulatedArm(world, container),
        drill=EmulatedDrill(world, container),
        container=container,
        transfer=EmulatedTransfer(world),
        radar=EmulatedRadar(world),
        camera=EmulatedCamera(world),
        ascender_separation=EmulatedSeparation(world, "ascender_separation"),
        ascender_release=EmulatedSeparation(world, "ascender_release"),
        returner_separation=EmulatedSeparation(world, "returner_separation"),
        rendezvous=rendezvous,
        docking=EmulatedDocking(world, rendezvous),
        orbit_engines=EmulatedOrbitEngines(world),
        ascent_engine=EmulatedAscentEngine(world),
        power=EmulatedPower(world, capacity_wh=4000.0, array_w=1500.0, load_w=400.0),
        thermal=EmulatedThermal(world),
        sun=EmulatedSunSensor(world),
        rover_deploy=EmulatedRoverDeploy(world),
        rover_mobility=EmulatedRoverMobility(world),
        rover_power=EmulatedPower(world),
        rover_thermal=EmulatedThermal(world),
    )


# ---------------------------------------------------------------- hardware-state file


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
            return state  # type: ignore[no-any-return]
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
