"""The terrain's heights: the point asked about again is answered from the last answer, until it changes."""

from __future__ import annotations

from hil.emulator.terrain import Boulder, Terrain, TerrainConfig


def test_a_height_asked_again_is_the_same_and_a_new_boulder_is_seen_at_once() -> None:
    terrain = Terrain(3, TerrainConfig(target_downrange_m=765_000.0))
    s, c = 765_050.0, 12.0
    fresh = Terrain(3, TerrainConfig(target_downrange_m=765_000.0))
    first = terrain.height(s, c)
    assert terrain.height(s, c) == first == fresh.height(s, c)
    terrain.height(s + 1.0, c)  # another point in between
    assert terrain.height(s, c) == first
    terrain.add_boulders([Boulder(s, c, 1.0, 0.8)])  # right under the point just asked about
    assert terrain.height(s, c) > first + 0.7
