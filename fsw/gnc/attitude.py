"""On-board attitude determination: a multiplicative extended Kalman filter (MEKF).

The strapdown gyros propagate the attitude quaternion (body to the descent inertial frame, see
``fsw.devices.descent``); each star tracker solution corrects it. The filter's state is the small
attitude error ``a`` in body axes (``q_true = q_est * (1, a/2)``) and the gyro bias ``b``
(``rate_measured = rate_true + b + noise``); after each update the error is folded into the
quaternion and reset to zero. Covariance propagation drops the ``[w x] dt`` coupling of the
attitude error (below 0.005 rad a cycle at the descent's rates) and runs every tenth of a second on
the time gathered, which keeps a 50 Hz step cheap:

    P_aa += -dt (P_ab + P_ab^T) + dt^2 P_bb + q_gyro dt,   P_ab -= dt P_bb,   P_bb += q_bias dt.

Re-initialisation: a filter that diverged (its estimate degrees off with a covariance that still
claims a fraction of one, e.g. after flight on coasted rates while the tracker was out) rejects
every later solution at the gate and would never recover. A run of rejected solutions that agree
with each other (their offset from the estimate, in reference axes, steady within
``REINIT_CONSISTENCY_RAD`` from one to the next: the estimate is off, not the tracker) re-initialises
the filter on the newest one once ``reinit_after_rejections`` are in a row, or once two are and no
solution has been accepted for ``reinit_after_outage_s``; zero switches either rule off.

Health: solutions accepted and rejected (innovation gate), re-initialisations, the time since the
last accepted one and the filter's own 1-sigma attitude uncertainty. This is the flight side's own
code: the plant's rotations are in ``hil.emulator.rigid_body``.
"""

from __future__ import annotations

import math

Vector3 = tuple[float, float, float]
Matrix3 = tuple[Vector3, Vector3, Vector3]
Quaternion = tuple[float, float, float, float]
_M = list[list[float]]


def quat_multiply(a: Quaternion, b: Quaternion) -> Quaternion:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def quat_conjugate(q: Quaternion) -> Quaternion:
    return (q[0], -q[1], -q[2], -q[3])


def quat_normalise(q: Quaternion) -> Quaternion:
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def rotation_matrix(q: Quaternion) -> Matrix3:
    """The matrix turning body vectors into the frame ``q`` points to."""
    w, x, y, z = q
    return ((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
            (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
            (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)))


def quaternion_of(m: Matrix3) -> Quaternion:
    """The quaternion of a rotation matrix (scalar part kept non-negative)."""
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
    q = quat_normalise(q)
    return q if q[0] >= 0.0 else (-q[0], -q[1], -q[2], -q[3])


def error_angles(q_from: Quaternion, q_to: Quaternion) -> Vector3:
    """Small rotation (rad, in ``q_from``'s body axes) taking ``q_from`` to ``q_to``, the short way."""
    e = quat_multiply(quat_conjugate(q_from), q_to)
    if e[0] < 0.0:
        e = (-e[0], -e[1], -e[2], -e[3])
    vector = math.sqrt(e[1] * e[1] + e[2] * e[2] + e[3] * e[3])
    if vector < 1e-12:
        return (0.0, 0.0, 0.0)
    k = 2.0 * math.atan2(vector, e[0]) / vector
    return (e[1] * k, e[2] * k, e[3] * k)


def turn(q: Quaternion, angles: Vector3) -> Quaternion:
    """``q`` turned by the small rotation ``angles`` (rad, body axes)."""
    ax, ay, az = angles
    angle = math.sqrt(ax * ax + ay * ay + az * az)
    if angle < 1e-15:
        return q
    k = math.sin(0.5 * angle) / angle
    return quat_normalise(quat_multiply(q, (math.cos(0.5 * angle), ax * k, ay * k, az * k)))


def tilted_frame(pitch: float, yaw: float) -> Matrix3:
    """The thrust-axis attitude ``(pitch, yaw)`` as a matrix (columns: body x, y, z in the frame it
    is measured from); the local frame on the sphere at arcs ``(s, c)`` is ``tilted_frame(s/R, c/R)``
    in the descent inertial frame."""
    sp, cp, sy, cy = math.sin(pitch), math.cos(pitch), math.sin(yaw), math.cos(yaw)
    return ((cp * cy, -sp, -sy * cp), (sp * cy, cp, -sy * sp), (sy, 0.0, cy))


def tilted_quaternion(pitch: float, yaw: float) -> Quaternion:
    """The quaternion of :func:`tilted_frame`."""
    cp, sp, cy, sy = math.cos(0.5 * pitch), math.sin(0.5 * pitch), math.cos(0.5 * yaw), math.sin(0.5 * yaw)
    return (cp * cy, sp * sy, -cp * sy, sp * cy)


def mat_mul(a: Matrix3, b: Matrix3) -> Matrix3:
    return tuple(tuple(a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] for j in range(3))
                 for i in range(3))  # type: ignore[return-value]


def transpose(m: Matrix3) -> Matrix3:
    return ((m[0][0], m[1][0], m[2][0]), (m[0][1], m[1][1], m[2][1]), (m[0][2], m[1][2], m[2][2]))


