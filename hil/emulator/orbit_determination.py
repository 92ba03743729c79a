"""The emulated ground's orbit determination: what the ground uplinks to the lander before descent.

A stand-in for the ground segment's product (the real one is radio tracking on Earth): the plant's
true state with seeded errors [est.: tens of metres, a decimetre per second], expressed in the
Moon-centred descent frame (MCDF) the lander's uplink commands take, with its epoch on the
descent sensors' time base (the plant's clock, which tags every device reading); the landing
target; and the coarse terrain map of the approach. The ground (``ground/descent_uplink.py``)
turns the product into telecommands; this module only computes it, from the plant's own state
with the plant's own geometry.

MCDF: origin at the Moon's centre, axes fixed to the Moon, ``X`` through the track origin
(downrange 0, crossrange 0), ``Y`` along the track's great circle towards downrange, ``Z`` its pole
(crossrange positive). The velocity is relative to the Moon's surface (the frame turns with the
Moon); the product also gives the Moon's spin axis in MCDF axes and the sensor time at which the
inertial frame the star tracker measures against was the MCDF (the plant's time 0).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hil.emulator.dynamics import R_MOON
from hil.emulator.plant import LunarLanderPlant

FRAME = "MCDF"
POSITION_SIGMA_M = (30.0, 100.0, 50.0)  # [est.] radial, along-track, cross-track 1 sigma
VELOCITY_SIGMA_M_S = 0.1  # [est.] per local axis, 1 sigma


@dataclass(frozen=True)
class OrbitDeterminationProduct:
    """The ground's product for the descent uplink (plain values, JSON-ready)."""

    frame: str
    epoch_s: float
    position_m: tuple[float, float, float]
    velocity_m_s: tuple[float, float, float]
    target_downrange_m: float
    target_crossrange_m: float
    map_spacing_m: float
    map_heights_m: tuple[float, ...]
    moon_pole: tuple[float, float, float] = (0.0, 0.0, 1.0)
    frame_aligned_epoch_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "position_m": list(self.position_m), "velocity_m_s": list(self.velocity_m_s),
                "map_heights_m": list(self.map_heights_m), "moon_pole": list(self.moon_pole)}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()) + "\n")


def track_to_moon_centred(h: float, s: float, c: float, vu: float, vd: float,
                          vc: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The plant's track state as MCDF position and velocity (spherical coordinates about the centre)."""
    longitude, latitude, radius = s / R_MOON, c / R_MOON, R_MOON + h
    cos_lon, sin_lon = math.cos(longitude), math.sin(longitude)
    cos_lat, sin_lat = math.cos(latitude), math.sin(latitude)
    up = (cos_lat * cos_lon, cos_lat * sin_lon, sin_lat)
    east = (-sin_lon, cos_lon, 0.0)
    north = (-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat)
    position = (radius * up[0], radius * up[1], radius * up[2])
    velocity = (vu * up[0] + vd * east[0] + vc * north[0], vu * up[1] + vd * east[1] + vc * north[1],
                vu * up[2] + vc * north[2])
    return position, velocity


def determination_errors(seed: int) -> tuple[float, float, float, float, float, float]:
    """The seeded errors of the ground's product in track terms (height, downrange, crossrange, m;
    vertical, downrange, crossrange speed, m/s): the same for every product of one seed."""
    od = random.Random(f"od-{seed}")
    sh, ss, sc = POSITION_SIGMA_M
    return (od.gauss(0.0, sh), od.gauss(0.0, ss), od.gauss(0.0, sc), od.gauss(0.0, VELOCITY_SIGMA_M_S),
            od.gauss(0.0, VELOCITY_SIGMA_M_S), od.gauss(0.0, VELOCITY_SIGMA_M_S))


def orbit_determination(plant: LunarLanderPlant, *,
                        map_includes_crater: bool | None = None) -> OrbitDeterminationProduct:
    """The product at the plant's present time: the true state with seeded errors, the planned target,
    and the coarse terrain map, which lacks the crater on the track when the plant's faults say so
    (``map_omits_crater``, Hakuto-R) or when asked."""
    if map_includes_crater is None:
        map_includes_crater = not plant.faults.map_omits_crater
    spacing, heights = plant.terrain.coarse_map(include_crater=map_includes_crater)
    dh, ds, dc, dvu, dvd, dvc = determination_errors(plant.seed)
    position, velocity = track_to_moon_centred(plant.h + dh, plant.s + ds, plant.c + dc,
                                               plant.vu + dvu, plant.vd + dvd, plant.vc + dvc)
    cfg = plant.config
    return OrbitDeterminationProduct(
        frame=FRAME, epoch_s=plant.t, position_m=position, velocity_m_s=velocity,
        target_downrange_m=cfg.target_downrange_m, target_crossrange_m=cfg.target_crossrange_m,
        map_spacing_m=spacing, map_heights_m=tuple(heights), moon_pole=plant.state.pole, frame_aligned_epoch_s=0.0,
    )
