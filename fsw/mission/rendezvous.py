"""Rendezvous and docking in lunar orbit, then the container transfer and the ascender release.

Far range is ground-guided (orbit phasing): the machine waits for the microwave radar to lock inside
the hand-over range and for the ground go. Short range is autonomous: a range-rate profile tracked
with line-of-sight thrust on a 1-D closing model, down to contact, capture by the claws, transfer of
the container to the returner (~30 min), and the ascender release (~7 h after capture, latched)."""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.devices.surface import (
    ApproachThrusters,
    DockingMechanism,
    RendezvousRadar,
    SeparationDevice,
    TransferMechanism,
)
from fsw.mission.machine import MachineSpec, MissionMachine, StateSpec, machine_events, machine_telemetry
from fsw.mission.machine import TransitionSpec as T

RELEASE_LATCH = "ascender_release"
SPEC = MachineSpec(
    name="rendezvous",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the ascender in orbit", dormant=True),
        StateSpec("far_range", "ground-guided phasing until the radar locks inside the hand-over range", 259_200.0),
        StateSpec("awaiting_go", "waiting for the ground go for autonomous short range", 86_400.0,
                  go_command="GO_SHORT_RANGE"),
        StateSpec("short_range", "autonomous approach on radar range and range rate", 21_600.0),
        StateSpec("final_approach", "slow closing to contact", 3_600.0),
        StateSpec("capture", "claws closing and latching", 120.0),
        StateSpec("transfer", "container moved from the ascender into the returner", 3_600.0),
        StateSpec("release_wait", "docked, waiting to release the ascender", 36_000.0,
                  dwell_s="ascender_release_delay_s"),
        StateSpec("release", "ascender released (latched)", 120.0),
        StateSpec("released", "samples in the returner, ascender gone", final=True),
        StateSpec("safe", "approach stopped, range opening", final=True),
    ),
    transitions=(
        T("begin", "idle", "far_range", description="ascender in orbit"),
        T("radar_lock", "far_range", "awaiting_go", ("inside_handover",), "radar valid inside hand-over range"),
        T("go", "awaiting_go", "short_range", description="ground go (or auto_go)"),
        T("gate", "short_range", "final_approach", ("inside_gate",), "inside the final-approach gate"),
        T("contact", "final_approach", "capture", ("contact_conditions",), "range and range rate within capture box"),
        T("latched", "capture", "transfer", ("claws_latched",), "claws latched"),
        T("transferred", "transfer", "release_wait", ("transfer_done",), "container in the returner"),
        T("dwell_over", "release_wait", "release", description="release time reached"),
        T("separated", "release", "released", ("ascender_separated",), "separation confirmed"),
        T("abort", "*", "safe", description="radar loss, capture failure, timeout or ground abort"),
    ),
)


