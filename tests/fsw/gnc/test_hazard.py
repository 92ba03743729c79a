"""The on-board hazard detector on synthetic elevation images whose hazards are known."""

from __future__ import annotations

import math
import random

import pytest

from fsw.devices.descent import ElevationImageReading, pack_heights
from fsw.gnc.hazard import STEP_COST, WORK_PER_STEP, HazardConfig, HazardJudgement, assess, margins_in_cells

N = 64
CELL = 0.78
HALF = (N - 1) / 2 * CELL
FOOTPRINT = HazardConfig().footprint_radius_m
MASS = 1_900.0

Rock = tuple[float, float, float, float]  # (downrange, crossrange, radius, height); negative height: a pit


def image(*, slope_deg: float = 0.0, rocks: tuple[Rock, ...] = (), noise: float = 0.05, dropout: float = 0.02,
          unknown_box: tuple[float, float, float, float] | None = None, seed: int = 1, cells: int = N,
          cell_m: float = CELL) -> ElevationImageReading:
    """An image of ``cells`` x ``cells`` (64 x 64 by default) from 100 m over a tilted plane with
    paraboloid rocks (or pits) at known offsets."""
    rng = random.Random(seed)
    grade = math.tan(math.radians(slope_deg))
    half = (cells - 1) / 2 * cell_m
    heights: list[float | None] = []
    for i in range(cells):
        for j in range(cells):
            s, c = -half + i * cell_m, -half + j * cell_m
            z = -100.0 + grade * s
            for rs, rc, radius, height in rocks:
                q = ((s - rs) ** 2 + (c - rc) ** 2) / (radius * radius)
                if q < 1.0:
                    z += height * (1.0 - q)
            inside_box = unknown_box is not None and unknown_box[0] <= s <= unknown_box[1] and \
                unknown_box[2] <= c <= unknown_box[3]
            lost = rng.random() < dropout
            heights.append(None if inside_box or lost else z + rng.gauss(0.0, noise))
    return ElevationImageReading(12.0, cells, cells, cell_m, -half, -half, 0.01, pack_heights(heights, 0.01), True)


def footprint_touches(site: tuple[float, float], rock: Rock) -> bool:
    return math.hypot(site[0] - rock[0], site[1] - rock[1]) < rock[2] + FOOTPRINT


def safe_offsets(found) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [found.offset(*divmod(k, found.cols)) for k, ok in enumerate(found.safe) if ok]


def test_level_ground_with_noise_and_dropouts_is_safe_and_the_aim_is_kept() -> None:
    found = assess(image(), (0.0, 0.0), MASS)
    assert found.hazard_cells <= 2  # 4-sigma noise spikes at most
    assert found.target_safe
    assert found.site is not None and math.hypot(*found.site) < 1.5 * CELL
    assert found.reason == ""
    assert 0.02 * N * N * 0.5 < found.unknown_cells < 0.02 * N * N * 1.5


def test_a_boulder_above_the_limit_is_found_and_no_safe_footprint_touches_it() -> None:
    rock = (3.0, -2.0, 0.8, 0.3)
    found = assess(image(rocks=(rock,)), (3.0, -2.0), MASS)
    assert found.hazard_cells >= 1
    assert not found.target_safe
    assert found.site is not None and not footprint_touches(found.site, rock)
    assert not any(footprint_touches(site, rock) for site in safe_offsets(found))


def test_a_bump_below_the_limit_is_not_a_hazard() -> None:
    found = assess(image(rocks=((0.0, 0.0, 0.8, 0.1),), noise=0.02), (0.0, 0.0), MASS)
    assert found.target_safe


def test_a_pit_is_found() -> None:
    pit = (-4.0, 5.0, 1.0, -0.5)
    found = assess(image(rocks=(pit,)), (-4.0, 5.0), MASS)
    assert not found.target_safe
    assert not any(footprint_touches(site, pit) for site in safe_offsets(found))


