"""The rover terrain's heights for a whole image are the heights point by point, to the last bit."""

from __future__ import annotations

import math
import random

from hil.emulator.rover.terrain import RockField, RoverTerrain, RoverTerrainConfig


def test_a_whole_image_of_heights_is_the_point_by_point_heights_exactly() -> None:
    # A rock field and the craters overlapping the image: sums of several rocks and a crater's rim.
    terrain = RoverTerrain(4, RoverTerrainConfig(fields=(RockField(10.0, 3.0, radius_m=1.5, count=12),)))
    crater = max(terrain.craters, key=lambda c: c.radius)
    rng = random.Random(7)
    for east, north in ((10.0, 3.0), (crater.east, crater.north), (-30.0, 25.0)):
        heading = rng.uniform(0.0, 2 * math.pi)
        points = [(east + f * math.cos(heading) - left * math.sin(heading),
                   north + f * math.sin(heading) + left * math.cos(heading))
                  for f in (0.8 + 0.2 * i for i in range(30)) for left in (0.2 * (j - 15) for j in range(31))]
        assert terrain.heights(points) == [terrain.height(e, n) for e, n in points]
    assert terrain.heights([]) == []
    # Control: the field stands out of the ground, so the rocks were in the sums compared.
    assert max(terrain.heights([(10.0 + 0.1 * k, 3.0) for k in range(-15, 16)])) > terrain.ground(10.0, 3.0) + 0.2


def test_the_ground_sums_every_crater_that_reaches_a_point() -> None:
    terrain = RoverTerrain(2)
    every_crater = RoverTerrain(2)
    every_crater._craters_at = lambda bucket: every_crater.craters  # type: ignore[method-assign]
    rng = random.Random(3)
    points = [(rng.uniform(-80.0, 80.0), rng.uniform(-80.0, 80.0)) for _ in range(3000)]
    points += [(c.east + 1.45 * c.radius * math.cos(a), c.north + 1.45 * c.radius * math.sin(a))
               for c in terrain.craters for a in (0.0, 1.0, 2.0, 4.0)]  # on the rims' outer edges
    assert [terrain.ground(e, n) for e, n in points] == [every_crater.ground(e, n) for e, n in points]
    # Control: some of those points are in a crater or on its rim.
    assert sum(terrain.ground(e, n) != terrain._grad[0] * e + terrain._grad[1] * n for e, n in points) > 40
