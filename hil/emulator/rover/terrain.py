"""Rover-scale terrain around the landing site, from a seed: rocks, small craters and a gentle slope.

Rocks follow a cumulative size-frequency distribution of the power-law form fitted to Surveyor
rock counts (Shoemaker and Morris 1970, "Surveyor final reports"): N(>=D) = K * D**-b per square
metre, D in metres. K and b here are estimates for a mare site with few
large rocks (K = 0.0007, b = 2.5 gives about one rock of 0.4 m or more, the rover's hazard, per
150 square metres) [est.]; rocks below
``min_rock_m`` are left out (the wheels roll over them). Small craters are bowls with a raised rim
(depth about an eighth of the diameter [est.]). Optional ``fields`` put a known
cluster of large rocks where a test wants one.

Heights are metres relative to the lander's ground, as a function of (east, north) in metres.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

_BUCKET_M = 4.0


@dataclass(frozen=True)
class RockField:
    """A known cluster of large rocks: ``count`` rocks within ``radius_m`` of the centre."""

    east_m: float
    north_m: float
    radius_m: float = 2.0
    count: int = 6
    diameter_m: float = 0.6


@dataclass(frozen=True)
class RoverTerrainConfig:
    half_size_m: float = 80.0  # the square populated around the lander
    sfd_k: float = 0.0007  # rocks per square metre at D >= 1 m [est.]
    sfd_b: float = 2.5  # power-law slope of the cumulative SFD [est., Surveyor-like]
    min_rock_m: float = 0.15
    max_rock_m: float = 1.5
    crater_count: int = 12
    crater_max_m: float = 8.0
    slope_deg: float = 2.0  # regional tilt, rising towards ``slope_azimuth_deg``
    slope_azimuth_deg: float = 30.0
    clear_radius_m: float = 4.0  # the ramp's landing zone next to the lander is clear [est.]
    fields: tuple[RockField, ...] = ()
    hazard_height_m: float = 0.2  # a rock this high (or more) stops the rover: its clearance [est. Yutu-2]


@dataclass(frozen=True, slots=True)
class Rock:
    east: float
    north: float
    radius: float
    height: float  # exposed height (about half the diameter [est.])


@dataclass(frozen=True, slots=True)
class Crater:
    east: float
    north: float
    radius: float
    depth: float


@dataclass
class RoverTerrain:
    seed: int
    config: RoverTerrainConfig = field(default_factory=RoverTerrainConfig)

    def __post_init__(self) -> None:
        rng = random.Random(f"rover-terrain-{self.seed}")
        cfg = self.config
        area = (2 * cfg.half_size_m) ** 2
        # Number of rocks between the smallest and largest kept sizes, then sizes by inverse transform.
        n_min = cfg.sfd_k * cfg.min_rock_m ** -cfg.sfd_b
        n_max = cfg.sfd_k * cfg.max_rock_m ** -cfg.sfd_b
        count = round((n_min - n_max) * area)
        rocks = []
        for _ in range(count):
            n = n_max + rng.random() * (n_min - n_max)
            diameter = (n / cfg.sfd_k) ** (-1.0 / cfg.sfd_b)
            east, north = (rng.uniform(-cfg.half_size_m, cfg.half_size_m) for _ in range(2))
            if math.hypot(east, north) < cfg.clear_radius_m + diameter:
                continue
            rocks.append(Rock(east, north, diameter / 2, diameter * rng.uniform(0.4, 0.6)))
        frng = random.Random(f"rover-fields-{self.seed}")
        for spot in cfg.fields:
            for _ in range(spot.count):
                angle, r = frng.uniform(0, 2 * math.pi), spot.radius_m * math.sqrt(frng.random())
                d = spot.diameter_m * frng.uniform(0.8, 1.2)
                rocks.append(Rock(spot.east_m + r * math.cos(angle), spot.north_m + r * math.sin(angle), d / 2,
                                  d * 0.5))
        self.rocks = rocks
        craters = []
        for _ in range(cfg.crater_count):
            diameter = cfg.crater_max_m * rng.random() ** 2 + 1.0
            east, north = (rng.uniform(-cfg.half_size_m, cfg.half_size_m) for _ in range(2))
            if math.hypot(east, north) < cfg.clear_radius_m + diameter:
                continue
            craters.append(Crater(east, north, diameter / 2, diameter * 0.125))
        self.craters = craters
        tilt = math.tan(math.radians(cfg.slope_deg))
        azimuth = math.radians(cfg.slope_azimuth_deg)
        self._grad = (tilt * math.cos(azimuth), tilt * math.sin(azimuth))
        self._buckets: dict[tuple[int, int], list[Rock]] = {}
        self._crater_buckets: dict[tuple[int, int], list[Crater]] = {}
        # The slopes last asked for (the rover's pitch and roll, asked again while it stands still).
        self._slopes: dict[tuple[float, float, float, float], float] = {}
        for rock in rocks:
            self._buckets.setdefault(_bucket(rock.east, rock.north), []).append(rock)

    def rocks_near(self, east: float, north: float, radius: float) -> list[Rock]:
        reach = math.ceil((radius + self.config.max_rock_m) / _BUCKET_M)
        bi, bj = _bucket(east, north)
        found = []
        for i in range(bi - reach, bi + reach + 1):
            for j in range(bj - reach, bj + reach + 1):
                for rock in self._buckets.get((i, j), ()):
                    if math.hypot(rock.east - east, rock.north - north) <= radius + rock.radius:
                        found.append(rock)
        return found

    def ground(self, east: float, north: float) -> float:
        """The ground without rocks: regional slope and craters."""
        height = self._grad[0] * east + self._grad[1] * north
        for crater in self._craters_at(_bucket(east, north)):
            r = math.hypot(east - crater.east, north - crater.north) / crater.radius
            if r < 1.0:
                height += crater.depth * (r * r - 1.0)
            elif r < 1.5:
                height += 0.1 * crater.depth * (1.0 - (r - 1.0) / 0.5)
        return height

    def _craters_at(self, bucket: tuple[int, int]) -> list[Crater]:
        """The craters that can change the ground in ``bucket`` (out to 1.5 radii, 1.6 leaving room for
        rounding), in their order: a crater further away adds nothing to :meth:`ground`."""
        craters = self._crater_buckets.get(bucket)
        if craters is None:
            east0, north0 = bucket[0] * _BUCKET_M, bucket[1] * _BUCKET_M
            east1, north1 = east0 + _BUCKET_M, north0 + _BUCKET_M
            craters = self._crater_buckets[bucket] = [
                crater for crater in self.craters
                if east0 - 1.6 * crater.radius <= crater.east <= east1 + 1.6 * crater.radius
                and north0 - 1.6 * crater.radius <= crater.north <= north1 + 1.6 * crater.radius]
        return craters

    def height(self, east: float, north: float) -> float:
        """The ground plus the rocks (each a spherical cap)."""
        height = self.ground(east, north)
        for rock in self.rocks_near(east, north, 0.0):
            r = math.hypot(east - rock.east, north - rock.north) / rock.radius
            if r < 1.0:
                height += rock.height * math.sqrt(1.0 - r * r)
        return height

    def heights(self, points: list[tuple[float, float]]) -> list[float]:
        """:meth:`height` at each point, the same sums in the same order, for a camera's whole image:
        the rocks around each 4 m square are gathered once, not again for every cell in it."""
        reach = math.ceil(self.config.max_rock_m / _BUCKET_M)
        buckets, ground = self._buckets, self.ground
        near: dict[tuple[int, int], list[Rock]] = {}
        out = []
        for east, north in points:
            height = ground(east, north)
            key = _bucket(east, north)
            rocks = near.get(key)
            if rocks is None:
                bi, bj = key
                rocks = near[key] = [rock for i in range(bi - reach, bi + reach + 1)
                                     for j in range(bj - reach, bj + reach + 1) for rock in buckets.get((i, j), ())]
            for rock in rocks:
                d = math.hypot(rock.east - east, rock.north - north)
                if d <= rock.radius:  # (as rocks_near picks them)
                    r = d / rock.radius
                    if r < 1.0:
                        height += rock.height * math.sqrt(1.0 - r * r)
            out.append(height)
        return out

    def hazards(self) -> list[Rock]:
        """Rocks high enough to stop the rover."""
        return [rock for rock in self.rocks if rock.height >= self.config.hazard_height_m]

    def slope_deg(self, east: float, north: float, heading: float, span_m: float = 0.5) -> float:
        """Slope of the ground along ``heading`` (positive uphill)."""
        key = (east, north, heading, span_m)
        slope = self._slopes.get(key)
        if slope is None:
            dx, dy = math.cos(heading) * span_m, math.sin(heading) * span_m
            rise = self.ground(east + dx, north + dy) - self.ground(east - dx, north - dy)
            slope = math.degrees(math.atan2(rise, 2 * span_m))
            if len(self._slopes) >= 16:
                self._slopes.clear()
            self._slopes[key] = slope
        return slope


def _bucket(east: float, north: float) -> tuple[int, int]:
    return math.floor(east / _BUCKET_M), math.floor(north / _BUCKET_M)
