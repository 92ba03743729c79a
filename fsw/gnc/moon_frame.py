"""The navigator's dynamics model: the Moon's gravity (point mass and J2) in a Moon-fixed frame that
turns with it, integrated by the flight software's own fourth-order Runge-Kutta step.

The frame is the *Moon-centred descent frame* (MCDF) in which the ground uplinks the descent state:

* origin at the Moon's centre, axes fixed to the Moon, so the target and the map stand still in it
  and the velocimeter measures the velocity in it. The frame turns with the Moon (4.6 m/s at the
  equator): the model adds the Coriolis and centrifugal accelerations of that turn, given the
  Moon's spin axis in MCDF axes (uplinked with the state, ``DESCENT_FRAME_SET``); without it the
  frame is taken as inertial;
* ``X`` through the origin of the descent ground track (downrange 0, crossrange 0 of the on-board
  map and the target);
* ``Y`` in the plane of the ground track's great circle, towards downrange;
* ``Z = X x Y``, the track's pole: crossrange is positive towards ``+Z``.

Guidance and the navigation filter work in track coordinates over the reference sphere (radius
:data:`R_MOON`): height ``h`` above it, the downrange arc ``s`` (longitude in the track plane times
``R_MOON``), the crossrange arc ``c`` (latitude from the track plane times ``R_MOON``) and the velocity
in the local level ``(up, downrange, crossrange)``. :func:`to_track` and :func:`from_track` convert
exactly (spherical coordinates), so the only approximations are the model's: gravity to J2 (the
Moon's oblateness about the uplinked spin axis; higher harmonics and mascons are left to the
sensors; without a spin axis the model is a point mass in an inertial frame) and a constant thrust
acceleration over each step.

The star tracker's (inertial) frame is the MCDF as it stood at the uplinked alignment epoch; the
Moon has turned it since by :func:`frame_turn`.
"""

from __future__ import annotations

import math

from fsw.gnc.frames import GM_MOON, J2_MOON, J2_RADIUS_M, MOON_ROTATION_RAD_S, R_MOON, Vector3

FRAME_NAME = "MCDF"
TrackState = tuple[float, float, float, float, float, float]  # h, s, c, vu, vd, vc
NO_SPIN: Vector3 = (0.0, 0.0, 0.0)


def moon_spin(pole: Vector3 | None) -> Vector3:
    """The Moon's angular velocity in MCDF axes (rad/s) for a spin axis ``pole`` (None: not known, zero)."""
    if pole is None:
        return NO_SPIN
    n = math.sqrt(pole[0] * pole[0] + pole[1] * pole[1] + pole[2] * pole[2])
    k = MOON_ROTATION_RAD_S / n
    return (pole[0] * k, pole[1] * k, pole[2] * k)


def frame_turn(spin: Vector3, elapsed_s: float) -> tuple[float, float, float, float]:
    """The quaternion turning MCDF vectors into the inertial frame ``elapsed_s`` after the two were
    aligned (the Moon's turn about its axis since)."""
    rate = math.sqrt(spin[0] * spin[0] + spin[1] * spin[1] + spin[2] * spin[2])
    if rate == 0.0:
        return (1.0, 0.0, 0.0, 0.0)
    half = 0.5 * rate * elapsed_s
    k = math.sin(half) / rate
    return (math.cos(half), spin[0] * k, spin[1] * k, spin[2] * k)


def local_axes(s: float, c: float) -> tuple[Vector3, Vector3, Vector3]:
    """Unit vectors (up, downrange, crossrange) at track position ``(s, c)``, in the MCDF."""
    lon, lat = s / R_MOON, c / R_MOON
    cl, sl, cp, sp = math.cos(lon), math.sin(lon), math.cos(lat), math.sin(lat)
    return (cp * cl, cp * sl, sp), (-sl, cl, 0.0), (-sp * cl, -sp * sl, cp)


def from_track(h: float, s: float, c: float, vu: float, vd: float, vc: float) -> tuple[Vector3, Vector3]:
    """Track coordinates to MCDF position (m) and velocity (m/s)."""
    up, down, cross = local_axes(s, c)
    r = R_MOON + h
    position = (r * up[0], r * up[1], r * up[2])
    velocity = tuple(vu * up[i] + vd * down[i] + vc * cross[i] for i in range(3))
    return position, (velocity[0], velocity[1], velocity[2])


def to_track(position: Vector3, velocity: Vector3) -> TrackState:
    """MCDF position and velocity to track coordinates ``(h, s, c, vu, vd, vc)``."""
    x, y, z = position
    r = math.sqrt(x * x + y * y + z * z)
    lon = math.atan2(y, x)
    lat = math.asin(max(-1.0, min(1.0, z / r)))
    s, c = lon * R_MOON, lat * R_MOON
    up, down, cross = local_axes(s, c)
    vx, vy, vz = velocity
    return (r - R_MOON, s, c, vx * up[0] + vy * up[1] + vz * up[2], vx * down[0] + vy * down[1],
            vx * cross[0] + vy * cross[1] + vz * cross[2])


def local_to_frame(s: float, c: float, a: Vector3) -> Vector3:
    """A local-level vector (up, downrange, crossrange) at ``(s, c)`` in MCDF axes."""
    up, down, cross = local_axes(s, c)
    return (a[0] * up[0] + a[1] * down[0] + a[2] * cross[0], a[0] * up[1] + a[1] * down[1] + a[2] * cross[1],
            a[0] * up[2] + a[2] * cross[2])


