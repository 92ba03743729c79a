"""Closed-loop ascent in one process: the ascender plant and its emulated IMU, attitude thrusters and
engine, steered by the flight ascent guidance on an IMU-only navigator."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fsw.gnc.ascent import ORBIT, AscentConfig, AscentGuidance
from fsw.gnc.navigation import Navigator, TerrainMap
from fsw.gnc.orbit import OrbitFigures, orbit_from_state
from hil.emulator.ascent import AscentPlant, AscentPlantConfig, EmulatedAscentEngine
from hil.emulator.devices import EmulatedAttitudeThrusters, EmulatedPlatformImu
from hil.emulator.dynamics import R_MOON


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
    imu = EmulatedPlatformImu(plant)
    attitude = EmulatedAttitudeThrusters(plant)
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
