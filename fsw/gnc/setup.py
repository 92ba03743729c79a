"""Building the flight GNC from what the ground uplinks before descent.

Before powered descent the ground uplinks (by telecommand, :mod:`fsw.gnc.uplink`) the
orbit-determination state vector with its epoch, the landing target and the site's coarse terrain
map. At the go the lander propagates that state with its own dynamics model from the epoch to now
(the sensors' time tag), checks that this revolution's powered-descent initiation (PDI) is still
ahead within reach, and builds its navigator and guidance from it. The same construction serves
an in-process emulator, a plant on a device bus, and a Raspberry Pi bench.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from fsw.gnc.controller import DescentController, DescentDevices, FaultResponses
from fsw.gnc.frames import Vector3
from fsw.gnc.guidance import DescentGuidance, GuidanceConfig
from fsw.gnc.moon_frame import coast, moon_spin, to_track
from fsw.gnc.navigation import Navigator, TerrainMap

PREDICTION_STEP_S = 1.0  # coast step when looking for the initiation point


@dataclass(frozen=True)
class DescentPlan:
    """What the descent is flown from: the ground's uplink (state at its epoch in the Moon-centred
    descent frame, target as arcs over the reference sphere, terrain map along the track) and the
    vehicle's own figures (dry mass, propellant, exhaust velocity)."""

    epoch_s: float  # sensor time (the descent sensors' time tags) of the state
    position_m: Vector3
    velocity_m_s: Vector3
    target_downrange_m: float
    target_crossrange_m: float
    map_spacing_m: float
    map_heights_m: tuple[float, ...]
    dry_mass_kg: float
    propellant_kg: float
    exhaust_velocity_m_s: float
    max_retarget_m: float = 3_000.0
    # The Moon's spin axis in MCDF axes and the sensor time at which the star tracker's inertial
    # frame and the MCDF were aligned (``DESCENT_FRAME_SET``); without them the MCDF is taken as inertial.
    moon_pole: Vector3 | None = None
    frame_aligned_epoch_s: float = 0.0


@dataclass(frozen=True)
class PdiPrediction:
    """Where this revolution's powered-descent initiation lies, seen from the go."""

    wait_s: float  # from the end of the pre-flight checks to the initiation (0: due at once)
    to_gate_m: float  # range to the braking gate at the initiation
    throttle_needed: float  # braking throttle the range law would ask at the initiation
    refusal: str | None  # why the go cannot be taken (None: it can)


def navigator_at(plan: DescentPlan, now_s: float) -> Navigator:
    """A navigator holding the uplinked state propagated from its epoch to ``now_s`` (free flight:
    before the go the engine is off)."""
    spin = moon_spin(plan.moon_pole)
    position, velocity = coast(plan.position_m, plan.velocity_m_s, now_s - plan.epoch_s, spin=spin)
    h, s, c, vu, vd, vc = to_track(position, velocity)
    navigator = Navigator(TerrainMap(plan.map_spacing_m, plan.map_heights_m), t=0.0, h=h, s=s, c=c, vu=vu, vd=vd,
                          vc=vc, dry_mass_kg=plan.dry_mass_kg, propellant_kg=plan.propellant_kg)
    navigator.set_moon_spin(spin, now_s - plan.frame_aligned_epoch_s)
    return navigator


def guidance_config_for(plan: DescentPlan, navigator: Navigator) -> GuidanceConfig:
    terrain = navigator.map
    return GuidanceConfig(
        target_downrange_m=plan.target_downrange_m,
        target_crossrange_m=plan.target_crossrange_m,
        target_terrain_height_m=terrain.height(plan.target_downrange_m),
        exhaust_velocity_m_s=plan.exhaust_velocity_m_s,
        # The braking profile starts from where the go finds the lander (near the perilune of the
        # descent orbit when the go comes in the window).
        braking_start_height_m=navigator.h,
        braking_start_speed_m_s=navigator.vd,
        max_retarget_m=plan.max_retarget_m,
    )


def predict_pdi(plan: DescentPlan, now_s: float, checks_s: float, latest_throttle: float,
                guidance_config: GuidanceConfig | None = None) -> PdiPrediction:
    """Coast the uplinked state from ``now_s`` past the pre-flight checks (``checks_s``) and look
    for the initiation point, at most the coast limit ahead. Refused: the point is behind (braking
    from here would need more than ``latest_throttle``, or the gate is passed), or too far ahead
    (the coast limit would light the engine early and land short)."""
    navigator = navigator_at(plan, now_s + checks_s)
    config = guidance_config or guidance_config_for(plan, navigator)
    guidance = DescentGuidance(config)
    waited = 0.0
    while True:
        state = navigator.state()
        to_gate = guidance.range_to_gate(state)
        if guidance.pdi_due(state):
            needed = guidance.predicted_braking_distance(state) / to_gate if to_gate > 0 else math.inf
            refusal = None
            if waited == 0.0 and needed > latest_throttle:
                refusal = (f"this revolution's powered-descent initiation is past: braking from the end of "
                           f"the checks needs throttle {needed:.2f} > {latest_throttle:.2f} "
                           f"({to_gate / 1e3:.1f} km to the braking gate); uplink a state and target for a later "
                           "revolution")
            return PdiPrediction(waited, to_gate, needed, refusal)
        if waited >= config.pdi_max_coast_s:
            return PdiPrediction(waited, to_gate, math.nan,
                                 f"powered-descent initiation more than {config.pdi_max_coast_s:.0f} s after the "
                                 f"checks ({to_gate / 1e3:.1f} km to the braking gate then): send the go later")
        navigator.propagate(None, PREDICTION_STEP_S)
        waited += PREDICTION_STEP_S


def make_descent_controller(devices: DescentDevices, plan: DescentPlan, now_s: float,
                            guidance_config: GuidanceConfig | None = None,
                            responses: FaultResponses | None = None) -> DescentController:
    """The descent controller at sensor time ``now_s``, its navigator propagated there."""
    navigator = navigator_at(plan, now_s)
    if guidance_config is None:
        guidance_config = guidance_config_for(plan, navigator)
    elif guidance_config.max_retarget_m != plan.max_retarget_m:
        guidance_config = replace(guidance_config, max_retarget_m=plan.max_retarget_m)
    return DescentController(devices, navigator, DescentGuidance(guidance_config), responses=responses)
