"""Guidance laws shared by the descent and the ascent: closed forms with no state (a filter's state is its caller's)."""

from __future__ import annotations

import math


def full_thrust_braking_distance(v0: float, v1: float, mass: float, force: float, ve: float) -> float:
    """Ground distance to slow from v0 to v1 under constant force with mass flow force/ve."""

    def stop(v: float, m0: float) -> float:
        mdot = force / ve
        mb = m0 * math.exp(-v / ve)
        tb = (m0 - mb) / mdot
        return (v - ve) * tb + mb * v / mdot

    if v0 <= v1:
        return 0.0
    m1 = mass * math.exp(-(v0 - v1) / ve)
    return stop(v0, mass) - stop(v1, m1)


def e_guidance(r: float, v: float, rf: float, vf: float, tgo: float) -> float:
    """Acceleration (per axis) reaching position rf and velocity vf in tgo with minimum effort."""
    return 6.0 * (rf - r) / (tgo * tgo) - (4.0 * v + 2.0 * vf) / tgo


def first_order_lag(previous: float, value: float, dt: float, tau: float) -> float:
    """A first-order low-pass of time constant ``tau`` moved ``dt`` on from ``previous`` towards
    ``value`` (``tau`` 0: ``value`` itself)."""
    if tau <= 0.0:
        return value
    return previous + (value - previous) * min(1.0, max(0.0, dt) / tau)
