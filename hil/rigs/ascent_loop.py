"""Closed-loop ascent in one process: the flight software's own ascent controller
(:class:`fsw.gnc.ascent_flight.AscentController`, the code the GNC component flies) against the
ascender plant and its emulated strapdown IMU, star tracker, thrusters, engine and propellant gauge.

The rig only steps the two and keeps the clock: what the orbit is afterwards is the plant's word,
computed by plant code from its inertial state (:meth:`hil.emulator.dynamics.TrackCoordinates.true_orbit`);
what the flight software believes is read from its navigator for comparison (its velocity is over the
Moon's turning surface, a few m/s from the inertial one). The attitude error it reports is the plant's
true body axis (the nominal thrust axis, what the control holds) against the direction guidance asks
for."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from fsw.gnc.ascent import AscentConfig
from fsw.gnc.ascent_flight import AscentController, AscentDevices
from hil.emulator.ascent import AscentPlant, AscentPlantConfig, EmulatedAscentEngine
from hil.emulator.attitude_devices import EmulatedImu, EmulatedRcs, EmulatedStarTracker
from hil.emulator.devices import EmulatedPropellantGauge
from hil.emulator.dynamics import TrueOrbit, true_orbit

DT_S = 0.02  # the GNC rate group's period
PAD_S = 2.0  # on the pad before ignition: the attitude filter finds the attitude from the star tracker


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
    # The true body x axis's angle from the direction guidance asks (deg), per guidance phase: the
    # largest once the phase has settled (2 s in), and the root mean square.
    attitude_error_max_deg: dict[str, float] = field(default_factory=dict)
    attitude_error_rms_deg: dict[str, float] = field(default_factory=dict)


def fly_ascent(seed: int, config: AscentPlantConfig | None = None, guidance: AscentConfig | None = None,
               *, attitude_control: bool = True, pad_s: float = PAD_S, star_outage_s: float = 0.0,
               gyro_loss: tuple[float, float] | None = None, hold_fire_without_gyros: bool = True) -> AscentRun:
    """Fly the ascent: ``pad_s`` of the controller on the pad before ignition, the star tracker in an
    outage for ``star_outage_s`` from ignition (a fault case). ``gyro_loss`` (begin after ignition,
    duration; s): the IMU unit in use stops for that long, its interface repeating its last frame
    (time tag included, as the lander's hard failure), then answers again (a fault case)."""
    wall0 = time.perf_counter()
    plant = AscentPlant(seed, config)
    tracker = EmulatedStarTracker(plant)
    imu = EmulatedImu(plant)
    devices = AscentDevices(
        imu=imu,
        star_tracker=tracker,
        attitude=EmulatedRcs(plant),
        engine=EmulatedAscentEngine(plant),
        propellant=EmulatedPropellantGauge(plant),  # type: ignore[arg-type]
    )
    controller = AscentController(devices, plant.config.site_height_m, guidance, attitude_control=attitude_control,
                                  hold_fire_without_gyros=hold_fire_without_gyros)
    # The star tracker's first solutions on the pad, then the ignition: the ascent machine's act
    # (latched); the controller flies from there.
    t = 0.0
    for n in range(round(pad_s / DT_S)):
        controller.step(t, DT_S)
        plant.step(DT_S)
        t = (n + 1) * DT_S
    tracker.outage_until = t + star_outage_s
    devices.engine.set_on(True)
    errors: dict[str, list[float]] = {}
    phase_since: dict[str, float] = {}
    t0 = t
    for n in range(int(900.0 / DT_S)):
        if gyro_loss is not None:
            lost = gyro_loss[0] <= t - t0 < gyro_loss[0] + gyro_loss[1]
            if lost and imu.unit not in imu.frozen_frames:
                imu.frozen_frames[imu.unit] = imu.read()
            elif not lost:
                imu.frozen_frames.pop(imu.unit, None)
        controller.step(t, DT_S)
        plant.step(DT_S)
        t = t0 + (n + 1) * DT_S
        phase = controller.guidance.phase
        phase_since.setdefault(phase, t)
        target = controller.attitude_target
        if target is not None and not plant.on_pad and plant.engine_on:
            errors.setdefault(phase, []).append(_axis_error_deg(plant.body_x_local(), target[0], target[1]))
        if controller.cutoff_t is not None and t - controller.cutoff_t > 1.0:
            break
        if plant.h < plant.config.site_height_m - 10.0:  # back on the ground: the plant's record says so
            break
    settled = {phase: values[int(2.0 / DT_S):] or values for phase, values in errors.items()}
    believed = controller.nav.state()
    return AscentRun(
        orbit_true=plant.true_orbit(),
        orbit_believed=true_orbit(believed.r, believed.vu, believed.vd),
        burn_time_s=(controller.cutoff_t if controller.cutoff_t is not None else t) - t0,
        delivered_delta_v_m_s=plant.delivered_delta_v,
        propellant_used_kg=plant.config.propellant_kg - plant.propellant,
        events=list(controller.guidance.events),
        plant=plant,
        controller=controller,
        wall_s=time.perf_counter() - wall0,
        attitude_error_max_deg={phase: max(values) for phase, values in settled.items()},
        attitude_error_rms_deg={phase: math.sqrt(sum(v * v for v in values) / len(values))
                                for phase, values in errors.items()},
    )


def _axis_error_deg(direction: tuple[float, float, float], pitch: float, yaw: float) -> float:
    """Angle between a local-frame direction and the thrust axis at ``pitch``/``yaw`` (deg)."""
    u, d, c = math.cos(pitch) * math.cos(yaw), math.sin(pitch) * math.cos(yaw), math.sin(yaw)
    dot = direction[0] * u + direction[1] * d + direction[2] * c
    return math.degrees(math.acos(max(-1.0, min(1.0, dot))))
