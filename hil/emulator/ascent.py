"""Ascender plant: the lander's translational physics (inertial state under point-mass and J2 gravity,
the Moon turning under it: :class:`hil.emulator.dynamics.FlightState`) with an on/off 3000 N engine;
its attitude a rigid body's (:mod:`hil.emulator.ascender_body`), turned by torques alone.
Its track starts at the landing site, downrange along the descent's heading."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Protocol

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N, EngineStatus
from hil.emulator.ascender_body import AscenderBodyConfig, AscenderRigidBody
from hil.emulator.dynamics import FlightState, MoonModel, TrackCoordinates
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
    moon: MoonModel = field(default_factory=MoonModel)


class AscentPlant(AscenderRigidBody, TrackCoordinates):
    def __init__(self, seed: int, config: AscentPlantConfig | None = None) -> None:
        self.seed = seed
        self.config = cfg = config or AscentPlantConfig()
        self.faults = cfg.faults
        # Standing on the pad at the track origin, turning with the Moon.
        self.state = FlightState(cfg.moon, cfg.moon.pole(0.0), 0.0)
        self.state.set_track(cfg.site_height_m, 0.0, 0.0, 0.0, 0.0, 0.0)
        self.mass = cfg.liftoff_mass_kg
        self.propellant = cfg.propellant_kg
        self.attitude_enabled = True
        self.engine_on = False
        self.thrust = 0.0
        self.specific_force = 0.0
        self.landed = False  # the IMU model reads this: on the pad the ground holds us up
        self.on_pad = True
        # The plant's record: velocity the engine really gave (the integral of thrust over mass) and
        # the state at the engine's cut-off after lift-off, (t, h, s, vu, vd) with the inertial radial
        # and horizontal speeds for vu and vd (the orbit the rendezvous plant goes on from).
        self.delivered_delta_v = 0.0
        self.cutoff_state: tuple[float, float, float, float, float] | None = None
        self.rng = random.Random(f"ascent-{seed}")
        self._init_body(seed, cfg.body, cfg.liftoff_mass_kg - cfg.propellant_kg, cfg.propellant_kg)

    def step(self, dt: float) -> None:
        cfg = self.config
        burning = self.engine_on and self.propellant > 0.0
        self.thrust = ASCENT_ENGINE_THRUST_N * cfg.thrust_scale if burning else 0.0
        if not burning and not self.on_pad and self.cutoff_state is None and self.delivered_delta_v > 0.0:
            self.cutoff_state = (self.t, self.h, self.s, *self.state.inertial_speeds())
        self._rotate(dt)  # sets the thrust's pitch for the step below
        acc = self.thrust / self.mass
        self.specific_force = acc
        self.delivered_delta_v += acc * dt
        st = self.state
        local_force = (acc * math.cos(self.pitch), acc * math.sin(self.pitch), 0.0)
        m = st.local_to_inertial
        pad = (st.h, st.s, st.c)
        st.step(tuple(m[i][0] * local_force[0] + m[i][1] * local_force[1] for i in range(3)), dt)  # type: ignore[arg-type]
        if self.on_pad:
            if st.vu <= 0.0:  # the pad holds it up, turning with the Moon
                st.set_track(*pad, 0.0, 0.0, 0.0)
            else:
                self.on_pad = False
        if self.thrust > 0.0:
            burned = min(self.propellant, self.thrust / cfg.exhaust_velocity_m_s * dt)
            self.propellant -= burned
            self.mass -= burned


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
