"""On-board hazard mapping and path planning.

Hazards from the stereo elevation image: a cell standing above the local ground (the median of the
cells around it) by more than the rock limit is a rock; a local slope steeper than the slope limit
is a slope hazard; roughness (the spread of heights around a cell) costs. Hazards go into a grid in
the site frame; every cell within the rover's half width plus a margin of a hazard is closed.

Planning is A* on that grid (8-connected), cost = distance x (1 + roughness weight x roughness +
slope weight x slope), closed cells impassable, unseen cells at the cost of level ground (the
path is re-planned as images come in).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from fsw.devices.rover import NO_MATCH_MM, ElevationImage

CELL_M = 0.4
INFLATE_M = 1.3  # half the rover's width, a margin and the grid's quantisation [est. for a 1 m wide rover]
MAX_EXPANSIONS = 60_000
GOAL_SLACK_M = 2.0  # how far from a waypoint on a hazard the rover may stop instead


@dataclass(frozen=True)
class HazardLimits:
    rock_m: float = 0.15  # below the 0.2 m clearance, with stereo noise [est.]
    slope_deg: float = 20.0  # [est. Yutu-2 class climbing limit]
    window: int = 3  # cells each side for the local ground
    baseline: int = 2  # cells each side for the slope


@dataclass(frozen=True)
class Detection:
    east_m: float
    north_m: float
    kind: str  # "rock" or "slope"
    size_m: float  # height above the local ground, or the slope in degrees


def detect(image: ElevationImage, east: float, north: float, heading: float,
           limits: HazardLimits) -> tuple[list[Detection], dict[tuple[float, float], float]]:
    """Hazards in site coordinates, and the roughness (m) of every cell seen. The local ground is the
    median of the heights around a cell (rocks stand out of it); slopes are taken on that ground
    over a baseline of a rover's half length, so that a small rock's flank is not a slope."""
    rows, cols, cell = image.rows, image.cols, image.cell_m
    heights = [[None if value == NO_MATCH_MM else value / 1000.0 for value in image.heights_mm[r * cols:(r + 1) * cols]]
               for r in range(rows)]
    w = limits.window
    ground: list[list[float | None]] = [[None] * cols for _ in range(rows)]
    spread: list[list[float]] = [[0.0] * cols for _ in range(rows)]
    for i in range(rows):
        band = heights[max(0, i - w):i + w + 1]
        # The band's valid heights column by column, so that a cell's window is a few list joins.
        columns = [[x for x in column if x is not None] for column in zip(*band, strict=True)]
        line = heights[i]
        for j in range(cols):
            if line[j] is None:
                continue
            valid = []
            for column in columns[max(0, j - w):j + w + 1]:
                valid += column
            # One sort gives the median and the spread (the rover judges every image it takes).
            valid.sort()
            n = len(valid)
            ground[i][j] = valid[n // 2] if n % 2 else (valid[n // 2 - 1] + valid[n // 2]) / 2
            spread[i][j] = valid[-1] - valid[0]
    c, s = math.cos(heading), math.sin(heading)
    found: list[Detection] = []
    roughness: dict[tuple[float, float], float] = {}
    k = limits.baseline
    for i in range(rows):
        for j in range(cols):
            h, g = heights[i][j], ground[i][j]
            if h is None or g is None:
                continue
            forward = image.near_m + i * cell
            left = (j - (cols - 1) / 2) * cell
            site = (east + forward * c - left * s, north + forward * s + left * c)
            roughness[site] = spread[i][j]
            whole = w <= i < rows - w and w <= j < cols - w  # a clipped window's median leans on a slope
            if whole and h - g > limits.rock_m:
                found.append(Detection(*site, "rock", round(h - g, 3)))
                continue
            if k <= i < rows - k and k <= j < cols - k:
                ahead, behind, lft, rgt = ground[i + k][j], ground[i - k][j], ground[i][j + k], ground[i][j - k]
                if ahead is None or behind is None or lft is None or rgt is None:
                    continue
                slope = math.degrees(math.atan(math.hypot(ahead - behind, lft - rgt) / (2 * k * cell)))
                if slope > limits.slope_deg:
                    found.append(Detection(*site, "slope", round(slope, 1)))
    return found, roughness


def cell_of(east: float, north: float) -> tuple[int, int]:
    return math.floor(east / CELL_M + 0.5), math.floor(north / CELL_M + 0.5)


def centre(cell: tuple[int, int]) -> tuple[float, float]:
    return cell[0] * CELL_M, cell[1] * CELL_M


@dataclass
class HazardMap:
    """Closed cells (hazards, inflated) and roughness per cell, in the site frame."""

    closed: set[tuple[int, int]] = field(default_factory=set)
    rough: dict[tuple[int, int], float] = field(default_factory=dict)
    hazards: list[Detection] = field(default_factory=list)

    def add(self, detections: list[Detection], roughness: dict[tuple[float, float], float]) -> int:
        """Take an image's findings; returns how many newly closed cells there are."""
        before = len(self.closed)
        reach = math.ceil(INFLATE_M / CELL_M)
        for detection in detections:
            ci, cj = cell_of(detection.east_m, detection.north_m)
            if (ci, cj) not in self.closed:
                self.hazards.append(detection)
            for di in range(-reach, reach + 1):
                for dj in range(-reach, reach + 1):
                    if math.hypot(di, dj) * CELL_M <= INFLATE_M:
                        self.closed.add((ci + di, cj + dj))
        for (e, n), value in roughness.items():
            key = cell_of(e, n)
            self.rough[key] = max(self.rough.get(key, 0.0), value)
        return len(self.closed) - before

    def close_around(self, east: float, north: float, radius_m: float) -> None:
        """Close a disc (a place the wheels could not cross, such as a sand trap)."""
        ci, cj = cell_of(east, north)
        reach = math.ceil(radius_m / CELL_M)
        for di in range(-reach, reach + 1):
            for dj in range(-reach, reach + 1):
                if math.hypot(di, dj) * CELL_M <= radius_m:
                    self.closed.add((ci + di, cj + dj))

    def blocked(self, east: float, north: float) -> bool:
        return cell_of(east, north) in self.closed