def _inverse3(m: _M) -> _M:
    a, b, c = m[0]
    d, e, f = m[1]
    g, h, i = m[2]
    co = [e * i - f * h, -(d * i - f * g), d * h - e * g]
    det = a * co[0] + b * co[1] + c * co[2]
    return [[co[0] / det, -(b * i - c * h) / det, (b * f - c * e) / det],
            [co[1] / det, (a * i - c * g) / det, -(a * f - c * d) / det],
            [co[2] / det, -(a * h - b * g) / det, (a * e - b * d) / det]]


class AttitudeFilter:
    """MEKF over gyro rates and star tracker quaternions; not initialised until the first solution."""

    GATE_SIGMAS = 5.0
    STAR_NOISE_RAD = (5e-5, 5e-5, 3e-4)  # the tracker's datasheet figures, 1 sigma (boresight: z)
    GYRO_NOISE_RAD_S = 0.0005  # per 50 Hz sample
    BIAS_WALK_RAD_S2 = 1e-7  # bias random walk (rad/s per sqrt s)
    INITIAL_BIAS_SIGMA_RAD_S = math.radians(0.02)
    COVARIANCE_STEP_S = 0.1
    # [est.] how far the offset of one rejected solution from the estimate may differ from the
    # last one's for the two to count as agreeing: tracker noise is 0.02 deg, a gyro bias error of
    # 0.1 deg/s moves it 0.025 deg between 4 Hz solutions; a wrong solution is off by far more.
    REINIT_CONSISTENCY_RAD = math.radians(0.5)
    # The re-initialisation rule's settings (the GNC component's parameters) and its state; class
    # defaults, so a filter restored from a checkpoint written before the rule existed has it.
    reinit_after_rejections = 8  # agreeing rejected solutions in a row (2 s at 4 Hz); 0: never
    reinit_after_outage_s = 10.0  # two agreeing ones after this long without an accepted one; 0: never
    reinitialisations = 0
    _rejected_run = 0  # agreeing rejected solutions in a row
    _rejected_offset: Vector3 | None = None  # the newest one's offset from the estimate, reference axes
    last_reinitialisation = (0, 0.0)  # the last one's run of agreeing solutions and the estimate's error (rad)

    def __init__(self) -> None:
        self.q: Quaternion = (1.0, 0.0, 0.0, 0.0)
        self.bias: Vector3 = (0.0, 0.0, 0.0)
        self.rate: Vector3 = (0.0, 0.0, 0.0)  # bias-corrected body rate of the last propagation
        self.initialised = False
        self.P: _M = [[0.0] * 6 for _ in range(6)]
        self.accepted = 0
        self.rejected = 0
        self.last_update_t: float | None = None
        self.last_star_t: float | None = None
        self._cov_dt = 0.0  # time and gyro noise gathered for the next covariance step
        self._noise_pending = 0.0

    # ------------------------------------------------------------ propagation

    def propagate(self, rate_measured: Vector3 | None, dt: float) -> None:
        """Advance by ``dt`` on a gyro sample (None: coast on the last corrected rate)."""
        if rate_measured is not None:
            self.rate = (rate_measured[0] - self.bias[0], rate_measured[1] - self.bias[1],
                         rate_measured[2] - self.bias[2])
        if not self.initialised:
            return
        wx, wy, wz = self.rate
        self.q = turn(self.q, (wx * dt, wy * dt, wz * dt))
        # White rate noise per sample; a coast on the last rate is far less certain.
        self._noise_pending += (self.GYRO_NOISE_RAD_S * dt) ** 2 * (1.0 if rate_measured is not None else 1e4)
        self._cov_dt += dt
        if self._cov_dt >= self.COVARIANCE_STEP_S:
            self._propagate_covariance()

    def _propagate_covariance(self) -> None:
        """The covariance over the time gathered since its last step (a tenth of a second at most:
        the attitude runs at 50 Hz, its uncertainty need not)."""
        dt, q_gyro = self._cov_dt, self._noise_pending
        self._cov_dt = self._noise_pending = 0.0
        if dt <= 0.0:
            return
        P = self.P
        q_bias = self.BIAS_WALK_RAD_S2**2 * dt
        dt2 = dt * dt
        for i in range(3):
            for j in range(i, 3):
                v = P[i][j] - dt * (P[i][j + 3] + P[j][i + 3]) + dt2 * P[i + 3][j + 3]
                if i == j:
                    v += q_gyro
                P[i][j] = P[j][i] = v
        for i in range(3):
            for j in range(3):
                v = P[i][j + 3] - dt * P[i + 3][j + 3]
                P[i][j + 3] = P[j + 3][i] = v
        for i in range(3):
            P[i + 3][i + 3] += q_bias

    def widen(self, attitude_sigma_rad: float) -> None:
        """Add ``attitude_sigma_rad`` (1 sigma, per axis) of attitude uncertainty: flight the gyros
        did not follow (a restart's gap, propagated on one held rate) turned the vehicle by an
        unknown amount. Without it the gate, trusting a stale small covariance, would reject every
        star tracker solution after the gap and the error would never be corrected."""
        if not self.initialised:
            return
        self._propagate_covariance()
        for i in range(3):
            self.P[i][i] += attitude_sigma_rad**2

    # ------------------------------------------------------------ star tracker

    def initialise(self, q: Quaternion, t: float, attitude_sigma_rad: float | None = None) -> None:
        """Start from ``q`` (a star tracker solution, or a coarser attitude with its uncertainty)."""
        self.q = quat_normalise(q)
        self.initialised = True
        self.last_update_t = t
        sigma_a = attitude_sigma_rad if attitude_sigma_rad is not None else 3.0 * max(self.STAR_NOISE_RAD)
        sigma_b = self.INITIAL_BIAS_SIGMA_RAD_S
        self.P = [[(sigma_a**2 if i == j and i < 3 else sigma_b**2 if i == j else 0.0) for j in range(6)]
                  for i in range(6)]

    def update_star(self, q_measured: Quaternion, t: float) -> str:
        """Fuse one star tracker solution: 'initialised', 'accepted', 'rejected' (gate) or
        'reinitialised' (rejected, and the re-initialisation rule took it)."""
        self.last_star_t = t
        if not self.initialised:
            self.initialise(q_measured, t)
            return "initialised"
        self._propagate_covariance()
        z = error_angles(self.q, q_measured)
        P = self.P
        S = [[P[i][j] + (self.STAR_NOISE_RAD[i] ** 2 if i == j else 0.0) for j in range(3)] for i in range(3)]
        Si = _inverse3(S)
        d2 = sum(z[i] * Si[i][j] * z[j] for i in range(3) for j in range(3))
        if d2 > self.GATE_SIGMAS**2 * 3.0:
            self.rejected += 1
            if self._reinitialisation_due(q_measured, t):
                self.reinitialise(q_measured, t)
                return "reinitialised"
            return "rejected"
        self._rejected_run, self._rejected_offset = 0, None
        # K = P H^T S^-1 with H = [I 0]: the first three columns of P times S^-1.
        K = [[sum(P[i][k] * Si[k][j] for k in range(3)) for j in range(3)] for i in range(6)]
        dx = [K[i][0] * z[0] + K[i][1] * z[1] + K[i][2] * z[2] for i in range(6)]
        self.q = turn(self.q, (dx[0], dx[1], dx[2]))
        self.bias = (self.bias[0] + dx[3], self.bias[1] + dx[4], self.bias[2] + dx[5])
        top = [row[:] for row in P[:3]]  # H P
        for i in range(6):
            for j in range(6):
                P[i][j] -= K[i][0] * top[0][j] + K[i][1] * top[1][j] + K[i][2] * top[2][j]
        for i in range(6):  # keep it symmetric against rounding
            for j in range(i + 1, 6):
                P[i][j] = P[j][i] = 0.5 * (P[i][j] + P[j][i])
        self.accepted += 1
        self.last_update_t = t
        return "accepted"

    def _reinitialisation_due(self, q_measured: Quaternion, t: float) -> bool:
        """Count a rejected solution into the run of agreeing ones; True when the rule says the
        estimate, not the tracker, is wrong."""
        # The rotation from the estimate to the solution in reference axes: steady while the gyros
        # carry the estimate (whatever the vehicle's turns), unlike the body-axis innovation.
        offset = error_angles(quat_conjugate(q_measured), quat_conjugate(self.q))
        last = self._rejected_offset
        agrees = last is not None and math.dist(offset, last) < self.REINIT_CONSISTENCY_RAD
        self._rejected_run = self._rejected_run + 1 if agrees else 1
        self._rejected_offset = offset
        run, since = self._rejected_run, t - (self.last_update_t if self.last_update_t is not None else t)
        by_count = 0 < self.reinit_after_rejections <= run
        by_outage = self.reinit_after_outage_s > 0.0 and run >= 2 and since > self.reinit_after_outage_s
        return by_count or by_outage

    def reinitialise(self, q: Quaternion, t: float) -> None:
        """Start again from the star tracker's solution ``q``: the attitude taken, the covariance
        reset to its initial size; the bias estimate kept (its uncertainty reset, to be learnt again)."""
        offset = self._rejected_offset
        self.last_reinitialisation = (self._rejected_run, math.hypot(*offset) if offset is not None else 0.0)
        self.initialise(q, t)
        self.reinitialisations += 1
        self._rejected_run, self._rejected_offset = 0, None
        self._cov_dt = self._noise_pending = 0.0

    # ------------------------------------------------------------ health

    @property
    def attitude_sigma_rad(self) -> float:
        """1-sigma attitude uncertainty (root of the error covariance's trace)."""
        return math.sqrt(max(0.0, self.P[0][0] + self.P[1][1] + self.P[2][2]))

    @property
    def bias_sigma_rad_s(self) -> Vector3:
        return (math.sqrt(max(0.0, self.P[3][3])), math.sqrt(max(0.0, self.P[4][4])),
                math.sqrt(max(0.0, self.P[5][5])))
