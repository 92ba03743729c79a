"""The approach's coarse hazard judgement on synthetic coarse elevation images whose terrain is known,
and the fine stage's least-bad site when nothing in its image is safe."""

from __future__ import annotations

import math
import random
import time

from fsw.devices.descent import ElevationImageReading, pack_heights
from fsw.gnc.coarse_hazard import COARSE_CONFIG, CoarseStage, judge_coarse
from fsw.gnc.hazard import HazardConfig, assess, least_bad_site

N = 64
CELL = 9.5
HALF = (N - 1) / 2 * CELL
STEP = 0.1
MASS = 3_000.0
AIM = (1_000.0, 0.0)  # the aim from the point under the lander when the image is taken

Hill = tuple[float, float, float, float]  # (downrange, crossrange from the aim, height, sigma); negative: a bowl


def coarse_image(hills: tuple[Hill, ...] = (), *, noise: float = 0.3, dropout: float = 0.03,
                 seed: int = 1, valid: bool = True, grade_deg: float = 0.0) -> ElevationImageReading:
    """A 64 x 64 coarse image ~2 km below the camera, centred on the aim, with Gaussian hills."""
    rng = random.Random(seed)
    heights: list[float | None] = []
    for i in range(N):
        for j in range(N):
            s, c = -HALF + i * CELL, -HALF + j * CELL
            z = -2_000.0 + math.tan(math.radians(grade_deg)) * c
            for hs, hc, height, sigma in hills:
                z += height * math.exp(-((s - hs) ** 2 + (c - hc) ** 2) / (2.0 * sigma * sigma))
            heights.append(None if rng.random() < dropout else z + rng.gauss(0.0, noise))
    return ElevationImageReading(800.0, N, N, CELL, AIM[0] - HALF, AIM[1] - HALF, STEP, pack_heights(heights, STEP),
                                 valid)


def true_slope_deg(hills: tuple[Hill, ...], s: float, c: float) -> float:
    gs = gc = 0.0
    for hs, hc, height, sigma in hills:
        e = height * math.exp(-((s - hs) ** 2 + (c - hc) ** 2) / (2.0 * sigma * sigma))
        gs += -e * (s - hs) / sigma**2
        gc += -e * (c - hc) / sigma**2
    return math.degrees(math.atan(math.hypot(gs, gc)))


def test_level_ground_keeps_the_aim() -> None:
    choice = judge_coarse(coarse_image(), AIM, MASS)
    assert choice.outcome == "kept" and choice.shift == (0.0, 0.0)


def test_aim_on_a_hill_flank_moves_to_the_nearest_gentle_region_beside_it() -> None:
    hill = ((40.0, 0.0, 20.0, 60.0),)  # the aim 40 m off the crown: a flank of ~9.5 deg
    assert true_slope_deg(hill, 0.0, 0.0) > 8.0
    choice = judge_coarse(coarse_image(hill), AIM, MASS)
    assert choice.outcome == "moved", choice.detail
    new_s, new_c = choice.shift
    assert math.hypot(new_s, new_c) <= COARSE_CONFIG.max_divert_m
    # The region the fine stage will image (its ~48 m) is gentle everywhere by the terrain's truth.
    worst = max(true_slope_deg(hill, new_s + ds, new_c + dc) for ds in (-20, 0, 20) for dc in (-20, 0, 20))
    assert worst < 6.0, (choice.shift, worst)


def test_a_mound_under_the_aim_sends_the_aim_beside_it() -> None:
    mound = ((0.0, 0.0, 7.0, 20.0),)
    choice = judge_coarse(coarse_image(mound), AIM, MASS)
    assert choice.outcome == "moved", choice.detail
    assert 40.0 <= math.hypot(*choice.shift) <= 120.0  # off the mound, but the nearest room beside it


def test_no_gentle_region_in_reach_keeps_the_aim() -> None:
    # A hillside steeper than the limit across the whole image: nothing better than the aim.
    choice = judge_coarse(coarse_image(grade_deg=10.0), AIM, MASS)
    assert choice.outcome == "none safe", choice.detail
    assert choice.shift == (0.0, 0.0) and "keeping the aim" in choice.detail


def test_the_aim_moves_no_farther_than_the_bound() -> None:
    # Gentle ground only 250 m off, beyond the 200 m bound: the aim is kept.
    choice = judge_coarse(coarse_image(((0.0, -250.0, -120.0, 180.0),), grade_deg=0.0), AIM, MASS)
    assert math.hypot(*choice.shift) <= COARSE_CONFIG.max_divert_m


