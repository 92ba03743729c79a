"""The detector's margins: sites are kept a landing dispersion away from hazard cells and from
ground too steep or rough, and inside the slope limit by the plane fit's margin."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from fsw.devices.descent import ElevationImageReading, pack_heights
from fsw.gnc.hazard import HazardConfig, assess, ground_maps, margins_in_cells
from tests.fsw.gnc.test_hazard import CELL, HALF, MASS, N, image, safe_offsets

CONFIG = HazardConfig()


def kinked(steep_deg: float, kink_m: float = 0.0, seed: int = 2) -> ElevationImageReading:
    """Level ground up to ``kink_m`` downrange, rising at ``steep_deg`` beyond (a crater wall, say)."""
    rng = random.Random(seed)
    grade = math.tan(math.radians(steep_deg))
    heights: list[float | None] = []
    for i in range(N):
        for _ in range(N):
            s = -HALF + i * CELL
            heights.append(-100.0 + grade * max(0.0, s - kink_m) + rng.gauss(0.0, 0.02))
    return ElevationImageReading(3.0, N, N, CELL, -HALF, -HALF, 0.01, pack_heights(heights, 0.01), True)


@pytest.mark.parametrize(("slope_deg", "margin_deg", "safe"), [(6.0, 1.0, True), (7.5, 1.0, False), (7.5, 0.0, True)])
def test_a_slope_just_inside_the_limit_is_kept_off_by_the_margin(slope_deg: float, margin_deg: float,
                                                                 safe: bool) -> None:
    config = replace(CONFIG, slope_margin_deg=margin_deg)
    found = assess(image(slope_deg=slope_deg, noise=0.02, dropout=0.0), (0.0, 0.0), MASS, config)
    assert (found.site is not None) is safe
    assert found.target_safe is safe


def test_no_site_has_steep_ground_within_the_landing_dispersion() -> None:
    reading = kinked(14.0)
    maps = ground_maps(reading, CONFIG)
    limit = CONFIG.slope_limit_deg - CONFIG.slope_margin_deg
    steep = [divmod(k, N) for k, slope in enumerate(maps.slope_deg) if slope > limit]
    assert steep  # the wall is seen
    found = assess(reading, (0.0, 0.0), MASS, CONFIG)
    safe = [divmod(k, N) for k, ok in enumerate(found.safe) if ok]
    assert safe
    for i, j in safe:  # every point the lander may come down on is good ground
        assert min(math.hypot(i - si, j - sj) for si, sj in steep) * CELL > CONFIG.landing_dispersion_m
    # The safe area's edge towards the wall moves back by the dispersion (one cell of rounding).
    tight = assess(reading, (0.0, 0.0), MASS, replace(CONFIG, landing_dispersion_m=0.0))
    edge = max(s for s, _ in safe_offsets(found))
    tight_edge = max(s for s, _ in safe_offsets(tight))
    assert tight_edge - edge >= CONFIG.landing_dispersion_m - CELL


def test_hazard_cells_are_kept_a_footprint_and_a_dispersion_away() -> None:
    rock = (2.0, 1.0, 1.0, 0.5)
    found = assess(image(rocks=(rock,)), (2.0, 1.0), MASS, CONFIG)
    assert found.site is not None and not found.target_safe
    clearance = CONFIG.footprint_radius_m + CONFIG.landing_dispersion_m
    assert all(math.hypot(s - rock[0], c - rock[1]) >= clearance for s, c in safe_offsets(found))
    keep, spread = margins_in_cells(CELL, CONFIG)
    assert keep * CELL >= clearance and spread * CELL >= CONFIG.landing_dispersion_m


def test_wider_margins_cost_little_judging_time() -> None:
    # docs/gnc.md gives the CPU per 64 x 64 image; this only guards against a many-fold regression.
    import time

    reading = image(rocks=((3.0, 3.0, 1.0, 0.5),))
    start = time.process_time()
    for _ in range(3):
        assess(reading, (0.0, 0.0), MASS, CONFIG)
    assert (time.process_time() - start) / 3 < 0.5


def test_ground_maps_of_an_image_without_a_grid_are_empty_not_an_error() -> None:
    empty = ground_maps(ElevationImageReading(1.0, 0, 0, 0.0, 0.0, 0.0, 0.01, b"", False))
    assert empty.slope_deg == [] and empty.hazard == []
    sizeless = ground_maps(ElevationImageReading(1.0, 2, 2, 0.0, 0.0, 0.0, 0.01, b"\x00" * 8, True))
    assert sizeless.unknown == [1.0] * 4 and sizeless.slope_deg == [math.inf] * 4
