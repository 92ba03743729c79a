"""On-board attitude control at 50 Hz: the attitude guidance asks for, held with the reaction
control thrusters against the main engine's offset torque.

Per body axis a cascade: the attitude error asks a body rate (``error / time constant``, capped by
the slew-rate limit and by the rate the thrusters can still stop in half the remaining angle: a
phase-plane switching curve), the rate error times the axis inertia asks a torque, and an integral
of the error learns the steady disturbance (the engine's thrust off the centre of mass). The torque
demand becomes thruster on-times by pulse-width modulation through an impulse accumulator: each
cycle adds the impulse asked; a couple fires when the accumulator holds at least its minimum
impulse bit, for as long as the impulse asks (at most the cycle), and that impulse is taken off.
Small demands so come out as sparse minimum pulses, large ones as full-cycle firings. A disturbance
torque estimated elsewhere (the engine's offset torque, ``fsw.gnc.thrust_authority``) can be given
as a feedforward; the integral then learns only what that estimate misses.

Thrusters fire in groups of four with no net force (the numbering and geometry are the design's,
docs/gnc.md); a thruster in the groups of two axes gets the sum of their on-times, up to the cycle.
The inertia is the design model's, from the propellant the navigation estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.core.declarations import EventDef, ParameterDef, Severity
from fsw.devices.descent import RCS_THRUSTERS
from fsw.gnc.attitude import (
    AttitudeFilter,
    Matrix3,
    Quaternion,
    Vector3,
    error_angles,
    quat_multiply,
    tilted_frame,
    tilted_quaternion,
)
from fsw.gnc.frames import R_MOON

#: The attitude filter's re-initialisation (``fsw.gnc.attitude``), on both vehicles: its event on the
#: ground (the controllers' ``attitude_reinitialised``) and the rule's settings, read when a powered
#: phase begins.
ATTITUDE_EVENTS = (
    EventDef(0x3060, "ATTITUDE_REINITIALISED", Severity.MEDIUM,
             "{vehicle} attitude filter re-initialised from the star tracker: {detail}"),
)
ATTITUDE_PARAMETERS = (
    ParameterDef(0x3060, "gnc_attitude_reinit_rejections", "u16", AttitudeFilter.reinit_after_rejections,
                 "star tracker solutions in a row the attitude filter's gate rejects, all agreeing with each other, "
                 "after which the filter is re-initialised on the newest (its estimate diverged); 0: never", 0, 1_000),
    ParameterDef(0x3061, "gnc_attitude_reinit_outage_s", "f64", AttitudeFilter.reinit_after_outage_s,
                 "without an accepted star tracker solution this long, two agreeing rejected ones re-initialise the "
                 "attitude filter; 0: never", 0.0, 3_600.0, unit="s"),
)


def reinitialisation_report(filt: AttitudeFilter) -> str:
    """The detail of an ``attitude_reinitialised`` event."""
    run, offset = filt.last_reinitialisation
    return f"{run} agreeing solutions rejected, the estimate was {math.degrees(offset):.2f} deg off"


#: Groups by (axis, direction): thrusters fired together for a pure torque about that body axis.
GROUPS: dict[tuple[int, int], tuple[int, ...]] = {
    (0, 1): (2, 6, 10, 14), (0, -1): (3, 7, 11, 15), (1, 1): (0, 4, 9, 13), (1, -1): (1, 5, 8, 12),
    (2, 1): (1, 4, 8, 13), (2, -1): (0, 5, 9, 12),
}
THRUSTER_N = 150.0  # design figures
ARM_M = 1.8
#: Torque of a group: four thrusters at the full arm about the roll axis, at arm / sqrt(2) about pitch and yaw.
GROUP_TORQUE_NM = (4.0 * THRUSTER_N * ARM_M, 2.0 * math.sqrt(2.0) * THRUSTER_N * ARM_M,
                   2.0 * math.sqrt(2.0) * THRUSTER_N * ARM_M)
MIN_ON_S = 0.010
EXHAUST_VELOCITY_M_S = 2_850.0
DRY_INERTIA = (1_900.0, 2_300.0, 2_300.0)  # kg m^2, design [est.]
FULL_PROPELLANT_INERTIA = (1_500.0, 1_200.0, 1_200.0)
FULL_PROPELLANT_KG = 2_250.0


@dataclass(frozen=True)
class AttitudeControlConfig:
    rate_gain: float = 3.0  # 1/s, the rate loop's bandwidth
    attitude_time_constant_s: float = 0.8
    max_rate_rad_s: float = math.radians(6.0)
    integral_gain: float = 1.5  # 1/s^3 (times the inertia)
    integral_zone_rad: float = math.radians(3.0)  # learn the disturbance only near the target
    integral_limit_nm: float = 600.0
    integral_fade_s: float = 2.0
    # Inside this box the thrusters only answer the learnt disturbance: no limit cycle chasing noise.
    deadband_rad: float = math.radians(0.3)
    rate_deadband_rad_s: float = math.radians(0.1)
    cycle_s: float = 0.02


def design_inertia(propellant_kg: float) -> Vector3:
    fill = max(0.0, min(1.0, propellant_kg / FULL_PROPELLANT_KG))
    return (DRY_INERTIA[0] + fill * FULL_PROPELLANT_INERTIA[0], DRY_INERTIA[1] + fill * FULL_PROPELLANT_INERTIA[1],
            DRY_INERTIA[2] + fill * FULL_PROPELLANT_INERTIA[2])


def target_attitude(pitch: float, yaw: float, s: float, c: float,
                    frame_turn: Quaternion = (1.0, 0.0, 0.0, 0.0)) -> Quaternion:
    """A thrust-axis attitude in the local frame at arcs ``(s, c)``, in the descent inertial frame
    (``frame_turn``: from the MCDF to that frame, the Moon's turn since they were aligned)."""
    local = quat_multiply(frame_turn, tilted_quaternion(s / R_MOON, c / R_MOON))
    return quat_multiply(local, tilted_quaternion(pitch, yaw))


def local_frame_rate(pitch: float, yaw: float, h: float, vd: float, vc: float) -> Vector3:
    """The local frame's turn as the lander moves over the sphere, in the target's body axes (rad/s):
    a fixed pitch/yaw attitude turns with it."""
    r = R_MOON + h
    wl = (0.0, -vc / r, vd / r)
    m: Matrix3 = tilted_frame(pitch, yaw)
    return (m[0][0] * wl[0] + m[1][0] * wl[1] + m[2][0] * wl[2], m[0][1] * wl[0] + m[1][1] * wl[1] + m[2][1] * wl[2],
            m[0][2] * wl[0] + m[1][2] * wl[1] + m[2][2] * wl[2])


class AttitudeController:
    # The vehicle's thruster design (the lander's; the ascender's controller has its own,
    # ``fsw.gnc.ascent_attitude``).
    groups = GROUPS
    group_torque_nm = GROUP_TORQUE_NM
    min_on_s = MIN_ON_S
    thruster_n = THRUSTER_N
    exhaust_velocity_m_s = EXHAUST_VELOCITY_M_S

    def design_inertia(self, propellant_kg: float) -> Vector3:
        return design_inertia(propellant_kg)

    def __init__(self, config: AttitudeControlConfig | None = None) -> None:
        self.config = config or AttitudeControlConfig()
        self.integral = [0.0, 0.0, 0.0]  # N m
        self.feedforward: Vector3 = (0.0, 0.0, 0.0)  # N m, an estimated disturbance to answer directly
        self.accumulator = [0.0, 0.0, 0.0]  # N m s of impulse asked and not yet delivered
        self.demand = [0.0, 0.0, 0.0]  # N m s asked in the last cycle
        self.error: Vector3 = (0.0, 0.0, 0.0)
        self.pulses = 0  # thruster pulses commanded
        self.on_time_s = 0.0  # thruster-seconds commanded
        self.commands = 0

    def set_feedforward(self, torque: Vector3, *, hand_over: bool = False) -> None:
        """Answer ``torque`` (N m) directly from now on. ``hand_over``: the integral has been learning
        the same torque; what the feedforward now supplies is taken out of it (no bump)."""
        if hand_over:
            limit = self.config.integral_limit_nm
            self.integral = [max(-limit, min(limit, i - f + g)) for i, f, g in
                             zip(self.integral, torque, self.feedforward, strict=True)]
        self.feedforward = torque

    @property
    def error_rad(self) -> float:
        e = self.error
        return math.sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2])

    @property
    def propellant_used_kg(self) -> float:
        """Thruster propellant by the design flow rate over the on-times commanded."""
        return self.thruster_n * self.on_time_s / self.exhaust_velocity_m_s

    def step(self, q: Quaternion, rate: Vector3, q_target: Quaternion, rate_target: Vector3,
             propellant_kg: float, *, may_fire: bool = True, feedback: bool = True) -> tuple[int, ...] | None:
        """One cycle: the on-times (ms, one per thruster) to command, or None when none fires (or
        firing must wait: ``may_fire`` False keeps the impulse for a later cycle). ``feedback``
        False: the attitude and rate are not to be trusted (no gyro sample): only the disturbance
        learnt so far (integral and feedforward) is answered, and nothing is learnt."""
        cfg = self.config
        dt = cfg.cycle_s
        e = self.error = error_angles(q, q_target)
        inertia = self.design_inertia(propellant_kg)
        group_torque = self.group_torque_nm
        integral, demand, accumulator, feedforward = self.integral, self.demand, self.accumulator, self.feedforward
        max_rate, tau, zone = cfg.max_rate_rad_s, cfg.attitude_time_constant_s, cfg.integral_zone_rad
        limit, fade = cfg.integral_limit_nm, 1.0 - dt / cfg.integral_fade_s
        for axis in range(3):
            ea = e[axis]
            size = ea if ea >= 0.0 else -ea
            # The rate asked: the attitude loop's, capped by the slew limit and by what the thrusters
            # can still stop in half the angle left (the phase plane's switching curve).
            magnitude = size / tau
            if magnitude > max_rate:
                magnitude = max_rate
            stoppable = math.sqrt(group_torque[axis] / inertia[axis] * size)
            if magnitude > stoppable:
                magnitude = stoppable
            rate_error = (magnitude if ea >= 0.0 else -magnitude) + rate_target[axis] - rate[axis]
            if not feedback:
                torque = integral[axis] + feedforward[axis]
                demand[axis] = torque * dt
                accumulator[axis] += torque * dt
                continue
            if size < zone:
                learnt = integral[axis] + inertia[axis] * cfg.integral_gain * ea * dt
                integral[axis] = limit if learnt > limit else -limit if learnt < -limit else learnt
            else:  # slewing: what was learnt holding fades rather than pushing the slew on
                integral[axis] *= fade
            if size < cfg.deadband_rad and -cfg.rate_deadband_rad_s < rate_error < cfg.rate_deadband_rad_s:
                torque = integral[axis] + feedforward[axis]
            else:
                torque = inertia[axis] * cfg.rate_gain * rate_error + integral[axis] + feedforward[axis]
            demand[axis] = torque * dt
            accumulator[axis] += torque * dt
        if not may_fire:
            return None
        on_ms = [0] * RCS_THRUSTERS
        cycle_ms = round(dt * 1000.0)
        fired = False
        for axis in range(3):
            asked = self.accumulator[axis]
            torque = group_torque[axis]
            if abs(asked) < torque * self.min_on_s:
                continue
            ms = round(min(abs(asked) / torque, dt) * 1000.0)
            direction = 1 if asked > 0 else -1
            for thruster in self.groups[(axis, direction)]:
                on_ms[thruster] = min(cycle_ms, on_ms[thruster] + ms)
            delivered = direction * torque * ms / 1000.0
            # What is left over carries to the next cycle, up to one cycle's full impulse (no windup).
            full = torque * dt
            self.accumulator[axis] = max(-full, min(full, asked - delivered))
            fired = True
        if not fired:
            return None
        self.commands += 1
        self.pulses += sum(1 for ms in on_ms if ms)
        self.on_time_s += sum(on_ms) / 1000.0
        return tuple(on_ms)

    def quiet_cycles(self, limit: int) -> int:
        """How many coming cycles (up to ``limit``) will fire nothing if the demand stays as it is now:
        the cycles a device bus may fly in one round trip. The prediction is the firing rule itself,
        with no margin: should the demand grow meanwhile, the impulse waits for the first cycle after
        the promise (``step(may_fire=False)``). (A margin below the minimum impulse bit made an axis
        whose leftover impulse sat between the margin and the bit, with nothing asked to push it over,
        refuse every promise: most cycles of a braking were a round trip of their own.)"""
        accumulator, demand = self.accumulator, self.demand
        bits = [torque * self.min_on_s for torque in self.group_torque_nm]
        for k in range(1, limit + 1):
            if any(abs(accumulator[a] + k * demand[a]) >= bits[a] for a in range(3)):
                return k - 1
        return limit


def attitude_health(filt: AttitudeFilter, control: AttitudeController, now: float) -> dict[str, float]:
    """What telemetry reports of a vehicle's attitude (the lander's and the ascender's alike): error
    from the target, rate, thruster use, the star tracker's age and the filter's uncertainty."""
    wx, wy, wz = filt.rate
    last = filt.last_update_t
    return {
        "error_deg": math.degrees(control.error_rad) if filt.initialised else 0.0,
        "rate_deg_s": math.degrees(math.sqrt(wx * wx + wy * wy + wz * wz)),
        "rcs_pulses": control.pulses,
        "rcs_propellant_kg": control.propellant_used_kg,
        "star_age_s": now - last if last is not None else -1.0,
        "sigma_deg": math.degrees(filt.attitude_sigma_rad) if filt.initialised else -1.0,
        "star_rejected": filt.rejected,
    }
