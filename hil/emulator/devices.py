"""Emulated devices over :class:`LunarLanderPlant`, implementing the ``fsw.devices.descent`` Protocols.

Each device owns a seeded ``random.Random`` (derived from the plant seed and the device name), so a
seeded run is bit-for-bit repeatable and adding reads to one device does not perturb another.
Noise figures are estimates for CE-3/5 class sensors and are listed in docs/gnc.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from fsw.devices.codec import reading_maker
from fsw.devices.descent import (
    LRF_LONG_BEAM_MOUNT_RAD,
    LRF_SHORT_BEAM_MOUNT_RAD,
    ElevationImageReading,
    EngineStatus,
    PropellantReading,
    RangeReading,
    RangeVelocityReading,
    VelocityReading,
    pack_heights,
)
from hil.emulator.attitude_devices import EmulatedImu, EmulatedRcs, EmulatedStarTracker
from hil.emulator.noise import gauss_triple
from hil.emulator.plant import LunarLanderPlant

__all__ = ["EmulatedImu", "EmulatedRcs", "EmulatedStarTracker"]  # the lander's attitude devices live there

# Each of these readings is made every cycle.
_range_reading = reading_maker(RangeReading)
_velocity_reading = reading_maker(VelocityReading)
_range_velocity_reading = reading_maker(RangeVelocityReading)
_engine_status = reading_maker(EngineStatus)
_propellant_reading = reading_maker(PropellantReading)


# The beams' directions in the body (along the beam, from the lander).
_LONG_BEAM = (-math.cos(LRF_LONG_BEAM_MOUNT_RAD), -math.sin(LRF_LONG_BEAM_MOUNT_RAD), 0.0)
_SHORT_BEAM = (-math.cos(LRF_SHORT_BEAM_MOUNT_RAD), -math.sin(LRF_SHORT_BEAM_MOUNT_RAD), 0.0)


class EmulatedLaserRangeFinder:
    LONG_MAX_M = 50_000.0
    SHORT_MAX_M = 4_000.0
    DROPOUT = 0.02

    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"lrf-{plant.seed}")
        self.powered = False
        self.dead = False
        self.beam = "long"

    def set_power(self, on: bool) -> None:
        if self.plant.faults.altimeter_never_enabled:
            return
        self.powered = on

    def select_beam(self, beam: str) -> None:
        if beam not in ("long", "short"):
            raise ValueError(f"unknown beam {beam!r}")
        self.beam = beam

    def read(self) -> RangeReading:
        p = self.plant
        dead_below = p.faults.range_finder_dead_below_m
        if dead_below is not None and not self.dead and p.height_above_ground < dead_below:
            self.dead = True
        st = p.state
        if not self.powered or self.dead:
            return _range_reading(st.t, 0.0, self.beam, False)
        long = self.beam == "long"
        bu, bd, bc = p.body_to_local(_LONG_BEAM if long else _SHORT_BEAM)
        if -bu < 0.17:  # grazing the horizon: no return
            return _range_reading(st.t, 0.0, self.beam, False)
        terrain = p.terrain
        h, s, c = st.h, st.s, st.c
        rng0 = (h - terrain.height(s, c)) / -bu
        rng1 = (h - terrain.height(s + rng0 * bd, c + rng0 * bc)) / -bu
        limit = self.LONG_MAX_M if long else self.SHORT_MAX_M
        if rng1 <= 0.0 or rng1 > limit or self.rng.random() < self.DROPOUT:
            return _range_reading(st.t, 0.0, self.beam, False)
        sigma = 1.0 + 0.001 * rng1 if long else 0.05 + 0.0005 * rng1
        return _range_reading(st.t, rng1 + self.rng.gauss(0.0, sigma), self.beam, True)


class EmulatedLaserDopplerVelocimeter:
    MAX_TILT = math.radians(20.0)
    MAX_RANGE_M = 3_000.0
    NOISE = 0.03

    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"ldv-{plant.seed}")
        self.powered = False

    def set_power(self, on: bool) -> None:
        self.powered = on

    def read(self) -> VelocityReading:
        p = self.plant
        st = p.state
        if (
            not self.powered
            or p.tilt > self.MAX_TILT
            or p.height_above_ground > self.MAX_RANGE_M
            or self.rng.random() < 0.01
        ):
            return _velocity_reading(st.t, (0.0, 0.0, 0.0), False)
        vx, vy, vz = p.local_to_body((st.vu, st.vd, st.vc))
        nx, ny, nz = gauss_triple(self.rng, self.NOISE)
        return _velocity_reading(st.t, (vx + nx, vy + ny, vz + nz), True)


class EmulatedMicrowaveRangeVelocity:
    MAX_TILT = math.radians(45.0)
    MAX_RANGE_M = 15_000.0

    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"mrv-{plant.seed}")
        self.powered = False

    def set_power(self, on: bool) -> None:
        if self.plant.faults.microwave_never_enabled:
            return
        self.powered = on

    def read(self) -> RangeVelocityReading:
        p = self.plant
        st = p.state
        hag = p.height_above_ground
        if not self.powered or hag > self.MAX_RANGE_M:
            return _range_velocity_reading(st.t, 0.0, (0.0, 0.0, 0.0), False)
        tilt = p.tilt
        if tilt > self.MAX_TILT:
            return _range_velocity_reading(st.t, 0.0, (0.0, 0.0, 0.0), False)
        rng = hag / math.cos(tilt)
        vx, vy, vz = p.local_to_body((st.vu, st.vd, st.vc))
        measured = rng + self.rng.gauss(0.0, 0.5 + 0.002 * rng)
        nx, ny, nz = gauss_triple(self.rng, 0.2)
        return _range_velocity_reading(st.t, measured, (vx + nx, vy + ny, vz + nz), True)


class EmulatedHazardImager:
    """The 3-D laser imager: an elevation image of the ground in its field of view, nothing else.

    At each scan the laser spots sample the true terrain (mounds, craters, boulders) on a
    ``IMAGE_CELLS`` x ``IMAGE_CELLS`` grid spanning the field of view on level ground, so the cell
    size grows with height (about 0.39 m at the 100 m hover, so that a boulder just over the 0.2 m
    limit has a spot near its top). Each cell carries range noise; a few
    cells return nothing (dropouts); a cell hidden from the imager behind higher ground along its line
    of sight (a boulder's or a rim's shadow to the laser) has no measurement either: the imager cannot
    tell the two apart, both read ``NO_RETURN``. The grid is placed from where the imager believes it
    points (a seeded pointing-knowledge bias). Figures in docs/gnc.md ("Hazard detection").
    The plant's own record of the last scan (``last_scan``: dropouts, hidden cells) is truth for tests.
    """

    # [est.] cells per side of the resampled elevation image: 64 (0.78 m cells) let 0.22-0.27 m
    # boulders of ~0.5 m radius fall between the spots (docs/gnc.md, "Hazard detection").
    IMAGE_CELLS = 128
    HALF_FOV = math.radians(14.0)  # [est.] ~50 m x 50 m imaged from the 100 m hover
    MIN_RANGE_M = 20.0
    MAX_RANGE_M = 250.0
    MAX_TILT = math.radians(10.0)
    RANGE_NOISE_M = 0.05  # [est.] 1 sigma per cell
    DROPOUT = 0.02  # [est.] fraction of cells with no return
    POINTING_BIAS_RAD = 0.001  # [est.] 1 sigma, attitude knowledge at the imager
    HEIGHT_STEP_M = 0.01

    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"imager-{plant.seed}")
        self.pointing_bias = (self.rng.gauss(0.0, self.POINTING_BIAS_RAD), self.rng.gauss(0.0, self.POINTING_BIAS_RAD))
        self.last_scan: dict[str, int] = {}
        self.last_hidden: set[int] = set()  # cells of the last scan the imager could not see (truth)
        self.coarse_look = (0.0, 0.0)
        # Its own generator: a coarse scan leaves the fine images of a seed as they were.
        self.coarse_rng = random.Random(f"coarse-imager-{plant.seed}")
        self.coarse_bias = (self.coarse_rng.gauss(0.0, self.COARSE_POINTING_BIAS_RAD),
                            self.coarse_rng.gauss(0.0, self.COARSE_POINTING_BIAS_RAD))
        self.last_coarse_scan: dict[str, float] = {}

    def scan(self) -> ElevationImageReading:
        p = self.plant
        n = self.IMAGE_CELLS
        hag = p.height_above_ground
        if not (self.MIN_RANGE_M <= hag <= self.MAX_RANGE_M) or p.tilt > self.MAX_TILT:
            return ElevationImageReading(p.t, 0, 0, 0.0, 0.0, 0.0, self.HEIGHT_STEP_M, b"", False)
        cell = 2.0 * hag * math.tan(self.HALF_FOV) / n
        half = (n - 1) / 2.0 * cell
        # The imager's idea of where its grid lies is off by its pointing error times the range.
        bias_s, bias_c = hag * self.pointing_bias[0], hag * self.pointing_bias[1]
        s0, c0 = p.s - half + bias_s, p.c - half + bias_c
        terrain, rng = p.terrain, self.rng
        jitter = 0.25 * cell  # a laser spot falls anywhere near its cell's centre
        truth = [
            terrain.height(s0 + i * cell + rng.uniform(-jitter, jitter), c0 + j * cell + rng.uniform(-jitter, jitter))
            for i in range(n) for j in range(n)
        ]
        hidden = self._hidden(truth, n, cell, p.h, (p.s - s0) / cell, (p.c - c0) / cell)
        heights: list[float | None] = []
        dropouts = 0
        for k, ground in enumerate(truth):
            if k in hidden:
                heights.append(None)
            elif rng.random() < self.DROPOUT:
                heights.append(None)
                dropouts += 1
            else:
                heights.append(ground - p.h + rng.gauss(0.0, self.RANGE_NOISE_M))
        self.last_hidden = hidden
        self.last_scan = {"t_ms": round(p.t * 1000), "cells": n * n, "dropouts": dropouts, "hidden": len(hidden)}
        return ElevationImageReading(
            p.t, n, n, cell, -half, -half, self.HEIGHT_STEP_M, pack_heights(heights, self.HEIGHT_STEP_M), True
        )

    # The coarse image of the approach (CE-3/4/5: the optical camera's wide look at ~2 km, judged for
    # a safe region before the hover; Zhang Honghua et al., Space: Sci. & Tech. 2021). Figures [est.].
    COARSE_CELLS = 64
    COARSE_CELL_M = 9.5  # ~600 m across: the area the approach can still divert within
    COARSE_MIN_RANGE_M = 800.0
    COARSE_MAX_RANGE_M = 4_000.0
    COARSE_MAX_LOOK_M = 3_000.0  # ground offset of the image centre from under the lander
    COARSE_HEIGHT_NOISE_M = 0.3  # 1 sigma per cell, shape from shading / stereo at ~2 km
    COARSE_DROPOUT = 0.03  # shadowed or saturated cells
    COARSE_POINTING_BIAS_RAD = 0.002  # 1 sigma, where the camera believes it looks
    COARSE_HEIGHT_STEP_M = 0.1  # int16 counts then span +-3.2 km below the camera

    def point_coarse(self, downrange_m: float, crossrange_m: float) -> None:
        self.coarse_look = (float(downrange_m), float(crossrange_m))

    def coarse_scan(self) -> ElevationImageReading:
        """Terrain heights only (mounds, small craters, the base): boulders are below its resolution.
        The plant's record of it is ``last_coarse_scan``."""
        p = self.plant
        n, cell = self.COARSE_CELLS, self.COARSE_CELL_M
        look_s, look_c = self.coarse_look
        hag = p.height_above_ground
        slant = math.hypot(hag, math.hypot(look_s, look_c))
        if (not (self.COARSE_MIN_RANGE_M <= slant <= self.COARSE_MAX_RANGE_M) or not math.isfinite(look_s)
                or not math.isfinite(look_c) or math.hypot(look_s, look_c) > self.COARSE_MAX_LOOK_M):
            return ElevationImageReading(p.t, 0, 0, 0.0, 0.0, 0.0, self.COARSE_HEIGHT_STEP_M, b"", False)
        rng = self.coarse_rng
        half = (n - 1) / 2.0 * cell
        # The grid the camera reports is off from where it truly lies by its pointing error times range.
        s0 = p.s + look_s - half + slant * self.coarse_bias[0]
        c0 = p.c + look_c - half + slant * self.coarse_bias[1]
        heights: list[float | None] = []
        dropouts = 0
        for i in range(n):
            for j in range(n):
                if rng.random() < self.COARSE_DROPOUT:
                    heights.append(None)
                    dropouts += 1
                    continue
                ground = p.terrain.smooth_height(s0 + i * cell, c0 + j * cell)
                heights.append(ground - p.h + rng.gauss(0.0, self.COARSE_HEIGHT_NOISE_M))
        self.last_coarse_scan = {"t_ms": round(p.t * 1000), "cells": n * n, "dropouts": dropouts,
                                 "centre_s": round(s0 + half, 1), "centre_c": round(c0 + half, 1)}
        return ElevationImageReading(p.t, n, n, cell, look_s - half, look_c - half, self.COARSE_HEIGHT_STEP_M,
                                     pack_heights(heights, self.COARSE_HEIGHT_STEP_M), True)

    @staticmethod
    def _hidden(truth: list[float], n: int, cell: float, eye_h: float, eye_i: float, eye_j: float) -> set[int]:
        """Cells whose line of sight to the imager passes below the ground of a cell nearer to it."""
        hidden: set[int] = set()
        for i in range(n):
            for j in range(n):
                di, dj = eye_i - i, eye_j - j
                dist = math.hypot(di, dj)
                if dist < 1.5:
                    continue
                ground = truth[i * n + j]
                rise = (eye_h - ground) / dist  # height the ray gains per cell towards the imager
                for step in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0):
                    if step >= dist:
                        break
                    a, b = round(i + di * step / dist), round(j + dj * step / dist)
                    if truth[a * n + b] > ground + rise * step:
                        hidden.add(i * n + j)
                        break
        return hidden


