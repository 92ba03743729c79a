"""Instruments: the ground-penetrating radar over the drill site, the camera and the neutron
dosimeter, as the partner payloads (:mod:`fsw.payloads`) and the sampling machine use them.

The radar is one instrument with two uses: the sampling machine's survey of the drill site (depth to
rock, its noise drawn from the world's ``gpr`` stream, kept with the hardware state) and the partner
payload's radargrams (``sweep``). The payload side of every instrument (power, frame count, the
streams of its products) starts afresh with the flight software, which powers the payloads off at
boot; its streams are seeded from the world seed as they were when the payloads made their own.
"""

from __future__ import annotations

import math
import random

from fsw.devices.surface import RadarProfile
from hil.emulator.surface.world import SurfaceWorld, _Device, _reading

CAMERA_WIDTH, CAMERA_HEIGHT = 128, 96
# The radar's own figures (the instrument's, not the flight software's: it has its copy of them).
SPEED_OF_LIGHT = 299_792_458.0
CENTRE_FREQUENCY_HZ = 1.5e9
SAMPLE_INTERVAL_S = 0.1e-9
SAMPLES_PER_TRACE = 256
RADAR_ATTENUATION_PER_M = 0.9  # amplitude e-folding per metre of two-way path in dry regolith [est.]
# Lunar-surface count rates as Chang'E-4's LND reported them (the flight software calibrates its dose
# with its own figure).
NEUTRAL_RATE_CPS = 4.5
CHARGED_RATE_CPS = 22.0


class EmulatedRadar(_Device):
    """Ground-penetrating radar (``fsw.devices.surface.GroundPenetratingRadar`` and
    ``fsw.payloads.radar.RadarDevice``).

    The survey reports the rock of the world's faults (when the radar sees it). The sweeps see a
    seeded layered regolith: a few reflectors between 0.2 m and 2 m depth, gently dipping along the
    survey line, returned as Ricker wavelets at the two-way travel time ``2 d sqrt(eps) / c``,
    attenuated with depth, plus noise.
    """

    MAX_DEPTH_M = 3.0

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("gpr")
        layers = random.Random(f"radar:{world.seed}")
        self.layers = sorted((layers.uniform(0.2, 2.0), layers.uniform(0.2, 0.8) * layers.choice((-1, 1)),
                              layers.uniform(-0.05, 0.05)) for _ in range(4))  # (depth m, reflectivity, dip)
        self.noise = random.Random(f"radar-noise:{world.seed}")
        self.powered = False

    @_reading
    def survey(self) -> RadarProfile:
        rock = self.world.faults.rock_depth_m
        seen = rock if rock is not None and self.world.faults.radar_sees_rock else None
        if seen is not None:
            seen = max(0.0, seen + self.rng.gauss(0.0, 0.05))
        return RadarProfile(self.world.now(), seen, self.MAX_DEPTH_M, True)

    def set_power(self, on: bool) -> None:
        self.powered = on

    def temperature_c(self) -> float:
        return 24.0 + (9.0 if self.powered else 0.0)

    def sweep(self, position_m: float, permittivity: float) -> list[int]:
        if not self.powered:
            raise OSError("radar not powered")
        velocity = SPEED_OF_LIGHT / math.sqrt(permittivity)
        trace = []
        for index in range(SAMPLES_PER_TRACE):
            t = index * SAMPLE_INTERVAL_S
            value = _ricker(t - 1.0e-9) * 0.9  # direct coupling
            for depth, reflectivity, dip in self.layers:
                depth_here = depth + dip * position_m
                arrival = 2.0 * depth_here / velocity + 1.0e-9
                value += reflectivity * math.exp(-RADAR_ATTENUATION_PER_M * 2.0 * depth_here) * _ricker(t - arrival)
            value += self.noise.gauss(0.0, 0.004)
            trace.append(max(-32768, min(32767, round(value * 30000))))
        return trace


def _ricker(t: float) -> float:
    a = (math.pi * CENTRE_FREQUENCY_HZ * t) ** 2
    return (1.0 - 2.0 * a) * math.exp(-a)


class EmulatedCamera:
    """The partner camera (``fsw.payloads.camera.CameraDevice``): 8-bit monochrome frames of a seeded
    regolith scene (texture, craters lit from the east, rocks), the same octets for the same seed and
    frame number; brightness scales with exposure and gain and saturates at 255."""

    def __init__(self, seed: int, width: int = CAMERA_WIDTH, height: int = CAMERA_HEIGHT) -> None:
        self.seed = seed
        self.width, self.height = width, height
        self.powered = False
        self.frames = 0

    def set_power(self, on: bool) -> None:
        self.powered = on

    def temperature_c(self) -> float:
        return 18.0 + (6.5 if self.powered else 0.0) + 0.02 * self.frames

    def capture(self, exposure_s: float, gain: float) -> bytes:
        if not self.powered:
            raise OSError("camera not powered")
        self.frames += 1
        rng = random.Random(f"camera:{self.seed}:{self.frames}")
        craters = [(rng.uniform(0, self.width), rng.uniform(0, self.height), rng.uniform(4, 18)) for _ in range(6)]
        rocks = [(rng.uniform(0, self.width), rng.uniform(0, self.height), rng.uniform(1, 3)) for _ in range(12)]
        scale = exposure_s / 0.01 * gain  # 10 ms at unit gain is the nominal exposure
        pixels = bytearray(self.width * self.height)
        for y in range(self.height):
            for x in range(self.width):
                level = 95.0 + rng.gauss(0.0, 6.0)
                for cx, cy, radius in craters:
                    distance = math.hypot(x - cx, y - cy)
                    if distance < radius:  # bowl: its sunward wall is in shadow
                        level += 45.0 * ((x - cx) / radius) * math.sqrt(1 - (distance / radius) ** 2)
                    elif distance < radius * 1.25:
                        level += 18.0  # bright ejecta rim
                for rx, ry, radius in rocks:
                    if math.hypot(x - rx, y - ry) < radius:
                        level += 70.0
                pixels[y * self.width + x] = max(0, min(255, round(level * scale)))
        return bytes(pixels)


class EmulatedDosimeter:
    """The partner neutron and charged-particle dosimeter (``fsw.payloads.neutron_dosimeter.DosimeterDevice``):
    Poisson counts around the lunar-surface rates."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"neutron_dosimeter:{seed}")
        self.powered = False

    def set_power(self, on: bool) -> None:
        self.powered = on

    def temperature_c(self) -> float:
        return 21.0 + (3.0 if self.powered else 0.0)

    def count(self, interval_s: float) -> tuple[int, int]:
        if not self.powered:
            raise OSError("dosimeter not powered")
        return _poisson(self.rng, NEUTRAL_RATE_CPS * interval_s), _poisson(self.rng, CHARGED_RATE_CPS * interval_s)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30.0:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count
