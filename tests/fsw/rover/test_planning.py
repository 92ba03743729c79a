"""The rover's hazard detection and path planning, alone (no plant: images made here)."""

import math

from fsw.devices.rover import ElevationImage
from fsw.rover.planning import HazardLimits, HazardMap, detect, plan, simplify


def image_with_rock(forward_m: float, left_m: float, height_m: float) -> ElevationImage:
    rows, cols, near, cell = 30, 31, 0.8, 0.2
    heights = []
    for i in range(rows):
        for j in range(cols):
            ahead, left = near + i * cell, (j - (cols - 1) / 2) * cell
            r = math.hypot(ahead - forward_m, left - left_m) / 0.3
            heights.append(int(1000 * (height_m * math.sqrt(1 - r * r) if r < 1 else 0.0)))
    return ElevationImage(0.0, near, cell, rows, cols, tuple(heights), 0.0, True)


def test_a_rock_in_the_image_is_found_where_it_is_in_the_site_frame() -> None:
    # Rover at (10, 5) heading north: a rock 3 m ahead is at (10, 8).
    found, _ = detect(image_with_rock(3.0, 0.0, 0.3), 10.0, 5.0, math.pi / 2, HazardLimits())
    rocks = [d for d in found if d.kind == "rock"]
    assert rocks and all(math.dist((d.east_m, d.north_m), (10.0, 8.0)) < 0.4 for d in rocks)


def test_level_ground_with_stereo_noise_has_no_hazard() -> None:
    import random

    rng = random.Random(1)
    flat = ElevationImage(0.0, 0.8, 0.2, 30, 31, tuple(int(rng.gauss(0, 10)) for _ in range(930)), 0.0, True)
    found, _ = detect(flat, 0.0, 0.0, 0.0, HazardLimits())
    assert found == []


def test_a_steep_slope_is_a_hazard_and_a_gentle_one_is_not() -> None:
    def ramp(deg: float) -> ElevationImage:
        grade = math.tan(math.radians(deg))
        heights = tuple(int(1000 * grade * (0.8 + i * 0.2)) for i in range(30) for _ in range(31))
        return ElevationImage(0.0, 0.8, 0.2, 30, 31, heights, 0.0, True)

    assert {d.kind for d in detect(ramp(30.0), 0.0, 0.0, 0.0, HazardLimits())[0]} == {"slope"}
    assert detect(ramp(8.0), 0.0, 0.0, 0.0, HazardLimits())[0] == []


def test_astar_goes_around_a_closed_wall_and_reports_no_path_when_shut_in() -> None:
    grid = HazardMap()
    for north in range(-10, 11):  # a wall at east = 5 m from -4 m to 4 m north
        grid.close_around(5.0, north * 0.4, 0.3)
    path = plan(grid, (0.0, 0.0), (10.0, 0.0))
    assert path is not None and path[-1] == (10.0, 0.0)
    assert not any(grid.blocked(*point) for point in path)
    assert max(abs(north) for _, north in path) > 4.0  # it went round the end of the wall
    short = simplify(path, grid)
    assert len(short) < len(path)
    boxed = HazardMap()
    boxed.close_around(10.0, 0.0, 3.0)
    boxed.closed -= {cell for cell in set(boxed.closed) if math.hypot(cell[0] * 0.4 - 10, cell[1] * 0.4) < 2.0}
    assert plan(boxed, (0.0, 0.0), (10.0, 0.0)) is None
