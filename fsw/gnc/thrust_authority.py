"""The main engine's thrust held to what the attitude thrusters can balance (SLIM, January 2024).

SLIM lost a nozzle ~50 m above the ground: its thrust no longer passed through the centre of mass
and the lander came down on its nose (JAXA press briefing, 25 January 2024). An engine torque the
reaction control thrusters cannot balance turns the lander whatever the attitude control does;
what the flight software can still do is ask the engine for less, since the torque grows with the
thrust.

Per body axis a disturbance observer estimates the torque the thrusters do not account for, as a
lever (N m per N of thrust): it predicts the body rate from the thrusters' commanded impulse and the
lever times the thrust, and corrects the rate and the lever on the gyros' answer (a second-order
observer with both poles at ``pole_rad_s``). The lever times the thrust the thrusters may balance,
``margin`` of a group's torque (the rest stays for steering), gives the thrust ceiling:
``margin * group torque / |lever|``, the lowest over the three axes. The nominal engine's lever is a
few millimetres (misalignment and centre-of-mass offset, 0.1 deg and 3 mm 1-sigma [est.]): its
ceiling lies far above full thrust. The response (:mod:`fsw.gnc.thrust_limit`) takes the ceiling once it
has stayed below full thrust for ``ENGAGE_CYCLES`` and hands it to guidance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.gnc.attitude import Vector3
from fsw.gnc.attitude_control import GROUP_TORQUE_NM, GROUPS
from fsw.gnc.navigation import NavState

#: Share of a group's torque the engine's offset torque may take; the rest steers [est.].
AUTHORITY_MARGIN = 0.75
#: 50 Hz cycles the ceiling must stay below full thrust before the response takes it (0.2 s).
ENGAGE_CYCLES = 10
#: Below this thrust the lever is not observable (the engine's torque is lost in the gyro noise).
MIN_OBSERVABLE_THRUST_N = 1_000.0
#: A rate off the prediction by more than this in one cycle is no torque the lander has (a group and
#: the engine at full thrust change the rate by < 0.02 rad/s a cycle): a spike, not learnt from.
RATE_GATE_RAD_S = 0.03
#: Gated samples in a row after which the prediction restarts from the gyros.
GATED_RESTART = 5


def _thruster_torques() -> tuple[Vector3, ...]:
    """Each thruster's design torque (N m), from the groups it belongs to: a group of four gives a
    pure torque about its axis, a thruster its quarter of it about every axis it is grouped on."""
    count = 1 + max(max(group) for group in GROUPS.values())
    torques = [[0.0, 0.0, 0.0] for _ in range(count)]
    for (axis, direction), group in GROUPS.items():
        for thruster in group:
            torques[thruster][axis] += direction * GROUP_TORQUE_NM[axis] / 4.0
    return tuple((t[0], t[1], t[2]) for t in torques)


THRUSTER_TORQUES = _thruster_torques()


def commanded_impulse(on_ms: tuple[int, ...] | None) -> Vector3:
    """The torque impulse (N m s, body axes) thruster on-times (ms) deliver by the design."""
    if on_ms is None:
        return (0.0, 0.0, 0.0)
    x = y = z = 0.0
    for ms, (tx, ty, tz) in zip(on_ms, THRUSTER_TORQUES, strict=False):
        if ms:
            x += tx * ms
            y += ty * ms
            z += tz * ms
    return (x / 1000.0, y / 1000.0, z / 1000.0)


@dataclass(frozen=True)
class ThrustAuthorityConfig:
    pole_rad_s: float = 5.0  # observer bandwidth: the lever within ~10 % in about a second
    margin: float = AUTHORITY_MARGIN
    engage_cycles: int = ENGAGE_CYCLES


class ThrustAuthorityMonitor:
    """Estimates the engine's offset torque per newton of thrust and the thrust the thrusters can
    balance; :meth:`update` once per 50 Hz attitude cycle."""

    def __init__(self, config: ThrustAuthorityConfig | None = None) -> None:
        self.config = config or ThrustAuthorityConfig()
        self.lever: list[float] = [0.0, 0.0, 0.0]  # N m per N of thrust, body axes
        self.thrust_n = 0.0  # the thrust of the last update
        self._predicted: list[float] | None = None  # body rate predicted for this cycle (rad/s)
        self._below = 0  # cycles in a row the ceiling has been below full thrust
        self._gated = 0  # samples in a row off the prediction by more than the gate
        self.confirmed = False  # the ceiling has stayed below full thrust for engage_cycles

    def update(self, rate: Vector3 | None, impulse: Vector3, thrust_n: float, inertia: Vector3, dt: float,
               full_thrust_n: float) -> None:
        """One cycle: ``rate`` the body rate measured now (None: no usable gyro sample), ``impulse``
        what the thrusters were just commanded (delivered over the coming cycle), ``thrust_n`` the
        engine's thrust now, ``full_thrust_n`` what it delivers at full throttle."""
        predicted, last_thrust, lever = self._predicted, self.thrust_n, self.lever
        ix, iy, iz = inertia
        if rate is None or predicted is None or last_thrust < MIN_OBSERVABLE_THRUST_N:
            # Nothing to learn from (no gyros, engine off or idling): the prediction restarts.
            predicted = None if rate is None else [rate[0], rate[1], rate[2]]
        else:
            pole = self.config.pole_rad_s
            gain_rate, gain_lever = 2.0 * pole * dt, pole * pole * dt / last_thrust
            # The residual is the last cycle's torque, at the last cycle's thrust (unrolled: 50 Hz).
            rx, ry, rz = rate[0] - predicted[0], rate[1] - predicted[1], rate[2] - predicted[2]
            if abs(rx) > RATE_GATE_RAD_S or abs(ry) > RATE_GATE_RAD_S or abs(rz) > RATE_GATE_RAD_S:
                self._gated += 1
                if self._gated >= GATED_RESTART:  # not a spike: the rate itself moved
                    self._gated = 0
                    predicted = [rate[0], rate[1], rate[2]]
                rx = ry = rz = 0.0
            else:
                self._gated = 0
            predicted[0] += gain_rate * rx
            predicted[1] += gain_rate * ry
            predicted[2] += gain_rate * rz
            lever[0] += gain_lever * ix * rx
            lever[1] += gain_lever * iy * ry
            lever[2] += gain_lever * iz * rz
        self.thrust_n = thrust_n
        if predicted is not None and thrust_n >= MIN_OBSERVABLE_THRUST_N:
            step = thrust_n * dt
            predicted[0] += (impulse[0] + lever[0] * step) / ix
            predicted[1] += (impulse[1] + lever[1] * step) / iy
            predicted[2] += (impulse[2] + lever[2] * step) / iz
        self._predicted = predicted
        # Below full thrust: some axis's lever at full thrust asks more than the margin of its group.
        margin = self.config.margin
        tx, ty, tz = GROUP_TORQUE_NM
        below = (abs(lever[0]) * full_thrust_n > margin * tx or abs(lever[1]) * full_thrust_n > margin * ty
                 or abs(lever[2]) * full_thrust_n > margin * tz)
        self._below = self._below + 1 if below else 0
        if self._below >= self.config.engage_cycles:
            self.confirmed = True

    def restart(self) -> None:
        """Forget the rate prediction (a gap in the cycles: a restart); what was learnt stays."""
        self._predicted = None

    @property
    def offset_torque_nm(self) -> float:
        """The engine's estimated torque now (N m), all axes."""
        return math.sqrt(sum(x * x for x in self.lever)) * self.thrust_n

    def ceiling_n(self) -> float:
        """The most thrust whose offset torque the thrusters balance with the margin left (N)."""
        ceiling = math.inf
        for axis in range(3):
            lever = abs(self.lever[axis])
            if lever > 0.0:
                ceiling = min(ceiling, self.config.margin * GROUP_TORQUE_NM[axis] / lever)
        return ceiling


