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
from typing import Any

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
    """Summed-area table over a rows x cols grid (row-major), for window sums in four look-ups. Built a
    band of rows at a time, in order."""

    __slots__ = ("cols", "table")

    def __init__(self, rows: int, cols: int) -> None:
        self.cols = cols
        self.table = [0.0] * ((rows + 1) * (cols + 1))

    def add_rows(self, values: list[float], i0: int, i1: int) -> None:
        """Rows i0..i1-1 of ``values`` (the rows above i0 are in already)."""
        cols, w, table = self.cols, self.cols + 1, self.table
        for i in range(i0, i1):
            run = 0.0
            base, above, src = (i + 1) * w, i * w, i * cols
            for j in range(cols):
                run += values[src + j]
                table[base + j + 1] = table[above + j + 1] + run

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


def margins_in_cells(cell_m: float, config: HazardConfig) -> tuple[int, int]:
    """(keep, spread): how many cells about a site must be free of hazard cells (the footprint
    plus the landing dispersion) and must have good ground (the dispersion alone)."""
    keep = max(1, math.ceil((config.footprint_radius_m + config.landing_dispersion_m) / cell_m))
    spread = max(0, math.ceil(config.landing_dispersion_m / cell_m))
    return keep, spread


def ground_maps(reading: ElevationImageReading, config: HazardConfig | None = None) -> GroundMaps:
    """Steps 1-2: the plane about every cell (over the valid cells within the footprint radius),
    its slope and roughness, and the cell's own excursion from it."""
    rows, cols = reading.rows, reading.cols
    if rows * cols <= 0 or reading.cell_m <= 0.0:  # no grid to judge: every cell (if any) unknown
        n = max(0, rows * cols)
        return GroundMaps(max(0, rows), max(0, cols), [math.inf] * n, [math.inf] * n, [0.0] * n, [1.0] * n)
    return HazardJudgement(reading, (0.0, 0.0), 0.0, config, choose_site=False).run().maps()


def assess(
    reading: ElevationImageReading,
    target_offset: tuple[float, float],
    mass_kg: float,
    config: HazardConfig | None = None,
) -> HazardAssessment:
    """Judge the imaged ground and choose a landing site, all at once. ``target_offset``: the aim
    point from the point under the lander (downrange, crossrange), metres."""
    return HazardJudgement(reading, target_offset, mass_kg, config).run().assessment()


def least_bad_site(
    reading: ElevationImageReading, target_offset: tuple[float, float], config: HazardConfig | None = None
) -> tuple[tuple[float, float], str] | None:
    """When no site is safe: the footprint within the divert reach with the least bad ground (slope
    and roughness against their limits, hazard and unknown cells under it), rather than the blind aim.
    Returns the site and why it is still bad, or None without a usable image."""
    return HazardJudgement(reading, target_offset, 0.0, config, choose_site=False, least_bad=True).run().fallback()


#: [est.] what one cell costs in each step of the judgement, in microseconds of CPU on the bench host
#: (measured by ``python -m tests.bench.bench_hazard`` on an idle host: ~3.0, ~8.5, ~0.9, ~2.2 and
#: ~6.1; the site search is weighted for ground that is mostly safe, where each cell does the whole test).
STEP_COST = {"sums": 3, "planes": 8, "ground": 1, "sites": 3, "least_bad": 6}
#: [est.] the cost one :meth:`HazardJudgement.step` does: ~3 ms of CPU, a small share of a 20 ms
#: (50 Hz) cycle, so a 128 x 128 image is judged over ~80-110 cycles (~2 s of hover).
WORK_PER_STEP = 3_000


