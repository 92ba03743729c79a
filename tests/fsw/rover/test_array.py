"""The array pointing's geometry on board: the tilt nearest the Sun from the sun sensor and the IMU."""

import math

import pytest

from fsw.rover.array import best_tilt, body_frame, incidence, sun_in_level, sunrise_tilt

MAX = math.radians(75.0)


def test_level_rover_sun_abeam_low_tilts_the_array_to_that_side_up_to_its_stop() -> None:
    left_sun = sun_in_level(math.radians(90.0), math.radians(10.0))
    tilt, angle = best_tilt(left_sun, 0.0, 0.0, MAX)
    assert tilt == pytest.approx(MAX)
    assert math.degrees(angle) == pytest.approx(5.0, abs=0.01)  # 80 deg from the vertical, 75 of it made up
    right_tilt, _ = best_tilt(sun_in_level(math.radians(-90.0), math.radians(40.0)), 0.0, 0.0, MAX)
    assert math.degrees(right_tilt) == pytest.approx(-50.0)


def test_sun_ahead_or_overhead_leaves_the_array_flat() -> None:
    for azimuth, elevation in ((0.0, 20.0), (180.0, 30.0), (37.0, 90.0)):
        tilt, _ = best_tilt(sun_in_level(math.radians(azimuth), math.radians(elevation)), 0.0, 0.0, MAX)
        assert tilt == pytest.approx(0.0, abs=1e-9)


def test_a_rover_rolled_towards_the_sun_needs_less_tilt() -> None:
    sun = sun_in_level(math.radians(90.0), math.radians(30.0))
    level, _ = best_tilt(sun, 0.0, 0.0, MAX)
    rolled, angle = best_tilt(sun, 0.0, math.radians(-10.0), MAX)  # left side down, towards the Sun
    assert math.degrees(level) == pytest.approx(60.0)
    assert math.degrees(rolled) == pytest.approx(50.0, abs=0.01)
    assert angle == pytest.approx(0.0, abs=1e-6)


def test_body_frame_is_orthonormal_and_incidence_is_the_cosine_law() -> None:
    forward, left, up = body_frame(math.radians(8.0), math.radians(-5.0))
    for a in (forward, left, up):
        assert sum(x * x for x in a) == pytest.approx(1.0)
    assert sum(a * b for a, b in zip(forward, left, strict=True)) == pytest.approx(0.0, abs=1e-12)
    sun = sun_in_level(0.0, math.radians(90.0))
    assert incidence(sun, 0.0, 0.0, math.radians(30.0)) == pytest.approx(math.radians(30.0))


def test_for_the_night_the_array_faces_a_sunrise_abeam_and_stays_flat_for_one_near_the_nose() -> None:
    assert sunrise_tilt(math.radians(-8.0), 0.0, 0.0, MAX) == pytest.approx(0.0)  # rising ahead, either side
    assert sunrise_tilt(math.radians(180.0), 0.0, 0.0, MAX) == pytest.approx(0.0)
    assert sunrise_tilt(math.radians(90.0), 0.0, 0.0, MAX) == pytest.approx(MAX)
    assert sunrise_tilt(math.radians(-80.0), 0.0, 0.0, MAX) == pytest.approx(-MAX)
