"""Two-body orbit figures from a local-level state (radius, radial and horizontal speed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.gnc.frames import GM_MOON, R_MOON


@dataclass(frozen=True, slots=True)
class OrbitFigures:
    semi_major_axis_m: float  # inf for parabolic, negative for hyperbolic
    eccentricity: float
    periapsis_alt_m: float
    apoapsis_alt_m: float  # inf when not bound
    specific_energy: float  # J/kg

    @property
    def bound(self) -> bool:
        return self.specific_energy < 0.0


def orbit_from_state(
    r_m: float, v_radial: float, v_horizontal: float, gm: float = GM_MOON, body_radius_m: float = R_MOON
) -> OrbitFigures:
    """Periapsis and apoapsis altitudes of the osculating orbit through the given state."""
    v2 = v_radial * v_radial + v_horizontal * v_horizontal
    energy = 0.5 * v2 - gm / r_m
    h = r_m * abs(v_horizontal)  # specific angular momentum
    ecc = math.sqrt(max(0.0, 1.0 + 2.0 * energy * h * h / (gm * gm)))
    p = h * h / gm  # semi-latus rectum
    rp = p / (1.0 + ecc)
    if energy < 0.0:
        a = -gm / (2.0 * energy)
        # Not p / (1 - e): on a near-vertical climb e rounds to 1 and that gave an infinite apoapsis
        # for a bound orbit (the ascent once cut off at pitch-over, "in orbit" 100 m up).
        ra = 2.0 * a - rp
    else:
        a = math.inf if energy == 0.0 else -gm / (2.0 * energy)
        ra = math.inf
    return OrbitFigures(a, ecc, rp - body_radius_m, ra - body_radius_m, energy)


def speed_at_periapsis(periapsis_alt_m: float, apoapsis_alt_m: float, gm: float = GM_MOON) -> float:
    rp, ra = R_MOON + periapsis_alt_m, R_MOON + apoapsis_alt_m
    return math.sqrt(gm * (2.0 / rp - 2.0 / (rp + ra)))
