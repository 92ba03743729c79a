"""The emulated imager's coarse image of the approach: terrain heights (no boulders) about where the
flight software points it, with noise and dropouts, valid only from the approach's heights."""

from __future__ import annotations

import statistics
from dataclasses import replace

from hil.emulator.devices import EmulatedHazardImager
from hil.emulator.plant import LunarLanderPlant, PlantConfig


def approaching(hag: float, ahead_m: float = 1_000.0) -> LunarLanderPlant:
    cfg = PlantConfig()
    cfg = replace(cfg, terrain=replace(cfg.terrain_config(), hazard_at_target=True))
    plant = LunarLanderPlant(4, cfg)
    plant.s = cfg.target_downrange_m - ahead_m
    plant.h = plant.terrain.height(plant.s, plant.c) + hag
    return plant


def test_coarse_image_is_the_smooth_terrain_about_the_pointed_offset() -> None:
    plant = approaching(2_000.0)
    imager = EmulatedHazardImager(plant)
    imager.point_coarse(1_000.0, 0.0)
    scan = imager.coarse_scan()
    assert scan.valid and scan.rows == scan.cols == imager.COARSE_CELLS
    assert abs(scan.origin_downrange_m + (scan.rows - 1) / 2 * scan.cell_m - 1_000.0) < 1e-6
    errors = []
    for k, z in enumerate(scan.heights()):
        if z is None:
            continue
        i, j = divmod(k, scan.cols)
        s = plant.s + scan.origin_downrange_m + i * scan.cell_m
        c = plant.c + scan.origin_crossrange_m + j * scan.cell_m
        errors.append(z - (plant.terrain.smooth_height(s, c) - plant.h))
    # The noise and the pointing bias (2 mrad at ~2.2 km: metres sideways, little height on level ground).
    assert abs(statistics.mean(errors)) < 0.5 and statistics.pstdev(errors) < 1.0
    record = imager.last_coarse_scan
    assert 0 < record["dropouts"] < 0.1 * record["cells"]


def test_coarse_image_is_invalid_at_the_hover_and_for_a_wild_pointing() -> None:
    hover = EmulatedHazardImager(approaching(100.0, ahead_m=0.0))
    assert not hover.coarse_scan().valid
    imager = EmulatedHazardImager(approaching(2_000.0))
    imager.point_coarse(float("nan"), 0.0)
    assert not imager.coarse_scan().valid
    imager.point_coarse(10_000.0, 0.0)
    assert not imager.coarse_scan().valid


def test_coarse_scans_leave_the_fine_images_as_they_were() -> None:
    one, two = EmulatedHazardImager(approaching(2_000.0)), EmulatedHazardImager(approaching(2_000.0))
    two.point_coarse(1_000.0, 0.0)
    two.coarse_scan()
    assert one.rng.random() == two.rng.random()