def test_an_invalid_or_malformed_image_keeps_the_aim() -> None:
    assert judge_coarse(coarse_image(valid=False), AIM, MASS).outcome == "invalid"
    empty = ElevationImageReading(800.0, 0, 0, 0.0, 0.0, 0.0, STEP, b"", True)
    assert judge_coarse(empty, AIM, MASS).outcome == "invalid"
    short = ElevationImageReading(800.0, N, N, CELL, 0.0, 0.0, STEP, b"\x00\x01", True)
    choice = judge_coarse(short, AIM, MASS)  # reads as all unknown: nothing is safe, the aim is kept
    assert choice.shift == (0.0, 0.0)


def test_coarse_judgement_cpu_time() -> None:
    reading = coarse_image(((40.0, 0.0, 20.0, 60.0),))
    start = time.process_time()
    judge_coarse(reading, AIM, MASS)
    assert time.process_time() - start < 2.0  # one image per descent, in the approach's 60 s


def fine_slope_image(slope_deg: float, seed: int = 2) -> ElevationImageReading:
    """A fine 64 x 64 image at the hover over a plane tilted more than the legs stand."""
    rng, n, cell = random.Random(seed), 64, 0.78
    half = (n - 1) / 2 * cell
    grade = math.tan(math.radians(slope_deg))
    heights: list[float | None] = []
    for i in range(n):
        for _j in range(n):
            s = -half + i * cell
            # Steeper downrange of the middle: the least-bad ground is upslope (negative downrange).
            local = grade * (1.0 + 0.3 * max(0.0, s) / half)
            heights.append(-100.0 + local * s + rng.gauss(0.0, 0.03))
    return ElevationImageReading(870.0, n, n, cell, -half, -half, 0.01, pack_heights(heights, 0.01), True)


def test_fine_stage_none_safe_chooses_the_least_bad_site() -> None:
    reading = fine_slope_image(10.0)
    found = assess(reading, (0.0, 0.0), 1_900.0)
    assert found.site is None  # every footprint is on a 10 deg plane or steeper
    fallback = least_bad_site(reading, (0.0, 0.0), HazardConfig())
    assert fallback is not None
    (site_s, site_c), why = fallback
    assert site_s < 0.0 and math.hypot(site_s, site_c) <= HazardConfig().max_divert_m
    assert "slope up to" in why
    invalid = ElevationImageReading(870.0, 0, 0, 0.0, 0.0, 0.0, 0.01, b"", False)
    assert least_bad_site(invalid, (0.0, 0.0)) is None


def test_the_stage_asks_once_points_at_the_aim_and_moves_it_off_a_mound() -> None:
    stage = CoarseStage()
    assert stage.look(AIM) is None
    shift, events = stage.step(800.0, 800.0, AIM, (0.0, 0.0), MASS)
    assert shift is None and [name for name, _ in events] == ["coarse_scan_requested"]
    assert stage.look(AIM) == AIM
    stage.reading = coarse_image(((0.0, 0.0, 7.0, 20.0),))
    t = 800.2
    shift, events = stage.step(t, t, AIM, (0.0, 0.0), MASS)
    cycles = 1
    while not events:  # judged a step per cycle; the imager is not asked again meanwhile
        assert shift is None and stage.look(AIM) is None
        t += 0.02
        shift, events = stage.step(t, t, AIM, (0.0, 0.0), MASS)
        cycles += 1
    assert shift is not None and [name for name, _ in events] == ["coarse_site_selected"] and cycles > 1
    assert shift == judge_coarse(coarse_image(((0.0, 0.0, 7.0, 20.0),)), AIM, MASS).shift
    assert stage.look(AIM) is None and stage.step(t + 1.0, t + 1.0, AIM, (0.0, 0.0), MASS) == (None, [])


def test_the_stage_keeps_the_aim_without_an_image_or_when_off() -> None:
    missing = CoarseStage(wait_s=5.0)
    missing.step(800.0, 800.0, AIM, (0.0, 0.0), MASS)
    assert missing.step(804.0, 804.0, AIM, (0.0, 0.0), MASS) == (None, [])
    shift, events = missing.step(806.0, 806.0, AIM, (0.0, 0.0), MASS)
    assert shift is None and events[0][0] == "coarse_aim_kept" and "no coarse image" in events[0][1]
    off = CoarseStage(enabled=False)
    off.step(800.0, 800.0, AIM, (0.0, 0.0), MASS)
    off.reading = coarse_image(((0.0, 0.0, 7.0, 20.0),))
    shift, events = off.step(800.2, 800.2, AIM, (0.0, 0.0), MASS)
    assert shift is None and events[0][0] == "coarse_avoidance_off"