def _acceleration(p: Vector3, v: Vector3, thrust: Vector3, spin: Vector3) -> Vector3:
    """Gravity (point mass, and J2 about the spin axis when the spin is known) and thrust, and in the
    turning frame the Coriolis (-2 w x v) and centrifugal (-w x (w x p)) accelerations."""
    x, y, z = p
    r2 = x * x + y * y + z * z
    k = -GM_MOON / (r2 * math.sqrt(r2))
    ax, ay, az = k * x + thrust[0], k * y + thrust[1], k * z + thrust[2]
    wx, wy, wz = spin
    if wx == 0.0 and wy == 0.0 and wz == 0.0:
        return (ax, ay, az)
    # J2: with the pole n (unit spin axis) and u = (p . n) / r, the extra acceleration is
    # k * 1.5 * J2 * (R / r)^2 * ((1 - 5 u^2) p + 2 u r n), k as above (negative: towards the Moon).
    w = math.sqrt(wx * wx + wy * wy + wz * wz)
    nx, ny, nz = wx / w, wy / w, wz / w
    along = x * nx + y * ny + z * nz  # p . n = u r
    j = k * 1.5 * J2_MOON * J2_RADIUS_M * J2_RADIUS_M / r2
    radial = j * (1.0 - 5.0 * along * along / r2)
    ax += radial * x + 2.0 * j * along * nx
    ay += radial * y + 2.0 * j * along * ny
    az += radial * z + 2.0 * j * along * nz
    # w x p, then the two terms: -2 w x v - w x (w x p).
    cx, cy, cz = wy * z - wz * y, wz * x - wx * z, wx * y - wy * x
    vx, vy, vz = v[0], v[1], v[2]
    return (ax - 2.0 * (wy * vz - wz * vy) - (wy * cz - wz * cy),
            ay - 2.0 * (wz * vx - wx * vz) - (wz * cx - wx * cz),
            az - 2.0 * (wx * vy - wy * vx) - (wx * cy - wy * cx))


def rk4_step(position: Vector3, velocity: Vector3, thrust: Vector3, dt: float,
             spin: Vector3 = NO_SPIN) -> tuple[Vector3, Vector3]:
    """One Runge-Kutta step of the point mass in the MCDF turning at ``spin``, thrust acceleration
    (MCDF axes) constant over it."""
    # Written out per component (the navigator steps this every 50 Hz cycle).
    half = 0.5 * dt
    px, py, pz = position
    vx, vy, vz = velocity
    a1x, a1y, a1z = _acceleration(position, velocity, thrust, spin)
    v2x, v2y, v2z = v2 = (vx + half * a1x, vy + half * a1y, vz + half * a1z)
    a2x, a2y, a2z = _acceleration((px + half * vx, py + half * vy, pz + half * vz), v2, thrust, spin)
    v3x, v3y, v3z = v3 = (vx + half * a2x, vy + half * a2y, vz + half * a2z)
    a3x, a3y, a3z = _acceleration((px + half * v2x, py + half * v2y, pz + half * v2z), v3, thrust, spin)
    v4x, v4y, v4z = v4 = (vx + dt * a3x, vy + dt * a3y, vz + dt * a3z)
    a4x, a4y, a4z = _acceleration((px + dt * v3x, py + dt * v3y, pz + dt * v3z), v4, thrust, spin)
    k = dt / 6.0
    return ((px + k * (vx + 2.0 * v2x + 2.0 * v3x + v4x), py + k * (vy + 2.0 * v2y + 2.0 * v3y + v4y),
             pz + k * (vz + 2.0 * v2z + 2.0 * v3z + v4z)),
            (vx + k * (a1x + 2.0 * a2x + 2.0 * a3x + a4x), vy + k * (a1y + 2.0 * a2y + 2.0 * a3y + a4y),
             vz + k * (a1z + 2.0 * a2z + 2.0 * a3z + a4z)))


def track_step(state: TrackState, accel_local: Vector3, dt: float, spin: Vector3 = NO_SPIN) -> TrackState:
    """Advance a track state by ``dt`` under a thrust acceleration given in the local level."""
    # from_track and local_to_frame at the same point, on one set of local axes.
    h, s, c, vu, vd, vc = state
    (ux, uy, uz), (dx, dy, dz), (cx, cy, cz) = local_axes(s, c)
    r = R_MOON + h
    position = (r * ux, r * uy, r * uz)
    velocity = (vu * ux + vd * dx + vc * cx, vu * uy + vd * dy + vc * cy, vu * uz + vd * dz + vc * cz)
    au, ad, ac = accel_local
    thrust = (au * ux + ad * dx + ac * cx, au * uy + ad * dy + ac * cy, au * uz + ac * cz)
    return to_track(*rk4_step(position, velocity, thrust, dt, spin))


def coast(position: Vector3, velocity: Vector3, duration_s: float, max_step_s: float = 5.0,
          spin: Vector3 = NO_SPIN) -> tuple[Vector3, Vector3]:
    """Free flight for ``duration_s`` (negative: backwards), in steps of at most ``max_step_s``."""
    steps = max(1, math.ceil(abs(duration_s) / max_step_s))
    dt = duration_s / steps
    zero = (0.0, 0.0, 0.0)
    for _ in range(steps):
        position, velocity = rk4_step(position, velocity, zero, dt, spin)
    return position, velocity
