"""Relative navigation and relative-motion guidance for the rendezvous, in the orbiter's local frame.

Frame (the orbiter's local vertical / local horizontal, as its body holds it during the rendezvous):
x along the orbiter's velocity, z towards the Moon's centre, y opposite the orbit normal. The state is
the ascender's position and velocity relative to the orbiter in that rotating frame.

Dynamics are the Clohessy-Wiltshire (Hill) equations about a circular orbit of mean motion ``n``
(x'' = 2n z', y'' = -n^2 y, z'' = 3n^2 z - 2n x'), solved in closed form by :func:`cw_transition`.
The filter is an extended Kalman filter on the rendezvous radar's range, range rate and two
line-of-sight angles, processed one scalar at a time (no matrix inverse on board). Targeting
(:func:`cw_velocity_to_reach`) gives the relative velocity that brings the ascender to a chosen
point of the frame in a chosen time; the orbiter burns the opposite of the change.

Nothing here is the plant's: the plant flies both vehicles on full two-body orbits, and the
ascender's orbit is not circular (15 x 180 km after insertion), which is why guidance re-targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import mul

Vector3 = tuple[float, float, float]
Matrix = list[list[float]]
GM_MOON = 4.9049e12  # m^3/s^2


def mean_motion(radius_m: float) -> float:
    return math.sqrt(GM_MOON / radius_m**3)


def cw_transition(n: float, t: float) -> Matrix:
    """The 6x6 state transition matrix of the CW equations over ``t`` seconds."""
    s, c = math.sin(n * t), math.cos(n * t)
    return [
        [1.0, 0.0, 6.0 * (n * t - s), (4.0 * s / n) - 3.0 * t, 0.0, 2.0 * (1.0 - c) / n],
        [0.0, c, 0.0, 0.0, s / n, 0.0],
        [0.0, 0.0, 4.0 - 3.0 * c, -2.0 * (1.0 - c) / n, 0.0, s / n],
        [0.0, 0.0, 6.0 * n * (1.0 - c), 4.0 * c - 3.0, 0.0, 2.0 * s],
        [0.0, -n * s, 0.0, 0.0, c, 0.0],
        [0.0, 0.0, 3.0 * n * s, -2.0 * s, 0.0, c],
    ]


def _mat_vec(m: Matrix, v: list[float]) -> list[float]:
    return [sum(map(mul, row, v)) for row in m]


def cw_propagate(n: float, state: list[float], t: float) -> list[float]:
    return _mat_vec(cw_transition(n, t), state)


def cw_velocity_to_reach(n: float, position: Vector3, target: Vector3, t: float) -> Vector3:
    """The relative velocity at ``position`` that coasts to ``target`` in ``t`` seconds (CW targeting)."""
    phi = cw_transition(n, t)
    x0, y0, z0 = position
    # What the velocity must make up: target minus where the position alone would go.
    dx = target[0] - (phi[0][0] * x0 + phi[0][2] * z0)
    dy = target[1] - phi[1][1] * y0
    dz = target[2] - (phi[2][2] * z0)
    # x-z block of the position-from-velocity matrix, and y on its own.
    a, b, c, d = phi[0][3], phi[0][5], phi[2][3], phi[2][5]
    det = a * d - b * c
    if abs(det) < 1e-12 or abs(phi[1][4]) < 1e-12:
        raise ValueError(f"no CW transfer in {t} s (a whole number of half-orbits)")
    return ((d * dx - b * dz) / det, dy / phi[1][4], (-c * dx + a * dz) / det)


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


@dataclass
class RelativeNavigator:
    """EKF of the ascender's relative state from the rendezvous radar."""

    n: float  # mean motion of the reference orbit (rad/s)
    range_sigma_m: float = 0.1
    range_fraction: float = 3e-4
    rate_sigma_m_s: float = 0.005
    angle_sigma_rad: float = 1.5e-3
    accel_noise_m_s2: float = 2e-4  # unmodelled acceleration (eccentricity, non-linearity)
    state: list[float] = field(default_factory=lambda: [0.0] * 6)
    covariance: Matrix = field(default_factory=list)
    t: float | None = None
    updates: int = 0
    rejected: int = 0

    @property
    def initialised(self) -> bool:
        return self.t is not None

    def initialise(self, t: float, range_m: float, range_rate: float, azimuth: float, elevation: float) -> None:
        ce = math.cos(elevation)
        unit = (ce * math.cos(azimuth), ce * math.sin(azimuth), math.sin(elevation))
        self.state = [range_m * u for u in unit] + [range_rate * u for u in unit]
        pos_sigma = max(5.0, 0.01 * range_m)
        vel_sigma = max(0.5, 5e-4 * range_m)
        self.covariance = [[0.0] * 6 for _ in range(6)]
        for i in range(3):
            self.covariance[i][i] = pos_sigma**2
            self.covariance[i + 3][i + 3] = vel_sigma**2
        self.t = t
        self.updates = 0

    def predict(self, t: float) -> None:
        if self.t is None or t <= self.t:
            return
        dt = t - self.t
        phi = cw_transition(self.n, dt)
        self.state = _mat_vec(phi, self.state)
        p = self.covariance
        # Phi P Phi^T (the same sums in the same order as written out, at half the cost).
        columns = list(zip(*p, strict=True))
        phi_p = [[sum(map(mul, row, column)) for column in columns] for row in phi]
        self.covariance = [[sum(map(mul, row, other)) for other in phi] for row in phi_p]
        q = self.accel_noise_m_s2**2
        for i in range(3):
            self.covariance[i][i] += q * dt**3 / 3.0
            self.covariance[i][i + 3] += q * dt**2 / 2.0
            self.covariance[i + 3][i] += q * dt**2 / 2.0
            self.covariance[i + 3][i + 3] += q * dt
        self.t = t

    def apply_delta_v(self, orbiter_delta_v: Vector3, execution_error: float = 0.01) -> None:
        """The orbiter's own burn, measured by its accelerometers: the ascender's relative velocity
        changes by the opposite (its uncertainty grows by ``execution_error`` of the change)."""
        for i in range(3):
            self.state[i + 3] -= orbiter_delta_v[i]
            self.covariance[i + 3][i + 3] += (execution_error * orbiter_delta_v[i]) ** 2 + 1e-8

    def _scalar_update(self, innovation: float, h: list[float], variance: float, gate: float = 5.0) -> bool:
        p = self.covariance
        ph = [sum(map(mul, row, h)) for row in p]
        s = sum(map(mul, h, ph)) + variance
        if innovation * innovation > gate * gate * s:
            self.rejected += 1
            return False
        gain = [ph[i] / s for i in range(6)]
        self.state = [self.state[i] + gain[i] * innovation for i in range(6)]
        self.covariance = [[pij - gi * phj for pij, phj in zip(row, ph, strict=True)]
                           for row, gi in zip(p, gain, strict=True)]
        return True

    def update(self, t: float, range_m: float, range_rate: float, azimuth: float, elevation: float) -> None:
        if self.t is None:
            self.initialise(t, range_m, range_rate, azimuth, elevation)
            return
        self.predict(t)
        x, y, z, vx, vy, vz = self.state
        rho2 = x * x + y * y
        rho = math.sqrt(rho2)
        r = math.sqrt(rho2 + z * z)
        if r < 1e-3 or rho < 1e-6:
            return
        self._scalar_update(range_m - r, [x / r, y / r, z / r, 0.0, 0.0, 0.0],
                            (self.range_sigma_m + self.range_fraction * r) ** 2)
        x, y, z, vx, vy, vz = self.state
        r = math.sqrt(x * x + y * y + z * z)
        rate = (x * vx + y * vy + z * vz) / r
        self._scalar_update(range_rate - rate,
                            [vx / r - rate * x / r**2, vy / r - rate * y / r**2, vz / r - rate * z / r**2,
                             x / r, y / r, z / r], self.rate_sigma_m_s**2)
        x, y, z = self.state[:3]
        rho2 = x * x + y * y
        self._scalar_update(_wrap(azimuth - math.atan2(y, x)), [-y / rho2, x / rho2, 0.0, 0.0, 0.0, 0.0],
                            self.angle_sigma_rad**2)
        x, y, z = self.state[:3]
        rho2 = x * x + y * y
        rho = math.sqrt(rho2)
        r2 = rho2 + z * z
        self._scalar_update(elevation - math.atan2(z, rho),
                            [-x * z / (r2 * rho), -y * z / (r2 * rho), rho / r2, 0.0, 0.0, 0.0],
                            self.angle_sigma_rad**2)
        self.updates += 1

    @property
    def position(self) -> Vector3:
        return (self.state[0], self.state[1], self.state[2])

    @property
    def velocity(self) -> Vector3:
        return (self.state[3], self.state[4], self.state[5])

    @property
    def position_sigma_m(self) -> float:
        return math.sqrt(max(0.0, sum(self.covariance[i][i] for i in range(3))))