def plan(grid: HazardMap, start: tuple[float, float], goal: tuple[float, float],
         roughness_weight: float = 5.0) -> list[tuple[float, float]] | None:
    """A* from ``start`` to ``goal`` (site metres); the path as cell centres, or None when closed off.
    The start cell is never closed (the rover stands there)."""
    s, g = cell_of(*start), cell_of(*goal)
    if g in grid.closed:  # a hazard on the waypoint itself: stop as near as the map allows
        reach = math.ceil(GOAL_SLACK_M / CELL_M)
        nearby = [(math.hypot(di, dj), (g[0] + di, g[1] + dj)) for di in range(-reach, reach + 1)
                  for dj in range(-reach, reach + 1) if math.hypot(di, dj) * CELL_M <= GOAL_SLACK_M]
        open_cells = [cell for _, cell in sorted(nearby) if cell not in grid.closed]
        if not open_cells:
            return None
        g = open_cells[0]
    open_heap: list[tuple[float, float, tuple[int, int]]] = [(0.0, 0.0, s)]
    came: dict[tuple[int, int], tuple[int, int]] = {}
    best: dict[tuple[int, int], float] = {s: 0.0}
    expansions = 0
    steps = [(di, dj, math.hypot(di, dj)) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]
    while open_heap:
        _, cost, here = heapq.heappop(open_heap)
        if here == g:
            path = [here]
            while here in came:
                here = came[here]
                path.append(here)
            return [centre(cell) for cell in reversed(path)]
        if cost > best.get(here, math.inf):
            continue
        expansions += 1
        if expansions > MAX_EXPANSIONS:
            return None
        for di, dj, length in steps:
            nxt = (here[0] + di, here[1] + dj)
            if nxt in grid.closed and nxt != s:
                continue
            new = cost + length * (1.0 + roughness_weight * grid.rough.get(nxt, 0.0))
            if new < best.get(nxt, math.inf):
                best[nxt] = new
                came[nxt] = here
                heapq.heappush(open_heap, (new + math.hypot(g[0] - nxt[0], g[1] - nxt[1]), new, nxt))
    return None


def simplify(path: list[tuple[float, float]], grid: HazardMap) -> list[tuple[float, float]]:
    """Drop intermediate points where the straight line between the neighbours stays on open cells."""
    if len(path) <= 2:
        return path
    out = [path[0]]
    anchor = 0
    for k in range(2, len(path)):
        if not _clear(path[anchor], path[k], grid):
            out.append(path[k - 1])
            anchor = k - 1
    out.append(path[-1])
    return out[1:] if len(out) > 1 else out


def _clear(a: tuple[float, float], b: tuple[float, float], grid: HazardMap) -> bool:
    steps = max(1, int(math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL_M / 2)))
    return not any(grid.blocked(a[0] + (b[0] - a[0]) * k / steps, a[1] + (b[1] - a[1]) * k / steps)
                   for k in range(1, steps + 1))
