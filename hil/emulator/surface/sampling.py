"""Sampling: the drill, the scoop arm, the sample container and the transfer mechanism."""

from __future__ import annotations

from typing import Any

from fsw.devices.surface import ArmStatus, ContainerStatus, DrillStatus, TransferStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

REGOLITH_CORE_G_PER_M = 250.0  # [est.] ~0.5 kg over the 2 m design depth
SCOOP_MEAN_G = 130.0  # [est.] per scoop cycle
SCOOP_SIGMA_G = 20.0
SCOOP_CYCLE_S = 600.0  # [est.] reach, scoop, deliver
DRILL_TORQUE_REGOLITH_NM = 8.0  # [est.]
DRILL_TORQUE_PER_M_NM = 6.0  # [est.] compaction increases with depth
DRILL_STALL_TORQUE_NM = 60.0  # [est.] drive current limit
DRILL_RETRACT_RATE_M_S = 0.005
SEAL_TIME_S = 300.0
TRANSFER_TIME_S = {"lander_to_ascender": 1200.0, "ascender_to_returner": 1800.0}


class EmulatedDrill(_Device):
    STATE = ("depth", "core_g", "target", "rate", "mode", "last")

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer) -> None:
        self.world = world
        self.container = container
        self.rng = world.rng("drill")
        self.depth = 0.0
        self.core_g = 0.0
        self.target = 0.0
        self.rate = 0.0
        self.mode = "idle"  # idle | drilling | retracting | stalled
        self.last = world.now()

    def _advance(self) -> None:
        now = self.world.now()
        dt, self.last = now - self.last, now
        if self.mode == "drilling":
            limit = self.target
            rock = self.world.faults.rock_depth_m
            if rock is not None:
                limit = min(limit, rock)
            new_depth = min(limit, self.depth + self.rate * dt)
            self.core_g += (new_depth - self.depth) * REGOLITH_CORE_G_PER_M
            self.depth = new_depth
            if rock is not None and self.depth >= rock - 1e-9:
                self.mode = "stalled"
            elif self.depth >= self.target - 1e-9:
                self.mode = "idle"
        elif self.mode == "retracting":
            self.depth = max(0.0, self.depth - DRILL_RETRACT_RATE_M_S * dt)
            if self.depth <= 0.0:
                self.mode = "idle"

    @_act
    def start(self, target_depth_m: float, rate_m_s: float) -> None:
        self._advance()
        if self.mode == "stalled":
            return
        self.target, self.rate, self.mode = target_depth_m, rate_m_s, "drilling"

    @_act
    def stop(self) -> None:
        self._advance()
        if self.mode == "drilling":
            self.mode = "idle"

    @_act
    def retract(self) -> None:
        self._advance()
        self.mode = "retracting"

    @_act
    def deliver_core(self) -> None:
        self._advance()
        if self.depth <= 0.0 and self.mode == "idle":
            self.container.receive(self.core_g)
            self.core_g = 0.0

    @_reading
    def read(self) -> DrillStatus:
        self._advance()
        torque = DRILL_TORQUE_REGOLITH_NM + DRILL_TORQUE_PER_M_NM * self.depth
        if self.mode == "stalled":
            torque = DRILL_STALL_TORQUE_NM
        elif self.mode != "drilling":
            torque = 0.5 if self.mode == "retracting" else 0.0
        torque = max(0.0, torque + self.rng.gauss(0.0, 0.3))
        return DrillStatus(
            self.last,
            self.depth,
            torque,
            self.mode == "stalled",
            self.mode == "drilling",
            self.mode == "retracting",
            self.core_g,
            True,
        )


class EmulatedContainer(_Device):
    STATE = ("mass_g", "seal_started")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.rng = world.rng("container")
        self.mass_g = 0.0
        self.seal_started: float | None = None

    @_act
    def receive(self, grams: float) -> None:
        if self.seal_started is None:
            self.mass_g += grams

    @_act
    def seal(self) -> None:
        if self.seal_started is None:
            self.seal_started = self.world.now()

    @_reading
    def read(self) -> ContainerStatus:
        now = self.world.now()
        done = self.seal_started is not None and now - self.seal_started >= SEAL_TIME_S
        sealed = done and not self.world.faults.seal_fails
        sealing = self.seal_started is not None and not done
        noisy = max(0.0, self.mass_g + self.rng.gauss(0.0, 0.5))
        return ContainerStatus(now, noisy, self.seal_started is not None, sealing, sealed, True)


class EmulatedArm(_Device):
    STATE = ("busy_until", "pending_g", "scoops", "stowed")

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer) -> None:
        self.world = world
        self.container = container
        self.rng = world.rng("arm")
        self.busy_until: float | None = None
        self.pending_g = 0.0
        self.scoops = 0
        self.stowed = True

    def _advance(self) -> None:
        if self.busy_until is not None and self.world.now() >= self.busy_until:
            self.busy_until = None
            self.scoops += 1
            self.container.receive(self.pending_g)

    @_act
    def start_scoop(self, point: int) -> None:
        self._advance()
        if self.busy_until is None:
            self.stowed = False
            self.pending_g = max(40.0, self.rng.gauss(SCOOP_MEAN_G, SCOOP_SIGMA_G))
            self.busy_until = self.world.now() + SCOOP_CYCLE_S

    @_act
    def stow(self) -> None:
        self._advance()
        if self.busy_until is None:
            self.stowed = True

    @_reading
    def read(self) -> ArmStatus:
        self._advance()
        return ArmStatus(self.world.now(), self.busy_until is not None, self.scoops, self.stowed, False, True)


class EmulatedTransfer(_Device):
    STATE = ("stage", "started")

    def __init__(self, world: SurfaceWorld) -> None:
        self.world = world
        self.stage = ""
        self.started = 0.0
        self.completed: set[str] = set()

    @_act
    def start(self, stage: str) -> None:
        if stage not in TRANSFER_TIME_S:
            raise ValueError(f"unknown transfer stage {stage!r}")
        self.stage, self.started = stage, self.world.now()

    def physical_state(self) -> dict[str, Any]:
        return {**super().physical_state(), "completed": sorted(self.completed)}

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self.completed = {str(stage) for stage in state["completed"]}

    @_reading
    def read(self) -> TransferStatus:
        now = self.world.now()
        fault = self.world.faults.transfer_fault
        if self.stage and not fault and now - self.started >= TRANSFER_TIME_S[self.stage]:
            self.completed.add(self.stage)
        done = self.stage in self.completed
        return TransferStatus(now, self.stage, bool(self.stage) and not done and not fault, done, fault, True)
