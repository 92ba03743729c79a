"""The lander as a rigid body: attitude quaternion, body rates from Euler's equations, mass properties
that move as propellant burns, the main engine's offset torque and the reaction control thrusters.

The world's own code (the flight side has its own attitude model in ``fsw.gnc.attitude``).

Frames. Inertial: the local-level frame ``(up, downrange, crossrange)`` at the descent start point
(the Moon does not rotate in this plant, so that frame is fixed). Local level at the downrange and
crossrange arcs ``(s, c)``: that frame turned by ``s/R`` about crossrange and ``c/R`` towards
crossrange (:func:`local_frame`). Body: origin at the main engine's throat, ``x`` along the nominal
thrust axis (the lander's "up" standing), ``y`` the pitch direction, ``z`` completing the triad.
Quaternions are ``(w, x, y, z)`` and turn body vectors into inertial ones.

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


def quat_multiply(a: Quaternion, b: Quaternion) -> Quaternion:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def quat_normalise(q: Quaternion) -> Quaternion:
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def quat_to_matrix(q: Quaternion) -> Matrix3:
    w, x, y, z = q
    return ((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
            (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
            (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)))


def matrix_to_quat(m: Matrix3) -> Quaternion:
    trace = m[0][0] + m[1][1] + m[2][2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = (0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s)
    elif m[0][0] > m[1][1] and m[0][0] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[0][0] - m[1][1] - m[2][2])
        q = ((m[2][1] - m[1][2]) / s, 0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s)
    elif m[1][1] > m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[1][1] - m[0][0] - m[2][2])
        q = ((m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2][2] - m[0][0] - m[1][1])
        q = ((m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s)
    return quat_normalise(q if q[0] >= 0.0 else (-q[0], -q[1], -q[2], -q[3]))


def mat_mul(a: Matrix3, b: Matrix3) -> Matrix3:
    (a0, a1, a2), (b0, b1, b2) = a, b
    return ((a0[0] * b0[0] + a0[1] * b1[0] + a0[2] * b2[0], a0[0] * b0[1] + a0[1] * b1[1] + a0[2] * b2[1],
             a0[0] * b0[2] + a0[1] * b1[2] + a0[2] * b2[2]),
            (a1[0] * b0[0] + a1[1] * b1[0] + a1[2] * b2[0], a1[0] * b0[1] + a1[1] * b1[1] + a1[2] * b2[1],
             a1[0] * b0[2] + a1[1] * b1[2] + a1[2] * b2[2]),
            (a2[0] * b0[0] + a2[1] * b1[0] + a2[2] * b2[0], a2[0] * b0[1] + a2[1] * b1[1] + a2[2] * b2[1],
             a2[0] * b0[2] + a2[1] * b1[2] + a2[2] * b2[2]))


def transpose(m: Matrix3) -> Matrix3:
    return ((m[0][0], m[1][0], m[2][0]), (m[0][1], m[1][1], m[2][1]), (m[0][2], m[1][2], m[2][2]))


def mat_vec(m: Matrix3, v: Vector3) -> Vector3:
    return (m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
            m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2])


def cross(a: Vector3, b: Vector3) -> Vector3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def tilted_frame(pitch: float, yaw: float) -> Matrix3:
    """Columns: x tilted ``pitch`` towards the second axis and ``yaw`` towards the third; y in the
    plane of the first two. Used both for the local frame on the sphere and for pitch/yaw attitudes."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    return ((cp * cy, -sp, -sy * cp), (sp * cy, cp, -sy * sp), (sy, 0.0, cy))


def local_frame(s: float, c: float, radius: float) -> Matrix3:
    """Local level at arcs ``(s, c)`` in the inertial frame (columns up, downrange, crossrange)."""
    return tilted_frame(s / radius, c / radius)


def tilted_quaternion(pitch: float, yaw: float) -> Quaternion:
    """The quaternion of :func:`tilted_frame`: a turn by ``pitch`` about the third axis, then by
    ``yaw`` about the (new) second axis, negatively."""
    cp, sp, cy, sy = math.cos(0.5 * pitch), math.sin(0.5 * pitch), math.cos(0.5 * yaw), math.sin(0.5 * yaw)
    return (cp * cy, sp * sy, -cp * sy, sp * cy)


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


class RigidBody:
    """Attitude and body rates (inertial, in body axes) integrated from the torques on the body."""

    def __init__(self, q: Quaternion) -> None:
        self.q = quat_normalise(q)
        self.w: Vector3 = (0.0, 0.0, 0.0)

    @property
    def matrix(self) -> Matrix3:
        """Body to inertial."""
        return quat_to_matrix(self.q)

    def step(self, torque: Vector3, inertia: Vector3, dt: float) -> None:
        """Euler's equations (principal axes; the slow change of inertia as propellant burns is left
        out of them), then the quaternion turned by the mean rate over the step. A tumbling body
        is integrated in sub-steps of at most 0.05 rad."""
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
        mx, my, mz = 0.5 * (wx + nx), 0.5 * (wy + ny), 0.5 * (wz + nz)
        self.w = (nx, ny, nz)
        angle = math.sqrt(mx * mx + my * my + mz * mz) * dt
        if angle > 0.0:
            k = math.sin(0.5 * angle) / (angle / dt)
            self.q = quat_normalise(quat_multiply(self.q, (math.cos(0.5 * angle), mx * k, my * k, mz * k)))

    def set_attitude(self, q: Quaternion, w: Vector3 = (0.0, 0.0, 0.0)) -> None:
        self.q = quat_normalise(q)
        self.w = w
