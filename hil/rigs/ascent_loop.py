"""Closed-loop ascent in one process: the flight software's own ascent controller
(:class:`fsw.gnc.ascent_flight.AscentController`, the code the GNC component flies) against the
ascender plant and its emulated IMU, attitude thrusters, engine and propellant gauge.

The rig only steps the two and keeps the clock: what the orbit is afterwards is the plant's word,
computed by plant code from its inertial state (:meth:`hil.emulator.dynamics.TrackCoordinates.true_orbit`);
what the flight software believes is read from its navigator for comparison (its velocity is over the
Moon's turning surface, a few m/s from the inertial one)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fsw.gnc.ascent import AscentConfig
from fsw.gnc.ascent_flight import AscentController, AscentDevices
from hil.emulator.ascent import AscentPlant, AscentPlantConfig, EmulatedAscentEngine
from hil.emulator.devices import EmulatedAttitudeThrusters, EmulatedPlatformImu, EmulatedPropellantGauge
from hil.emulator.dynamics import TrueOrbit, true_orbit

DT_S = 0.02  # the GNC rate group's period


@dataclass
class AscentRun:
    orbit_true: TrueOrbit  # the plant's orbit after cut-off
    orbit_believed: TrueOrbit  # the same figures of the flight software's navigated state
    burn_time_s: float
    delivered_delta_v_m_s: float  # the plant's integral of thrust over mass
    propellant_used_kg: float
    events: list[tuple[float, str, str]]
    plant: AscentPlant
    controller: AscentController
    wall_s: float


def fly_ascent(seed: int, config: AscentPlantConfig | None = None, guidance: AscentConfig | None = None) -> AscentRun:
    wall0 = time.perf_counter()
    plant = AscentPlant(seed, config)
    devices = AscentDevices(
        imu=EmulatedPlatformImu(plant),
        attitude=EmulatedAttitudeThrusters(plant),
        engine=EmulatedAscentEngine(plant),
        propellant=EmulatedPropellantGauge(plant),  # type: ignore[arg-type]
    )
    controller = AscentController(devices, plant.config.site_height_m, guidance)
    # The ignition is the ascent machine's act (latched); the controller flies from there.
    devices.engine.set_on(True)
    t = 0.0
    for n in range(int(900.0 / DT_S)):
        controller.step(t, DT_S)
        plant.step(DT_S)
        t = (n + 1) * DT_S
        if controller.cutoff_t is not None and t - controller.cutoff_t > 1.0:
            break
    believed = controller.nav.state()
    return AscentRun(
        orbit_true=plant.true_orbit(),
        orbit_believed=true_orbit(believed.r, believed.vu, believed.vd),
        burn_time_s=controller.cutoff_t if controller.cutoff_t is not None else t,
        delivered_delta_v_m_s=plant.delivered_delta_v,
        propellant_used_kg=plant.config.propellant_kg - plant.propellant,
        events=list(controller.guidance.events),
        plant=plant,
        controller=controller,
        wall_s=time.perf_counter() - wall0,
    )
