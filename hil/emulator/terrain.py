"""Seeded lunar terrain along the descent ground track.

Heights are metres above the reference sphere (R = 1737.4 km) as a function of ground
coordinates (downrange arc, crossrange arc) measured from the descent start point. The field has
three layers:

* a smooth base profile (a few seeded sinusoids, tens of km wavelengths, hundreds of metres);
* an optional large crater whose wall makes a laser altimeter reading jump by kilometres
  (the Hakuto-R M1 failure mode);
* near the landing target, seeded mounds (slopes), small bowl craters (steep walls) and boulders
  (bumps) that make hazards.

A landing site is chosen on level ground: within a few km of the target the regional tilt of the
base undulations is taken out (their curvature stays), so the slopes that matter there are the site's
own mounds, as on a real candidate site, and never a hillside across the whole imager's view.

``coarse_map()`` returns the kind of map the flight side carries: the base profile and the crater
sampled on a coarse grid, without the metre-scale site features.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class TerrainConfig:
    target_downrange_m: float
    target_crossrange_m: float = 0.0
    crater: bool = True
    crater_downrange_m: float = 160_000.0  # passed over in main braking at ~10 km altitude [est.]
    crater_crossrange_m: float = 3_000.0
    crater_radius_m: float = 9_000.0
    crater_depth_m: float = 2_800.0
    crater_rim_m: float = 250.0
    crater_wall_m: float = 1_200.0
    site_radius_m: float = 160.0  # region around the target populated with boulders and mounds
    site_plain_radius_m: float = 3_000.0  # the regional tilt fades out over about this distance of the target
    boulder_count: int = 90
    mound_count: int = 6
    small_crater_count: int = 4  # bowl craters of 3-8 m radius near the target (seeded apart from the rest)
    hazard_at_target: bool = False  # put a boulder field on the target itself
    # A broad hill (height m, Gaussian sigma m) centred this far (downrange, crossrange) from the target,
    # so that its flank, steeper than the slope limit over ~70 m, covers the ground about the target: a
    # hover there finds no safe footprint in the fine image's ~48 m [est.: a degraded crater rim or small
    # highland rise]. None: no hill.
    hill_offset_m: tuple[float, float] | None = None
    hill_height_m: float = 20.0
    hill_sigma_m: float = 60.0
    bump_limit_m: float = 0.2  # bumps above this under the footprint are hazards (CE-5 imager figure)
    slope_limit_deg: float = 8.0
    footprint_radius_m: float = 2.5  # [est.] leg circle radius of a CE-5 class lander


@dataclass(frozen=True, slots=True)
class Boulder:
    s: float
    c: float
    radius: float
    height: float


_BUCKET_M = 10.0


class Terrain:
    def __init__(self, seed: int, config: TerrainConfig) -> None:
        self.config = config
        rng = random.Random(f"terrain-{seed}")
        # Base: (amplitude m, wavelength m, phase) in downrange and one in crossrange.
        self._waves_s = [
            (rng.uniform(250.0, 450.0), rng.uniform(50_000.0, 80_000.0), rng.uniform(0, TWO_PI)),
            (rng.uniform(80.0, 160.0), rng.uniform(12_000.0, 20_000.0), rng.uniform(0, TWO_PI)),
            (rng.uniform(15.0, 40.0), rng.uniform(3_000.0, 6_000.0), rng.uniform(0, TWO_PI)),
        ]
        self._wave_c = (rng.uniform(50.0, 150.0), rng.uniform(20_000.0, 40_000.0), rng.uniform(0, TWO_PI))
        ts, tc = config.target_downrange_m, config.target_crossrange_m
        r = config.site_radius_m
        self._mounds: list[tuple[float, float, float, float]] = []
        for _ in range(config.mound_count):
            self._mounds.append(
                (ts + rng.uniform(-r, r), tc + rng.uniform(-r, r), rng.uniform(2.0, 7.0), rng.uniform(12.0, 30.0))
            )
        # Drawn from their own generator: the mounds and boulders of a seed stay where they were.
        crater_rng = random.Random(f"site-craters-{seed}")
        self._pits: list[tuple[float, float, float, float, float]] = []  # (s, c, radius, depth, rim)
        for _ in range(config.small_crater_count):
            radius = crater_rng.uniform(3.0, 8.0)
            depth = 2.0 * radius * crater_rng.uniform(0.08, 0.16)  # degraded to fresh depth/diameter [est.]
            self._pits.append((ts + crater_rng.uniform(-r, r), tc + crater_rng.uniform(-r, r), radius, depth,
                               0.04 * 2.0 * radius))
        boulders: list[Boulder] = []
        for _ in range(config.boulder_count):
            # Heavy tail: most boulders are small, a few are metre class.
            radius = min(3.0, 0.25 + rng.expovariate(1.6))
            boulders.append(
                Boulder(ts + rng.uniform(-r, r), tc + rng.uniform(-r, r), radius, radius * rng.uniform(0.4, 0.8))
            )
        if config.hazard_at_target:
            boulders.extend(self.boulder_field(ts, tc, 6.0, 12, seed))
        self.boulders: list[Boulder] = []
        self._buckets: dict[tuple[int, int], list[Boulder]] = {}
        # (s, c, height) of the last two points asked about: a cycle asks about the point under the
        # lander and the one under the altimeter's beam, each several times.
        self._last_height = self._other_height = (math.nan, math.nan, 0.0)
        self.add_boulders(boulders)
        self._site_s, self._site_c = ts, tc
        self._seed = seed
        #: No point of the surface is higher than this (lets the plant skip ground checks aloft).
        self.max_height_m = (
            sum(a for a, _, _ in self._waves_s)
            + self._wave_c[0]
            + (config.crater_rim_m if config.crater else 0.0)
            + sum(m[2] for m in self._mounds)
            + (config.hill_height_m if config.hill_offset_m is not None else 0.0)
            + 5.0
        )
        self._site_reach = r + 60.0
        # Regional tilt of the undulations at the target, removed around it (site selection).
        self._site_tilt = (0.0, 0.0)
        self._site_tilt = self._base_gradient(ts, tc)

    def add_boulders(self, boulders: list[Boulder]) -> None:
        """Add boulders (also used by scenarios to drop a boulder field under the hover point)."""
        reach_fp = self.config.footprint_radius_m
        for b in boulders:
            self.boulders.append(b)
            reach = b.radius + reach_fp
            for i in range(int((b.s - reach) // _BUCKET_M), int((b.s + reach) // _BUCKET_M) + 1):
                for j in range(int((b.c - reach) // _BUCKET_M), int((b.c + reach) // _BUCKET_M) + 1):
                    self._buckets.setdefault((i, j), []).append(b)
        self._last_height = self._other_height = (math.nan, math.nan, 0.0)

    def boulder_field(self, s: float, c: float, radius_m: float, count: int, seed: int) -> list[Boulder]:
        """A seeded cluster of metre-class boulders, one of them right on (s, c)."""
        rng = random.Random(f"field-{seed}-{s:.1f}-{c:.1f}")
        field = [Boulder(s, c, 1.2, 0.9)]
        for _ in range(count - 1):
            bs, bc = s + rng.uniform(-radius_m, radius_m), c + rng.uniform(-radius_m, radius_m)
            field.append(Boulder(bs, bc, rng.uniform(0.8, 1.5), 0.9))
        return field

    # ------------------------------------------------------------ height layers

    def _undulations(self, s: float, c: float) -> float:
        h = 0.0
        for amp, wl, ph in self._waves_s:
            h += amp * math.sin(TWO_PI * s / wl + ph)
        amp, wl, ph = self._wave_c
        return h + amp * math.sin(TWO_PI * c / wl + ph)

    def _base_gradient(self, s: float, c: float) -> tuple[float, float]:
        e = 1.0
        return ((self.base_height(s + e, c) - self.base_height(s - e, c)) / (2 * e),
                (self.base_height(s, c + e) - self.base_height(s, c - e)) / (2 * e))

    def base_height(self, s: float, c: float) -> float:
        h = self._undulations(s, c)
        ds, dc = s - self._site_s, c - self._site_c
        reach = self.config.site_plain_radius_m
        if abs(ds) < 4.0 * reach and abs(dc) < 4.0 * reach:
            gs, gc = self._site_tilt
            h -= (gs * ds + gc * dc) * math.exp(-(ds * ds + dc * dc) / (reach * reach))
        if self.config.crater:
            h += self._crater(s, c)
        return h

    def _crater(self, s: float, c: float) -> float:
        cfg = self.config
        ds, dc = s - cfg.crater_downrange_m, c - cfg.crater_crossrange_m
        radius = cfg.crater_radius_m
        if abs(ds) > 4.0 * radius or abs(dc) > 4.0 * radius:
            return 0.0
        d = math.sqrt(ds * ds + dc * dc)
        inner = radius - cfg.crater_wall_m
        if d <= inner:
            return -cfg.crater_depth_m
        if d <= radius:
            return -cfg.crater_depth_m + (cfg.crater_depth_m + cfg.crater_rim_m) * (d - inner) / cfg.crater_wall_m
        return cfg.crater_rim_m * math.exp(-(d - radius) / (0.3 * radius))

    def smooth_height(self, s: float, c: float) -> float:
        """Base plus site mounds and small craters (no boulders)."""
        h = self.base_height(s, c)
        hill = self.config.hill_offset_m
        if hill is not None:
            dx, dy = s - self._site_s - hill[0], c - self._site_c - hill[1]
            h += self.config.hill_height_m * math.exp(-(dx * dx + dy * dy) / (2.0 * self.config.hill_sigma_m ** 2))
        if abs(s - self._site_s) < self._site_reach and abs(c - self._site_c) < self._site_reach:
            for ms, mc, mh, sig in self._mounds:
                dx, dy = s - ms, c - mc
                q = (dx * dx + dy * dy) / (2.0 * sig * sig)
                if q < 12.0:
                    h += mh * math.exp(-q)
            for ps, pc, radius, depth, rim in self._pits:
                dx, dy = s - ps, c - pc
                if abs(dx) > 3.0 * radius or abs(dy) > 3.0 * radius:
                    continue
                rr = (dx * dx + dy * dy) / (radius * radius)
                if rr < 1.0:  # bowl up to the rim crest
                    h += -depth + (depth + rim) * rr
                else:  # ejecta rim fading outwards
                    out = (math.sqrt(rr) - 1.0) / 0.35
                    h += rim * math.exp(-out * out)
        return h

    def height(self, s: float, c: float) -> float:
        """Surface height including boulders."""
        last = self._last_height
        if s == last[0] and c == last[1]:  # the devices of one cycle ask about the same points
            return last[2]
        other = self._other_height
        if s == other[0] and c == other[1]:
            self._last_height, self._other_height = other, last
            return other[2]
        h = self._height(s, c)
        self._last_height, self._other_height = (s, c, h), last
        return h

    def _height(self, s: float, c: float) -> float:
        h = self.smooth_height(s, c)
        bucket = self._buckets.get((int(s // _BUCKET_M), int(c // _BUCKET_M)))
        if bucket:
            bump = 0.0
            for b in bucket:
                dx, dy = s - b.s, c - b.c
                q = (dx * dx + dy * dy) / (b.radius * b.radius)
                if q < 1.0:
                    bump = max(bump, b.height * (1.0 - q))
            h += bump
        return h

    # ------------------------------------------------------------ hazards

    def slope_deg(self, s: float, c: float) -> float:
        e = 2.0
        gs = (self.smooth_height(s + e, c) - self.smooth_height(s - e, c)) / (2 * e)
        gc = (self.smooth_height(s, c + e) - self.smooth_height(s, c - e)) / (2 * e)
        return math.degrees(math.atan(math.hypot(gs, gc)))

    def hazards_at(self, s: float, c: float) -> list[str]:
        """Reasons why a footprint centred at (s, c) is unsafe (empty list when safe)."""
        cfg = self.config
        reasons: list[str] = []
        slope = self.slope_deg(s, c)
        if slope > cfg.slope_limit_deg:
            reasons.append(f"slope {slope:.1f} deg")
        bucket = self._buckets.get((int(s // _BUCKET_M), int(c // _BUCKET_M)), ())
        for b in bucket:
            if b.height > cfg.bump_limit_m and math.hypot(s - b.s, c - b.c) < b.radius + cfg.footprint_radius_m:
                reasons.append(f"boulder {b.height:.2f} m")
                break
        return reasons

    def coarse_map(self, spacing_m: float = 1_000.0, include_crater: bool = True) -> tuple[float, tuple[float, ...]]:
        """Onboard-map product: base profile + crater sampled along the track every ``spacing_m``.

        Returns ``(spacing_m, heights_m)``; the flight side wraps it in its own map type.
        """
        span = self.config.target_downrange_m + 40_000.0
        n = int(span / spacing_m) + 1
        c0 = self.config.target_crossrange_m
        heights = [self.base_height(i * spacing_m, c0) for i in range(n)]
        if not include_crater and self.config.crater:
            heights = [h - self._crater(i * spacing_m, c0) for i, h in enumerate(heights)]
        return spacing_m, tuple(heights)
