"""On-board hazard detection and landing-site selection from the 3-D imager's elevation image.

Pure and sans-IO: :func:`assess` takes an :class:`ElevationImageReading` and the lander's situation
(where the aim point lies in the image, its mass) and returns a :class:`HazardAssessment`: a safety
map over the image and the chosen site. As CE-3/4/5 did at the ~100 m hover, in four steps:

1. local ground plane: for every cell, a least-squares plane ``z = a + b x + c y`` over the valid
   cells of a window about the lander's footprint (sums from integral images, so each cell costs the
   same whatever the window);
2. hazard cells: height excursions from that plane above ``bump_limit_m`` (boulders) or below
   ``-pit_limit_m`` (pits, crater floors);
3. site safety: a footprint centred on a cell is safe when no hazard cell lies within the footprint
   plus the landing dispersion (the lander touches down anywhere within ``landing_dispersion_m``
   of the chosen site: imager pointing, navigation drift to touchdown), the ground under every
   point it may touch down on (the cells within the dispersion) has a slope within
   ``slope_limit_deg`` less ``slope_margin_deg`` (the plane fit over the footprint reads a curved
   flank a little flatter than the legs find it) and a residual roughness within
   ``roughness_limit_m``, and few enough of its cells are unknown (no return or hidden);
   footprints reaching past the image's edge are unsafe;
4. site selection: among safe sites within the divert reach, the best score of safety (slope,
   roughness, nearby hazards and unknown cells, each against its limit), distance from the aim point,
   and the propellant a rest-to-rest divert to it costs.

Unknown cells never count as safe ground: they are left out of the plane fit, and a footprint
with too many is unsafe. Threshold sources are in docs/gnc.md ("Hazard detection").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from fsw.devices.descent import ElevationImageReading


@dataclass(frozen=True)
class HazardConfig:
    footprint_radius_m: float = 2.5  # [est.] leg circle of a CE-5 class lander
    # [est.] touchdown within this of the chosen site: imager pointing knowledge 1 mrad (0.1 m at the
    # hover), navigation drift from the scan to touchdown and the last metres flown on velocity only
    # (measured up to ~0.6 m in the campaign's flights), with margin. docs/gnc.md "Hazard detection".
    landing_dispersion_m: float = 1.0
    bump_limit_m: float = 0.2  # CE-3: protrusions above 0.2 m are identified as obstacles
    pit_limit_m: float = 0.2  # [est.] a pit as deep as the bump limit is as bad
    slope_limit_deg: float = 8.0  # [est.] CE-3/5 class landing-leg stability
    # [est.] the plane fit's slope error against the ground under the legs (a mound's flank reads up
    # ~0.4 deg flatter over the footprint, plus range noise): sites are kept this far inside.
    slope_margin_deg: float = 1.0
    roughness_limit_m: float = 0.1  # [est.] RMS residual about the plane over the footprint
    max_unknown_fraction: float = 0.1  # [est.] unknown cells a footprint may hold
    nearby_radius_factor: float = 2.0  # safety looks at hazards within this many footprint radii
    max_divert_m: float = 20.0  # [est.] what the hazard-avoidance phase reaches from the hover
    divert_time_s: float = 15.0  # the hazard-avoidance phase's duration
    exhaust_velocity_m_s: float = 3_000.0
    distance_weight: float = 0.3  # score lost per max_divert_m of distance from the aim point
    propellant_weight: float = 0.2  # score lost for the propellant of a max_divert_m divert


@dataclass(frozen=True)
class HazardAssessment:
    """What the detector found in one image. Offsets are (downrange, crossrange) metres from the
    point under the lander at scan time, as the image gives them."""

    t: float
    rows: int
    cols: int
    cell_m: float
    origin: tuple[float, float]  # offset of cell (0, 0)
    unknown_cells: int  # no measurement (dropout or hidden)
    hazard_cells: int  # boulder or pit excursions
    unsafe_sites: int  # cells a footprint cannot be centred on (edge cells included)
    safe: tuple[bool, ...]  # the safety map: a footprint centred on the cell is safe (row after row)
    site: tuple[float, float] | None  # the chosen site; None: no safe site in reach
    site_score: float  # its score (safety 0..1 minus distance and propellant costs); nan without site
    site_propellant_kg: float  # the divert's propellant estimate
    target_safe: bool  # the aim point's own cell is a safe site
    reason: str  # why no site ("" when one was chosen)

    def offset(self, i: int, j: int) -> tuple[float, float]:
        """Where cell (i, j) lies from the point under the lander."""
        return self.origin[0] + i * self.cell_m, self.origin[1] + j * self.cell_m

    def safe_at(self, downrange_m: float, crossrange_m: float) -> bool:
        """The safety map at an offset (False outside the image)."""
        i = round((downrange_m - self.origin[0]) / self.cell_m)
        j = round((crossrange_m - self.origin[1]) / self.cell_m)
        return 0 <= i < self.rows and 0 <= j < self.cols and self.safe[i * self.cols + j]


class _Integral:
    """Summed-area table over a rows x cols grid (row-major), for window sums in four look-ups."""

    __slots__ = ("cols", "table")

    def __init__(self, values: list[float], rows: int, cols: int) -> None:
        w = cols + 1
        table = [0.0] * ((rows + 1) * w)
        for i in range(rows):
            run = 0.0
            base, above, src = (i + 1) * w, i * w, i * cols
            for j in range(cols):
                run += values[src + j]
                table[base + j + 1] = table[above + j + 1] + run
        self.cols = cols
        self.table = table

    def window(self, i0: int, j0: int, i1: int, j1: int) -> float:
        """Sum over rows i0..i1-1, columns j0..j1-1."""
        t, w = self.table, self.cols + 1
        return t[i1 * w + j1] - t[i0 * w + j1] - t[i1 * w + j0] + t[i0 * w + j0]


@dataclass(frozen=True)
class GroundMaps:
    """Per-cell judgement of one image (row after row): steps 1 and 2, before any footprint."""

    rows: int
    cols: int
    slope_deg: list[float]  # of the plane over the footprint about the cell (inf: too few cells)
    roughness_m: list[float]  # RMS residual about that plane (inf: too few cells)
    hazard: list[float]  # 1.0: the cell's own excursion from its plane is a boulder or a pit
    unknown: list[float]  # 1.0: no measurement


def ground_maps(reading: ElevationImageReading, config: HazardConfig | None = None) -> GroundMaps:
    """Steps 1-2: the plane about every cell (over the valid cells within the footprint radius),
    its slope and roughness, and the cell's own excursion from it."""
    cfg = config or HazardConfig()
    rows, cols, cell = reading.rows, reading.cols, reading.cell_m
    n = rows * cols
    heights = reading.heights()
    if n <= 0 or cell <= 0.0:  # no grid to judge: every cell (there are none, or no size) unknown
        n = max(0, n)
        return GroundMaps(max(0, rows), max(0, cols), [math.inf] * n, [math.inf] * n, [0.0] * n, [1.0] * n)
    plane_half = max(1, math.ceil(cfg.footprint_radius_m / cell))
    # Integral images of the plane-fit sums over valid cells (x: row index, y: column index).
    ones, xs, ys, zs, xx, xy, yy, xz, yz, zz = ([0.0] * n for _ in range(10))
    unknown = [0.0] * n
    for k, z in enumerate(heights):
        if z is None:
            unknown[k] = 1.0
            continue
        x, y = divmod(k, cols)
        ones[k], xs[k], ys[k], zs[k] = 1.0, x, y, z
        xx[k], xy[k], yy[k] = x * x, x * y, y * y
        xz[k], yz[k], zz[k] = x * z, y * z, z * z
    tables = [_Integral(v, rows, cols).table for v in (ones, xs, ys, zs, xx, xy, yy, xz, yz, zz)]
    width = cols + 1
    slope = [math.inf] * n
    rough = [math.inf] * n
    hazard = [0.0] * n
    for i in range(rows):
        i0, i1 = max(0, i - plane_half), min(rows, i + plane_half + 1)
        for j in range(cols):
            j0, j1 = max(0, j - plane_half), min(cols, j + plane_half + 1)
            a11, a01, a10, a00 = i1 * width + j1, i0 * width + j1, i1 * width + j0, i0 * width + j0
            fit = _plane([t[a11] - t[a01] - t[a10] + t[a00] for t in tables], i, j)
            if fit is None:
                continue
            a, b, c, rms = fit
            k = i * cols + j
            slope[k] = math.degrees(math.atan(math.hypot(b, c) / cell))
            rough[k] = rms
            z = heights[k]
            if z is not None and (z - a > cfg.bump_limit_m or a - z > cfg.pit_limit_m):
                hazard[k] = 1.0
    return GroundMaps(rows, cols, slope, rough, hazard, unknown)


