"""Test support: the ground's descent uplink as the flight store keeps it once the commands have
been taken (for tests of other things than the uplink, which begin a descent directly)."""

from __future__ import annotations

from typing import Any

from fsw.core.store import Store
from fsw.gnc.uplink import UPLINK_KEY, UPLINK_VERSION
from hil.emulator.orbit_determination import OrbitDeterminationProduct, orbit_determination
from hil.emulator.plant import LunarLanderPlant
from hil.plant_process import LanderWorld


def uplink_record(product: OrbitDeterminationProduct) -> dict[str, Any]:
    return {
        "version": UPLINK_VERSION,
        "state": {"epoch_s": product.epoch_s, "frame": product.frame, "position_m": list(product.position_m),
                  "velocity_m_s": list(product.velocity_m_s)},
        "target": {"downrange_m": product.target_downrange_m, "crossrange_m": product.target_crossrange_m},
        "map": {"spacing_m": product.map_spacing_m, "heights_m": list(product.map_heights_m)},
        "frame": {"pole": list(product.moon_pole), "aligned_epoch_s": product.frame_aligned_epoch_s},
    }


def preload_uplink(store: Store, world: LanderWorld | LunarLanderPlant) -> None:
    """Put the ground's uplink of the plant's orbit determination (now) in the flight store."""
    plant = world.plant if isinstance(world, LanderWorld) else world
    store.put(UPLINK_KEY, uplink_record(orbit_determination(plant)))
