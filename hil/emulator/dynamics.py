"""The plant's physics over a spherical Moon: frames, the equations of motion of a point mass, and the
osculating orbit of a state.

This is the world's code, kept apart from the flight software's own model (``fsw.gnc.frames``,
``fsw.gnc.orbit``) on purpose: the two may be written alike today, but neither leans on the other,
so a change to the world never silently becomes a change to what the flight computer believes.
Frames: local level ``(up, downrange, crossrange)``; body ``x`` along the thrust axis, tilted by
``pitch`` towards +downrange and ``yaw`` towards +crossrange.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Vector3 = tuple[float, float, float]

GM_MOON = 4.9049e12  # m^3/s^2, the Moon's GM (published value)
R_MOON = 1_737_400.0  # m, mean radius


def body_to_local(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """A body-frame vector in the local-level frame."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    x, y, z = v
    return (cp * cy * x - sp * y - sy * cp * z, sp * cy * x + cp * y - sy * sp * z, sy * x + cy * z)


def local_to_body(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """A local-level vector in the body frame (the transpose of :func:`body_to_local`)."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    u, d, c = v
    return (cp * cy * u + sp * cy * d + sy * c, -sp * u + cp * d, -sy * cp * u - sy * sp * d + cy * c)


def beam_direction_local(pitch: float, yaw: float, mount: float) -> Vector3:
    """Where a range-finder beam mounted ``mount`` rad from body -x (towards -y) points."""
    return body_to_local(pitch, yaw, (-math.cos(mount), -math.sin(mount), 0.0))


def tilt_from_vertical(pitch: float, yaw: float) -> float:
    """Angle of the body x axis from local vertical (rad)."""
    return math.acos(max(-1.0, min(1.0, math.cos(pitch) * math.cos(yaw))))


def curved_moon_step(h: float, s: float, c: float, vu: float, vd: float, vc: float,
                     a_u: float, a_d: float, a_c: float, dt: float) -> tuple[float, float, float, float, float, float]:
    """Advance the true state one Euler step: thrust and gravity plus the curved track's centripetal
    and transport terms; ``s`` and ``c`` are arcs on the reference sphere."""
    inv_r = 1.0 / (R_MOON + h)
    vu += (a_u - GM_MOON * inv_r * inv_r + (vd * vd + vc * vc) * inv_r) * dt
    vd += (a_d - vu * vd * inv_r) * dt
    vc += (a_c - vu * vc * inv_r) * dt
    h += vu * dt
    scale = R_MOON * inv_r * dt
    return h, s + vd * scale, c + vc * scale, vu, vd, vc


@dataclass(frozen=True, slots=True)
class TrueOrbit:
    """The osculating two-body orbit of the true state (what tests judge an ascent by)."""

    periapsis_alt_m: float
    apoapsis_alt_m: float  # inf when not bound
    eccentricity: float

    @property
    def bound(self) -> bool:
        return math.isfinite(self.apoapsis_alt_m)


def true_orbit(r_m: float, v_radial: float, v_horizontal: float) -> TrueOrbit:
    """Periapsis and apoapsis altitudes of the orbit through a state (radius, radial and horizontal speed)."""
    energy = 0.5 * (v_radial * v_radial + v_horizontal * v_horizontal) - GM_MOON / r_m
    momentum = r_m * abs(v_horizontal)
    eccentricity = math.sqrt(max(0.0, 1.0 + 2.0 * energy * momentum * momentum / (GM_MOON * GM_MOON)))
    periapsis_r = momentum * momentum / GM_MOON / (1.0 + eccentricity)
    # 2a - rp rather than p / (1 - e): on a near-vertical climb e rounds to 1 for a bound orbit.
    apoapsis_r = -GM_MOON / energy - periapsis_r if energy < 0.0 else math.inf
    return TrueOrbit(periapsis_r - R_MOON, apoapsis_r - R_MOON, eccentricity)


def perilune_speed(perilune_alt_m: float, apolune_alt_m: float) -> float:
    """Speed at perilune of an orbit with the given altitudes (vis-viva)."""
    rp, ra = R_MOON + perilune_alt_m, R_MOON + apolune_alt_m
    return math.sqrt(GM_MOON * (2.0 / rp - 2.0 / (rp + ra)))
