"""Ascent and return: separations, the orbiter's engines and accelerometers, and the ascender on the
pad for its engine (the rendezvous is :mod:`hil.emulator.surface.rendezvous`)."""

from __future__ import annotations

import math
from typing import Any

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N
from fsw.devices.surface import AccelerometerReading, BurnStatus, SeparationStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

G0 = 9.80665
TEI_THRUST_N = 4 * 150.0
MCC_THRUST_N = 2 * 25.0
ORBITER_ISP_S = 315.0  # [est.]
ORBITER_MASS_KG = 2300.0  # [est.] orbiter + returner with samples, before TEI


class EmulatedSeparation(_Device):
    STATE = ("fire_count", "fired_at")

    def __init__(self, world: SurfaceWorld, name: str) -> None:
        self.world = world
        self.name = name
        self.fire_count = 0
        self.fired_at: float | None = None

    @_act
    def fire(self) -> None:
        self.fire_count += 1
        if self.fired_at is None:
            self.fired_at = self.world.now()

    def read(self) -> SeparationStatus:
        fired = self.fire_count > 0
        return SeparationStatus(self.world.now(), fired, fired, True)


class EmulatedOrbitEngines(_Device):
    """Orbiter engines: 4 x 150 N for trans-Earth injection, 2 x 25 N for mid-course corrections.

    Their status reports the controller's own delta-v count, from the rated thrust and a mass model.
    What they really give is ``world.faults.orbit_engine_thrust_scale`` of the rating: the plant's
    record (``burns``: per burn the engine set, the controller's count and the true delta-v) is
    what a test judges a burn by."""

    THRUST = {"tei": TEI_THRUST_N, "mcc": MCC_THRUST_N}
    STATE = ("mass", "rated_mass", "engine_set", "started", "delta_v", "true_delta_v", "last", "burns")

    def __init__(self, world: SurfaceWorld, mass_kg: float = ORBITER_MASS_KG) -> None:
        self.world = world
        self.mass = mass_kg  # true
        self.rated_mass = mass_kg  # the controller's model, burned at the rated flow
        self.engine_set = "tei"
        self.started: float | None = None
        self.delta_v = 0.0  # the controller's count
        self.true_delta_v = 0.0
        self.last = world.now()
        self.burns: list[list[Any]] = []

    def true_thrust_n(self) -> float:
        if self.started is None:
            return 0.0
        return self.THRUST[self.engine_set] * self.world.faults.orbit_engine_thrust_scale

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.started is None or dt <= 0:
            return
        ve = ORBITER_ISP_S * G0
        rated = self.THRUST[self.engine_set]
        new_rated_mass = self.rated_mass - rated / ve * dt
        self.delta_v += ve * math.log(self.rated_mass / new_rated_mass)
        self.rated_mass = new_rated_mass
        new_mass = self.mass - self.true_thrust_n() / ve * dt
        self.true_delta_v += ve * math.log(self.mass / new_mass)
        self.mass = new_mass

    def acceleration_m_s2(self) -> float:
        """The true acceleration the engines give now (what the accelerometers feel)."""
        self._advance()
        return self.true_thrust_n() / self.mass

    @_act
    def start_burn(self, engine_set: str) -> None:
        if engine_set not in self.THRUST:
            raise ValueError(f"unknown engine set {engine_set!r}")
        self._advance()
        self.engine_set, self.started, self.delta_v, self.true_delta_v = engine_set, self.world.now(), 0.0, 0.0

    @_act
    def stop_burn(self) -> None:
        self._advance()
        if self.started is not None:
            self.burns.append([self.engine_set, self.delta_v, self.true_delta_v])
        self.started = None

    @_reading
    def read(self) -> BurnStatus:
        self._advance()
        on = self.started is not None
        accelerometers_ok = not self.world.faults.orbiter_accelerometers_dead
        return BurnStatus(
            self.last, on, self.engine_set, self.THRUST[self.engine_set] if on else 0.0, self.delta_v,
            accelerometers_ok, True,
        )


class EmulatedOrbiterAccelerometers(_Device):
    """The orbiter's accelerometers: the engines' true acceleration along body x, with a seeded bias
    and white noise per sample [est.: navigation-grade, ~50 micro-g bias]."""

    BIAS_SIGMA = 5e-4  # m/s^2
    NOISE = 2e-3  # m/s^2 per sample
    STATE = ("bias",)

    def __init__(self, world: SurfaceWorld, engines: EmulatedOrbitEngines, rendezvous: Any = None) -> None:
        self.world = world
        self.engines = engines
        self.rendezvous = rendezvous  # its approach thrusters push the orbiter too
        self.rng = world.rng("orbiter-accelerometers")
        self.bias = [self.rng.gauss(0.0, self.BIAS_SIGMA) for _ in range(3)]

    @_reading
    def read(self) -> AccelerometerReading:
        now = self.world.now()
        if self.world.faults.orbiter_accelerometers_dead:
            return AccelerometerReading(now, (0.0, 0.0, 0.0), False)
        felt = [self.engines.acceleration_m_s2(), 0.0, 0.0]
        if self.rendezvous is not None:
            felt = [a + b for a, b in zip(felt, self.rendezvous.acceleration(), strict=True)]
        force = tuple(value + self.bias[axis] + self.rng.gauss(0.0, self.NOISE) for axis, value in enumerate(felt))
        return AccelerometerReading(now, (force[0], force[1], force[2]), True)


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
