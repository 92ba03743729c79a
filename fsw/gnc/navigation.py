"""Descent navigation: IMU propagation fused with the laser altimeter and velocimeter.

Frames and state follow ``fsw.devices.descent``: height ``h`` above the reference sphere, ground arcs
``s`` (downrange) and ``c`` (crossrange) from the descent start point, local-level velocity.

Vertical channel: a 3-state Kalman filter ``[h, vu, map_error]``. The altimeter observes the height
above the terrain the beam hits, ``z = h - (map(s_hit) + map_error)``; the map error is a random walk
whose step grows with horizontal speed (the coarse onboard map is good to tens of metres at km
scale, the local site is only seen by the sensor). Outliers are rejected by innovation gating
against ``k * sqrt(S)``; after a run of rejections whose innovations agree with one another the
sensor is re-admitted by inflating the map-error covariance (never latched failed: the Hakuto-R
lesson), so an unmapped cliff moves the height above ground, not the vehicle's own height. With
``altimeter_readmission`` off (a negative control) such a run latches the laser altimeter failed
instead, as Hakuto-R's software did.

Horizontal channels: IMU propagation; the Doppler velocimeter corrects velocity when it is valid.

Attitude: the body-to-local rotation comes from the attitude filter (``fsw.gnc.attitude``) through
:meth:`Navigator.set_attitude` each cycle; it turns the accelerometers' specific force and the
sensors' beams into the local frame.

Propagation is the flight software's own model (:mod:`fsw.gnc.moon_frame`): the Moon's gravity to
J2 in the Moon-centred descent frame, which turns with the Moon (its ``spin`` given by the uplink; the
Coriolis and centrifugal terms follow), integrated by a Runge-Kutta step, the IMU's specific force
rotated into that frame. What the navigator does not model (higher harmonics; the plant's
integration) shows as model error that the sensors correct. Without J2 the descent lands ~110 m
short on average: horizontal position has no sensor to correct it before the hazard images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.devices.descent import (
    LRF_LONG_BEAM_MOUNT_RAD,
    LRF_SHORT_BEAM_MOUNT_RAD,
    ImuReading,
    RangeReading,
    RangeVelocityReading,
    StrapdownImuReading,
    VelocityReading,
)
from fsw.gnc.attitude import tilted_frame
from fsw.gnc.frames import GM_MOON, R_MOON
from fsw.gnc.moon_frame import NO_SPIN, frame_turn, track_step

Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]
_IDENTITY: Matrix3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))

_WOULD_READMIT = "would_readmit"  # a consistent disagreement, with re-admission switched off


@dataclass(frozen=True)
class TerrainMap:
    """Coarse onboard terrain heights (m above the reference sphere) along the ground track."""

    spacing_m: float
    heights_m: tuple[float, ...]

    def height(self, s: float) -> float:
        x = s / self.spacing_m
        i = math.floor(x)
        if i < 0:
            return self.heights_m[0]
        if i >= len(self.heights_m) - 1:
            return self.heights_m[-1]
        f = x - i
        return self.heights_m[i] * (1.0 - f) + self.heights_m[i + 1] * f


@dataclass(frozen=True, slots=True)
class NavState:
    t: float
    h: float  # above reference sphere
    s: float
    c: float
    vu: float
    vd: float
    vc: float
    height_above_ground: float
    altimeter_ok: bool  # an altimeter reading was accepted recently
    mass_kg: float
    propellant_kg: float
    pitch: float
    yaw: float
    specific_force: float  # along the thrust axis, m/s^2
    thrust_efficiency: float  # delivered / commanded thrust, estimated

    @property
    def r(self) -> float:
        return R_MOON + self.h

    @property
    def effective_gravity(self) -> float:
        """Gravity minus centripetal relief, the vertical acceleration thrust must supply to hover."""
        r = R_MOON + self.h
        return GM_MOON / (r * r) - (self.vd * self.vd + self.vc * self.vc) / r


class Navigator:
    GATE_SIGMAS = 5.0
    READMIT_AFTER = 15  # consecutive rejected readings before checking their self-consistency
    ALTIMETER_STALE_S = 2.0
    # Class defaults: a navigator restored from a checkpoint written before these existed.
    altimeter_readmission = True
    laser_latched_failed = False
    on_surface = False  # touchdown sensed: the vehicle stands on the ground under it
    spin = NO_SPIN  # the Moon's angular velocity in MCDF axes (rad/s); zero: the frame taken as inertial
    frame_age_at_start_s = 0.0  # time since the star tracker's frame and the MCDF were aligned, at t = 0

    def __init__(
        self,
        terrain_map: TerrainMap,
        *,
        t: float,
        h: float,
        s: float,
        c: float,
        vu: float,
        vd: float,
        vc: float,
        dry_mass_kg: float,
        propellant_kg: float,
    ) -> None:
        self.map = terrain_map
        self.t = t
        self.h, self.s, self.c = h, s, c
        self.vu, self.vd, self.vc = vu, vd, vc
        self.dry_mass = dry_mass_kg
        self.propellant = propellant_kg
        self.map_error = 0.0
        # Covariance of [h, vu, map_error] (orbit determination ~50 m, 0.2 m/s; map ~30 m).
        self.P = [[50.0**2, 0.0, 0.0], [0.0, 0.2**2, 0.0], [0.0, 0.0, 30.0**2]]
        self.var_vd = self.var_vc = 0.2**2
        self.pitch = self.yaw = 0.0
        self.specific_force = 0.0
        self.thrust_efficiency = 1.0
        self.last_altimeter_accept = -1e9
        self.altimeter_accepted = 0
        self.altimeter_rejected = 0
        self._rejected_run: list[float] = []
        self.events: list[tuple[float, str, str]] = []
        self._have_attitude = False
        self.attitude: Matrix3 = _IDENTITY  # body to local level, from the attitude filter
        self.accel_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._last_accel: tuple[float, float, float] = (0.0, 0.0, 0.0)

    # ------------------------------------------------------------ propagation

    def hold_on_surface(self) -> None:
        """Touchdown sensed: the vehicle stands still on the ground under it. Its velocity is zero
        (the touchdown's jolt is not integrated reliably at 50 Hz) and its height above the ground
        is its landing legs', so the map error takes up the difference; nothing moves it after."""
        self.on_surface = True
        self.vu = self.vd = self.vc = 0.0
        self.map_error = self.h - self.map.height(self.s)
        self.events.append((self.t, "navigation_on_surface", f"{self.h:.1f} m above the reference sphere"))

    def set_attitude(self, body_to_local: Matrix3) -> None:
        """The attitude estimate of this cycle (rows: local up, downrange, crossrange)."""
        self.attitude = body_to_local
        self.pitch = math.atan2(body_to_local[1][0], body_to_local[0][0])
        self.yaw = math.asin(max(-1.0, min(1.0, body_to_local[2][0])))
        self._have_attitude = True

    def set_moon_spin(self, spin: tuple[float, float, float], frame_age_s: float) -> None:
        """The Moon's turn: its angular velocity in MCDF axes and the time since the inertial frame
        and the MCDF were aligned, now (the navigator's ``t``)."""
        self.spin = spin
        self.frame_age_at_start_s = frame_age_s - self.t

    def frame_turn(self) -> tuple[float, float, float, float]:
        """The quaternion from the MCDF to the star tracker's inertial frame now."""
        return frame_turn(self.spin, self.frame_age_at_start_s + self.t)

    def _to_local(self, v: tuple[float, float, float]) -> tuple[float, float, float]:
        m = self.attitude
        return (m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
                m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2])

    def propagate(self, imu: StrapdownImuReading | ImuReading | None, dt: float) -> None:
        """Advance by ``dt`` with the IMU reading (None, or no attitude yet: hold the last good
        specific force). A platform IMU (the bench's) reports its attitude itself."""
        if self.on_surface:
            self.t += dt
            return
        if isinstance(imu, ImuReading):
            self.set_attitude(tilted_frame(imu.pitch, imu.yaw))
        if imu is not None and self._have_attitude:
            bx, by, bz = self.accel_bias
            f0, f1, f2 = imu.specific_force_body
            fb = (f0 - bx, f1 - by, f2 - bz)
            self.specific_force = fb[0]
            a_u, a_d, a_c = self._to_local(fb)
            self._last_accel = (a_u, a_d, a_c)
        else:
            a_u, a_d, a_c = self._last_accel
        self.h, self.s, self.c, self.vu, self.vd, self.vc = track_step(
            (self.h, self.s, self.c, self.vu, self.vd, self.vc), (a_u, a_d, a_c), dt, self.spin)
        vd, vc = self.vd, self.vc
        self.t += dt
        # Covariance: F = [[1, dt, 0], [0, 1, 0], [0, 0, 1]], accel noise and map-error walk.
        P = self.P
        q_acc = (0.003 if imu is not None else 0.3) ** 2 * dt
        horizontal = math.hypot(vd, vc)
        # Terrain under the beam changes with ground speed: km-scale map residuals at orbital speed,
        # metre-scale mounds and rocks (slopes ~0.2) when creeping over the site.
        q_map = ((0.01 * horizontal) ** 2 + (0.2 * min(horizontal, 20.0)) ** 2 + 0.01) * dt
        p00 = P[0][0] + dt * (P[1][0] + P[0][1]) + dt * dt * P[1][1]
        p01 = P[0][1] + dt * P[1][1]
        p02 = P[0][2] + dt * P[1][2]
        P[0][0], P[0][1], P[1][0] = p00, p01, p01
        P[0][2] = P[2][0] = p02
        P[1][1] += q_acc
        P[2][2] += q_map
        self.var_vd += q_acc
        self.var_vc += q_acc

    # ------------------------------------------------------------ measurements

    def _terrain_under(self, hag: float, bd: float, bc: float, bu: float) -> float:
        # Beam hit point ahead of the lander; crossrange is not in the coarse map.
        return self.map.height(self.s + hag / -bu * bd)

    def update_range(self, reading: RangeReading) -> str:
        """Fuse a laser range reading. Returns 'accepted', 'rejected', 'readmitted' or 'invalid'."""
        if not reading.valid or not self._have_attitude or self.laser_latched_failed or self.on_surface:
            return "invalid"
        mount = LRF_LONG_BEAM_MOUNT_RAD if reading.beam == "long" else LRF_SHORT_BEAM_MOUNT_RAD
        bu, bd, bc = self._to_local((-math.cos(mount), -math.sin(mount), 0.0))
        if -bu < 0.2:
            return "invalid"
        measured_hag = reading.slant_range_m * -bu  # height above the terrain at the hit point
        terrain = self._terrain_under(measured_hag, bd, bc, bu)
        slant = reading.slant_range_m
        sigma = (1.0 + 0.001 * slant) if reading.beam == "long" else 0.05 + 0.0005 * slant
        status = self._fuse_height(reading.t, measured_hag, terrain, (sigma * -bu) ** 2 + 0.5**2)
        if status == _WOULD_READMIT:
            # The response switched off: what Hakuto-R's software did, the sensor judged failed for good.
            self.laser_latched_failed = True
            innovation = self._rejected_run[-1]
            self._rejected_run.clear()
            self.events.append((self.t, "altimeter_latched_failed", f"innovation {innovation:.0f} m"))
            return "rejected"
        return status

    def update_microwave(self, reading: RangeVelocityReading) -> str:
        """Backup altimeter: the microwave sensor's range along body -x (flat-ground projection).

        The validity flag is honoured before anything else (the IM-1 backup patch missed it).
        """
        if not reading.valid or not self._have_attitude or self.on_surface:
            return "invalid"
        cos_tilt = self.attitude[0][0]
        if cos_tilt < 0.5:
            return "invalid"
        measured_hag = reading.range_m * cos_tilt
        sigma = 0.5 + 0.002 * reading.range_m
        status = self._fuse_height(reading.t, measured_hag, self.map.height(self.s), (sigma * cos_tilt) ** 2 + 0.5**2)
        return "rejected" if status == _WOULD_READMIT else status

    def _fuse_height(self, t: float, measured_hag: float, terrain: float, R: float) -> str:
        predicted_hag = self.h - terrain - self.map_error
        innovation = measured_hag - predicted_hag
        P = self.P
        # H = [1, 0, -1]
        S = P[0][0] - 2.0 * P[0][2] + P[2][2] + R
        status = "accepted"
        if innovation * innovation > (self.GATE_SIGMAS**2) * S and abs(innovation) > 3.0:
            self.altimeter_rejected += 1
            self._rejected_run.append(innovation)
            if len(self._rejected_run) < self.READMIT_AFTER:
                return "rejected"
            recent = self._rejected_run[-self.READMIT_AFTER :]
            spread = max(recent) - min(recent)
            if spread > max(30.0, 0.05 * abs(innovation)):
                return "rejected"
            if not self.altimeter_readmission:
                return _WOULD_READMIT
            # Consistent disagreement that began as a step the IMU did not feel: the ground under
            # the beam is not where the map says (crater wall, cliff). Re-admit, and let the map
            # error absorb the step rather than our own height. Slow drifts never get here: they
            # pass the gate a little at a time.
            P[2][2] += innovation * innovation
            S = P[0][0] - 2.0 * P[0][2] + P[2][2] + R
            self.events.append((self.t, "altimeter_readmitted", f"innovation {innovation:.0f} m"))
            status = "readmitted"
        self._rejected_run.clear()
        PHt = (P[0][0] - P[0][2], P[1][0] - P[1][2], P[2][0] - P[2][2])
        K = (PHt[0] / S, PHt[1] / S, PHt[2] / S)
        self.h += K[0] * innovation
        self.vu += K[1] * innovation
        self.map_error += K[2] * innovation
        # P = P - K (H P);  H P = PHt^T (symmetric P)
        for i in range(3):
            for j in range(3):
                P[i][j] -= K[i] * PHt[j]
        self.last_altimeter_accept = t
        self.altimeter_accepted += 1
        return status

    def update_velocity(self, reading: VelocityReading) -> bool:
        if not reading.valid or not self._have_attitude or self.on_surface:
            return False
        mu, md, mc = self._to_local(reading.velocity_body)
        R = 0.05**2
        P = self.P
        innov_u = mu - self.vu
        S = P[1][1] + R
        if innov_u * innov_u > 25.0 * S and abs(innov_u) > 0.5:
            return False
        K = (P[0][1] / S, P[1][1] / S, P[2][1] / S)
        PHt = (P[0][1], P[1][1], P[2][1])
        self.h += K[0] * innov_u
        self.vu += K[1] * innov_u
        self.map_error += K[2] * innov_u
        for i in range(3):
            for j in range(3):
                P[i][j] -= K[i] * PHt[j]
        k = self.var_vd / (self.var_vd + R)
        self.vd += k * (md - self.vd)
        self.var_vd *= 1.0 - k
        k = self.var_vc / (self.var_vc + R)
        self.vc += k * (mc - self.vc)
        self.var_vc *= 1.0 - k
        return True

    def update_propellant(self, mass_kg: float) -> None:
        self.propellant += 0.1 * (mass_kg - self.propellant)

    def update_thrust_efficiency(self, commanded_n: float) -> None:
        """Thrust detection: compare the accelerometer with what the commanded thrust should give."""
        if commanded_n <= 0.0:
            return
        measured = self.specific_force * (self.dry_mass + self.propellant) / commanded_n
        if 0.2 < measured < 2.0:
            self.thrust_efficiency += 0.02 * (measured - self.thrust_efficiency)

    # ------------------------------------------------------------ output

    def height_above_ground(self) -> float:
        return self.h - self.map.height(self.s) - self.map_error

    def state(self) -> NavState:
        return NavState(
            t=self.t,
            h=self.h,
            s=self.s,
            c=self.c,
            vu=self.vu,
            vd=self.vd,
            vc=self.vc,
            height_above_ground=self.height_above_ground(),
            altimeter_ok=self.t - self.last_altimeter_accept < self.ALTIMETER_STALE_S,
            mass_kg=self.dry_mass + self.propellant,
            propellant_kg=self.propellant,
            pitch=self.pitch,
            yaw=self.yaw,
            specific_force=self.specific_force,
            thrust_efficiency=self.thrust_efficiency,
        )
