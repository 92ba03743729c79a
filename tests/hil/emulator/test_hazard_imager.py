"""The emulated 3-D imager measures the ground and judges nothing: an elevation image with noise,
dropouts and hidden cells, placed from where it believes it points."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import replace

from fsw.devices.bus import canonical_cbor, decode, encode
from fsw.devices.descent import ElevationImageReading
from hil.emulator.devices import EmulatedHazardImager
from hil.emulator.plant import LunarLanderPlant, PlantConfig
from hil.emulator.terrain import Boulder


def hovering(seed: int = 4, hag: float = 100.0, *, field: bool = False) -> LunarLanderPlant:
    cfg = PlantConfig()
    cfg = replace(cfg, terrain=replace(cfg.terrain_config(), hazard_at_target=field))
    plant = LunarLanderPlant(seed, cfg)
    plant.s = cfg.target_downrange_m
    plant.h = plant.terrain.height(plant.s, plant.c) + hag
    plant.vu = plant.vd = plant.vc = 0.0
    plant.pitch = plant.pitch_cmd = 0.0
    return plant


def test_the_reading_is_an_elevation_image_and_nothing_else() -> None:
    names = {f.name for f in dataclasses.fields(ElevationImageReading)}
    assert names == {"t", "rows", "cols", "cell_m", "origin_downrange_m", "origin_crossrange_m", "height_step_m",
                     "counts", "valid"}
    scan = EmulatedHazardImager(hovering(field=True)).scan()
    assert isinstance(scan, ElevationImageReading) and scan.valid
    # No judgement rides along: only geometry, a time tag, a valid flag and heights.
    assert not any(word in name for name in names for word in ("hazard", "safe", "site", "slope"))


def test_heights_are_the_true_terrain_with_noise_and_dropouts() -> None:
    plant = hovering()
    imager = EmulatedHazardImager(plant)
    scan = imager.scan()
    n = scan.rows
    assert n == scan.cols == 128
    assert 0.35 < scan.cell_m < 0.43  # ~50 m square seen from 100 m
    heights = scan.heights()
    errors, missing = [], 0
    for k, z in enumerate(heights):
        i, j = divmod(k, n)
        if z is None:
            missing += 1
            continue
        s = plant.s + scan.origin_downrange_m + i * scan.cell_m
        c = plant.c + scan.origin_crossrange_m + j * scan.cell_m
        errors.append(z - (plant.terrain.smooth_height(s, c) - plant.h))
    assert missing == imager.last_scan["dropouts"] + imager.last_scan["hidden"]
    assert 0.005 < missing / (n * n) < 0.04
    # Range noise, spot jitter, pointing bias and the boulders: centimetres to decimetres, no more.
    assert abs(statistics.median(errors)) < 0.1
    assert statistics.median(abs(e) for e in errors) < 0.15


def test_a_boulder_field_stands_out_in_the_image() -> None:
    plant = hovering(field=True)
    scan = EmulatedHazardImager(plant).scan()
    heights = scan.heights()
    centre = (scan.rows // 2) * scan.cols + scan.cols // 2
    ring = [heights[k] for k in range(len(heights)) if heights[k] is not None]
    near_centre = [heights[centre + di * scan.cols + dj] for di in (-1, 0, 1) for dj in (-1, 0, 1)]
    top = max(z for z in near_centre if z is not None)
    assert top - statistics.median(ring) > 0.5  # the 0.9 m boulder on the aim point


def test_the_same_seed_gives_the_same_image_and_another_seed_another() -> None:
    a = EmulatedHazardImager(hovering(4)).scan()
    b = EmulatedHazardImager(hovering(4)).scan()
    c = EmulatedHazardImager(hovering(5)).scan()
    assert a == b
    assert a.counts != c.counts


def test_ground_hidden_behind_a_tall_rock_has_no_measurement() -> None:
    plant = hovering(hag=40.0)
    # A 6 m rock 9 m downrange, near the field's edge: the laser cannot see the ground behind it.
    plant.terrain.add_boulders([Boulder(plant.s + 9.0, plant.c, 1.0, 6.0)])
    imager = EmulatedHazardImager(plant)
    scan = imager.scan()
    assert imager.last_scan["hidden"] > 0
    heights = scan.heights()
    for k in imager.last_hidden:
        i, j = divmod(k, scan.cols)
        assert heights[k] is None
        assert scan.origin_downrange_m + i * scan.cell_m > 9.0  # beyond the rock, seen from the imager
        assert abs(scan.origin_crossrange_m + j * scan.cell_m) < 1.5


def test_no_image_out_of_range_or_tilted() -> None:
    plant = hovering(hag=1_000.0)
    assert not EmulatedHazardImager(plant).scan().valid
    plant = hovering(hag=100.0)
    plant.pitch = 0.3
    assert not EmulatedHazardImager(plant).scan().valid


def test_the_image_travels_compactly_on_the_device_bus() -> None:
    scan = EmulatedHazardImager(hovering(field=True)).scan()
    wire = canonical_cbor(encode(scan))
    assert len(wire) < 33_000  # 128 x 128 cells at two octets, plus the header
    assert decode(encode(scan)) == scan
