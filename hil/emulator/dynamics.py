"""The plant's physics about a rotating, oblate Moon: frames, gravity (point mass and J2), the
integration of a vehicle's inertial state, and the osculating orbit of a state.

This is the world's code, kept apart from the flight software's own model (``fsw.gnc.frames``,
``fsw.gnc.moon_frame``) on purpose: the two need not agree, and a change to the world never
silently becomes a change to what the flight computer believes.

Frames (docs/gnc.md, "Frames"):

* *Moon-fixed track frame* (the flight side's MCDF): origin at the Moon's centre, axes turning with
  the Moon; ``X`` through the track origin (downrange 0, crossrange 0), ``Y`` along the track's
  great circle towards downrange, ``Z = X x Y``. Terrain, target and touchdown are judged here, in
  track coordinates: height ``h`` above the reference sphere, downrange arc ``s``, crossrange arc
  ``c`` and the surface-relative velocity in the local level ``(up, downrange, crossrange)``.
* *Inertial frame*: the Moon-fixed frame's axes at plant time 0, fixed after; the Moon turns about
  its pole ``k`` (fixed-frame axes) at :data:`OMEGA_MOON`. Vehicles integrate their position and
  velocity here; the star tracker measures attitude against it.
* Local level ``(up, downrange, crossrange)``; body ``x`` along the thrust axis, tilted by ``pitch``
  towards +downrange and ``yaw`` towards +crossrange.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hil.emulator.rigid_body import Matrix3, Vector3, mat_mul, mat_vec, rotation, tilted_frame, transposed_vec

GM_MOON = 4.9049e12  # m^3/s^2, the Moon's GM (published value)
R_MOON = 1_737_400.0  # m, mean radius
# Sidereal rotation, 27.321661 d (IAU WGCCRE report, Archinal et al. 2018, Celest. Mech. Dyn. Astr. 130:22).
OMEGA_MOON = 2.0 * math.pi / (27.321661 * 86_400.0)  # 2.6617e-6 rad/s
# J2 = -sqrt(5) * C20 with the normalised C20 = -9.0880e-5 of GRAIL's GL0660B field (Konopliv et al. 2013,
# JGR Planets 118:1415), referred to its radius 1738 km.
J2_MOON = 2.0321e-4
J2_REFERENCE_RADIUS_M = 1_738_000.0
# Chang'e-5's landing site, 43.06 N 51.92 W (Qian et al. 2021, EPSL 561:116855): the descent's target.
SITE_LATITUDE_DEG = 43.06
SITE_LONGITUDE_DEG = -51.92


@dataclass(frozen=True)
class MoonModel:
    """The Moon the plant flies over: its gravity's J2, its spin, and where the track lies on it."""

    j2: float = J2_MOON
    rotation_rad_s: float = OMEGA_MOON
    site_latitude_deg: float = SITE_LATITUDE_DEG
    # Heading of the descent track at the site, from north towards east [est.: a near-polar descent
    # orbit flown northwards, so the Moon's turn carries the site across the track].
    track_azimuth_deg: float = 0.0

    def pole(self, site_downrange_m: float) -> Vector3:
        """The Moon's spin axis in track-frame axes, for a site at ``site_downrange_m`` on the track."""
        lat, az = math.radians(self.site_latitude_deg), math.radians(self.track_azimuth_deg)
        arc = site_downrange_m / R_MOON
        up, down, cross = (math.cos(arc), math.sin(arc), 0.0), (-math.sin(arc), math.cos(arc), 0.0), (0.0, 0.0, 1.0)
        # North at the site in (up, downrange, crossrange): crossrange = up x downrange points
        # -east*cos(az) + north*sin(az), downrange north*cos(az) + east*sin(az).
        n_up, n_down, n_cross = math.sin(lat), math.cos(lat) * math.cos(az), math.cos(lat) * math.sin(az)
        return tuple(n_up * up[i] + n_down * down[i] + n_cross * cross[i] for i in range(3))  # type: ignore[return-value]


