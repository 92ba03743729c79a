"""Closed-loop powered descent: emulator plant + devices driven by the flight GNC.

This is the in-process bench: the flight side (``fsw.gnc``) sees only the device Protocols; the
loop steps the descent controller directly against the plant at the IMU rate, without the
executive or the device bus. Used by the demo, the Monte Carlo campaign and the GNC tests; the
fault scenarios fly the flight software itself (:mod:`hil.rigs.flight_descent`).

Without the executive there are no PUS services either: :class:`ImuFaultProtection` stands in for
the fault protection table's IMU entry (:mod:`fsw.mission.descent_fdir`), so that a failing IMU
unit is switched out in the bare loop as in flight.
"""

from __future__ import annotations

import hashlib
import struct
import time
from dataclasses import dataclass, field

from fsw.gnc.controller import HOLD_ORBIT, DescentController, DescentDevices, FaultResponses
from fsw.gnc.guidance import LANDED, GuidanceConfig
from fsw.gnc.setup import DescentPlan, make_descent_controller
from fsw.mission.descent_fdir import IMU_REJECTED_RUN_LIMIT, REPETITION
from hil.emulator.devices import LanderDevices, make_lander_devices
from hil.emulator.orbit_determination import OrbitDeterminationProduct, orbit_determination
from hil.emulator.plant import LunarLanderPlant, PlantConfig, TouchdownReport


@dataclass
class DescentRun:
    seed: int
    touchdown: TouchdownReport | None
    phase_log: list[tuple[float, str]]
    events: list[tuple[float, str, str]]
    final_phase: str
    duration_s: float  # ignition to touchdown (as the mission summary measures it), else the time flown
    ignition_t: float | None
    wall_s: float
    digest: str
    true_height_at_cutoff_m: float | None
    min_true_height_while_guidance_thought_landed_m: float | None
    plant: LunarLanderPlant = field(repr=False)
    controller: DescentController = field(repr=False)

    def event_names(self) -> list[str]:
        return [name for _, name, _ in self.events]


class ImuFaultProtection:
    """The table's IMU entry, for a loop without PUS services: once a second (the housekeeping
    period) the controller's rejected-in-a-row count is checked against the entry's limit; ``REPETITION``
    checks above it in a row select the redundant unit, once per violation, as PUS 19 would."""

    def __init__(self) -> None:
        self.next_check = 0.0
        self.above = 0

    def check(self, controller: DescentController, t: float) -> None:
        if t < self.next_check:
            return
        self.next_check = t + 1.0
        self.above = self.above + 1 if controller.imu_health()[2] > IMU_REJECTED_RUN_LIMIT else 0
        if self.above == REPETITION:
            controller.select_imu(1, t)


def descent_devices(devices: LanderDevices) -> DescentDevices:
    return DescentDevices(
        imu=devices.imu,
        range_finder=devices.range_finder,
        velocimeter=devices.velocimeter,
        hazard_imager=devices.hazard_imager,
        main_engine=devices.main_engine,
        attitude=devices.attitude,
        propellant=devices.propellant,
        microwave=devices.microwave,
        star_tracker=devices.star_tracker,
    )


def build_descent(
    seed: int,
    plant_config: PlantConfig | None = None,
    guidance_config: GuidanceConfig | None = None,
    *,
    map_includes_crater: bool | None = None,
    responses: FaultResponses | None = None,
    go_at_s: float = 0.0,
) -> tuple[LunarLanderPlant, LanderDevices, DescentController]:
    """The plant at the start of its descent orbit pass, the ground's product of that moment, and the
    controller as the go at plant time ``go_at_s`` builds it (the plant coasts until then; the
    controller propagates the product from its epoch to the go)."""
    plant = LunarLanderPlant(seed, plant_config)
    devices = make_lander_devices(plant)
    plan = descent_plan(orbit_determination(plant, map_includes_crater=map_includes_crater), plant.config)
    while plant.t < go_at_s - 1e-9:
        plant.step(min(0.02, go_at_s - plant.t))
    return plant, devices, make_descent_controller(descent_devices(devices), plan, plant.t, guidance_config, responses)


