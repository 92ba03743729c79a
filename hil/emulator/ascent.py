"""Ascender plant (same curved-Moon point-mass model as the lander) and a closed-loop ascent.

The flight side navigates on the IMU alone (the emulated IMU works on this plant too) and steers
with :class:`fsw.gnc.ascent.AscentGuidance`; the ascent engine is on/off at 3000 N.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

from fsw.gnc.ascent import ORBIT, AscentConfig, AscentGuidance
from fsw.gnc.navigation import Navigator, TerrainMap
from fsw.gnc.orbit import OrbitFigures, orbit_from_state
from hil.emulator.devices import EmulatedAttitudeThrusters, EmulatedImu
from hil.emulator.plant import GM_MOON, R_MOON, FaultConfig
from hil.interfaces import ASCENT_ENGINE_THRUST_N, EngineStatus


@dataclass(frozen=True)
class AscentPlantConfig:
    liftoff_mass_kg: float = 800.0  # [est., mission-profile.md]
    propellant_kg: float = 480.0  # [est.] ~1.85 km/s plus margin at ve 3000 m/s
    exhaust_velocity_m_s: float = 3_000.0  # [est.]
    site_height_m: float = 0.0
    attitude_time_constant_s: float = 0.6
    attitude_rate_limit_rad_s: float = math.radians(10.0)
    faults: FaultConfig = field(default_factory=FaultConfig)


class AscentPlant:
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
        self.pitch = self.yaw = 0.0
        self.pitch_cmd = self.yaw_cmd = 0.0
        self.pitch_rate = self.yaw_rate = 0.0
        self.attitude_enabled = True
        self.engine_on = False
        self.thrust = 0.0
        self.specific_force = 0.0
        self.landed = False  # the IMU model reads this: on the pad the ground holds us up
        self.on_pad = True
        self.rng = random.Random(f"ascent-{seed}")

    def step(self, dt: float) -> None:
        cfg = self.config
        self.thrust = ASCENT_ENGINE_THRUST_N if self.engine_on and self.propellant > 0.0 else 0.0
        k = min(1.0, dt / cfg.attitude_time_constant_s)
        lim = cfg.attitude_rate_limit_rad_s * dt
        dp = max(-lim, min(lim, (self.pitch_cmd - self.pitch) * k)) if self.attitude_enabled else 0.0
        self.pitch += dp
        self.pitch_rate = dp / dt
        acc = self.thrust / self.mass
        self.specific_force = acc
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


class EmulatedAscentEngine:
    def __init__(self, plant: AscentPlant) -> None:
        self.plant = plant

    def set_on(self, on: bool) -> None:
        self.plant.engine_on = on

    def read(self) -> EngineStatus:
        p = self.plant
        cmd = ASCENT_ENGINE_THRUST_N if p.engine_on else 0.0
        return EngineStatus(p.t, p.engine_on, cmd, p.thrust, True)


@dataclass
class AscentRun:
    orbit_true: OrbitFigures
    orbit_estimated: OrbitFigures
    burn_time_s: float
    propellant_used_kg: float
    events: list[tuple[float, str, str]]
    wall_s: float


def fly_ascent(seed: int, config: AscentPlantConfig | None = None, guidance: AscentConfig | None = None) -> AscentRun:
    wall0 = time.perf_counter()
    plant = AscentPlant(seed, config)
    imu = EmulatedImu(plant)  # type: ignore[arg-type]  # duck-typed plant: same attributes
    attitude = EmulatedAttitudeThrusters(plant)  # type: ignore[arg-type]
    engine = EmulatedAscentEngine(plant)
    nav = Navigator(
        TerrainMap(1_000.0, (plant.h, plant.h)),
        t=0.0,
        h=plant.h,
        s=0.0,
        c=0.0,
        vu=0.0,
        vd=0.0,
        vc=0.0,
        dry_mass_kg=plant.mass - plant.propellant,
        propellant_kg=plant.propellant,
    )
    ascent = AscentGuidance(guidance or AscentConfig())
    dt, t = 0.02, 0.0
    cutoff_t: float | None = None
    engine.set_on(True)
    for n in range(int(900 / dt)):
        reading = imu.read()
        nav.propagate(reading, dt)
        if plant.on_pad:
            # Sitting on the pad the accelerometer feels the ground; hold the estimate there.
            nav.h, nav.vu, nav.vd = plant.config.site_height_m, 0.0, 0.0
        if n % 5 == 0:
            nav.propellant = plant.propellant
            cmd = ascent.step(t, nav.state())
            attitude.command_attitude(cmd.pitch, 0.0)
            if not cmd.engine_on and plant.engine_on:
                engine.set_on(False)
                cutoff_t = t
        plant.step(dt)
        t = (n + 1) * dt
        if cutoff_t is not None and t - cutoff_t > 1.0:
            break
    assert ascent.phase == ORBIT or cutoff_t is None
    est = nav.state()
    return AscentRun(
        orbit_true=orbit_from_state(R_MOON + plant.h, plant.vu, plant.vd),
        orbit_estimated=orbit_from_state(est.r, est.vu, est.vd),
        burn_time_s=cutoff_t if cutoff_t is not None else t,
        propellant_used_kg=plant.config.propellant_kg - plant.propellant,
        events=list(ascent.events),
        wall_s=time.perf_counter() - wall0,
    )
