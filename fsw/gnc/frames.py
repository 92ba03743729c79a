"""The flight software's model of geometry over the Moon: local-level frames and the Moon's constants
(the navigator's equations of motion are in :mod:`fsw.gnc.moon_frame`).

Frames follow :mod:`fsw.devices.descent`: local level ``(up, downrange, crossrange)``; the thrust
axis is given by ``pitch`` (towards +downrange) and ``yaw`` (towards +crossrange). This is the
flight side's own code: the plant in ``hil/emulator`` has its own, so that a modelling error on
board is not hidden by sharing it with the world it flies in.
"""

from __future__ import annotations

import math

Vector3 = tuple[float, float, float]

def thrust_axis(pitch: float, yaw: float) -> Vector3:
    """Unit thrust axis in the local-level frame for the given attitude angles."""
    cy = math.cos(yaw)
    return (math.cos(pitch) * cy, math.sin(pitch) * cy, math.sin(yaw))


def body_to_local(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """Rotate a body-frame vector into the local-level frame (columns x_b, y_b, z_b)."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    x, y, z = v
    return (
        cp * cy * x - sp * y - sy * cp * z,
        sp * cy * x + cp * y - sy * sp * z,
        sy * x + cy * z,
    )


def local_to_body(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """Inverse of :func:`body_to_local` (the rotation is orthonormal, so its transpose)."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    u, d, c = v
    return (
        cp * cy * u + sp * cy * d + sy * c,
        -sp * u + cp * d,
        -sy * cp * u - sy * sp * d + cy * c,
    )


GM_MOON = 4.9049e12  # m^3/s^2, the Moon's GM (published value)
R_MOON = 1_737_400.0  # m
# The Moon's sidereal rotation, one turn in 27.3217 days (IAU WGCCRE, Archinal et al. 2018).
MOON_ROTATION_RAD_S = 2.6617e-6
# The Moon's oblateness: J2 = 2.0321e-4 referred to 1738 km, from the GRAIL field GL0660B (Konopliv et
# al. 2013, JGR Planets 118:1415). Its axis is the spin axis the ground uplinks with the descent frame.
J2_MOON = 2.0321e-4
J2_RADIUS_M = 1_738_000.0


def beam_direction_local(pitch: float, yaw: float, mount: float) -> Vector3:
    """Unit direction of a range-finder beam (mounted ``mount`` rad from body -x towards -y)."""
    return body_to_local(pitch, yaw, (-math.cos(mount), -math.sin(mount), 0.0))


def tilt_from_vertical(pitch: float, yaw: float) -> float:
    """Angle between the thrust axis and local vertical (rad)."""
    return math.acos(max(-1.0, min(1.0, math.cos(pitch) * math.cos(yaw))))
