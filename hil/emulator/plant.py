"""The lunar lander plant: a rigid body flying over a rotating, oblate Moon.

Translation (:class:`hil.emulator.dynamics.FlightState`): position and velocity in the Moon-centred
inertial frame under point-mass and J2 gravity plus the thrust, integrated by a velocity-Verlet
step; the Moon turns under the vehicle at its sidereal rate. What the devices and the judges read
is over the turning Moon: height ``h`` above the reference sphere, downrange ``s`` and crossrange
``c`` arcs on the Moon-fixed track, and the surface-relative velocity ``(vu, vd, vc)`` in the local
level; terrain, target and touchdown are fixed to the Moon. The descent's target is Chang'e-5's
landing site latitude (:data:`hil.emulator.dynamics.SITE_LATITUDE_DEG`).

Attitude is a rigid body's (:mod:`hil.emulator.rigid_body`): whatever the torques of the main
engine (misaligned, off the centre of mass) and of the reaction control thrusters make it; the
thrust acts along the true thrust axis. Engine thrust follows its command with a short lag; mass
depletes at F/ve for the engine and the thrusters alike (one propellant system).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from fsw.devices.descent import MAIN_ENGINE_MAX_THRUST_N, MAIN_ENGINE_MIN_THRUST_N
from hil.emulator.dynamics import GM_MOON, R_MOON, FlightState, MoonModel, TrackCoordinates, perilune_speed
from hil.emulator.rigid_body import (
    RCS_LAYOUT,
    RCS_THRUST_N,
    MassModel,
    MassProperties,
    Matrix3,
    RigidBody,
    ThrusterSet,
    Vector3,
    cross,
    mat_mul,
    mat_vec,
    tilted_frame,
    transposed_mul,
)
from hil.emulator.terrain import Terrain, TerrainConfig


@dataclass(frozen=True)
class FaultConfig:
    """Injectable faults modelled on real landing anomalies (see mission-profile.md)."""

    imu_glitch_altitude_m: float | None = None  # Beresheet: IMU unit 0 goes bad below this height
    # IMU unit 0 fails hard below this height (above the reference sphere): its output freezes, the
    # last frame repeated with its time tag and its valid flag, as an interface that outlives its
    # sensor does (hil.emulator.devices.EmulatedImu). Unit 1 stays healthy.
    imu_failure_altitude_m: float | None = None
    accelerometer_stuck_off: bool = False  # Luna-25: accelerometers never switch on
    altimeter_never_enabled: bool = False  # IM-1: laser range finder power command has no effect
    range_finder_dead_below_m: float | None = None  # laser range finder dies below this height
    microwave_never_enabled: bool = False  # the backup (microwave) altimeter's power command has no effect
    thrust_loss_altitude_m: float | None = None  # SLIM: thrust shortfall below this height above ground
    thrust_loss_fraction: float = 0.0
    thrust_scale: float = 1.0  # Vikram: delivered thrust / commanded (1.1 = +10 %)
    # Hakuto-R: the crater under the track is missing from the terrain map the ground uploads, so the
    # laser altitude jumps ~3 km over its rim (the crater itself is always in the terrain).
    map_omits_crater: bool = False
    # SLIM (Jan 2024): a nozzle lost, the thrust axis jumps this far off the centre of mass (towards
    # body +y) below this height above the ground.
    thrust_axis_jump_altitude_m: float | None = None
    thrust_axis_jump_deg: float = 4.0
    # The attitude thrusters' valves stop opening (no torque, no propellant) below this height above
    # the ground (inf: from the start).
    rcs_lost_altitude_m: float | None = None
    # A field of metre-class boulders lies right under the point where the lander first comes down
    # to this height above the ground (104 m: the end of the approach, over the aim point it hovers
    # above): the ground under the aim is hazardous, and only the imager can tell.
    boulder_field_below_m: float | None = None


@dataclass(frozen=True)
class PlantConfig:
    wet_mass_kg: float = 3_850.0  # lander + ascender at descent start [est., ~4 t in mission-profile.md]
    propellant_kg: float = 2_250.0  # descent budget [est.]: ~1.9 t nominal use + reserve
    exhaust_velocity_m_s: float = 3_000.0  # [est.] bipropellant 7500 N class (CE-3 figure 2940)
    perilune_alt_m: float = 15_000.0
    apolune_alt_m: float = 100_000.0
    # Landing target, arc from the descent start point (the handover): far enough that the lander
    # coasts ~31 s after its go to the powered-descent initiation point (~60 km downrange), ~20 s
    # when the mission hands over ~12 s into the plant's run.
    target_downrange_m: float = 765_000.0
    # Crossed in main braking at ~10 km height, 90-110 s after the initiation point (~60 km downrange).
    crater_downrange_m: float = 213_000.0
    target_crossrange_m: float = 0.0
    initial_crossrange_m: float = 0.0
    initial_crossrange_velocity_m_s: float = 0.0
    engine_time_constant_s: float = 0.08
    mass_model: MassModel = field(default_factory=MassModel)
    # [est.] seeded 1-sigma misalignment of the thrust axis from body x, per axis.
    thrust_misalignment_sigma_rad: float = math.radians(0.1)
    # Seeded build dispersions (1 sigma) the flight side does not know: engine thrust scale,
    # exhaust velocity, wet mass [est.].
    thrust_dispersion: float = 0.01
    exhaust_velocity_dispersion: float = 0.01
    mass_dispersion_kg: float = 15.0
    terrain: TerrainConfig | None = None  # built from the target when None
    moon: MoonModel = field(default_factory=MoonModel)  # J2, the Moon's turn, the site's latitude
    faults: FaultConfig = field(default_factory=FaultConfig)

    def terrain_config(self) -> TerrainConfig:
        if self.terrain is not None:
            return self.terrain
        return TerrainConfig(target_downrange_m=self.target_downrange_m, target_crossrange_m=self.target_crossrange_m,
                             crater_downrange_m=self.crater_downrange_m)


@dataclass(frozen=True)
class TouchdownReport:
    t: float
    vertical_speed_m_s: float
    horizontal_speed_m_s: float
    tilt_deg: float
    ground_slope_deg: float
    hazards: tuple[str, ...]
    downrange_m: float
    crossrange_m: float
    landing_error_m: float  # from the pre-planned target
    propellant_used_kg: float
    engine_on: bool

    @property
    def safe(self) -> bool:
        return (
            self.vertical_speed_m_s <= 3.6
            and self.horizontal_speed_m_s <= 1.0
            and self.tilt_deg <= 8.0
            and not self.hazards
        )


class LunarLanderPlant(TrackCoordinates):
    """Truth model. Actuators are driven through the emulator devices; ``step(dt)`` advances time."""

    def __init__(self, seed: int, config: PlantConfig | None = None) -> None:
        self.seed = seed
        self.config = cfg = config or PlantConfig()
        self.faults = cfg.faults
        self.terrain = Terrain(seed, cfg.terrain_config())
        self.rng = random.Random(f"plant-{seed}")
        # At plant time 0 the inertial frame is the Moon-fixed one: the orbit starts at perilune over
        # the track origin, its inertial velocity along the track (the ground turns under it after).
        self.state = FlightState(cfg.moon, cfg.moon.pole(cfg.target_downrange_m), 0.0)
        self.state.set_inertial(
            _scaled(tilted_frame(0.0, cfg.initial_crossrange_m / R_MOON), R_MOON + cfg.perilune_alt_m),
            mat_vec(tilted_frame(0.0, cfg.initial_crossrange_m / R_MOON),
                    (0.0, perilune_speed(cfg.perilune_alt_m, cfg.apolune_alt_m), cfg.initial_crossrange_velocity_m_s)))
        disp = random.Random(f"dispersion-{seed}")
        self.thrust_scale_true = 1.0 + disp.gauss(0.0, cfg.thrust_dispersion)
        self.exhaust_velocity = cfg.exhaust_velocity_m_s * (1.0 + disp.gauss(0.0, cfg.exhaust_velocity_dispersion))
        self.mass = cfg.wet_mass_kg + disp.gauss(0.0, cfg.mass_dispersion_kg)
        self.propellant = cfg.propellant_kg
        # Rigid body: start retrograde, thrust axis against the velocity (pitch -90 deg), at rest.
        self.mass_properties = MassProperties(cfg.mass_model, self.mass - cfg.propellant_kg, cfg.propellant_kg, seed)
        self.body = RigidBody(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
        sigma = cfg.thrust_misalignment_sigma_rad
        self._thrust_dir_nominal = _unit((1.0, disp.gauss(0.0, sigma), disp.gauss(0.0, sigma)))
        self.thrust_dir_body = self._thrust_dir_nominal
        self.body_to_local_matrix: Matrix3 = self.body.matrix
        self.set_attitude(-math.pi / 2, 0.0)
        # Reaction control: on-time left per thruster (s), the pulses begun, the propellant used.
        self.thrusters = ThrusterSet(RCS_LAYOUT, RCS_THRUST_N)
        self.rcs_force_body: Vector3 = (0.0, 0.0, 0.0)
        self.specific_force_body: Vector3 = (0.0, 0.0, 0.0)
        self.thrust_axis_jumped_at: float | None = None  # height above ground where the SLIM fault struck
        self.rcs_lost = False
        self.attitude_enabled = True
        self.engine_on = False
        self.thrust_cmd = MAIN_ENGINE_MIN_THRUST_N
        self.thrust = 0.0
        self.landed = False
        self.touchdown: TouchdownReport | None = None
        self._thrust_loss_active = False
        self.boulder_field_at: tuple[float, float] | None = None  # where the fault put it (truth)
        self._terrain_ceiling = self.terrain.max_height_m + 50.0

    # ------------------------------------------------------------ truth helpers

    def _moved(self) -> None:
        self._update_local_attitude()

    @property
    def r(self) -> float:
        return R_MOON + self.h

    @property
    def terrain_height(self) -> float:
        return self.terrain.height(self.s, self.c)

    @property
    def height_above_ground(self) -> float:
        return self.h - self.terrain.height(self.s, self.c)

    @property
    def tilt(self) -> float:
        """Angle of the body x axis from local vertical (rad)."""
        return math.acos(max(-1.0, min(1.0, self.body_to_local_matrix[0][0])))

    @property
    def pitch(self) -> float:
        """The body x axis's tilt towards +downrange (rad), as the old two-angle attitude read."""
        m = self.body_to_local_matrix
        return math.atan2(m[1][0], m[0][0])

    @pitch.setter
    def pitch(self, value: float) -> None:
        self.set_attitude(value, self.yaw)

    @property
    def yaw(self) -> float:
        return math.asin(max(-1.0, min(1.0, self.body_to_local_matrix[2][0])))

    @property
    def angular_rate(self) -> Vector3:
        """True inertial body rates in body axes (rad/s)."""
        return self.body.w

    def set_attitude(self, pitch: float, yaw: float) -> None:
        """Put the body at rest at a pitch/yaw attitude in the local frame here (tests and set-ups)."""
        self.body.set_attitude(mat_mul(self.state.local_to_inertial, tilted_frame(pitch, yaw)))
        self._update_local_attitude()

    def _update_local_attitude(self) -> None:
        self.body_to_local_matrix = transposed_mul(self.state.local_to_inertial, self.body.matrix)

    def body_to_local(self, v: Vector3) -> Vector3:
        return mat_vec(self.body_to_local_matrix, v)

    def local_to_body(self, v: Vector3) -> Vector3:
        m = self.body_to_local_matrix
        return (m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2], m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
                m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2])

    def fire_rcs(self, on_times_s: tuple[float, ...]) -> None:
        """Start a pulse on each thruster with a non-zero on-time (a new command replaces the old
        one); a pulse shorter than the minimum valve opening gives the minimum impulse bit."""
        if self.attitude_enabled:
            self.thrusters.fire(on_times_s)

    @property
    def rcs_pulses(self) -> int:
        return self.thrusters.pulses

    @property
    def rcs_propellant_used(self) -> float:
        return self.thrusters.propellant_used

    def delivered_thrust_fraction(self) -> float:
        f = self.faults.thrust_scale * self.thrust_scale_true
        if self._thrust_loss_active:
            f *= 1.0 - self.faults.thrust_loss_fraction
        return f

    # ------------------------------------------------------------ stepping

    def step(self, dt: float) -> None:
        if self.landed:
            self.t += dt
            return
        cfg = self.config
        flt = self.faults
        if (
            flt.thrust_loss_altitude_m is not None
            and not self._thrust_loss_active
            and self.h < self._terrain_ceiling + flt.thrust_loss_altitude_m
            and self.h - self.terrain.base_height(self.s, self.c) < flt.thrust_loss_altitude_m
        ):
            self._thrust_loss_active = True
        if (
            flt.boulder_field_below_m is not None
            and self.boulder_field_at is None
            and self.h < self._terrain_ceiling + flt.boulder_field_below_m
            and self.height_above_ground < flt.boulder_field_below_m
        ):
            self.boulder_field_at = (self.s, self.c)
            self.terrain.add_boulders(self.terrain.boulder_field(self.s, self.c, 6.0, 14, self.seed))

        # Engine: first-order lag to the (clamped) command, zero when off or dry.
        if self.engine_on and self.propellant > 0.0:
            target = min(MAIN_ENGINE_MAX_THRUST_N, max(MAIN_ENGINE_MIN_THRUST_N, self.thrust_cmd))
            target *= self.delivered_thrust_fraction()
        else:
            target = 0.0
        self.thrust += (target - self.thrust) * min(1.0, dt / cfg.engine_time_constant_s)

        self._rotate(dt, flt)
        m = self.mass
        acc = self.thrust / m
        fx, fy, fz = self.thrust_dir_body
        rx, ry, rz = self.rcs_force_body
        self.specific_force_body = ((acc * fx + rx / m), (acc * fy + ry / m), (acc * fz + rz / m))
        self.state.step(mat_vec(self.body.matrix, self.specific_force_body), dt)
        self._update_local_attitude()

        if self.thrust > 0.0:
            burned = min(self.propellant, self.thrust / self.exhaust_velocity * dt)
            self.propellant -= burned
            self.mass -= burned

        # Cheap ground checks first: the terrain ceiling, then the base layer (within ~20 m of the surface).
        if (
            self.h < self._terrain_ceiling
            and self.h - self.terrain.base_height(self.s, self.c) < 50.0
            and self.height_above_ground <= 0.0
        ):
            self._touch_down()

    def _rotate(self, dt: float, flt: FaultConfig) -> None:
        """Torques of the engine (its thrust off the centre of mass) and of the thrusters firing
        this step, and the body's turn under them."""
        if (flt.thrust_axis_jump_altitude_m is not None and self.thrust_axis_jumped_at is None
                and self.h < self._terrain_ceiling + flt.thrust_axis_jump_altitude_m
                and self.height_above_ground < flt.thrust_axis_jump_altitude_m):
            jump = math.radians(flt.thrust_axis_jump_deg)
            nx, ny, nz = self._thrust_dir_nominal
            cj, sj = math.cos(jump), math.sin(jump)
            self.thrust_dir_body = (nx * cj - ny * sj, nx * sj + ny * cj, nz)
            self.thrust_axis_jumped_at = self.height_above_ground
        if (flt.rcs_lost_altitude_m is not None and not self.rcs_lost
                and self.h < self._terrain_ceiling + flt.rcs_lost_altitude_m
                and self.height_above_ground < flt.rcs_lost_altitude_m):
            self.rcs_lost = True
        com, inertia = self.mass_properties.at(self.propellant)
        arm = (-com[0], -com[1], -com[2])  # the engine's throat is the body origin
        f = self.thrust
        d = self.thrust_dir_body
        tx, ty, tz = cross(arm, (f * d[0], f * d[1], f * d[2]))
        (rx, ry, rz), force, used = self.thrusters.act(com, dt, self.propellant, not self.rcs_lost)
        self.propellant -= used
        self.mass -= used
        self.rcs_force_body = force
        self.body.step((tx + rx, ty + ry, tz + rz), inertia, dt)

    def _touch_down(self) -> None:
        cfg = self.config
        tc = self.terrain.config
        err = math.hypot(self.s - tc.target_downrange_m, self.c - tc.target_crossrange_m)
        self.touchdown = TouchdownReport(
            t=self.t,
            vertical_speed_m_s=-self.vu,
            horizontal_speed_m_s=math.hypot(self.vd, self.vc),
            tilt_deg=math.degrees(self.tilt),
            ground_slope_deg=self.terrain.slope_deg(self.s, self.c),
            hazards=tuple(self.terrain.hazards_at(self.s, self.c)),
            downrange_m=self.s,
            crossrange_m=self.c,
            landing_error_m=err,
            propellant_used_kg=cfg.propellant_kg - self.propellant,
            engine_on=self.engine_on and self.thrust > 1.0,
        )
        self.landed = True
        self.state.set_track(self.terrain.height(self.s, self.c), self.s, self.c, 0.0, 0.0, 0.0)
        self._update_local_attitude()
        self.thrust = 0.0
        # Standing: at rest on its legs, which hold it up against gravity (the world may not step a
        # landed plant again, so the accelerometers' truth is set here).
        self.body.w = (0.0, 0.0, 0.0)
        self.thrusters.on_left = [0.0] * len(RCS_LAYOUT)
        self.specific_force_body = self.local_to_body((GM_MOON / (R_MOON + self.h) ** 2, 0.0, 0.0))


def _scaled(frame: Matrix3, length: float) -> Vector3:
    """The first column of ``frame`` times ``length``."""
    return (frame[0][0] * length, frame[1][0] * length, frame[2][0] * length)


def _unit(v: Vector3) -> Vector3:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def with_faults(config: PlantConfig | None = None, **faults: Any) -> PlantConfig:
    """Convenience: a plant config with some ``FaultConfig`` fields changed."""
    base = config or PlantConfig()
    return replace(base, faults=replace(base.faults, **faults))