# ---------------------------------------------------------------- guidance under a ceiling


def accel_under_ceiling(ceiling_n: float, nav: NavState, cutoff_height_m: float) -> tuple[float, str]:
    """The thrust acceleration guidance may ask under a thrust ceiling, and why it exceeds the
    ceiling ("" when it does not).

    The fallback: the lander must not fall because its thrust was capped. When the ceiling cannot
    stop the present descent rate above the cutoff height (with margins to go on steering it),
    guidance asks what that needs instead; the attitude takes the excess torque for the seconds
    that lasts - a tilted touchdown at low speed rather than an upright one at high speed."""
    room = max(1.0, nav.height_above_ground - cutoff_height_m)
    sink = max(0.0, -nav.vu)
    need = 1.05 * nav.effective_gravity + 1.2 * sink * sink / (2.0 * room)
    capped = ceiling_n / nav.mass_kg
    if capped >= need:
        return capped, ""
    return need, (f"{need * nav.mass_kg:.0f} N needed to stop {sink:.1f} m/s in {nav.height_above_ground:.0f} m, "
                  f"over the {ceiling_n:.0f} N the thrusters can balance")


def stopping_distance(nav: NavState, max_accel: float) -> float:
    """Height (m) the present descent rate takes to stop at 90 % of ``max_accel`` (inf: it cannot)."""
    net = 0.9 * max_accel - nav.effective_gravity
    sink = max(0.0, -nav.vu)
    return sink * sink / (2.0 * net) if net > 0.0 else math.inf