class HazardJudgement:
    """One elevation image judged a band of rows at a time, so the control cycle that carries the
    judgement keeps its period: each :meth:`step` does about :data:`WORK_PER_STEP` of work, counted
    in :data:`STEP_COST` per cell (fixed by the image's size, never by a clock: the same image takes
    the same steps on every host). :func:`assess` runs one to the end at once.

    The steps: the plane-fit sums and their integral images, the plane about every cell, the ground
    a leg may stand on with its integral images, the safety map and the best site, and, on request,
    the least-bad site. A checkpoint (pickle) keeps the inputs only: a restored judgement starts
    again from its image, deterministically."""

    steps: int  # steps taken
    _stage: int  # index into _stages
    _row: int  # next row of the current stage

    def __init__(self, reading: ElevationImageReading, target_offset: tuple[float, float], mass_kg: float,
                 config: HazardConfig | None = None, *, choose_site: bool = True, least_bad: bool = False,
                 work_per_step: int = WORK_PER_STEP) -> None:
        self.reading = reading
        self.target_offset = target_offset
        self.mass_kg = mass_kg
        self.config = config or HazardConfig()
        self.choose_site = choose_site  # steps 3-4 (else the ground maps and, on request, the least-bad site)
        self.least_bad = least_bad  # the least-bad site when no site is safe (or always, without choose_site)
        self.work_per_step = max(1, work_per_step)
        self._start()

    def __getstate__(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in
                ("reading", "target_offset", "mass_kg", "config", "choose_site", "least_bad", "work_per_step")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start()

    # ------------------------------------------------------------------ progress

    @property
    def done(self) -> bool:
        return self._stage >= len(self._stages)

    def step(self) -> bool:
        """One band of work; True when the judgement is complete."""
        budget = self.work_per_step
        while not self.done and budget > 0:
            name, first, end = self._stages[self._stage]
            row = max(first, self._row)
            per_row = max(1, self.reading.cols * STEP_COST[name])
            band = max(1, min(end - row, budget // per_row))
            if row < end:
                getattr(self, "_" + name)(row, row + band)
                budget -= band * per_row
            self._row = row + band
            if self._row >= end:
                self._next_stage()
        self.steps += 1
        return self.done

    def run(self) -> HazardJudgement:
        """Every remaining step at once."""
        while not self.step():
            pass
        return self

    def maps(self) -> GroundMaps:
        assert self.done
        return GroundMaps(self.reading.rows, self.reading.cols, self._slope, self._rough, self._hazard, self._unknown)

    def assessment(self) -> HazardAssessment:
        """The safety map and the chosen site (after the last step)."""
        assert self.done and self.choose_site
        reading = self.reading
        if not self._usable:
            return _no_site(reading, "invalid image")
        rows, cols, cell = reading.rows, reading.cols, reading.cell_m
        origin = (reading.origin_downrange_m, reading.origin_crossrange_m)
        site: tuple[float, float] | None = None
        score, propellant, reason = math.nan, 0.0, "no safe site within reach"
        if self._best is not None:
            score, k, propellant = self._best
            bi, bj = divmod(k, cols)
            site, reason = (origin[0] + bi * cell, origin[1] + bj * cell), ""
        result = HazardAssessment(reading.t, rows, cols, cell, origin, int(sum(self._unknown)), int(sum(self._hazard)),
                                  rows * cols - sum(self._safe), tuple(self._safe), site, score, propellant, False,
                                  reason)
        return replace(result, target_safe=result.safe_at(*self.target_offset))

    def fallback(self) -> tuple[tuple[float, float], str] | None:
        """The least-bad site and why it is still bad (None: not asked for, a safe site exists, or no
        usable image)."""
        assert self.done
        if self._least is None:
            return None
        _, k, worst, hazards = self._least
        bi, bj = divmod(k, self.reading.cols)
        r = self.reading
        site = (r.origin_downrange_m + bi * r.cell_m, r.origin_crossrange_m + bj * r.cell_m)
        return site, f"slope up to {worst:.1f} deg, {hazards:.0f} hazard cells"

    def _start(self) -> None:
        reading, cfg = self.reading, self.config
        rows, cols, cell = reading.rows, reading.cols, reading.cell_m
        n = max(0, rows * cols)
        self.steps = 0
        self._stage = 0
        self._row = 0
        self._best: tuple[float, int, float] | None = None
        self._least: tuple[float, int, float, float] | None = None
        self._safe = [False] * n
        self._slope, self._rough = [math.inf] * n, [math.inf] * n
        self._hazard, self._unknown = [0.0] * n, [1.0] * n
        grid = n > 0 and cell > 0.0
        self._usable = grid and reading.valid
        if not grid or (not self._usable and (self.choose_site or self.least_bad)):
            self._stages: list[tuple[str, int, int]] = []
            return
        self._heights = reading.heights()
        self._plane_half = max(1, math.ceil(cfg.footprint_radius_m / cell))
        self._keep, self._spread = margins_in_cells(cell, cfg)
        self._near = max(self._keep, math.ceil(cfg.nearby_radius_factor * cfg.footprint_radius_m / cell))
        self._cell_sums = [[0.0] * n for _ in range(10)]
        self._tables = [_Integral(rows, cols) for _ in range(10)]
        self._stages = [("sums", 0, rows), ("planes", 0, rows)]
        if self.choose_site or self.least_bad:
            self._bad = [1.0] * n
            self._hazard_sum, self._unknown_sum, self._bad_sum = (_Integral(rows, cols) for _ in range(3))
            self._stages.append(("ground", 0, rows))
        if self.choose_site:
            self._stages.append(("sites", self._keep, rows - self._keep))
        elif self.least_bad:
            self._stages.append(("least_bad", self._keep, rows - self._keep))

    def _next_stage(self) -> None:
        self._stage += 1
        self._row = 0
        if self.done and self.choose_site and self.least_bad and self._best is None and self._stages[-1][0] == "sites":
            self._stages.append(("least_bad", self._keep, self.reading.rows - self._keep))

    # ------------------------------------------------------------------ the steps, by rows i0..i1-1

    def _sums(self, i0: int, i1: int) -> None:
        """Step 1's per-cell sums over valid cells (x: row index, y: column index), and their integral rows."""
        cols, heights, unknown = self.reading.cols, self._heights, self._unknown
        ones, xs, ys, zs, xx, xy, yy, xz, yz, zz = self._cell_sums
        for k in range(i0 * cols, i1 * cols):
            z = heights[k]
            if z is None:
                continue
            unknown[k] = 0.0
            x, y = divmod(k, cols)
            ones[k], xs[k], ys[k], zs[k] = 1.0, x, y, z
            xx[k], xy[k], yy[k] = x * x, x * y, y * y
            xz[k], yz[k], zz[k] = x * z, y * z, z * z
        for table, values in zip(self._tables, self._cell_sums, strict=True):
            table.add_rows(values, i0, i1)

    def _planes(self, i0: int, i1: int) -> None:
        """Steps 1-2 for the cells of rows i0..i1-1: the plane, its slope and roughness, the excursion."""
        cfg, rows, cols, cell = self.config, self.reading.rows, self.reading.cols, self.reading.cell_m
        half, heights = self._plane_half, self._heights
        tables = [table.table for table in self._tables]
        width = cols + 1
        for i in range(i0, i1):
            r0, r1 = max(0, i - half), min(rows, i + half + 1)
            for j in range(cols):
                c0, c1 = max(0, j - half), min(cols, j + half + 1)
                a11, a01, a10, a00 = r1 * width + c1, r0 * width + c1, r1 * width + c0, r0 * width + c0
                fit = _plane([t[a11] - t[a01] - t[a10] + t[a00] for t in tables], i, j)
                if fit is None:
                    continue
                a, b, c, rms = fit
                k = i * cols + j
                self._slope[k] = math.degrees(math.atan(math.hypot(b, c) / cell))
                self._rough[k] = rms
                z = heights[k]
                if z is not None and (z - a > cfg.bump_limit_m or a - z > cfg.pit_limit_m):
                    self._hazard[k] = 1.0

    def _ground(self, i0: int, i1: int) -> None:
        """Ground a leg may stand on (slope inside the limit less its margin, roughness inside its
        limit), and the integral rows of the hazard, unknown and bad-ground maps."""
        cfg, cols = self.config, self.reading.cols
        slope_ok = cfg.slope_limit_deg - cfg.slope_margin_deg
        for k in range(i0 * cols, i1 * cols):
            if self._slope[k] <= slope_ok and self._rough[k] <= cfg.roughness_limit_m:
                self._bad[k] = 0.0
        self._hazard_sum.add_rows(self._hazard, i0, i1)
        self._unknown_sum.add_rows(self._unknown, i0, i1)
        self._bad_sum.add_rows(self._bad, i0, i1)

    def _sites(self, i0: int, i1: int) -> None:
        """Step 3 (the safety map) and step 4 (the best scored site in reach) for rows i0..i1-1."""
        cfg, reading = self.config, self.reading
        rows, cols, cell = reading.rows, reading.cols, reading.cell_m
        origin = (reading.origin_downrange_m, reading.origin_crossrange_m)
        keep, spread, near = self._keep, self._spread, self._near
        slope, rough, bad, safe = self._slope, self._rough, self._bad, self._safe
        hazard_sum, unknown_sum, bad_sum = self._hazard_sum, self._unknown_sum, self._bad_sum
        unknown_limit = cfg.max_unknown_fraction
        prop_ref = _divert_propellant(cfg.max_divert_m, self.mass_kg, cfg)
        target = self.target_offset
        for i in range(i0, i1):
            for j in range(keep, cols - keep):
                k = i * cols + j
                # Every point the lander may touch down on (the dispersion about the site) is good ground.
                if bad[k] or (spread and bad_sum.window(i - spread, j - spread, i + spread + 1, j + spread + 1)):
                    continue
                r0, r1, c0, c1 = i - keep, i + keep + 1, j - keep, j + keep + 1
                if hazard_sum.window(r0, c0, r1, c1) > 0.0:
                    continue
                unknown_frac = unknown_sum.window(r0, c0, r1, c1) / ((r1 - r0) * (c1 - c0))
                if unknown_frac > unknown_limit:
                    continue
                safe[k] = True
                ds, dc = origin[0] + i * cell, origin[1] + j * cell
                if math.hypot(ds, dc) > cfg.max_divert_m:
                    continue
                n0, n1 = max(0, i - near), min(rows, i + near + 1)
                m0, m1 = max(0, j - near), min(cols, j + near + 1)
                nearby = hazard_sum.window(n0, m0, n1, m1) / ((n1 - n0) * (m1 - m0))
                safety = 1.0 - (0.35 * slope[k] / cfg.slope_limit_deg + 0.25 * rough[k] / cfg.roughness_limit_m
                                + 0.25 * min(1.0, 10.0 * nearby) + 0.15 * unknown_frac / max(1e-9, unknown_limit))
                from_target = math.hypot(ds - target[0], dc - target[1])
                propellant = _divert_propellant(math.hypot(ds, dc), self.mass_kg, cfg)
                score = (safety - cfg.distance_weight * from_target / cfg.max_divert_m
                         - cfg.propellant_weight * propellant / max(1e-9, prop_ref))
                if self._best is None or score > self._best[0]:
                    self._best = (score, k, propellant)

    def _least_bad(self, i0: int, i1: int) -> None:
        """The least-bad footprint in reach over rows i0..i1-1: the worst slope where it may touch
        down (the dispersion about the site), its roughness, hazard and unknown cells, its distance."""
        cfg, reading = self.config, self.reading
        cols, cell = reading.cols, reading.cell_m
        origin = (reading.origin_downrange_m, reading.origin_crossrange_m)
        keep, spread, slope = self._keep, self._spread, self._slope
        target = self.target_offset
        for i in range(i0, i1):
            for j in range(keep, cols - keep):
                ds, dc = origin[0] + i * cell, origin[1] + j * cell
                if math.hypot(ds, dc) > cfg.max_divert_m:
                    continue
                worst = max(slope[a * cols + b] for a in range(i - spread, i + spread + 1)
                            for b in range(j - spread, j + spread + 1))
                k = i * cols + j
                r0, r1, c0, c1 = i - keep, i + keep + 1, j - keep, j + keep + 1
                hazards = self._hazard_sum.window(r0, c0, r1, c1)
                unknown = self._unknown_sum.window(r0, c0, r1, c1) / ((r1 - r0) * (c1 - c0))
                badness = (worst / cfg.slope_limit_deg + self._rough[k] / cfg.roughness_limit_m + 0.5 * hazards
                           + unknown / max(1e-9, cfg.max_unknown_fraction)
                           + 0.1 * math.hypot(ds - target[0], dc - target[1]) / cfg.max_divert_m)
                if math.isfinite(badness) and (self._least is None or badness < self._least[0]):
                    self._least = (badness, k, worst, hazards)

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
