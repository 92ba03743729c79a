"""Rendezvous and docking in lunar orbit, then the container transfer and the ascender release.

The orbiter is the active vehicle (as in Chang'e-5). Far range is ground-guided (orbit phasing):
the machine waits for the microwave radar to lock inside the hand-over range and for the ground go.
Short range is autonomous, on the radar's range, range rate and line-of-sight angles filtered into
the ascender's relative state in the orbiter's local frame (:class:`fsw.gnc.relnav.RelativeNavigator`),
with Clohessy-Wiltshire targeting: a transfer to a hold point on the ascender's velocity axis with a
mid-course re-targeting, a second one to the final-approach gate, then a straight-line approach along
that axis re-targeted every few seconds, down to contact; capture by the claws (the docking
mechanism's own word), transfer of the container to the returner (~30 min), and the ascender release
(~7 h after capture, latched). Every burn is cut off on the delta-v the orbiter's accelerometers
measure, never on time or a commanded acceleration."""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.devices.surface import (
    ApproachThrusters,
    DockingMechanism,
    OrbiterAccelerometers,
    RendezvousRadar,
    SeparationDevice,
    TransferMechanism,
)
from fsw.mission.machine import MachineSpec, MissionMachine, StateSpec, machine_events, machine_telemetry
from fsw.mission.machine import TransitionSpec as T
from fsw.mission.rendezvous_guidance import ApproachGuidance

RELEASE_LATCH = "ascender_release"
SPEC = MachineSpec(
    name="rendezvous",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the ascender in orbit", dormant=True),
        StateSpec("far_range", "ground-guided phasing until the radar locks inside the hand-over range", 259_200.0),
        StateSpec("awaiting_go", "waiting for the ground go for autonomous short range", 86_400.0,
                  go_command="GO_SHORT_RANGE"),
        StateSpec("short_range", "relative navigation on the radar, CW transfers to the approach gate", 21_600.0),
        StateSpec("final_approach", "slow closing along the velocity axis to contact", 3_600.0),
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
    hk_quiet_in_flight = True
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("range_m", "f64", "m", "radar range to the ascender"),
        TelemetryDef("range_rate_m_s", "f32", "m/s", "radar range rate (negative closing)"),
        TelemetryDef("radar_valid", "bool", "", "radar track valid"),
        TelemetryDef("claws_latched", "bool", "", "docking claws latched"),
        TelemetryDef("relnav_position_sigma_m", "f32", "m", "relative navigation position uncertainty (1 sigma)"),
        TelemetryDef("rendezvous_delta_v_m_s", "f32", "m/s", "approach delta-v used (accelerometers)"),
    )
    events = (
        *machine_events("RENDEZVOUS", 0x4030),
        EventDef(0x4038, "DOCKED", Severity.INFO, "docked: claws latched after contact at {speed_m_s:.3f} m/s"),
        EventDef(0x4039, "ASCENDER_RELEASED", Severity.INFO, "ascender released"),
        EventDef(0x403A, "RENDEZVOUS_BURN", Severity.INFO,
                 "{purpose}: {delta_v_m_s:.3f} m/s measured of {target_m_s:.3f} m/s at {range_m:.1f} m"),
    )
    parameters = (
        ParameterDef(0x4030, "handover_range_m", "f64", 5_000.0, "radar range for the autonomous hand-over", 100.0,
                     50_000.0, unit="m"),
        ParameterDef(0x4031, "ascender_release_delay_s", "f64", 25_200.0, "dwell docked before the release", 0.0,
                     172_800.0, unit="s"),
        # The orbiter's orbit as the ground determined it: the reference of the relative motion.
        ParameterDef(0x4032, "rendezvous_orbit_radius_m", "f64", 1_834_900.0,
                     "radius of the reference orbit for relative guidance", 1_740_000.0, 2_500_000.0, unit="m"),
    )

    def __init__(self, ctx: Context, radar: RendezvousRadar, thrusters: ApproachThrusters,
                 docking: DockingMechanism, transfer: TransferMechanism, release: SeparationDevice,
                 accelerometers: OrbiterAccelerometers | None = None) -> None:
        super().__init__(ctx)
        self.radar, self.thrusters, self.docking, self.transfer, self.release_device = (
            radar, thrusters, docking, transfer, release)
        self.guidance = ApproachGuidance(self, radar, thrusters, accelerometers)

    def housekeeping(self) -> dict[str, Any]:
        reading = self.radar.read()
        estimate = self.guidance.nav
        return {**self.machine_housekeeping(), "range_m": round(reading.range_m, 3),
                "range_rate_m_s": round(reading.range_rate_m_s, 4), "radar_valid": reading.valid,
                "claws_latched": self.docking.read().latched,
                "relnav_position_sigma_m": round(estimate.position_sigma_m, 3) if estimate.initialised else None,
                "rendezvous_delta_v_m_s": round(self.guidance.delta_v_used, 4)}

    # --- guards -----------------------------------------------------------------------------
    def guard_inside_handover(self) -> bool:
        reading = self.radar.read()
        return reading.valid and reading.range_m <= self.param("handover_range_m")

    def guard_inside_gate(self) -> bool:
        return self.guidance.inside_gate()

    def guard_contact_conditions(self) -> bool:
        return self.guidance.at_contact()

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

    async def do_short_range(self) -> None:
        failure = await self.guidance.fly_to_gate(float(self.param("rendezvous_orbit_radius_m")))
        if failure:
            await self.safe(failure)
        else:
            await self.fire("gate")

    async def do_final_approach(self) -> None:
        failure = await self.guidance.final_approach()
        if failure:
            await self.safe(failure)
            return
        if not await self.fire("contact"):
            await self.safe("contact outside the capture box")

    async def do_capture(self) -> None:
        speed = self.guidance.closing_speed()
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
            self.thrusters.command_acceleration(0.0, 0.0, 0.0)
        super().on_safe(source, reason)
