"""The emulated ground's orbit determination: what the ground hands the lander before descent.

A stand-in for the ground segment's product (the real one is radio tracking on Earth): the true
state with seeded errors [est.], and the coarse terrain map of the landing site.
"""

from __future__ import annotations

import random

from fsw.devices.descent import DescentHandover
from hil.emulator.plant import LunarLanderPlant


def descent_handover(plant: LunarLanderPlant, *, map_includes_crater: bool | None = None) -> DescentHandover:
    """What the ground uploads before descent: the orbit-determination state (truth plus seeded
    errors [est.]) and the coarse terrain map of the landing site, which lacks the crater on the
    track when the plant's faults say so (``map_omits_crater``, Hakuto-R) or when asked."""
    if map_includes_crater is None:
        map_includes_crater = not plant.faults.map_omits_crater
    spacing, heights = plant.terrain.coarse_map(include_crater=map_includes_crater)
    cfg = plant.config
    od = random.Random(f"od-{plant.seed}")
    return DescentHandover(
        map_spacing_m=spacing,
        map_heights_m=tuple(heights),
        height_m=plant.h + od.gauss(0.0, 30.0),
        downrange_m=plant.s + od.gauss(0.0, 100.0),
        crossrange_m=plant.c + od.gauss(0.0, 50.0),
        vertical_speed_m_s=plant.vu + od.gauss(0.0, 0.1),
        downrange_speed_m_s=plant.vd + od.gauss(0.0, 0.1),
        crossrange_speed_m_s=plant.vc + od.gauss(0.0, 0.1),
        dry_mass_kg=cfg.wet_mass_kg - cfg.propellant_kg,
        propellant_kg=cfg.propellant_kg,
        target_downrange_m=cfg.target_downrange_m,
        target_crossrange_m=cfg.target_crossrange_m,
        exhaust_velocity_m_s=cfg.exhaust_velocity_m_s,
        braking_start_height_m=cfg.perilune_alt_m,
    )