def gravity(p: Vector3, pole: Vector3, j2: float) -> Vector3:
    """Point-mass gravity plus the J2 term of an oblate Moon with spin axis ``pole``."""
    x, y, z = p
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    k = -GM_MOON / (r2 * r)
    if j2 == 0.0:
        return (k * x, k * y, k * z)
    zp = x * pole[0] + y * pole[1] + z * pole[2]  # the height over the equator's plane
    f = 1.5 * j2 * J2_REFERENCE_RADIUS_M * J2_REFERENCE_RADIUS_M / r2
    radial = k * (1.0 + f * (1.0 - 5.0 * zp * zp / r2))
    polar = 2.0 * k * f * zp
    return (radial * x + polar * pole[0], radial * y + polar * pole[1], radial * z + polar * pole[2])


def track_position(h: float, s: float, c: float) -> tuple[Vector3, Matrix3]:
    """Fixed-frame position of track coordinates and the local level there (columns up, downrange,
    crossrange)."""
    local = tilted_frame(s / R_MOON, c / R_MOON)
    r = R_MOON + h
    return (r * local[0][0], r * local[1][0], r * local[2][0]), local


def track_coordinates(p: Vector3) -> tuple[float, float, float]:
    """(h, s, c) of a fixed-frame position."""
    x, y, z = p
    r = math.sqrt(x * x + y * y + z * z)
    return r - R_MOON, math.atan2(y, x) * R_MOON, math.asin(max(-1.0, min(1.0, z / r))) * R_MOON


class FlightState:
    """A vehicle's translational truth: position and velocity in the inertial frame, integrated by a
    velocity-Verlet (kick-drift-kick) step under gravity and a specific force held over the step; the
    track coordinates and surface-relative velocity over the turning Moon are read from it after
    each step (and may be set, for set-ups and tests)."""

    def __init__(self, moon: MoonModel, pole: Vector3, t: float) -> None:
        self.moon = moon
        self.pole = pole
        self.t = t
        self.position: Vector3 = (R_MOON, 0.0, 0.0)
        self.velocity: Vector3 = (0.0, 0.0, 0.0)
        self._gravity: Vector3 = (0.0, 0.0, 0.0)
        self.h = self.s = self.c = self.vu = self.vd = self.vc = 0.0
        self.fixed_to_inertial: Matrix3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
        self.local_to_fixed: Matrix3 = self.fixed_to_inertial
        self.local_to_inertial: Matrix3 = self.fixed_to_inertial

    @property
    def spin(self) -> Vector3:
        w = self.moon.rotation_rad_s
        return (w * self.pole[0], w * self.pole[1], w * self.pole[2])

    def set_inertial(self, position: Vector3, velocity: Vector3) -> None:
        self.position, self.velocity = position, velocity
        self._gravity = gravity(position, self.pole, self.moon.j2)
        self._read_track()

    def set_track(self, h: float, s: float, c: float, vu: float, vd: float, vc: float) -> None:
        """Put the vehicle at track coordinates with a surface-relative velocity, now."""
        self.fixed_to_inertial = m = rotation(self.pole, self.moon.rotation_rad_s * self.t)
        p_fixed, local = track_position(h, s, c)
        v_fixed = mat_vec(local, (vu, vd, vc))
        position = mat_vec(m, p_fixed)
        wx, wy, wz = self.spin
        x, y, z = position
        vx, vy, vz = mat_vec(m, v_fixed)
        self.set_inertial(position, (vx + wy * z - wz * y, vy + wz * x - wx * z, vz + wx * y - wy * x))

    def inertial_speeds(self) -> tuple[float, float]:
        """(radial, horizontal) inertial speed."""
        x, y, z = self.position
        vx, vy, vz = self.velocity
        radial = (x * vx + y * vy + z * vz) / math.sqrt(x * x + y * y + z * z)
        return radial, math.sqrt(max(0.0, vx * vx + vy * vy + vz * vz - radial * radial))

    def step(self, specific_force: Vector3, dt: float) -> None:
        """Advance by ``dt`` with the specific force (inertial axes) constant over the step."""
        (px, py, pz), (vx, vy, vz), (gx, gy, gz) = self.position, self.velocity, self._gravity
        fx, fy, fz = specific_force
        half = 0.5 * dt
        vx, vy, vz = vx + (gx + fx) * half, vy + (gy + fy) * half, vz + (gz + fz) * half
        position = (px + vx * dt, py + vy * dt, pz + vz * dt)
        gx, gy, gz = self._gravity = gravity(position, self.pole, self.moon.j2)
        self.position = position
        self.velocity = (vx + (gx + fx) * half, vy + (gy + fy) * half, vz + (gz + fz) * half)
        self.t += dt
        self._read_track()

    def _read_track(self) -> None:
        self.fixed_to_inertial = m = rotation(self.pole, self.moon.rotation_rad_s * self.t)
        x, y, z = self.position
        wx, wy, wz = self.spin
        vx, vy, vz = self.velocity
        relative = (vx - (wy * z - wz * y), vy - (wz * x - wx * z), vz - (wx * y - wy * x))
        self.h, self.s, self.c = track_coordinates(transposed_vec(m, self.position))
        local = tilted_frame(self.s / R_MOON, self.c / R_MOON)
        self.local_to_fixed = local
        self.local_to_inertial = mat_mul(m, local)
        self.vu, self.vd, self.vc = transposed_vec(self.local_to_inertial, relative)


