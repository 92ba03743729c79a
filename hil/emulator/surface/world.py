"""The emulated surface world: its time (:class:`HardwareTime`), seed, faults and Sun, and what every
device shares to outlive the flight computer (:class:`_Device`: its physical state and random stream,
and the ``_act`` / ``_reading`` marks that tell the hardware-state file when to save it)."""

from __future__ import annotations

import base64
import functools
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

SYNODIC_MONTH_S = 29.530589 * 86_400.0
_MT_WORDS = 625  # random.Random (Mersenne Twister) state: 624 words and the position


@dataclass(frozen=True)
class SurfaceFaults:
    rock_depth_m: float | None = None  # drill meets rock here: torque climbs and the drive stalls
    # A hard, rock-rich layer from this depth down: more torque and motor current, slow progress, no stall.
    hard_layer_depth_m: float | None = None
    solar_output_fraction: float = 1.0  # what the lander's arrays deliver (a lost string, dust)
    radar_sees_rock: bool = True  # the GPR reports the rock (False: a buried rock the radar misses)
    seal_fails: bool = False
    rover_mechanism_fault_at_s: float | None = None  # Yutu-1: mechanisms stop working from this time
    transfer_fault: bool = False
    docking_claws_fail: bool = False
    # What the orbiter's engines really deliver over their rating (their controller counts the rating).
    orbit_engine_thrust_scale: float = 1.0
    orbiter_accelerometers_dead: bool = False  # the orbiter's accelerometers answer "invalid"
    rendezvous_radar_dead: bool = False  # the rendezvous radar never tracks


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
    # The ascender's state at its engine cut-off (height, radial and horizontal speed): the nominal
    # 15 x 180 km insertion unless a rig hands over the one the ascent plant flew.
    ascender_insertion: tuple[float, float, float] = (15_000.0, 0.0, 1_710.2)
    # The ascent plant's record of that state (JSON: h, vu, vd), when the ascent is flown by a plant
    # in another process; read when the rendezvous begins, preferred to ``ascender_insertion``.
    ascender_record: str | None = None
    # Far-range phasing (ground-guided, not flown here): CE-5 docked ~2 days after lift-off
    # (lift-off 3 Dec 2020 15:10 UTC, docking 5 Dec 21:42 UTC, CNSA).
    far_range_phasing_s: float = 172_800.0
    # Where the phasing leaves the orbiter in the ascender's local frame: behind and below [est.].
    handover_offset_m: tuple[float, float, float] = (-4_000.0, 0.0, 300.0)
    handover_dispersion_m: tuple[float, float, float] = (300.0, 100.0, 100.0)  # 1 sigma [est.]
    handover_velocity_dispersion_m_s: float = 0.05  # 1 sigma per axis [est.]
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
