"""The dispersions of a campaign run: one seeded draw per run seed, the table docs/campaigns.md shows.

Some values the campaign draws itself (the true start state against the plan, the landing site's
hazard population) and hands to the plant as its configuration; the others are drawn by the plant,
its devices and the emulated ground from the same run seed, with the spreads set here or in their
models (engine thrust and exhaust velocity, wet mass, orbit-determination errors, sensor noise and
biases, terrain). Either way a run is a pure function of its seed, and the drawn values are read
back from the plant's world into the campaign's row (:func:`realised`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from hil.emulator.orbit_determination import determination_errors
from hil.emulator.plant import PlantConfig
from hil.plant_process import LanderWorld

# Engine build dispersions, 1 sigma [est.]: no per-unit spread of the CE-3/5 7500 N engine is
# published; 2.5 % is about +-5 % at 2 sigma, the band a throttleable biprop is accepted within.
THRUST_SIGMA = 0.025
EXHAUST_VELOCITY_SIGMA = 0.025
WET_MASS_SIGMA_KG = 15.0  # [est.] loading and dry-mass knowledge
ALONG_TRACK_SIGMA_M = 1_000.0  # [est.] true position along the descent orbit against the plan
CROSS_TRACK_SIGMA_M = 200.0  # [est.] orbit-plane offset of the descent orbit from the site
CROSS_TRACK_RATE_SIGMA_M_S = 0.2  # [est.] out-of-plane velocity of the descent orbit
BOULDERS = (60, 120)  # [est.] boulders in the site region, uniform
MOUNDS = (3, 9)  # [est.] mounds in the site region, uniform
SMALL_CRATERS = (2, 6)  # [est.] bowl craters of 3-8 m radius in the site region, uniform


@dataclass(frozen=True)
class Dispersion:
    name: str  # as it appears in the results table
    distribution: str
    applied_by: str  # where it is drawn or applied
    source: str


TABLE: tuple[Dispersion, ...] = (
    Dispersion("thrust_scale", f"N(1, {THRUST_SIGMA})", "plant (`PlantConfig.thrust_dispersion`)",
               "[est.] no per-unit spread published (CE-3/5: one 7500 N variable-thrust engine)"),
    Dispersion("exhaust_velocity_m_s", f"3000 m/s x N(1, {EXHAUST_VELOCITY_SIGMA})",
               "plant (`PlantConfig.exhaust_velocity_dispersion`)",
               "nominal [est.] near CE-3's 2940 m/s; spread [est.]"),
    Dispersion("wet_mass_kg", f"3850 kg + N(0, {WET_MASS_SIGMA_KG:.0f} kg)", "plant (`PlantConfig.mass_dispersion_kg`)",
               "[est.] (CE-5 lander-ascender about 4.8 t at separation; this model's stack is ~3.9 t)"),
    Dispersion("along_track_m", f"N(0, {ALONG_TRACK_SIGMA_M:.0f} m)", "campaign: target arc from the start point",
               "[est.]"),
    Dispersion("cross_track_m", f"N(0, {CROSS_TRACK_SIGMA_M:.0f} m)", "campaign: `PlantConfig.initial_crossrange_m`",
               "[est.]"),
    Dispersion("cross_track_rate_m_s", f"N(0, {CROSS_TRACK_RATE_SIGMA_M_S} m/s)",
               "campaign: `PlantConfig.initial_crossrange_velocity_m_s`", "[est.]"),
    Dispersion("od_*_error", "N(0, 30 m) height, N(0, 100 m) downrange, N(0, 50 m) crossrange, N(0, 0.1 m/s) "
               "each velocity axis", "emulated ground (`hil/emulator/orbit_determination.py`)",
               "[est.] (CE-3 tracking: a few hundred metres in position, not broken down by axis)"),
    Dispersion("imu_bias_*", "N(0, 0.0005 m/s^2) per axis and unit, noise 0.003 m/s^2 per sample",
               "IMU (`hil/emulator/devices.py`)", "[est.] (docs/gnc.md sensor table)"),
    Dispersion("sensor noise", "laser range 1 m + 0.1 % (long beam), 5 cm + 0.05 % (short); velocimeter 3 cm/s; "
               "microwave 0.5 m + 0.2 %, 0.2 m/s; 2 % range dropouts", "devices (`hil/emulator/devices.py`)",
               "[est.] (docs/gnc.md sensor table)"),
    Dispersion("terrain", "undulation amplitudes, wavelengths and phases uniform; crater fixed",
               "terrain (`hil/emulator/terrain.py`)", "[est.]"),
    Dispersion("boulders", f"uniform {BOULDERS[0]}..{BOULDERS[1]} in the 160 m site region, heavy-tailed radius to 3 m",
               "campaign: `TerrainConfig.boulder_count`", "[est.]; 0.2 m hazard height as CE-5's imager figure"),
    Dispersion("mounds", f"uniform {MOUNDS[0]}..{MOUNDS[1]}, 2-7 m high", "campaign: `TerrainConfig.mound_count`",
               "[est.]"),
    Dispersion("small_craters", f"uniform {SMALL_CRATERS[0]}..{SMALL_CRATERS[1]}, 3-8 m radius",
               "campaign: `TerrainConfig.small_crater_count`", "[est.]"),
)


def plant_config(seed: int, base: PlantConfig | None = None) -> PlantConfig:
    """The plant as run ``seed`` of a campaign flies it: the campaign's draw on ``base``."""
    base = base or PlantConfig()
    draw = random.Random(f"campaign-{seed}")
    target = base.target_downrange_m + draw.gauss(0.0, ALONG_TRACK_SIGMA_M)
    cross = draw.gauss(0.0, CROSS_TRACK_SIGMA_M)
    cross_rate = draw.gauss(0.0, CROSS_TRACK_RATE_SIGMA_M_S)
    boulders = draw.randint(*BOULDERS)
    mounds = draw.randint(*MOUNDS)
    small_craters = draw.randint(*SMALL_CRATERS)
    terrain = replace(base.terrain_config(), target_downrange_m=target, boulder_count=boulders, mound_count=mounds,
                      small_crater_count=small_craters)
    return replace(base, target_downrange_m=target, initial_crossrange_m=cross,
                   initial_crossrange_velocity_m_s=cross_rate, terrain=terrain,
                   thrust_dispersion=THRUST_SIGMA, exhaust_velocity_dispersion=EXHAUST_VELOCITY_SIGMA,
                   mass_dispersion_kg=WET_MASS_SIGMA_KG)


def realised(world: LanderWorld, nominal: PlantConfig | None = None) -> dict[str, Any]:
    """The values this run drew, read from the plant's world before it flies."""
    nominal = nominal or PlantConfig()
    plant = world.plant
    cfg = plant.config
    terrain = cfg.terrain_config()
    od_height, od_downrange, od_crossrange, od_vertical_speed, _, _ = determination_errors(plant.seed)
    imu_bias = world.devices["imu"].biases[0]
    return {
        "thrust_scale": plant.thrust_scale_true,
        "exhaust_velocity_m_s": plant.exhaust_velocity,
        "wet_mass_kg": plant.mass,
        "along_track_m": cfg.target_downrange_m - nominal.target_downrange_m,
        "cross_track_m": cfg.initial_crossrange_m,
        "cross_track_rate_m_s": cfg.initial_crossrange_velocity_m_s,
        "od_height_error_m": od_height,
        "od_downrange_error_m": od_downrange,
        "od_crossrange_error_m": od_crossrange,
        "od_vertical_speed_error_m_s": od_vertical_speed,
        "imu_bias_x_m_s2": imu_bias[0],
        "boulders": terrain.boulder_count,
        "mounds": terrain.mound_count,
        "small_craters": terrain.small_crater_count,
    }
