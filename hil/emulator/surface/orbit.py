"""Ascent, rendezvous and return: separations, the rendezvous model with the docking claws, the
orbiter's engines, and the ascender on the pad for its engine."""

from __future__ import annotations

import math

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N
from fsw.devices.surface import BurnStatus, DockingStatus, RendezvousReading, SeparationStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

G0 = 9.80665
TEI_THRUST_N = 4 * 150.0
MCC_THRUST_N = 2 * 25.0
ORBITER_ISP_S = 315.0  # [est.]
ORBITER_MASS_KG = 2300.0  # [est.] orbiter + returner with samples, before TEI


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
    # ``latch_count``: the claws' own record of how often they latched (the truth a test reads).
    STATE = ("r", "v", "a", "last", "claws_closed", "latched", "latch_count")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("rendezvous")
        self.r = world.rendezvous_range_m
        self.v = world.rendezvous_drift_m_s
        self.a = 0.0
        self.last = world.now()
        self.claws_closed = False
        self.latched = False
        self.latch_count = 0

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
        if self.r <= capture_range_m and not self.world.faults.docking_claws_fail and not self.latched:
            self.latched, self.r, self.v, self.a = True, 0.0, 0.0, 0.0
            self.latch_count += 1

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


class PadAscender(_Device):
    """The ascender as its engine (:class:`hil.emulator.ascent.EmulatedAscentEngine`) sees it when no
    plant flies it (rigs whose ascent guidance is a stub): time-driven, thrust builds up in 0.2 s."""

    RISE_S = 0.2
    STATE = ("lit_at",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.lit_at: float | None = None

    @property
    def t(self) -> float:
        return self.world.now()

    @property
    def engine_on(self) -> bool:
        return self.lit_at is not None

    @engine_on.setter
    @_act
    def engine_on(self, on: bool) -> None:
        self.lit_at = self.world.now() if on else None

    @property
    def thrust(self) -> float:
        if self.lit_at is None:
            return 0.0
        return ASCENT_ENGINE_THRUST_N * min(1.0, (self.world.now() - self.lit_at) / self.RISE_S)
