"""Partner camera: 8-bit monochrome frames of the landing site as PGM (P5) products.

The device comes from the platform (the emulator's is ``hil.emulator.surface.instruments.EmulatedCamera``).
"""

from __future__ import annotations

from typing import Any, Protocol

from fsw.core.context import Context
from fsw.core.declarations import MISSION_MODES, Arg, ParameterDef, TelemetryDef, command
from fsw.payloads.base import PayloadComponent, PayloadDevice, standard_events, standard_points


class CameraDevice(PayloadDevice, Protocol):
    width: int
    height: int

    def capture(self, exposure_s: float, gain: float) -> bytes:
        """One frame, ``width * height`` octets, row by row."""
        ...


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

    @command(0x2001, modes=MISSION_MODES)
    def cmd_cam_power_on(self) -> None:
        """Power the partner camera on."""
        self.set_power(True)

    @command(0x2002)
    def cmd_cam_power_off(self) -> None:
        """Power the partner camera off."""
        self.set_power(False)

    @command(0x2003, Arg("exposure_s", "f64", "exposure time", 0.0001, 1.0, unit="s"), modes=MISSION_MODES,
             duration_s=1.0, duration_per=("exposure_s",))
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
