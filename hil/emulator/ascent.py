"""Ascender plant: the same curved-Moon point-mass model as the lander, an on/off 3000 N engine; its
attitude a rigid body's (:mod:`hil.emulator.ascender_body`), turned by torques alone."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N, EngineStatus
from hil.emulator.ascender_body import AscenderBodyConfig, AscenderRigidBody
from hil.emulator.dynamics import GM_MOON, R_MOON
from hil.emulator.plant import FaultConfig


@dataclass(frozen=True)
class AscentPlantConfig:
    liftoff_mass_kg: float = 800.0  # [est., mission-profile.md]
    propellant_kg: float = 480.0  # [est.] ~1.85 km/s plus margin at ve 3000 m/s
    exhaust_velocity_m_s: float = 3_000.0  # [est.]
    site_height_m: float = 0.0
    body: AscenderBodyConfig = field(default_factory=AscenderBodyConfig)
    # The thrust the engine really delivers over its rating (a dispersion or a fault): the engine's
    # status reports the rating; only the accelerometers feel the difference.
    thrust_scale: float = 1.0
    faults: FaultConfig = field(default_factory=FaultConfig)


class AscentPlant(AscenderRigidBody):
    def __init__(self, seed: int, config: AscentPlantConfig | None = None) -> None:
        self.seed = seed
        self.config = cfg = config or AscentPlantConfig()
        self.faults = cfg.faults
        self.t = 0.0
        self.h = cfg.site_height_m
        self.s = self.c = 0.0
        self.vu = self.vd = self.vc = 0.0
        self.mass = cfg.liftoff_mass_kg
        self.propellant = cfg.propellant_kg
        self.attitude_enabled = True
        self.engine_on = False
        self.thrust = 0.0
        self.specific_force = 0.0
        self.landed = False  # the IMU model reads this: on the pad the ground holds us up
        self.on_pad = True
        # The plant's record: velocity the engine really gave (the integral of thrust over mass) and
        # the state at the engine's cut-off after lift-off, (t, h, s, vu, vd).
        self.delivered_delta_v = 0.0
        self.cutoff_state: tuple[float, float, float, float, float] | None = None
        self.rng = random.Random(f"ascent-{seed}")
        self._init_body(seed, cfg.body, cfg.liftoff_mass_kg - cfg.propellant_kg, cfg.propellant_kg)

    def step(self, dt: float) -> None:
        cfg = self.config
        burning = self.engine_on and self.propellant > 0.0
        self.thrust = ASCENT_ENGINE_THRUST_N * cfg.thrust_scale if burning else 0.0
        if not burning and not self.on_pad and self.cutoff_state is None and self.delivered_delta_v > 0.0:
            self.cutoff_state = (self.t, self.h, self.s, self.vu, self.vd)
        self._rotate(dt)  # sets the thrust's pitch for the step below
        acc = self.thrust / self.mass
        self.specific_force = acc
        self.delivered_delta_v += acc * dt
        r = R_MOON + self.h
        g = GM_MOON / (r * r)
        vu, vd = self.vu, self.vd
        vu += (acc * math.cos(self.pitch) - g + vd * vd / r) * dt
        vd += (acc * math.sin(self.pitch) - vu * vd / r) * dt
        if self.on_pad:
            if vu <= 0.0:
                vu = vd = 0.0
            else:
                self.on_pad = False
        self.vu, self.vd = vu, vd
        self.h += vu * dt
        self.s += vd * R_MOON / r * dt
        if self.thrust > 0.0:
            burned = min(self.propellant, self.thrust / cfg.exhaust_velocity_m_s * dt)
            self.propellant -= burned
            self.mass -= burned
        self.t += dt


class AscenderModel(Protocol):
    """What the ascent engine needs of the ascender that carries it."""

    engine_on: bool

    @property
    def t(self) -> float: ...

    @property
    def thrust(self) -> float: ...


class EmulatedAscentEngine:
    """The fixed-thrust 3000 N ascent engine (``fsw.devices.descent.AscentEngine``) on an ascender:
    the stepped :class:`AscentPlant` in powered flight, or, for rigs that stub the ascent guidance,
    the time-driven ascender on the pad (:class:`hil.emulator.surface.orbit.PadAscender`)."""

    def __init__(self, plant: AscenderModel) -> None:
        self.plant = plant

    def set_on(self, on: bool) -> None:
        self.plant.engine_on = on

    def read(self) -> EngineStatus:
        p = self.plant
        cmd = ASCENT_ENGINE_THRUST_N if p.engine_on else 0.0
        return EngineStatus(p.t, p.engine_on, cmd, p.thrust, True)