def margins_in_cells(cell_m: float, config: HazardConfig) -> tuple[int, int]:
    """(keep, spread): how many cells about a site must be free of hazard cells (the footprint
    plus the landing dispersion) and must have good ground (the dispersion alone)."""
    keep = max(1, math.ceil((config.footprint_radius_m + config.landing_dispersion_m) / cell_m))
    spread = max(0, math.ceil(config.landing_dispersion_m / cell_m))
    return keep, spread


def assess(
    reading: ElevationImageReading,
    target_offset: tuple[float, float],
    mass_kg: float,
    config: HazardConfig | None = None,
) -> HazardAssessment:
    """Judge the imaged ground and choose a landing site. ``target_offset``: the aim point from the
    point under the lander (downrange, crossrange), metres."""
    cfg = config or HazardConfig()
    rows, cols, cell = reading.rows, reading.cols, reading.cell_m
    n = rows * cols
    if not reading.valid or n == 0 or cell <= 0.0:
        return _no_site(reading, "invalid image")
    maps = ground_maps(reading, cfg)
    slope, rough, hazard = maps.slope_deg, maps.roughness_m, maps.hazard
    keep_half, spread = margins_in_cells(cell, cfg)
    near_half = max(keep_half, math.ceil(cfg.nearby_radius_factor * cfg.footprint_radius_m / cell))
    hazard_sum = _Integral(hazard, rows, cols)
    unknown_sum = _Integral(maps.unknown, rows, cols)
    # Ground a leg may stand on: slope inside the limit less its margin, roughness inside its limit.
    slope_ok = cfg.slope_limit_deg - cfg.slope_margin_deg
    bad_ground = [0.0 if slope[k] <= slope_ok and rough[k] <= cfg.roughness_limit_m else 1.0 for k in range(n)]
    bad_sum = _Integral(bad_ground, rows, cols)

    # Step 3: the safety map; step 4: the best scored site in reach.
    origin = (reading.origin_downrange_m, reading.origin_crossrange_m)
    unknown_limit = cfg.max_unknown_fraction
    prop_ref = _divert_propellant(cfg.max_divert_m, mass_kg, cfg)
    safe = [False] * n
    best: tuple[float, int, float] | None = None
    for i in range(keep_half, rows - keep_half):
        for j in range(keep_half, cols - keep_half):
            k = i * cols + j
            # Every point the lander may touch down on (the dispersion about the site) is good ground.
            if bad_ground[k] or (spread and bad_sum.window(i - spread, j - spread, i + spread + 1, j + spread + 1)):
                continue
            i0, i1, j0, j1 = i - keep_half, i + keep_half + 1, j - keep_half, j + keep_half + 1
            if hazard_sum.window(i0, j0, i1, j1) > 0.0:
                continue
            unknown_frac = unknown_sum.window(i0, j0, i1, j1) / ((i1 - i0) * (j1 - j0))
            if unknown_frac > unknown_limit:
                continue
            safe[k] = True
            ds, dc = origin[0] + i * cell, origin[1] + j * cell
            if math.hypot(ds, dc) > cfg.max_divert_m:
                continue
            ni0, ni1 = max(0, i - near_half), min(rows, i + near_half + 1)
            nj0, nj1 = max(0, j - near_half), min(cols, j + near_half + 1)
            nearby = hazard_sum.window(ni0, nj0, ni1, nj1) / ((ni1 - ni0) * (nj1 - nj0))
            safety = 1.0 - (0.35 * slope[k] / cfg.slope_limit_deg + 0.25 * rough[k] / cfg.roughness_limit_m
                            + 0.25 * min(1.0, 10.0 * nearby) + 0.15 * unknown_frac / max(1e-9, unknown_limit))
            from_target = math.hypot(ds - target_offset[0], dc - target_offset[1])
            propellant = _divert_propellant(math.hypot(ds, dc), mass_kg, cfg)
            score = (safety - cfg.distance_weight * from_target / cfg.max_divert_m
                     - cfg.propellant_weight * propellant / max(1e-9, prop_ref))
            if best is None or score > best[0]:
                best = (score, k, propellant)

    hazards = int(sum(hazard))
    unknowns = int(sum(maps.unknown))
    site: tuple[float, float] | None = None
    score, propellant, reason = math.nan, 0.0, "no safe site within reach"
    if best is not None:
        score, k, propellant = best
        bi, bj = divmod(k, cols)
        site, reason = (origin[0] + bi * cell, origin[1] + bj * cell), ""
    result = HazardAssessment(reading.t, rows, cols, cell, origin, unknowns, hazards, n - sum(safe), tuple(safe),
                              site, score, propellant, False, reason)
    return replace(result, target_safe=result.safe_at(*target_offset))