class EmulatedMainEngine:
    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"engine-{plant.seed}")

    def set_on(self, on: bool) -> None:
        self.plant.engine_on = on

    def set_thrust(self, newtons: float) -> None:
        self.plant.thrust_cmd = newtons

    def read(self) -> EngineStatus:
        p = self.plant
        return _engine_status(p.state.t, p.engine_on, p.thrust_cmd, max(0.0, p.thrust + self.rng.gauss(0.0, 10.0)),
                              True)


class EmulatedPropellantGauge:
    NOISE_KG = 3.0

    def __init__(self, plant: LunarLanderPlant) -> None:
        self.plant = plant
        self.rng = random.Random(f"gauge-{plant.seed}")

    def read(self) -> PropellantReading:
        p = self.plant
        return _propellant_reading(p.state.t, max(0.0, p.propellant + self.rng.gauss(0.0, self.NOISE_KG)), True)


@dataclass
class LanderDevices:
    imu: EmulatedImu
    star_tracker: EmulatedStarTracker
    range_finder: EmulatedLaserRangeFinder
    velocimeter: EmulatedLaserDopplerVelocimeter
    microwave: EmulatedMicrowaveRangeVelocity
    hazard_imager: EmulatedHazardImager
    main_engine: EmulatedMainEngine
    attitude: EmulatedRcs
    propellant: EmulatedPropellantGauge


def make_lander_devices(plant: LunarLanderPlant) -> LanderDevices:
    return LanderDevices(
        imu=EmulatedImu(plant),
        star_tracker=EmulatedStarTracker(plant),
        range_finder=EmulatedLaserRangeFinder(plant),
        velocimeter=EmulatedLaserDopplerVelocimeter(plant),
        microwave=EmulatedMicrowaveRangeVelocity(plant),
        hazard_imager=EmulatedHazardImager(plant),
        main_engine=EmulatedMainEngine(plant),
        attitude=EmulatedRcs(plant),
        propellant=EmulatedPropellantGauge(plant),
    )