class TrackCoordinates:
    """A vehicle's track coordinates over the turning Moon, read from its :class:`FlightState`
    ``state``; setting one keeps the others and puts the vehicle there now (set-ups and tests)."""

    state: FlightState

    def _moved(self) -> None:
        """Called after a coordinate was set."""

    def _set_track(self, **values: float) -> None:
        st = self.state
        track = {"h": st.h, "s": st.s, "c": st.c, "vu": st.vu, "vd": st.vd, "vc": st.vc, **values}
        st.set_track(track["h"], track["s"], track["c"], track["vu"], track["vd"], track["vc"])
        self._moved()

    @property
    def t(self) -> float:
        return self.state.t

    @t.setter
    def t(self, value: float) -> None:
        self.state.t = value

    @property
    def h(self) -> float:
        return self.state.h

    @h.setter
    def h(self, value: float) -> None:
        self._set_track(h=value)

    @property
    def s(self) -> float:
        return self.state.s

    @s.setter
    def s(self, value: float) -> None:
        self._set_track(s=value)

    @property
    def c(self) -> float:
        return self.state.c

    @c.setter
    def c(self, value: float) -> None:
        self._set_track(c=value)

    @property
    def vu(self) -> float:
        return self.state.vu

    @vu.setter
    def vu(self, value: float) -> None:
        self._set_track(vu=value)

    @property
    def vd(self) -> float:
        return self.state.vd

    @vd.setter
    def vd(self, value: float) -> None:
        self._set_track(vd=value)

    @property
    def vc(self) -> float:
        return self.state.vc

    @vc.setter
    def vc(self, value: float) -> None:
        self._set_track(vc=value)

    def true_orbit(self) -> TrueOrbit:
        """The osculating orbit of the inertial state (plant code: what tests judge an orbit by)."""
        return inertial_orbit(self.state.position, self.state.velocity)


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


def inertial_orbit(position: Vector3, velocity: Vector3) -> TrueOrbit:
    """The osculating orbit of an inertial state (the Moon's turn is in the velocity)."""
    x, y, z = position
    r = math.sqrt(x * x + y * y + z * z)
    vx, vy, vz = velocity
    radial = (x * vx + y * vy + z * vz) / r
    horizontal = math.sqrt(max(0.0, vx * vx + vy * vy + vz * vz - radial * radial))
    return true_orbit(r, radial, horizontal)


def perilune_speed(perilune_alt_m: float, apolune_alt_m: float) -> float:
    """Speed at perilune of an orbit with the given altitudes (vis-viva)."""
    rp, ra = R_MOON + perilune_alt_m, R_MOON + apolune_alt_m
    return math.sqrt(GM_MOON * (2.0 / rp - 2.0 / (rp + ra)))


def body_to_local(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """A body-frame vector in the local-level frame."""
    return mat_vec(tilted_frame(pitch, yaw), v)


def local_to_body(pitch: float, yaw: float, v: Vector3) -> Vector3:
    """A local-level vector in the body frame (the transpose of :func:`body_to_local`)."""
    return transposed_vec(tilted_frame(pitch, yaw), v)
