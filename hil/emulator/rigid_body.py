"""The lander as a rigid body: attitude as a direction-cosine matrix, body rates from Euler's
equations, mass properties that move as propellant burns, the main engine's offset torque and the
reaction control thrusters.

The world's own code, in its own form (the flight side keeps quaternions in ``fsw.gnc.attitude``).

Frames. Inertial: the Moon-fixed track frame's axes at plant time 0 (:mod:`hil.emulator.dynamics`),
which is the local-level frame ``(up, downrange, crossrange)`` at the descent start point then.
Body: origin at the main engine's throat, ``x`` along the nominal thrust axis (the lander's "up"
standing), ``y`` the pitch direction, ``z`` completing the triad. The attitude matrix turns body
vectors into inertial ones; quaternions (``(w, x, y, z)``, the star tracker's output) are made from it.

Mass properties and thruster figures are estimates for a CE-3/5 class lander (docs/gnc.md).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

Vector3 = tuple[float, float, float]
Matrix3 = tuple[Vector3, Vector3, Vector3]
Quaternion = tuple[float, float, float, float]


# ---------------------------------------------------------------- rotations
#
# The plant keeps attitude as a direction-cosine matrix (body to inertial, columns the body axes)
# turned each step by the exponential of the rate over it (Rodrigues' formula) and brought back to
# orthonormal by Gram-Schmidt. A quaternion is made only where a device reports one.


def mat_mul(a: Matrix3, b: Matrix3) -> Matrix3:
    (a00, a01, a02), (a10, a11, a12), (a20, a21, a22) = a
    (b00, b01, b02), (b10, b11, b12), (b20, b21, b22) = b
    return ((a00 * b00 + a01 * b10 + a02 * b20, a00 * b01 + a01 * b11 + a02 * b21, a00 * b02 + a01 * b12 + a02 * b22),
            (a10 * b00 + a11 * b10 + a12 * b20, a10 * b01 + a11 * b11 + a12 * b21, a10 * b02 + a11 * b12 + a12 * b22),
            (a20 * b00 + a21 * b10 + a22 * b20, a20 * b01 + a21 * b11 + a22 * b21, a20 * b02 + a21 * b12 + a22 * b22))


def transposed_mul(a: Matrix3, b: Matrix3) -> Matrix3:
    """``a`` transposed times ``b``."""
    (a00, a01, a02), (a10, a11, a12), (a20, a21, a22) = a
    (b00, b01, b02), (b10, b11, b12), (b20, b21, b22) = b
    return ((a00 * b00 + a10 * b10 + a20 * b20, a00 * b01 + a10 * b11 + a20 * b21, a00 * b02 + a10 * b12 + a20 * b22),
            (a01 * b00 + a11 * b10 + a21 * b20, a01 * b01 + a11 * b11 + a21 * b21, a01 * b02 + a11 * b12 + a21 * b22),
            (a02 * b00 + a12 * b10 + a22 * b20, a02 * b01 + a12 * b11 + a22 * b21, a02 * b02 + a12 * b12 + a22 * b22))


def transpose(m: Matrix3) -> Matrix3:
    return ((m[0][0], m[1][0], m[2][0]), (m[0][1], m[1][1], m[2][1]), (m[0][2], m[1][2], m[2][2]))


def mat_vec(m: Matrix3, v: Vector3) -> Vector3:
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = m
    x, y, z = v
    return (m00 * x + m01 * y + m02 * z, m10 * x + m11 * y + m12 * z, m20 * x + m21 * y + m22 * z)


def transposed_vec(m: Matrix3, v: Vector3) -> Vector3:
    """``m`` transposed times ``v``."""
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = m
    x, y, z = v
    return (m00 * x + m10 * y + m20 * z, m01 * x + m11 * y + m21 * z, m02 * x + m12 * y + m22 * z)


def cross(a: Vector3, b: Vector3) -> Vector3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def rotation(axis: Vector3, angle: float) -> Matrix3:
    """The turn by ``angle`` about the unit ``axis``: I + sin(angle) K + (1 - cos(angle)) K^2, K = [axis x]."""
    x, y, z = axis
    s, c = math.sin(angle), math.cos(angle)
    v = 1.0 - c
    return ((c + v * x * x, v * x * y - s * z, v * x * z + s * y),
            (v * x * y + s * z, c + v * y * y, v * y * z - s * x),
            (v * x * z - s * y, v * y * z + s * x, c + v * z * z))


def rotation_vector_matrix(phi: Vector3) -> Matrix3:
    """The exponential of ``[phi x]``: a turn by ``|phi|`` about ``phi``."""
    angle = math.sqrt(phi[0] * phi[0] + phi[1] * phi[1] + phi[2] * phi[2])
    if angle < 1e-15:
        return ((1.0, -phi[2], phi[1]), (phi[2], 1.0, -phi[0]), (-phi[1], phi[0], 1.0))
    return rotation((phi[0] / angle, phi[1] / angle, phi[2] / angle), angle)


def orthonormalised(m: Matrix3) -> Matrix3:
    """The nearest-enough rotation to ``m``: its first column normed, the second made square to it and
    normed, the third their cross product (Gram-Schmidt on the columns)."""
    x = (m[0][0], m[1][0], m[2][0])
    n = 1.0 / math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    x = (x[0] * n, x[1] * n, x[2] * n)
    y = (m[0][1], m[1][1], m[2][1])
    d = x[0] * y[0] + x[1] * y[1] + x[2] * y[2]
    y = (y[0] - d * x[0], y[1] - d * x[1], y[2] - d * x[2])
    n = 1.0 / math.sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2])
    y = (y[0] * n, y[1] * n, y[2] * n)
    z = cross(x, y)
    return ((x[0], y[0], z[0]), (x[1], y[1], z[1]), (x[2], y[2], z[2]))


def quaternion_of(m: Matrix3) -> Quaternion:
    """The unit quaternion ``(w, x, y, z)``, ``w >= 0``, of a rotation matrix: what a star tracker
    reports. Built from the largest of ``4w^2, 4x^2, 4y^2, 4z^2`` (read off the diagonal) for accuracy."""
    m00, m11, m22 = m[0][0], m[1][1], m[2][2]
    squares = (1.0 + m00 + m11 + m22, 1.0 + m00 - m11 - m22, 1.0 - m00 + m11 - m22, 1.0 - m00 - m11 + m22)
    big = max(range(4), key=squares.__getitem__)
    f = 0.5 * math.sqrt(squares[big])  # the largest component
    g = 0.25 / f
    skew = ((m[2][1] - m[1][2]) * g, (m[0][2] - m[2][0]) * g, (m[1][0] - m[0][1]) * g)  # w*x, w*y, w*z terms
    sym = ((m[0][1] + m[1][0]) * g, (m[0][2] + m[2][0]) * g, (m[1][2] + m[2][1]) * g)  # x*y, x*z, y*z terms
    if big == 0:
        q = (f, skew[0], skew[1], skew[2])
    elif big == 1:
        q = (skew[0], f, sym[0], sym[1])
    elif big == 2:
        q = (skew[1], sym[0], f, sym[2])
    else:
        q = (skew[2], sym[1], sym[2], f)
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    n = -n if q[0] < 0.0 else n
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def tilted_frame(pitch: float, yaw: float) -> Matrix3:
    """Columns: x tilted ``pitch`` towards the second axis and ``yaw`` towards the third; y in the
    plane of the first two. Used both for the local frame on the sphere and for pitch/yaw attitudes."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    return ((cp * cy, -sp, -sy * cp), (sp * cy, cp, -sy * sp), (sy, 0.0, cy))