def least_bad_site(
    reading: ElevationImageReading, target_offset: tuple[float, float], config: HazardConfig | None = None
) -> tuple[tuple[float, float], str] | None:
    """When no site is safe: the footprint within the divert reach with the least bad ground (slope
    and roughness against their limits, hazard and unknown cells under it), rather than the blind aim.
    Returns the site and why it is still bad, or None without a usable image."""
    cfg = config or HazardConfig()
    rows, cols, cell = reading.rows, reading.cols, reading.cell_m
    if not reading.valid or rows * cols <= 0 or cell <= 0.0:
        return None
    maps = ground_maps(reading, cfg)
    keep_half, spread = margins_in_cells(cell, cfg)
    hazard_sum = _Integral(maps.hazard, rows, cols)
    unknown_sum = _Integral(maps.unknown, rows, cols)
    origin = (reading.origin_downrange_m, reading.origin_crossrange_m)
    best: tuple[float, int, float, float] | None = None
    for i in range(keep_half, rows - keep_half):
        for j in range(keep_half, cols - keep_half):
            ds, dc = origin[0] + i * cell, origin[1] + j * cell
            if math.hypot(ds, dc) > cfg.max_divert_m:
                continue
            # The worst slope where it may touch down (the dispersion about the site).
            worst = max(maps.slope_deg[a * cols + b] for a in range(i - spread, i + spread + 1)
                        for b in range(j - spread, j + spread + 1))
            k = i * cols + j
            i0, i1, j0, j1 = i - keep_half, i + keep_half + 1, j - keep_half, j + keep_half + 1
            hazards = hazard_sum.window(i0, j0, i1, j1)
            unknown = unknown_sum.window(i0, j0, i1, j1) / ((i1 - i0) * (j1 - j0))
            badness = (worst / cfg.slope_limit_deg + maps.roughness_m[k] / cfg.roughness_limit_m + 0.5 * hazards
                       + unknown / max(1e-9, cfg.max_unknown_fraction)
                       + 0.1 * math.hypot(ds - target_offset[0], dc - target_offset[1]) / cfg.max_divert_m)
            if math.isfinite(badness) and (best is None or badness < best[0]):
                best = (badness, k, worst, hazards)
    if best is None:
        return None
    _, k, worst, hazards = best
    bi, bj = divmod(k, cols)
    return (origin[0] + bi * cell, origin[1] + bj * cell), f"slope up to {worst:.1f} deg, {hazards:.0f} hazard cells"


