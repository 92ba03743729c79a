"""The rover: its deploy mechanism and its mobility (power and thermal are the ones in
:mod:`hil.emulator.surface.power`)."""

from __future__ import annotations

import math
from typing import Any

from fsw.devices.surface import DeployStatus, MobilityStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading


class EmulatedRoverDeploy(_Device):
    DEPLOY_TIME_S = 1800.0
    STATE = ("released_at",)

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.released_at: float | None = None

    @_act
    def release(self) -> None:
        if self.released_at is None:
            self.released_at = self.world.now()

    def read(self) -> DeployStatus:
        now = self.world.now()
        released = self.released_at is not None
        on_surface = released and now - self.released_at >= self.DEPLOY_TIME_S  # type: ignore[operator]
        return DeployStatus(now, released, on_surface, False, True)


class EmulatedRoverMobility(_Device):
    """Drives straight at 0.05 m/s [est. Yutu-2 class]; stops at seeded hazards along the way."""

    SPEED_M_S = 0.05
    HAZARD_PROBABILITY = 0.3  # per drive leg [est.]
    STATE = ("east", "north", "goal", "hazard_at", "hazard_stop", "arrived", "stowed", "last")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("mobility")
        self.east = self.north = 0.0
        self.goal: tuple[float, float] | None = None
        self.hazard_at: float | None = None  # distance along the leg at which a hazard stops the drive
        self.hazard_stop = False
        self.arrived = False
        self.stowed = False
        self.last = world.now()

    def _fault(self) -> bool:
        at = self.world.faults.rover_mechanism_fault_at_s
        return at is not None and self.world.now() >= at

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.goal is None or dt <= 0:
            return
        ge, gn = self.goal
        de, dn = ge - self.east, gn - self.north
        remaining = math.hypot(de, dn)
        step = self.SPEED_M_S * dt
        if self.hazard_at is not None and step >= self.hazard_at:
            fraction = self.hazard_at / remaining if remaining else 1.0
            self.east += de * fraction
            self.north += dn * fraction
            self.goal, self.hazard_at, self.hazard_stop = None, None, True
            return
        if self.hazard_at is not None:
            self.hazard_at -= step
        if step >= remaining:
            self.east, self.north, self.goal, self.arrived = ge, gn, None, True
        else:
            self.east += de * step / remaining
            self.north += dn * step / remaining

    @_act
    def drive_to(self, east_m: float, north_m: float) -> None:
        self._advance()
        if self._fault() or self.stowed:
            return
        self.goal = (east_m, north_m)
        self.arrived = self.hazard_stop = False
        distance = math.hypot(east_m - self.east, north_m - self.north)
        self.hazard_at = self.rng.uniform(0.2, 0.9) * distance if self.rng.random() < self.HAZARD_PROBABILITY else None

    @_act
    def stop(self) -> None:
        self._advance()
        self.goal = None

    @_act
    def stow(self) -> None:
        self._advance()
        if not self._fault():
            self.goal = None
            self.stowed = True

    @_act
    def unstow(self) -> None:
        if not self._fault():
            self.stowed = False

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        if self.goal is not None:
            east, north = self.goal
            self.goal = (float(east), float(north))

    @_reading
    def read(self) -> MobilityStatus:
        self._advance()
        return MobilityStatus(
            self.last,
            self.east,
            self.north,
            self.goal is not None,
            self.arrived,
            self.hazard_stop,
            self.stowed,
            self._fault(),
            True,
        )