# ---------------------------------------------------------------- mass properties


@dataclass(frozen=True)
class MassModel:
    """[est.] CE-3/5 class: ~1.6 t dry (lander and ascender) over a ~2.25 t propellant load in tanks
    around the engine. Centres of mass on the body x axis from the engine's throat; inertias about
    each part's own centre of mass, principal axes along the body axes."""

    dry_com_x_m: float = 1.15
    propellant_com_x_m: float = 0.75
    dry_inertia_kg_m2: Vector3 = (1_900.0, 2_300.0, 2_300.0)
    full_propellant_inertia_kg_m2: Vector3 = (1_500.0, 1_200.0, 1_200.0)
    lateral_com_sigma_m: float = 0.003  # seeded build offset of the dry centre of mass
    inertia_dispersion: float = 0.03  # seeded, 1 sigma, fraction


class MassProperties:
    """Centre of mass and inertia of the lander now, from its dry build and the propellant left."""

    def __init__(self, model: MassModel, dry_mass_kg: float, full_propellant_kg: float, seed: int) -> None:
        rng = random.Random(f"mass-properties-{seed}")
        self.model = model
        self.dry_mass = dry_mass_kg
        self.full_propellant = full_propellant_kg
        self.dry_com = (model.dry_com_x_m, rng.gauss(0.0, model.lateral_com_sigma_m),
                        rng.gauss(0.0, model.lateral_com_sigma_m))
        scale = [1.0 + rng.gauss(0.0, model.inertia_dispersion) for _ in range(3)]
        self.dry_inertia = tuple(i * k for i, k in zip(model.dry_inertia_kg_m2, scale, strict=True))

    def at(self, propellant_kg: float) -> tuple[Vector3, Vector3]:
        """(centre of mass, principal inertia about it) with ``propellant_kg`` aboard."""
        m_d, m_p = self.dry_mass, max(0.0, propellant_kg)
        total = m_d + m_p
        xd, yd, zd = self.dry_com
        xp = self.model.propellant_com_x_m
        com = ((m_d * xd + m_p * xp) / total, m_d * yd / total, m_d * zd / total)
        fill = m_p / self.full_propellant if self.full_propellant > 0 else 0.0
        full = self.model.full_propellant_inertia_kg_m2
        # Parallel-axis terms for the two parts' offset along x (the lateral ones are millimetres).
        shift = m_d * (xd - com[0]) ** 2 + m_p * (xp - com[0]) ** 2
        inertia = (self.dry_inertia[0] + fill * full[0], self.dry_inertia[1] + fill * full[1] + shift,
                   self.dry_inertia[2] + fill * full[2] + shift)
        return com, inertia