@pytest.mark.parametrize(("slope_deg", "safe"), [(4.0, True), (11.0, False)])
def test_slopes_over_the_limit_leave_no_safe_site(slope_deg: float, safe: bool) -> None:
    found = assess(image(slope_deg=slope_deg), (0.0, 0.0), MASS)
    assert (found.site is not None) is safe
    assert found.target_safe is safe
    if not safe:
        assert found.reason == "no safe site within reach"


def test_a_boulder_field_under_the_aim_is_avoided_for_a_near_safe_site() -> None:
    rng = random.Random(7)
    field = [(0.0, 0.0, 1.2, 0.9)] + [(rng.uniform(-6, 6), rng.uniform(-6, 6), rng.uniform(0.8, 1.5), 0.9)
                                     for _ in range(13)]
    found = assess(image(rocks=tuple(field)), (0.0, 0.0), MASS)
    assert not found.target_safe
    assert found.site is not None
    assert not any(footprint_touches(found.site, rock) for rock in field)
    assert math.hypot(*found.site) <= HazardConfig().max_divert_m
    for site in safe_offsets(found):  # no false safe site anywhere in the map
        assert not any(footprint_touches(site, rock) for rock in field)
    assert found.site_propellant_kg > 0.0


def test_unknown_ground_is_never_chosen() -> None:
    # A hidden patch (the shadow of a rock, say) and a rock right beside the aim: the site goes elsewhere.
    box = (-3.0, 3.0, 2.0, 8.0)
    found = assess(image(unknown_box=box, rocks=((0.0, -3.0, 1.0, 0.6),)), (0.0, 2.0), MASS)
    assert found.site is not None
    s, c = found.site
    assert not (box[0] - FOOTPRINT < s < box[1] + FOOTPRINT and box[2] - FOOTPRINT < c < box[3] + FOOTPRINT)
    for site in safe_offsets(found):
        assert not (box[0] <= site[0] <= box[1] and box[2] <= site[1] <= box[3])


def test_heavy_dropouts_make_the_ground_unsafe() -> None:
    found = assess(image(dropout=0.5), (0.0, 0.0), MASS)
    assert found.site is None and not found.target_safe


def test_the_site_score_prefers_the_aim_and_the_near() -> None:
    # Two clear areas either side of a rock wall across the image: the one nearer the aim wins.
    wall = tuple((s, 0.0, 1.0, 0.6) for s in [-24.0 + 1.5 * k for k in range(33)])
    found = assess(image(rocks=wall), (0.0, 6.0), MASS)
    assert found.site is not None and found.site[1] > 0.0


def test_a_bad_image_is_refused_without_a_site() -> None:
    invalid = ElevationImageReading(1.0, 0, 0, 0.0, 0.0, 0.0, 0.01, b"", False)
    assert assess(invalid, (0.0, 0.0), MASS).site is None
    malformed = ElevationImageReading(1.0, 4, 4, 0.5, -1.0, -1.0, 0.01, b"\x00\x01", True)
    found = assess(malformed, (0.0, 0.0), MASS)
    assert found.site is None and found.unknown_cells == 16


def test_a_judgement_in_steps_is_the_judgement_at_once_and_no_step_does_much() -> None:
    reading = image(rocks=((3.0, 3.0, 1.0, 0.5),))
    at_once = assess(reading, (0.0, 0.0), MASS)
    judgement = HazardJudgement(reading, (0.0, 0.0), MASS)
    while not judgement.step():
        assert not judgement.done
    assert judgement.assessment() == at_once
    # Every step does at most its share of work (plus one row of the dearest step): the image's whole
    # cost, counted in the same units, needs at least this many steps.
    keep, _ = margins_in_cells(CELL, HazardConfig())
    whole = N * N * (STEP_COST["sums"] + STEP_COST["planes"] + STEP_COST["ground"]) + \
        (N - 2 * keep) * N * STEP_COST["sites"]
    assert judgement.steps >= whole / (WORK_PER_STEP + N * max(STEP_COST.values()))
    assert HazardJudgement(reading, (0.0, 0.0), MASS, work_per_step=10**9).run().steps == 1  # the control
