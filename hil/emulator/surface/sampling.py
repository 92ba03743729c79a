"""Sampling: the drill, the scoop arm, the sample container and the transfer mechanism.

The drill and the arm are fed by their PDU lines (:mod:`hil.emulator.surface.electrical`): without
supply they stop where they are and report nothing valid. The drill's motor current follows the
torque on the string and heats its winding (a first-order thermal model); above the insulation's
limit the winding fails and the drive is dead for good (truth: ``damaged_at``). Figures [est.].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fsw.devices.surface import ArmStatus, ContainerStatus, DrillStatus, TransferStatus
from hil.emulator.surface.world import SurfaceWorld, _act, _Device, _reading

REGOLITH_CORE_G_PER_M = 250.0  # [est.] ~0.5 kg over the 2 m design depth
SCOOP_MEAN_G = 130.0  # [est.] per scoop cycle
SCOOP_SIGMA_G = 20.0
SCOOP_CYCLE_S = 600.0  # [est.] reach, scoop, deliver
DRILL_TORQUE_REGOLITH_NM = 8.0  # [est.]
DRILL_TORQUE_PER_M_NM = 6.0  # [est.] compaction increases with depth
DRILL_TORQUE_HARD_NM = 30.0  # [est.] a hard, rock-rich layer: added to the depth term, below the jam torque
HARD_LAYER_RATE_FRACTION = 0.2  # [est.] penetration rate left in the hard layer
DRILL_STALL_TORQUE_NM = 60.0  # [est.] drive current limit
DRILL_RETRACT_RATE_M_S = 0.005
# Drill motor [est.]: current from the string torque through the gearbox, a winding that heats as I^2
# towards T_ambient + K I^2 with time constant TAU, and fails above the insulation class H limit
# (180 C, IEC 60085).
MOTOR_NO_LOAD_A = 0.6
MOTOR_A_PER_NM = 0.1
MOTOR_STALL_A = MOTOR_NO_LOAD_A + MOTOR_A_PER_NM * DRILL_STALL_TORQUE_NM
MOTOR_RETRACT_A = 0.8
WINDING_AMBIENT_C = 20.0
WINDING_C_PER_A2 = 14.4  # 150 C steady at the 3 A continuous rating
WINDING_TAU_S = 300.0
WINDING_DAMAGE_C = 180.0
SEAL_TIME_S = 300.0
TRANSFER_TIME_S = {"lander_to_ascender": 1200.0, "ascender_to_returner": 1800.0}


def _always_on() -> bool:
    return True


class EmulatedDrill(_Device):
    STATE = ("depth", "core_g", "target", "rate", "mode", "last", "winding_c", "peak_winding_c", "damaged_at",
             "drive_s")

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer,
                 supply: Callable[[], bool] = _always_on) -> None:
        self.world = world
        self.container = container
        self.supply = supply
        self.rng = world.rng("drill")
        self.depth = 0.0
        self.core_g = 0.0
        self.target = 0.0
        self.rate = 0.0
        self.mode = "idle"  # idle | drilling | retracting | stalled (motor on, string stuck) | stuck (motor off)
        self.last = world.now()
        self.winding_c = WINDING_AMBIENT_C
        self.peak_winding_c = WINDING_AMBIENT_C
        self.damaged_at: float | None = None  # truth: when the winding failed
        self.drive_s = 0.0  # truth: seconds the motor has turned the string (drilling)

    @property
    def damaged(self) -> bool:
        return self.damaged_at is not None

    def _torque_nm(self) -> float:
        """The true torque on the string while it turns."""
        hard = self.world.faults.hard_layer_depth_m
        torque = DRILL_TORQUE_REGOLITH_NM + DRILL_TORQUE_PER_M_NM * self.depth
        if hard is not None and self.depth >= hard - 1e-9:
            torque += DRILL_TORQUE_HARD_NM - DRILL_TORQUE_REGOLITH_NM
        return torque

    def _current_a(self) -> float:
        if self.damaged or not self.supply():
            return 0.0
        if self.mode == "drilling":
            return MOTOR_NO_LOAD_A + MOTOR_A_PER_NM * self._torque_nm()
        if self.mode == "stalled":
            return MOTOR_STALL_A
        return MOTOR_RETRACT_A if self.mode == "retracting" else 0.0

    def _heat(self, current: float, start: float, dt: float) -> None:
        steady = WINDING_AMBIENT_C + WINDING_C_PER_A2 * current**2
        before = self.winding_c
        self.winding_c = steady + (before - steady) * math.exp(-dt / WINDING_TAU_S)
        self.peak_winding_c = max(self.peak_winding_c, self.winding_c)
        if self.damaged_at is None and self.winding_c >= WINDING_DAMAGE_C > before:
            # When the winding crossed the limit within the step (closed form of the first-order rise).
            self.damaged_at = start + WINDING_TAU_S * math.log((before - steady) / (WINDING_DAMAGE_C - steady))
            if self.mode in ("drilling", "stalled"):
                self.mode = "stalled"  # a dead winding: the drive cannot turn the string

    def _drill(self, dt: float) -> None:
        if self.rate <= 0.0:
            return
        limit = self.target
        rock = self.world.faults.rock_depth_m
        if rock is not None:
            limit = min(limit, rock)
        hard = self.world.faults.hard_layer_depth_m
        remaining, depth = dt, self.depth
        if hard is not None and depth < hard:  # full rate down to the hard layer
            reach = min(limit, hard)
            used = min(remaining, max(0.0, reach - depth) / self.rate)
            depth, remaining = min(reach, depth + self.rate * used), remaining - used
        if remaining > 0:
            slow = hard is not None and depth >= hard - 1e-9
            depth = min(limit, depth + self.rate * (HARD_LAYER_RATE_FRACTION if slow else 1.0) * remaining)
        self.core_g += (depth - self.depth) * REGOLITH_CORE_G_PER_M
        self.depth = depth
        if rock is not None and self.depth >= rock - 1e-9:
            self.mode = "stalled"
        elif self.depth >= self.target - 1e-9:
            self.mode = "idle"

    def _advance(self) -> None:
        now = self.world.now()
        start, dt = self.last, now - self.last
        self.last = now
        if dt <= 0:
            return
        current = self._current_a()
        if self.mode == "drilling" and not self.damaged:
            self.drive_s += dt
            self._drill(dt)
        elif self.mode == "retracting":
            self.depth = max(0.0, self.depth - DRILL_RETRACT_RATE_M_S * dt)
            if self.depth <= 0.0:
                self.mode = "idle"
        self._heat(current, start, dt)

    @_reading
    def motor_current_a(self) -> float:
        self._advance()
        return self._current_a()

    @_act
    def supply_changed(self, on: bool) -> None:
        self._advance()
        if not on and self.mode != "idle":
            self.mode = "idle"  # the controller loses power: every motion stops where it is

    @_act
    def start(self, target_depth_m: float, rate_m_s: float) -> None:
        self._advance()
        if self.mode in ("stalled", "stuck") or self.damaged or not self.supply():
            return
        self.target, self.rate, self.mode = target_depth_m, rate_m_s, "drilling"

    @_act
    def stop(self) -> None:
        self._advance()
        if self.mode == "drilling" and self.supply():
            self.mode = "idle"
        elif self.mode == "stalled" and self.supply():
            self.mode = "stuck"  # the motor de-energised, the string still held where it stalled

    @_act
    def retract(self) -> None:
        self._advance()
        if self.supply():
            self.mode = "retracting"  # the feed mechanism lifts the string, turning motor or not

    @_act
    def deliver_core(self) -> None:
        self._advance()
        if self.depth <= 0.0 and self.mode == "idle" and self.supply():
            self.container.receive(self.core_g)
            self.core_g = 0.0

    @_reading
    def read(self) -> DrillStatus:
        self._advance()
        if not self.supply():
            return DrillStatus(self.last, 0.0, 0.0, False, False, False, 0.0, False)
        torque = self._torque_nm()
        if self.mode in ("stalled", "stuck"):
            torque = DRILL_STALL_TORQUE_NM if self.mode == "stalled" and not self.damaged else 0.0
        elif self.mode != "drilling":
            torque = 0.5 if self.mode == "retracting" else 0.0
        torque = max(0.0, torque + self.rng.gauss(0.0, 0.3))
        return DrillStatus(
            self.last,
            self.depth,
            torque,
            self.mode in ("stalled", "stuck"),
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

    def __init__(self, world: SurfaceWorld, container: EmulatedContainer,
                 supply: Callable[[], bool] = _always_on) -> None:
        self.world = world
        self.container = container
        self.supply = supply
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

    @_reading
    def moving(self) -> bool:
        self._advance()
        return self.busy_until is not None

    @_act
    def supply_changed(self, on: bool) -> None:
        self._advance()
        if not on:
            self.busy_until, self.pending_g = None, 0.0  # a cycle cut short: its scoop is spilled

    @_act
    def start_scoop(self, point: int) -> None:
        self._advance()
        if self.busy_until is None and self.supply():
            self.stowed = False
            self.pending_g = max(40.0, self.rng.gauss(SCOOP_MEAN_G, SCOOP_SIGMA_G))
            self.busy_until = self.world.now() + SCOOP_CYCLE_S

    @_act
    def stow(self) -> None:
        self._advance()
        if self.busy_until is None and self.supply():
            self.stowed = True

    @_reading
    def read(self) -> ArmStatus:
        self._advance()
        if not self.supply():
            return ArmStatus(self.world.now(), False, 0, self.stowed, False, False)
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