# ---------------------------------------------------------------- reaction control


RCS_THRUST_N = 150.0  # [est.] per thruster (CE-3 is reported to fly 28 attitude thrusters, 150 N and 10 N classes)
RCS_EXHAUST_VELOCITY_M_S = 2_850.0  # [est.] ~290 s
RCS_MIN_ON_S = 0.010  # [est.] minimum valve opening: the minimum impulse bit is 1.5 N s
RCS_ARM_M = 1.8  # [est.] radius of the four thruster clusters from the thrust axis (on the deck's corners)
RCS_STATION_X_M = 1.2  # [est.] height of the clusters above the engine's throat


def rcs_layout(arm_m: float = RCS_ARM_M, station_x_m: float = RCS_STATION_X_M) -> tuple[tuple[Vector3, Vector3], ...]:
    """Sixteen thrusters, four per cluster on the diagonals (+y+z, -y+z, -y-z, +y-z): (position, force
    direction). In each cluster: +x, -x, then + and - along the tangent (x cross the cluster's
    outward normal). Every axial thruster thus acts on both pitch and yaw. The clusters sit
    ``arm_m`` from the thrust axis, ``station_x_m`` above the engine's throat (the lander's by default)."""
    thrusters = []
    d = math.sqrt(0.5)
    for ny, nz in ((d, d), (-d, d), (-d, -d), (d, -d)):
        position = (station_x_m, arm_m * ny, arm_m * nz)
        tangent = (0.0, -nz, ny)
        thrusters += [(position, (1.0, 0.0, 0.0)), (position, (-1.0, 0.0, 0.0)),
                      (position, tangent), (position, (0.0, -tangent[1], -tangent[2]))]
    return tuple(thrusters)


RCS_LAYOUT = rcs_layout()


