"""Instruments: the ground-penetrating radar over the drill site and the camera."""

from __future__ import annotations

from fsw.devices.surface import ImageProduct, RadarProfile
from hil.emulator.surface.world import SurfaceWorld, _Device, _reading


class EmulatedRadar(_Device):
    MAX_DEPTH_M = 3.0

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("gpr")

    @_reading
    def survey(self) -> RadarProfile:
        rock = self.world.faults.rock_depth_m
        seen = rock if rock is not None and self.world.faults.radar_sees_rock else None
        if seen is not None:
            seen = max(0.0, seen + self.rng.gauss(0.0, 0.05))
        return RadarProfile(self.world.now(), seen, self.MAX_DEPTH_M, True)


class EmulatedCamera(_Device):
    def __init__(self, world: SurfaceWorld, width: int = 64, height: int = 48) -> None:
        self.world = world
        self.rng = world.rng("camera")
        self.width, self.height = width, height

    @_reading
    def capture(self) -> ImageProduct:
        data = bytes(self.rng.randrange(256) for _ in range(self.width * self.height))
        return ImageProduct(self.world.now(), self.width, self.height, data, True)
