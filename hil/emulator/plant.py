"""Point-mass lunar lander plant over a curved Moon.

State in curvilinear coordinates about the Moon's centre (non-rotating Moon, point-mass gravity):
``h`` height above the reference sphere, ``s`` downrange arc and ``c`` crossrange arc on the sphere,
and the local-level velocity ``(vu, vd, vc)``. The equations keep the centripetal and Coriolis
terms, so orbital speed at 15 km holds the vehicle up without thrust:

    dvu/dt = a_u - GM/r^2 + (vd^2 + vc^2)/r,   dvd/dt = a_d - vu*vd/r,   dvc/dt = a_c - vu*vc/r
    dh/dt = vu,   ds/dt = vd*R/r,   dc/dt = vc*R/r,   r = R + h

(exact for planar motion, second order small in crossrange). Attitude is the thrust-axis direction
with a first-order lag plus a slew-rate limit towards the command; engine thrust follows its
command with a short lag; mass depletes at F/ve. Integration is semi-implicit Euler.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from fsw.devices.descent import MAIN_ENGINE_MAX_THRUST_N, MAIN_ENGINE_MIN_THRUST_N
from hil.emulator.dynamics import R_MOON, curved_moon_step, perilune_speed, tilt_from_vertical
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
    attitude_time_constant_s: float = 0.6
    attitude_rate_limit_rad_s: float = math.radians(10.0)
    # Seeded build dispersions (1 sigma) the flight side does not know: engine thrust scale,
    # exhaust velocity, wet mass [est.].
    thrust_dispersion: float = 0.01
    exhaust_velocity_dispersion: float = 0.01
    mass_dispersion_kg: float = 15.0
    terrain: TerrainConfig | None = None  # built from the target when None
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


class LunarLanderPlant:
    """Truth model. Actuators are driven through the emulator devices; ``step(dt)`` advances time."""

    def __init__(self, seed: int, config: PlantConfig | None = None) -> None:
        self.seed = seed
        self.config = cfg = config or PlantConfig()
        self.faults = cfg.faults
        self.terrain = Terrain(seed, cfg.terrain_config())
        self.rng = random.Random(f"plant-{seed}")
        self.t = 0.0
        self.h = cfg.perilune_alt_m
        self.s = 0.0
        self.c = cfg.initial_crossrange_m
        self.vu = 0.0
        self.vd = perilune_speed(cfg.perilune_alt_m, cfg.apolune_alt_m)
        self.vc = cfg.initial_crossrange_velocity_m_s
        disp = random.Random(f"dispersion-{seed}")
        self.thrust_scale_true = 1.0 + disp.gauss(0.0, cfg.thrust_dispersion)
        self.exhaust_velocity = cfg.exhaust_velocity_m_s * (1.0 + disp.gauss(0.0, cfg.exhaust_velocity_dispersion))
        self.mass = cfg.wet_mass_kg + disp.gauss(0.0, cfg.mass_dispersion_kg)
        self.propellant = cfg.propellant_kg
        # Start attitude: retrograde, thrust axis pointing against the velocity (pitch -90 deg).
        self.pitch = -math.pi / 2
        self.yaw = 0.0
        self.pitch_cmd = self.pitch
        self.yaw_cmd = 0.0
        self.pitch_rate = 0.0
        self.yaw_rate = 0.0
        self.attitude_enabled = True
        self.engine_on = False
        self.thrust_cmd = MAIN_ENGINE_MIN_THRUST_N
        self.thrust = 0.0
        self.specific_force = 0.0  # along body x, m/s^2 (thrust/mass)
        self.landed = False
        self.touchdown: TouchdownReport | None = None
        self._thrust_loss_active = False
        self.boulder_field_at: tuple[float, float] | None = None  # where the fault put it (truth)
        self._terrain_ceiling = self.terrain.max_height_m + 50.0

    # ------------------------------------------------------------ truth helpers

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
        return tilt_from_vertical(self.pitch, self.yaw)

    def delivered_thrust_fraction(self) -> float:
        f = self.faults.thrust_scale * self.thrust_scale_true
        if self._thrust_loss_active:
            f *= 1.0 - self.faults.thrust_loss_fraction
        return f

    # ------------------------------------------------------------ stepping

    def step(self, dt: float) -> None:
        if self.landed:
            self.t += dt
            self.thrust = 0.0
            self.specific_force = 0.0
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

        # Attitude: lag with slew-rate limit.
        if self.attitude_enabled:
            k = min(1.0, dt / cfg.attitude_time_constant_s)
            lim = cfg.attitude_rate_limit_rad_s * dt
            dp = max(-lim, min(lim, (self.pitch_cmd - self.pitch) * k))
            dy = max(-lim, min(lim, (self.yaw_cmd - self.yaw) * k))
        else:
            dp = dy = 0.0
        self.pitch += dp
        self.yaw += dy
        self.pitch_rate, self.yaw_rate = dp / dt, dy / dt

        m = self.mass
        acc = self.thrust / m
        self.specific_force = acc
        cy = math.cos(self.yaw)
        a_u = acc * math.cos(self.pitch) * cy
        a_d = acc * math.sin(self.pitch) * cy
        a_c = acc * math.sin(self.yaw)
        self.h, self.s, self.c, self.vu, self.vd, self.vc = curved_moon_step(
            self.h, self.s, self.c, self.vu, self.vd, self.vc, a_u, a_d, a_c, dt)

        if self.thrust > 0.0:
            burned = min(self.propellant, self.thrust / self.exhaust_velocity * dt)
            self.propellant -= burned
            self.mass -= burned
        self.t += dt

        # Cheap ground checks first: the terrain ceiling, then the base layer (within ~20 m of the surface).
        if (
            self.h < self._terrain_ceiling
            and self.h - self.terrain.base_height(self.s, self.c) < 50.0
            and self.height_above_ground <= 0.0
        ):
            self._touch_down()

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
        self.h = self.terrain.height(self.s, self.c)
        self.vu = self.vd = self.vc = 0.0
        self.thrust = 0.0


def with_faults(config: PlantConfig | None = None, **faults: Any) -> PlantConfig:
    """Convenience: a plant config with some ``FaultConfig`` fields changed."""
    base = config or PlantConfig()
    return replace(base, faults=replace(base.faults, **faults))