def descent_plan(product: OrbitDeterminationProduct, config: PlantConfig) -> DescentPlan:
    """What the flight software makes of the ground's uplink, for a loop without telecommands: the
    product as the uplink carries it, with the vehicle's nominal figures (as its parameters hold them)."""
    return DescentPlan(
        epoch_s=product.epoch_s, position_m=product.position_m, velocity_m_s=product.velocity_m_s,
        target_downrange_m=product.target_downrange_m, target_crossrange_m=product.target_crossrange_m,
        map_spacing_m=product.map_spacing_m, map_heights_m=product.map_heights_m,
        dry_mass_kg=config.wet_mass_kg - config.propellant_kg, propellant_kg=config.propellant_kg,
        exhaust_velocity_m_s=config.exhaust_velocity_m_s, moon_pole=product.moon_pole,
        frame_aligned_epoch_s=product.frame_aligned_epoch_s,
    )


def fly_descent(
    seed: int,
    plant_config: PlantConfig | None = None,
    guidance_config: GuidanceConfig | None = None,
    *,
    dt: float = 0.02,
    max_time_s: float = 1_200.0,
    settle_after_landing_s: float = 2.0,
    map_includes_crater: bool | None = None,
    responses: FaultResponses | None = None,
    imu_fault_protection: bool = True,
    go_at_s: float = 0.0,
) -> DescentRun:
    """``imu_fault_protection`` False: no stand-in for the table's IMU entry (its negative control).
    ``go_at_s``: plant time of the go (the window is not checked here: that is the flight's go check)."""
    wall0 = time.perf_counter()
    plant, _devices, controller = build_descent(
        seed, plant_config, guidance_config, map_includes_crater=map_includes_crater, responses=responses,
        go_at_s=go_at_s,
    )
    digest = hashlib.sha256()
    phase_log: list[tuple[float, str]] = [(0.0, controller.phase)]
    cutoff_height: float | None = None
    false_landed_height: float | None = None
    landed_at: float | None = None
    ignition_t: float | None = None
    t = 0.0
    steps = int(max_time_s / dt)
    imu_fdir = ImuFaultProtection() if imu_fault_protection else None
    for n in range(steps):
        controller.step(t, dt)
        if imu_fdir is not None:
            imu_fdir.check(controller, t)
        if controller.phase != phase_log[-1][1]:
            phase_log.append((t, controller.phase))
            if controller.phase == "free_fall":
                cutoff_height = plant.height_above_ground
            if controller.phase == LANDED and not plant.landed:
                false_landed_height = plant.height_above_ground
        plant.step(dt)
        t = (n + 1) * dt
        if plant.engine_on and ignition_t is None:
            ignition_t = plant.t
        if n % 50 == 0:
            digest.update(struct.pack("<6d", plant.h, plant.s, plant.c, plant.vu, plant.vd, plant.mass))
        if controller.phase == HOLD_ORBIT and t > 5.0:
            break
        if plant.landed and landed_at is None:
            landed_at = t
        if landed_at is not None and t - landed_at >= settle_after_landing_s:
            break
    if plant.touchdown is not None:
        td = plant.touchdown
        digest.update(struct.pack("<4d", td.vertical_speed_m_s, td.horizontal_speed_m_s, td.tilt_deg, td.downrange_m))
    return DescentRun(
        seed=seed,
        touchdown=plant.touchdown,
        phase_log=phase_log,
        events=sorted([*controller.events, *controller.nav.events], key=lambda e: e[0]),
        final_phase=controller.phase,
        duration_s=plant.touchdown.t - ignition_t if plant.touchdown and ignition_t is not None else t,
        ignition_t=ignition_t,
        wall_s=time.perf_counter() - wall0,
        digest=digest.hexdigest(),
        true_height_at_cutoff_m=cutoff_height,
        min_true_height_while_guidance_thought_landed_m=false_landed_height,
        plant=plant,
        controller=controller,
    )
