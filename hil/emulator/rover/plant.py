"""The rover's truth: where it is and how it moves over the terrain, its battery and warm box, the
Sun over the lunar day, and the proximity radio's reach.

Motion: the six wheels roll at the commanded speed; the rover makes good that speed less its slip
(regolith slip of a few percent on the level, more uphill [est. from Yutu-2 reports]); a turn in
place when the speed is zero. A rock higher than the clearance under the rover stops it (a
collision, recorded). In a sand trap (a fault) slip is high and the wheels dig in: past
``EMBED_DEPTH_M`` of sinkage the rover is stuck for good (the Spirit failure mode).

Power: the solar array is a flat panel hinged along the rover's forward axis, tilted by a one-axis
drive (``command_array``); its output is the peak power times the cosine of the angle between its
normal and the Sun, the normal following the body over the ground's slope (the rover's heading and
tilt) and the drive's angle, the Sun's azimuth and elevation over the lunar day at the site. The
plant also records what the same panel left flat on the deck would have given.

Everything here is truth: the flight side sees it only through :mod:`hil.emulator.rover.devices`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from hil.emulator.rover.terrain import RoverTerrain, RoverTerrainConfig

Vector = tuple[float, float, float]  # (east, north, up)

SYNODIC_MONTH_S = 29.530589 * 86_400.0
ROVER_HALF_WIDTH_M = 0.5  # [est. Yutu class: 1.5 m x 1.0 m]
ROVER_HALF_LENGTH_M = 0.75
# A hazard rock whose edge comes this close to the rover's centre stops it: half its width and a margin.
ROCK_CONTACT_M = 0.6
BASE_SLIP = 0.05  # on level regolith [est.]
SLIP_PER_DEG_UPHILL = 0.02  # [est.]
SAND_SLIP = 0.9
SINKAGE_PER_SLIPPED_M = 0.05  # metres dug in per metre of wheel travel lost to slip in a trap [est.]
EMBED_DEPTH_M = 0.12  # wheels dug in this deep: stuck [est.]
MAX_SPEED_M_S = 0.06  # [est. Yutu-2: 200 m/h]

ARRAY_PEAK_W = 120.0  # at normal incidence [est.]
ARRAY_TILT_MAX_RAD = math.radians(75.0)  # the array drive's end stops either way [est.]
ARRAY_TILT_RATE_RAD_S = math.radians(3.0)  # [est.]
ARRAY_DRIVE_W = 5.0  # while the array drive turns [est.]
BATTERY_WH = 1200.0  # [est.]
# The energy drawn is kept every this many seconds of the plant's time: enough to say what it was
# at the moment of any of the flight's figures (the ground's last one comes long before the end).
ENERGY_RECORD_S = 10.0
AVIONICS_W = 25.0  # awake [est.]
DRIVE_W = 40.0  # wheels turning [est.]
HEATER_W = 3.0  # survival heater [est.]
# Warm box temperatures the box settles to [est.; Yutu-class RHU]: awake by day, hibernating at night
# with the mast stowed (covering the box), and unstowed (Yutu-1's night).
DAY_BOX_C = 20.0
NIGHT_STOWED_C = -25.0
NIGHT_UNSTOWED_C = -48.0
HEATER_GAIN_C = 25.0  # the box with the heater on settles this much warmer [est.]
HEATER_ON_BELOW_C = -30.0  # the survival heater's thermostat
SURVIVAL_C = -40.0  # below this the electronics are lost [est.]
BOX_TIME_CONSTANT_S = 6 * 3600.0  # [est.]


@dataclass(frozen=True)
class RoverFaults:
    sand_east_m: float | None = None  # a sand trap centred here
    sand_north_m: float = 0.0
    sand_radius_m: float = 1.5
    mast_fault: bool = False  # the mast's drive has failed: it does not move any more (Yutu-1)
    radio_range_m: float = 2_000.0  # proximity link reach [est. UHF, line of sight]
    radio_outage_from_s: float | None = None  # a radio outage (lander side) from this plant time...
    radio_outage_s: float = 0.0  # ...this long


@dataclass
class RoverPlantConfig:
    terrain: RoverTerrainConfig = field(default_factory=RoverTerrainConfig)
    faults: RoverFaults = field(default_factory=RoverFaults)
    start_east_m: float = 3.0  # at the foot of the ramp
    start_north_m: float = 0.0
    start_heading_rad: float = 0.0
    sun_phase_at_start: float = 0.08  # fraction of the synodic month since sunrise (0.5: sunset)
    lander_antenna_m: float = 2.5
    rover_antenna_m: float = 1.2


class RoverPlant:
    def __init__(self, seed: int, config: RoverPlantConfig | None = None) -> None:
        self.seed = seed
        self.config = config or RoverPlantConfig()
        self.terrain = RoverTerrain(seed, self.config.terrain)
        self.rng = random.Random(f"rover-plant-{seed}")
        cfg = self.config
        self.t = 0.0
        self.east, self.north, self.heading = cfg.start_east_m, cfg.start_north_m, cfg.start_heading_rad
        self.speed_cmd = 0.0
        self.yaw_rate_cmd = 0.0
        self.wheel_distance = [0.0] * 6
        self.slip = BASE_SLIP
        self.sinkage = 0.0
        self.embedded = False
        self.blocked_by: tuple[float, float] | None = None
        self.collisions: list[dict[str, float]] = []
        self.distance = 0.0  # truth path length
        self.path: list[tuple[float, float]] = [(self.east, self.north)]
        # The last axes worked out, with the pose they are for: the array, the IMU and the power all
        # ask for them every cycle, and the rover stands still most of them.
        self._axes: tuple[tuple[float, float, float], tuple[Vector, Vector, Vector]] | None = None
        self.battery_wh = BATTERY_WH * 0.9
        self.battery_min_wh = self.battery_wh
        self.energy_used_wh = 0.0
        self.energy_history: list[tuple[float, float]] = [(0.0, 0.0)]  # (plant time s, energy drawn Wh)
        self.box_c = DAY_BOX_C
        self.box_min_c = self.box_c
        self.hibernating = False
        self.heater_enabled = False
        self.mast_stowed = False
        self.mast_moving_until: float | None = None
        self.mast_target = False
        self.dead: str | None = None
        self.nights = 0
        self.woke_after_night = 0
        self._was_night = False
        self._radio_cache: tuple[Any, tuple[bool, float]] | None = None
        self.array_tilt = 0.0  # about the forward axis, positive: the normal tilted to the left
        self.array_target = 0.0
        self.array_moves = 0
        self.array_energy_wh = 0.0  # what the array gave
        self.array_flat_energy_wh = 0.0  # what the same panel flat on the deck would have given

    # --- the Sun -----------------------------------------------------------------------------
    def day_fraction(self, t: float | None = None) -> float:
        """0 at sunrise, 0.5 at sunset, wrapping at the next sunrise."""
        return (self.config.sun_phase_at_start + (self.t if t is None else t) / SYNODIC_MONTH_S) % 1.0

    def sun(self) -> tuple[float, float]:
        """(azimuth counter-clockwise from east, elevation) in radians: rises in the east, sets in the
        west across the north (a southern-hemisphere site), 60 deg high at noon [est.]."""
        phase = self.day_fraction()
        elevation = math.radians(60.0) * math.sin(2 * math.pi * phase)
        azimuth = math.pi * min(phase, 0.5) / 0.5 if phase < 0.5 else math.pi + math.pi * (phase - 0.5) / 0.5
        return azimuth, elevation

    def sun_vector(self) -> Vector:
        """Unit vector to the Sun, (east, north, up)."""
        azimuth, elevation = self.sun()
        return (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation))

    def body_axes(self) -> tuple[Vector, Vector, Vector]:
        """(forward, left, up) of the rover in (east, north, up): up is the ground's normal under it
        (its slope taken over the wheelbase), forward its heading laid on that ground."""
        pose = (self.east, self.north, self.heading)
        if self._axes is not None and self._axes[0] == pose:
            return self._axes[1]
        span, ground = ROVER_HALF_LENGTH_M, self.terrain.ground
        d_east = (ground(self.east + span, self.north) - ground(self.east - span, self.north)) / (2 * span)
        d_north = (ground(self.east, self.north + span) - ground(self.east, self.north - span)) / (2 * span)
        up = _unit((-d_east, -d_north, 1.0))
        level = (math.cos(self.heading), math.sin(self.heading), 0.0)
        along = _dot(level, up)
        forward = _unit((level[0] - along * up[0], level[1] - along * up[1], level[2] - along * up[2]))
        left = _cross(up, forward)
        self._axes = (pose, (forward, left, up))
        return forward, left, up

    def array_normal(self) -> Vector:
        _, left, up = self.body_axes()
        c, s = math.cos(self.array_tilt), math.sin(self.array_tilt)
        return (c * up[0] + s * left[0], c * up[1] + s * left[1], c * up[2] + s * left[2])

    def array_w(self) -> float:
        """The array's output: no light with the Sun below the horizon, else the cosine law."""
        sun = self.sun_vector()
        if sun[2] <= 0.0:
            return 0.0
        return ARRAY_PEAK_W * max(0.0, _dot(self.array_normal(), sun))

    def flat_array_w(self) -> float:
        sun = self.sun_vector()
        return 0.0 if sun[2] <= 0.0 else ARRAY_PEAK_W * max(0.0, _dot(self.body_axes()[2], sun))

    # --- commands ----------------------------------------------------------------------------
    def command_drive(self, speed_m_s: float, yaw_rate_rad_s: float) -> None:
        if self.dead is not None or self.hibernating:
            return
        self.speed_cmd = max(-MAX_SPEED_M_S, min(MAX_SPEED_M_S, float(speed_m_s)))
        self.yaw_rate_cmd = max(-0.1, min(0.1, float(yaw_rate_rad_s)))

    def command_mast(self, stowed: bool) -> None:
        if self.config.faults.mast_fault or self.dead is not None:
            return  # the drive does not answer
        self.mast_target = stowed
        self.mast_moving_until = self.t + 60.0

    def command_array(self, tilt_rad: float) -> None:
        """Drive the array to this tilt (clamped at the end stops); the drive finishes a move on its
        own, hibernating or not."""
        if self.dead is not None:
            return
        self.array_target = max(-ARRAY_TILT_MAX_RAD, min(ARRAY_TILT_MAX_RAD, float(tilt_rad)))
        self.array_moves += 1

    def array_moving(self) -> bool:
        return abs(self.array_target - self.array_tilt) > 1e-9

    # --- time --------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        remaining = dt
        while remaining > 1e-9:
            # Long steps while nothing moves (the night), short ones while driving.
            moving = self.speed_cmd != 0.0 or self.yaw_rate_cmd != 0.0 or self.array_moving()
            h = min(remaining, 0.5 if moving else 600.0)
            self._step(h)
            remaining -= h

    def _step(self, dt: float) -> None:
        self.t += dt
        if self.mast_moving_until is not None and self.t >= self.mast_moving_until:
            self.mast_stowed, self.mast_moving_until = self.mast_target, None
        if self.dead is None and not self.hibernating:
            self._move(dt)
        if self.dead is None and self.array_moving():
            step = ARRAY_TILT_RATE_RAD_S * dt
            error = self.array_target - self.array_tilt
            self.array_tilt = self.array_target if abs(error) <= step else self.array_tilt + math.copysign(step, error)
        self._power_thermal(dt)

    def _move(self, dt: float) -> None:
        v, w = self.speed_cmd, self.yaw_rate_cmd
        if v == 0.0 and w == 0.0:
            return
        for i in range(6):  # the wheels turn whatever the rover makes good
            side = 1.0 if i < 3 else -1.0
            self.wheel_distance[i] += (v - side * w * ROVER_HALF_WIDTH_M) * dt if v else abs(w) * 0.9 * dt
        if self.embedded:
            return
        self.heading = (self.heading + w * dt) % (2 * math.pi)
        if v == 0.0:
            return
        faults = self.config.faults
        in_sand = faults.sand_east_m is not None and math.hypot(
            self.east - faults.sand_east_m, self.north - faults.sand_north_m) < faults.sand_radius_m
        uphill = self.terrain.slope_deg(self.east, self.north, self.heading if v > 0 else self.heading + math.pi)
        self.slip = SAND_SLIP if in_sand else min(0.9, max(0.0, BASE_SLIP + SLIP_PER_DEG_UPHILL * max(0.0, uphill)))
        step = v * dt * (1.0 - self.slip)
        if in_sand:
            self.sinkage += SINKAGE_PER_SLIPPED_M * abs(v) * dt * self.slip
            if self.sinkage >= EMBED_DEPTH_M:
                self.embedded = True
                return
        east = self.east + step * math.cos(self.heading)
        north = self.north + step * math.sin(self.heading)
        rock = self._rock_in_the_way(east, north)
        if rock is not None:
            if self.blocked_by != (rock.east, rock.north):
                self.blocked_by = (rock.east, rock.north)
                self.collisions.append({"t": self.t, "east_m": rock.east, "north_m": rock.north,
                                        "height_m": rock.height})
            return
        self.blocked_by = None
        self.distance += abs(step)
        self.east, self.north = east, north
        last = self.path[-1]
        if math.hypot(east - last[0], north - last[1]) >= 0.5:
            self.path.append((east, north))

    def _rock_in_the_way(self, east: float, north: float) -> Any:
        limit = self.config.terrain.hazard_height_m
        for rock in self.terrain.rocks_near(east, north, ROVER_HALF_LENGTH_M):
            if rock.height >= limit and math.hypot(rock.east - east, rock.north - north) < rock.radius + ROCK_CONTACT_M:
                return rock
        return None

    def _power_thermal(self, dt: float) -> None:
        _, elevation = self.sun()
        array = self.array_w()
        self.array_energy_wh += array * dt / 3600.0
        self.array_flat_energy_wh += self.flat_array_w() * dt / 3600.0
        load = self.load_w()
        self.energy_used_wh += load * dt / 3600.0
        if self.t - self.energy_history[-1][0] >= ENERGY_RECORD_S:
            self.energy_history.append((self.t, self.energy_used_wh))
        self.battery_wh = min(BATTERY_WH, self.battery_wh + (array - load) * dt / 3600.0)
        night = elevation <= 0.0
        if night and not self._was_night:
            self.nights += 1
        if not night and self._was_night and self.dead is None:
            self.woke_after_night += 1
        self._was_night = night
        if self.battery_wh <= 0.0:
            self.battery_wh = 0.0
            if night and self.dead is None:
                self.dead = "battery exhausted in the night"
        self.battery_min_wh = min(self.battery_min_wh, self.battery_wh)
        # Awake, the electronics keep the box warm; hibernating at night only the RHUs do.
        cold = night and (self.hibernating or self.dead is not None)
        target = (NIGHT_STOWED_C if self.mast_stowed else NIGHT_UNSTOWED_C) if cold else DAY_BOX_C
        if self.heater_on():
            target += HEATER_GAIN_C
        self.box_c += (target - self.box_c) * (1.0 - math.exp(-dt / BOX_TIME_CONSTANT_S))
        self.box_min_c = min(self.box_min_c, self.box_c)
        if self.box_c < SURVIVAL_C and self.dead is None:
            self.dead = f"electronics froze ({self.box_c:.1f} C)"

    def heater_on(self) -> bool:
        return self.heater_enabled and self.battery_wh > 0.0 and self.box_c < HEATER_ON_BELOW_C

    def load_w(self) -> float:
        if self.dead is not None or self.battery_wh <= 0.0:
            return 0.0
        load = 0.0 if self.hibernating else AVIONICS_W
        if not self.hibernating and (self.speed_cmd or self.yaw_rate_cmd):
            load += DRIVE_W
        if self.heater_on():
            load += HEATER_W
        if self.array_moving():
            load += ARRAY_DRIVE_W
        return load

    # --- the proximity radio -----------------------------------------------------------------
    def radio_link(self) -> tuple[bool, float]:
        """(up, received power in dBm): free-space loss with range, cut beyond the reach, by an
        outage, or when the terrain hides the lander's antenna."""
        key = (round(self.east, 1), round(self.north, 1), self.hibernating, self.dead, self.t // 10.0)
        if self._radio_cache is not None and self._radio_cache[0] == key:
            return self._radio_cache[1]
        result = self._radio_link()
        self._radio_cache = (key, result)
        return result

    def _radio_link(self) -> tuple[bool, float]:
        faults, cfg = self.config.faults, self.config
        distance = max(1.0, math.hypot(self.east, self.north))
        rssi = -40.0 - 20.0 * math.log10(distance)  # [est.] 1 W UHF, omni antennas
        outage = faults.radio_outage_from_s is not None and (
            faults.radio_outage_from_s <= self.t < faults.radio_outage_from_s + faults.radio_outage_s)
        if self.dead is not None or self.hibernating or outage or distance > faults.radio_range_m:
            return False, -140.0
        # Line of sight: the straight line between the antennas must clear the ground.
        start = self.terrain.ground(0.0, 0.0) + cfg.lander_antenna_m
        end = self.terrain.ground(self.east, self.north) + cfg.rover_antenna_m
        samples = max(2, int(distance / 2.0))
        for k in range(1, samples):
            f = k / samples
            if self.terrain.ground(self.east * f, self.north * f) > start + (end - start) * f:
                return False, -140.0
        return True, rssi

    # --- the record --------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "t": self.t, "east_m": self.east, "north_m": self.north,
            "heading_deg": math.degrees(self.heading), "distance_m": self.distance,
            "path": [list(point) for point in self.path], "collisions": self.collisions,
            "embedded": self.embedded, "sinkage_m": self.sinkage,
            "battery_wh": self.battery_wh, "battery_min_wh": self.battery_min_wh,
            "energy_used_wh": self.energy_used_wh,
            "energy_history": [[round(t, 2), round(wh, 4)] for t, wh in [*self.energy_history,
                                                                          (self.t, self.energy_used_wh)]],
            "box_c": self.box_c, "box_min_c": self.box_min_c,
            "mast_stowed": self.mast_stowed, "hibernating": self.hibernating, "dead": self.dead,
            "nights": self.nights, "woke_after_night": self.woke_after_night, "radio_up": self.radio_link()[0],
            "hazard_rocks": [[r.east, r.north, r.radius, r.height] for r in self.terrain.hazards()],
            "array_tilt_deg": math.degrees(self.array_tilt), "array_w": self.array_w(),
            "array_flat_w": self.flat_array_w(), "array_energy_wh": self.array_energy_wh,
            "array_flat_energy_wh": self.array_flat_energy_wh, "array_moves": self.array_moves,
        }



def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a: Vector) -> Vector:
    norm = math.sqrt(_dot(a, a))
    return (a[0] / norm, a[1] / norm, a[2] / norm)
