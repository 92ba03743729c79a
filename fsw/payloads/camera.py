"""Partner camera: 8-bit monochrome frames of the landing site as PGM (P5) products.

The emulated sensor renders a seeded regolith scene (texture, craters lit from the east, rocks)
so that the same seed and frame number give the same octets.
"""

from __future__ import annotations

import math
import random
from typing import Any, Protocol

from fsw.core.context import Context
from fsw.core.declarations import Arg, ParameterDef, TelemetryDef, command
from fsw.payloads.base import PayloadComponent, PayloadDevice, standard_events, standard_points

WIDTH, HEIGHT = 128, 96


class CameraDevice(PayloadDevice, Protocol):
    width: int
    height: int

    def capture(self, exposure_s: float, gain: float) -> bytes:
        """One frame, ``width * height`` octets, row by row."""
        ...


class EmulatedCamera:
    """Seeded scene; brightness scales with exposure and gain and saturates at 255."""

    def __init__(self, seed: int, width: int = WIDTH, height: int = HEIGHT) -> None:
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


class Camera(PayloadComponent):
    name = "camera"
    prefix = "CAM"
    product_extension = "pgm"
    hk_structure = 20
    hk_period_s = 2.0
    telemetry = (*standard_points("CAM"),
                 TelemetryDef("cam_last_exposure", "f32", "s", "exposure of the newest frame"))
    events = standard_events("CAM", 0x2001)
    parameters = (ParameterDef(0x2001, "cam_gain", "f64", 1.0, "sensor analogue gain", 0.5, 8.0),)

    def __init__(self, ctx: Context, seed: int = 1, device: CameraDevice | None = None) -> None:
        super().__init__(ctx, seed, device)
        self.last_exposure = 0.0

    def make_device(self, seed: int) -> CameraDevice:
        return EmulatedCamera(seed)

    @command(0x2001)
    def cmd_cam_power_on(self) -> None:
        """Power the partner camera on."""
        self.set_power(True)

    @command(0x2002)
    def cmd_cam_power_off(self) -> None:
        """Power the partner camera off."""
        self.set_power(False)

    @command(0x2003, Arg("exposure_s", "f64", "exposure time", 0.0001, 1.0, unit="s"))
    async def cmd_cam_acquire(self, exposure_s: float) -> None:
        """Take one frame and store it as a PGM product."""
        await self.acquire(exposure_s)

    def make_product(self, index: int, exposure_s: float) -> bytes:
        device: CameraDevice = self.device
        raster = device.capture(exposure_s, float(self.param("cam_gain")))
        self.last_exposure = exposure_s
        return f"P5\n# ILRS partner camera frame {index}\n{device.width} {device.height}\n255\n".encode() + raster

    def extra_housekeeping(self) -> dict[str, Any]:
        return {"cam_last_exposure": self.last_exposure}


PAYLOAD = Camera