class RendezvousMachine(MissionMachine):
    name = "rendezvous"
    spec = SPEC
    event_prefix = "RENDEZVOUS"
    hk_structure = 43
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("range_m", "f64", "m", "radar range to the ascender"),
        TelemetryDef("range_rate_m_s", "f32", "m/s", "radar range rate (negative closing)"),
        TelemetryDef("radar_valid", "bool", "", "radar track valid"),
        TelemetryDef("claws_latched", "bool", "", "docking claws latched"),
    )
    events = (
        *machine_events("RENDEZVOUS", 0x4030),
        EventDef(0x4038, "DOCKED", Severity.INFO, "docked: claws latched after contact at {speed_m_s:.3f} m/s"),
        EventDef(0x4039, "ASCENDER_RELEASED", Severity.INFO, "ascender released"),
    )
    parameters = (
        ParameterDef(0x4030, "handover_range_m", "f64", 5_000.0, "radar range for the autonomous hand-over", 100.0,
                     50_000.0, unit="m"),
        ParameterDef(0x4031, "ascender_release_delay_s", "f64", 25_200.0, "dwell docked before the release", 0.0,
                     172_800.0, unit="s"),
    )

    GATE_M = 20.0
    CAPTURE_RANGE_M = 0.3
    CAPTURE_SPEED_M_S = 0.2
    GAIN = 0.05  # 1/s, range-rate loop
    MAX_ACCEL = 0.05  # m/s^2 [est.]

    def __init__(self, ctx: Context, radar: RendezvousRadar, thrusters: ApproachThrusters,
                 docking: DockingMechanism, transfer: TransferMechanism, release: SeparationDevice) -> None:
        super().__init__(ctx)
        self.radar, self.thrusters, self.docking, self.transfer, self.release_device = (
            radar, thrusters, docking, transfer, release)
        self._tracked: Any = None  # the radar reading that ended the last track

    def housekeeping(self) -> dict[str, Any]:
        reading = self.radar.read()
        return {**self.machine_housekeeping(), "range_m": round(reading.range_m, 3),
                "range_rate_m_s": round(reading.range_rate_m_s, 4), "radar_valid": reading.valid,
                "claws_latched": self.docking.read().latched}

    # --- guards -----------------------------------------------------------------------------
    def guard_inside_handover(self) -> bool:
        reading = self.radar.read()
        return reading.valid and reading.range_m <= self.param("handover_range_m")

    def _gate_reading(self) -> Any:
        # The guard judges the very reading that ended the track: a fresh one has fresh noise, and
        # a contact seen once must not be refused by the next sample.
        return self._tracked if self._tracked is not None else self.radar.read()

    def guard_inside_gate(self) -> bool:
        reading = self._gate_reading()
        return reading.valid and reading.range_m <= self.GATE_M

    def guard_contact_conditions(self) -> bool:
        reading = self._gate_reading()
        return (reading.valid and reading.range_m <= self.CAPTURE_RANGE_M
                and abs(reading.range_rate_m_s) <= self.CAPTURE_SPEED_M_S)

    def guard_claws_latched(self) -> bool:
        return self.docking.read().latched

    def guard_transfer_done(self) -> bool:
        reading = self.transfer.read()
        return reading.valid and reading.done and reading.stage == "ascender_to_returner"

    def guard_ascender_separated(self) -> bool:
        return self.release_device.read().separated

    # --- activities --------------------------------------------------------------------------
    async def do_far_range(self) -> None:
        # Phasing is slow and ground-guided: a look a minute is plenty.
        await self.wait_for(self.guard_inside_handover, 60.0)
        await self.fire("radar_lock")

    def desired_range_rate(self, range_m: float) -> float:
        """Closing-speed profile: proportional to range far out, 0.1 m/s at contact."""
        return -min(2.0, 0.1 + 0.0005 * range_m)

    async def _track(self, until: Any) -> bool:
        lost = 0
        self._tracked = None
        while True:
            reading = self.radar.read()
            if not reading.valid:
                lost += 1
                self.thrusters.command_acceleration(0.0)
                if lost > 30:
                    return False
            else:
                lost = 0
                if until(reading):
                    self._tracked = reading
                    return True
                error = self.desired_range_rate(reading.range_m) - reading.range_rate_m_s
                self.thrusters.command_acceleration(max(-self.MAX_ACCEL, min(self.MAX_ACCEL, self.GAIN * error)))
            await self.clock.sleep(1.0)

    async def do_short_range(self) -> None:
        if await self._track(lambda r: r.range_m <= self.GATE_M):
            await self.fire("gate")
        else:
            await self.safe("radar track lost")

    async def do_final_approach(self) -> None:
        if await self._track(lambda r: r.range_m <= self.CAPTURE_RANGE_M):
            self.thrusters.command_acceleration(0.0)
            speed = abs(self._gate_reading().range_rate_m_s)
            if await self.fire("contact"):
                return
            await self.safe(f"contact outside the capture box at {speed:.3f} m/s")
        else:
            await self.safe("radar track lost")

    async def do_capture(self) -> None:
        speed = abs(self._gate_reading().range_rate_m_s)
        self.docking.close_claws()
        await self.clock.sleep(5.0)
        # Docked is what the docking mechanism reports: the claws latched, not the contact.
        if await self.fire("latched"):
            self.emit("DOCKED", speed_m_s=speed)
        else:
            await self.safe("claws not latched")

    async def do_transfer(self) -> None:
        if self.transfer.read().stage != "ascender_to_returner":
            self.transfer.start("ascender_to_returner")
        await self.wait_for(lambda: self.transfer.read().done or self.transfer.read().fault, 10.0)
        if not await self.fire("transferred"):
            await self.safe("transfer into the returner failed")

    async def do_release(self) -> None:
        latches = self.ctx.latches
        if not latches.is_fired(RELEASE_LATCH):
            latches.fire(RELEASE_LATCH)
            self.docking.open_claws()
            self.release_device.fire()
            self.emit("ASCENDER_RELEASED")
        await self.clock.sleep(1.0)
        if not await self.fire("separated"):
            await self.safe("ascender separation not confirmed")

    def on_safe(self, source: str, reason: str) -> None:
        if source in ("short_range", "final_approach"):
            self.thrusters.command_acceleration(0.0)
        super().on_safe(source, reason)