def _plane(sums: list[float], ci: int, cj: int) -> tuple[float, float, float, float] | None:
    """Least-squares plane from a window's sums over its valid cells (count, x, y, z, xx, xy, yy,
    xz, yz, zz), about the cell (ci, cj): its height there, its gradients per cell (rows, columns)
    and the RMS residual; None when too few cells."""
    s1, sx, sy, sz, sxx, sxy, syy, sxz, syz, szz = sums
    if s1 < 6:
        return None
    # Centre on the cell: u = x - ci, v = y - cj.
    su, sv = sx - ci * s1, sy - cj * s1
    suu = sxx - 2 * ci * sx + ci * ci * s1
    svv = syy - 2 * cj * sy + cj * cj * s1
    suv = sxy - ci * sy - cj * sx + ci * cj * s1
    suz, svz = sxz - ci * sz, syz - cj * sz
    # Normal equations [s1 su sv; su suu suv; sv suv svv] (a b c) = (sz suz svz), by Cramer's rule.
    det = s1 * (suu * svv - suv * suv) - su * (su * svv - suv * sv) + sv * (su * suv - suu * sv)
    if abs(det) < 1e-9:
        return None
    a = (sz * (suu * svv - suv * suv) - su * (suz * svv - suv * svz) + sv * (suz * suv - suu * svz)) / det
    b = (s1 * (suz * svv - svz * suv) - sz * (su * svv - suv * sv) + sv * (su * svz - suz * sv)) / det
    c = (s1 * (suu * svz - suv * suz) - su * (su * svz - suz * sv) + sz * (su * suv - suu * sv)) / det
    # Residual sum of squares of a least-squares fit: szz - (a sz + b suz + c svz).
    rss = max(0.0, szz - (a * sz + b * suz + c * svz))
    return a, b, c, math.sqrt(rss / s1)


def _divert_propellant(distance_m: float, mass_kg: float, cfg: HazardConfig) -> float:
    """Propellant of a rest-to-rest divert over ``distance_m`` in the avoidance time: E-guidance's
    acceleration 6d/T^2 (1 - 2t/T) integrates to a delta-v of 3d/T (hover thrust is spent anyway)."""
    dv = 3.0 * distance_m / cfg.divert_time_s
    return mass_kg * (1.0 - math.exp(-dv / cfg.exhaust_velocity_m_s))


def _no_site(reading: ElevationImageReading, reason: str) -> HazardAssessment:
    n = max(0, reading.rows * reading.cols)
    return HazardAssessment(reading.t, reading.rows, reading.cols, reading.cell_m,
                            (reading.origin_downrange_m, reading.origin_crossrange_m), n, 0, n, (False,) * n, None,
                            math.nan, 0.0, False, reason)
