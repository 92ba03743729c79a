"""The detector on the emulated imager's real images, judged by the plant's own hazard record:
over a boulder field at the aim, the chosen site is never one the plant calls a hazard."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fsw.gnc.hazard import assess
from hil.emulator.devices import EmulatedHazardImager
from hil.emulator.plant import LunarLanderPlant, PlantConfig


@pytest.mark.parametrize("seed", range(1, 9))
def test_no_site_chosen_over_a_boulder_field_is_a_hazard_by_the_plant(seed: int) -> None:
    cfg = PlantConfig()
    cfg = replace(cfg, terrain=replace(cfg.terrain_config(), hazard_at_target=True))
    plant = LunarLanderPlant(seed, cfg)
    plant.s = cfg.target_downrange_m
    plant.h = plant.terrain.height(plant.s, plant.c) + 100.0
    plant.pitch = plant.pitch_cmd = 0.0
    assert plant.terrain.hazards_at(plant.s, plant.c)  # the aim is on the boulders, by the plant
    found = assess(EmulatedHazardImager(plant).scan(), (0.0, 0.0), 1_900.0)
    assert not found.target_safe
    assert found.site is not None
    assert plant.terrain.hazards_at(plant.s + found.site[0], plant.c + found.site[1]) == []
    # The safety map as a whole: the plant's criterion counts rocks from 0.2 m, some smaller than a
    # laser cell; those few are the only cells it may disagree on (docs/gnc.md).
    safe = [found.offset(*divmod(k, found.cols)) for k, ok in enumerate(found.safe) if ok]
    disputed = [plant.terrain.hazards_at(plant.s + ds, plant.c + dc) for ds, dc in safe]
    disputed = [reasons for reasons in disputed if reasons]
    assert len(disputed) <= 0.05 * len(safe)
    assert all(float(reason.split()[1]) < 0.3 for reasons in disputed for reason in reasons
               if reason.startswith("boulder"))