class ThrusterSet:
    """On/off thrusters: each pulse runs its on-time (at least the minimum valve opening), a new
    command replaces the pulses still running. The set's own record: pulses begun, propellant used."""

    def __init__(self, layout: tuple[tuple[Vector3, Vector3], ...], thrust_n: float,
                 exhaust_velocity_m_s: float = RCS_EXHAUST_VELOCITY_M_S, min_on_s: float = RCS_MIN_ON_S) -> None:
        self.layout = layout
        self.thrust_n = thrust_n
        self.exhaust_velocity = exhaust_velocity_m_s
        self.min_on_s = min_on_s
        self.on_left = [0.0] * len(layout)
        self.pulses = 0
        self.propellant_used = 0.0

    def fire(self, on_times_s: tuple[float, ...]) -> None:
        for i, on in enumerate(on_times_s[: len(self.layout)]):
            if on > 0.0:
                self.on_left[i] = max(on, self.min_on_s)
                self.pulses += 1

    def act(self, com: Vector3, dt: float, propellant_kg: float,
            working: bool = True) -> tuple[Vector3, Vector3, float]:
        """(torque about ``com``, force, propellant burnt) of the pulses running over the next ``dt``.
        Valves that do not open (``working`` False) let the pulses run out with no effect."""
        torque = [0.0, 0.0, 0.0]
        force = [0.0, 0.0, 0.0]
        used = 0.0
        left = self.on_left
        if not any(left):
            return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0
        for i, remaining in enumerate(left):
            if remaining <= 0.0:
                continue
            on = min(remaining, dt)
            left[i] = remaining - on
            if not working:
                continue
            (px, py, pz), (ux, uy, uz) = self.layout[i]
            k = self.thrust_n * on / dt  # the pulse's impulse spread over the step
            fx, fy, fz = ux * k, uy * k, uz * k
            rx, ry, rz = px - com[0], py - com[1], pz - com[2]
            torque[0] += ry * fz - rz * fy
            torque[1] += rz * fx - rx * fz
            torque[2] += rx * fy - ry * fx
            force[0] += fx
            force[1] += fy
            force[2] += fz
            used += self.thrust_n * on / self.exhaust_velocity
        used = min(used, propellant_kg)
        self.propellant_used += used
        return (torque[0], torque[1], torque[2]), (force[0], force[1], force[2]), used


class RigidBody:
    """Attitude (a direction-cosine matrix, body to inertial) and body rates (inertial, in body axes)
    integrated from the torques on the body."""

    def __init__(self, matrix: Matrix3) -> None:
        self.matrix: Matrix3 = orthonormalised(matrix)
        self.w: Vector3 = (0.0, 0.0, 0.0)

    @property
    def q(self) -> Quaternion:
        """The attitude as a quaternion (body to inertial), for the devices that report one."""
        return quaternion_of(self.matrix)

    def step(self, torque: Vector3, inertia: Vector3, dt: float) -> None:
        """Euler's equations (principal axes; the slow change of inertia as propellant burns is left
        out of them), then the matrix turned by the mean rate over the step. A tumbling body is
        integrated in sub-steps of at most 0.05 rad."""
        wx, wy, wz = self.w
        spin = math.sqrt(wx * wx + wy * wy + wz * wz) * dt
        if spin > 0.05:
            n = math.ceil(spin / 0.05)
            for _ in range(n):
                self._step(torque, inertia, dt / n)
            return
        self._step(torque, inertia, dt)

    def _step(self, torque: Vector3, inertia: Vector3, dt: float) -> None:
        wx, wy, wz = self.w
        ix, iy, iz = inertia
        hx, hy, hz = ix * wx, iy * wy, iz * wz
        nx = wx + (torque[0] - (wy * hz - wz * hy)) / ix * dt
        ny = wy + (torque[1] - (wz * hx - wx * hz)) / iy * dt
        nz = wz + (torque[2] - (wx * hy - wy * hx)) / iz * dt
        self.w = (nx, ny, nz)
        turn = (0.5 * (wx + nx) * dt, 0.5 * (wy + ny) * dt, 0.5 * (wz + nz) * dt)
        if turn != (0.0, 0.0, 0.0):
            self.matrix = orthonormalised(mat_mul(self.matrix, rotation_vector_matrix(turn)))

    def set_attitude(self, matrix: Matrix3, w: Vector3 = (0.0, 0.0, 0.0)) -> None:
        self.matrix = orthonormalised(matrix)
        self.w = w
