"""Sampling: radar survey of the drill site, drill with torque-based jam detection, scoop at several
points until the target mass, seal the container, transfer it into the ascender.

Masses are the container's load-cell readings in grams. A drill jam (torque above the limit, or the
drive stalled) retracts the drill and completes the sample with the scoop (CE-5 met rock at
~0.74 m); so does DRILL_ABANDON (the PUS 19 answer to a drill over-current, docs/fault-protection.md). A
sealing failure safes the machine (no transfer of an unsealed container).

SAFE holds sampling at a safe point (``SAMPLING_SAFE``, a step of the safing response): the machine
goes to ``held``, where the drill is stopped and retracted to its home position and the arm, once
its scoop stroke in progress has ended, is stowed; a seal or a transfer already started runs its
single stroke to its end (stopping either halfway would leave the container half sealed or between
two vehicles). The ground resumes with ``GO_SAMPLING`` (in NOMINAL): the survey, scooping, sealing
or transfer is taken up again; an interrupted drilling is not (the core so far is delivered and the
scoop completes the sample, as after a jam).
"""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import (
    SAFING_STOP_MOTION,
    EventDef,
    ParameterDef,
    SafingStep,
    Severity,
    TelemetryDef,
    command,
)
from fsw.devices.surface import Drill, GroundPenetratingRadar, RoboticArm, SampleContainer, TransferMechanism
from fsw.mission.machine import (
    MachineSpec,
    MissionMachine,
    StateSpec,
    TransitionSpec,
    machine_events,
    machine_telemetry,
)

T = TransitionSpec
# States the safing response holds (the others have nothing moving), and where a go resumes each.
RESUME = {"radar_survey": "resume_survey", "drilling": "resume_drill", "drill_retract": "resume_drill",
          "scooping": "resume_scoop", "sealing": "resume_seal", "transfer": "resume_transfer"}
HOLDABLE = tuple(RESUME)
SPEC = MachineSpec(
    name="sampling",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the lander to be on the surface", dormant=True),
        StateSpec("awaiting_go", "landed: waiting for the ground go for sampling", 86_400.0,
                  go_command="GO_SAMPLING"),
        StateSpec("radar_survey", "ground-penetrating radar survey of the drill site", 600.0),
        StateSpec("drilling", "rotary-percussive drilling towards the planned depth", 7_200.0),
        StateSpec("drill_retract", "drill string retracted, core bag delivered to the container", 1_800.0),
        StateSpec("scooping", "robotic-arm scoops at several points until the target mass", 36_000.0),
        StateSpec("sealing", "sealing the container and checking the seal", 1_200.0),
        StateSpec("transfer", "container moved from the lander into the ascender", 3_600.0),
        StateSpec("held", "SAFE: stopped at a safe point (drill home, arm stowed), waiting for the ground's go",
                  216_000.0),
        StateSpec("complete", "sealed samples in the ascender", final=True),
        StateSpec("safe", "sampling stopped, mechanisms stowed", final=True),
    ),
    transitions=(
        T("begin", "idle", "awaiting_go", description="lander on the surface"),
        T("go", "awaiting_go", "radar_survey", ("power_ok",), "ground go (or auto_go) with battery margin"),
        T("surveyed", "radar_survey", "drilling", description="drill depth planned from the radar profile"),
        T("drilled", "drilling", "drill_retract", ("at_planned_depth",), "planned depth reached"),
        T("jam", "drilling", "drill_retract", ("torque_over_limit",), "torque over limit or drive stalled"),
        T("abandon", "drilling", "drill_retract", description="DRILL_ABANDON (the drill over-current response)"),
        T("retracted", "drill_retract", "scooping", ("drill_home",), "drill home, core delivered"),
        T("mass_reached", "scooping", "sealing", ("mass_in_range",), "container mass at target"),
        T("sealed", "sealing", "transfer", ("container_sealed",), "seal made, leak check passed"),
        T("seal_failed", "sealing", "safe", description="seal not confirmed"),
        T("transferred", "transfer", "complete", ("transfer_done",), "container in the ascender"),
        T("hold", HOLDABLE, "held", description="SAFE: the safing response stops sampling at a safe point"),
        T("resume_survey", "held", "radar_survey", description="ground go after a hold in the survey"),
        T("resume_drill", "held", "drill_retract",
          description="ground go after a hold in drilling: the core so far is delivered, the scoop completes"),
        T("resume_scoop", "held", "scooping", description="ground go after a hold in scooping"),
        T("resume_seal", "held", "sealing", description="ground go after a hold in sealing"),
        T("resume_transfer", "held", "transfer", description="ground go after a hold in the transfer"),
        T("abort", "*", "safe", description="fault, timeout or ground abort"),
    ),
)


class SamplingMachine(MissionMachine):
    name = "sampling"
    spec = SPEC
    event_prefix = "SAMPLING"
    hk_structure = 41
    hk_quiet_in_flight = True
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("sample_mass_g", "f32", "g", "container mass (load cell)"),
        TelemetryDef("sealed_mass_g", "f32", "g", "container mass measured when the seal was confirmed"),
        TelemetryDef("core_mass_g", "f32", "g", "drill core delivered"),
        TelemetryDef("drill_depth_m", "f32", "m", "drill bit depth"),
        TelemetryDef("drill_torque_nm", "f32", "N.m", "drill torque"),
        TelemetryDef("drill_target_m", "f32", "m", "planned drill depth"),
        TelemetryDef("drill_jammed", "bool", "", "drilling ended on a jam"),
        TelemetryDef("scoops", "u16", "", "scoop cycles done"),
        TelemetryDef("sealed", "bool", "", "container sealed"),
    )
    events = (
        *machine_events("SAMPLING", 0x4010),
        EventDef(0x4018, "DRILL_JAM", Severity.MEDIUM, "drill jam at {depth_m:.3f} m, torque {torque_nm:.1f} N.m"),
        EventDef(0x4019, "DRILL_PLANNED", Severity.INFO, "drill target {target_m:.2f} m (rock at {rock_m})"),
        EventDef(0x401A, "SCOOP_DONE", Severity.INFO, "scoop {count} at point {point}: container {mass_g:.1f} g"),
        EventDef(0x401B, "SAMPLE_MASS", Severity.INFO, "sample {mass_g:.1f} g (core {core_g:.1f} g, {scoops} scoops)"),
        EventDef(0x401C, "SAMPLING_SAFE_POINT", Severity.INFO,
                 "sampling held at a safe point (from {state}): drill at {depth_m:.3f} m, arm stowed {stowed}"),
        EventDef(0x401D, "SAMPLING_SAFE_POINT_MISSED", Severity.HIGH,
                 "sampling held but not at a safe point after {limit_s:.0f} s: drill at {depth_m:.3f} m, "
                 "arm stowed {stowed}"),
        EventDef(0x401E, "DRILL_ABANDONED", Severity.MEDIUM,
                 "drilling abandoned at {depth_m:.3f} m: retracting, the scoop completes the sample"),
    )
    safing = (SafingStep("SAMPLING_SAFE", rank=SAFING_STOP_MOTION),)
    parameters = (
        ParameterDef(0x4010, "drill_design_depth_m", "f64", 2.0, "drill depth when the radar sees no rock", 0.1, 2.5,
                     unit="m"),
        ParameterDef(0x4011, "drill_rate_m_s", "f64", 0.0005, "drill penetration rate", 1e-5, 0.01, unit="m/s"),
        ParameterDef(0x4012, "drill_torque_limit_nm", "f64", 40.0, "torque above which the drill is jammed", 1.0,
                     100.0, unit="N.m"),
        ParameterDef(0x4013, "sample_target_g", "f64", 1750.0, "stop scooping at this container mass", 100.0, 2000.0,
                     unit="g"),
        ParameterDef(0x4014, "sample_max_g", "f64", 2000.0, "container capacity", 100.0, 2500.0, unit="g"),
        ParameterDef(0x4015, "min_battery_soc", "f64", 0.4, "battery charge needed to start sampling", 0.0, 1.0),
    )

    ROCK_MARGIN_M = 0.15  # three sigma of the radar depth
    POLL_S = 1.0
    SCOOP_POINTS = 16
    SAFE_POINT_LIMIT_S = 1_800.0  # a full retract from 2.5 m at 5 mm/s (500 s) and a scoop stroke (600 s)

    def __init__(self, ctx: Context, drill: Drill, arm: RoboticArm, container: SampleContainer,
                 transfer: TransferMechanism, radar: GroundPenetratingRadar, power: Any) -> None:
        super().__init__(ctx)
        self.drill, self.arm, self.container, self.transfer, self.radar, self.power = (
            drill, arm, container, transfer, radar, power)
        self.drill_target_m = 0.0
        self.core_mass_g = 0.0
        self.drill_jammed = False
        self.scoop_point = 0
        self.sealed_mass_g: float | None = None
        self.held_from = ""  # the state a hold interrupted

    def snapshot(self) -> dict[str, Any]:
        return {"drill_target_m": self.drill_target_m, "core_mass_g": self.core_mass_g,
                "drill_jammed": self.drill_jammed, "scoop_point": self.scoop_point, "sealed_mass_g": self.sealed_mass_g,
                "held_from": self.held_from}

    def restore_snapshot(self, values: dict[str, Any]) -> None:
        self.drill_target_m = float(values.get("drill_target_m", 0.0))
        self.core_mass_g = float(values.get("core_mass_g", 0.0))
        self.drill_jammed = bool(values.get("drill_jammed", False))
        self.scoop_point = int(values.get("scoop_point", 0))
        sealed_mass = values.get("sealed_mass_g")
        self.sealed_mass_g = None if sealed_mass is None else float(sealed_mass)
        self.held_from = str(values.get("held_from", ""))

    @property
    def sample_mass_g(self) -> float:
        return self.container.read().sample_mass_g

    def housekeeping(self) -> dict[str, Any]:
        drill = self.drill.read()
        container = self.container.read()
        values = {**self.machine_housekeeping(), "sample_mass_g": round(container.sample_mass_g, 1),
                  "core_mass_g": round(self.core_mass_g, 1), "drill_depth_m": round(drill.depth_m, 4),
                  "drill_torque_nm": round(drill.torque_nm, 2), "drill_target_m": self.drill_target_m,
                  "drill_jammed": self.drill_jammed, "scoops": self.arm.read().scoops_done,
                  "sealed": container.sealed}
        if self.sealed_mass_g is not None:
            values["sealed_mass_g"] = round(self.sealed_mass_g, 1)
        return values

    # --- guards on measured values -----------------------------------------------------------
    def guard_power_ok(self) -> bool:
        reading = self.power.read()
        return bool(reading.valid and reading.battery_soc >= self.param("min_battery_soc"))

    def guard_at_planned_depth(self) -> bool:
        reading = self.drill.read()
        return reading.valid and reading.depth_m >= self.drill_target_m - 1e-3

    def guard_torque_over_limit(self) -> bool:
        reading = self.drill.read()
        return reading.valid and (reading.jammed or reading.torque_nm > self.param("drill_torque_limit_nm"))

    def guard_drill_home(self) -> bool:
        reading = self.drill.read()
        return reading.valid and reading.depth_m <= 0.0 and not reading.retracting

    def guard_mass_in_range(self) -> bool:
        reading = self.container.read()
        return reading.valid and self.param("sample_target_g") <= reading.sample_mass_g <= self.param("sample_max_g")

    def guard_container_sealed(self) -> bool:
        reading = self.container.read()
        return reading.valid and reading.sealed

    def guard_transfer_done(self) -> bool:
        reading = self.transfer.read()
        return reading.valid and reading.done and reading.stage == "lander_to_ascender"

    # --- activities --------------------------------------------------------------------------
    async def do_radar_survey(self) -> None:
        profile = self.radar.survey()
        design = float(self.param("drill_design_depth_m"))
        target = design
        if profile.valid and profile.depth_to_rock_m is not None:
            target = max(0.1, min(design, profile.depth_to_rock_m - self.ROCK_MARGIN_M))
        self.drill_target_m = round(target, 4)
        self.emit("DRILL_PLANNED", target_m=self.drill_target_m,
                  rock_m=None if not profile.valid else profile.depth_to_rock_m)
        await self.fire("surveyed")

    async def do_drilling(self) -> None:
        self.drill.start(self.drill_target_m, float(self.param("drill_rate_m_s")))
        over_limit = 0
        while True:
            await self.clock.sleep(self.POLL_S)
            reading = self.drill.read()
            over = reading.jammed or reading.torque_nm > self.param("drill_torque_limit_nm")
            over_limit = over_limit + 1 if over else 0
            if over_limit >= 2:  # two consecutive samples: one noisy sample is not a jam
                self.drill.stop()
                self.drill_jammed = True
                self.emit("DRILL_JAM", depth_m=reading.depth_m, torque_nm=reading.torque_nm)
                await self.fire("jam")
                return
            if reading.depth_m >= self.drill_target_m - 1e-3 and not reading.drilling:
                await self.fire("drilled")
                return

    async def do_drill_retract(self) -> None:
        self.drill.retract()
        # Home means home and the drive at rest: a drill already at the top may report the retract
        # it was just given for one more step.
        await self.wait_for(self.guard_drill_home, 10.0)
        self.core_mass_g = self.drill.read().core_mass_g
        self.drill.deliver_core()
        await self.fire("retracted")

    async def do_scooping(self) -> None:
        target = float(self.param("sample_target_g"))
        while True:
            await self.wait_for(lambda: not self.arm.read().busy, 30.0)
            mass = self.sample_mass_g
            if self.scoop_point:
                self.emit("SCOOP_DONE", count=self.arm.read().scoops_done, point=self.scoop_point, mass_g=mass)
            if mass >= target:
                break
            self.scoop_point = self.scoop_point % self.SCOOP_POINTS + 1
            self.persist()
            self.arm.start_scoop(self.scoop_point)
            await self.clock.sleep(30.0)
        self.arm.stow()
        self.emit("SAMPLE_MASS", mass_g=self.sample_mass_g, core_g=self.core_mass_g, scoops=self.arm.read().scoops_done)
        if not await self.fire("mass_reached"):
            await self.safe(f"container mass {self.sample_mass_g:.1f} g outside the limits")

    async def do_sealing(self) -> None:
        self.container.seal()
        sealed = await self.wait_for(lambda: self.container.read().sealed, 10.0, limit_s=900.0)
        if sealed:
            # The mission's sample figure: measured once, when the lid is confirmed, so that it does
            # not depend on when (or how often) the ground asks for housekeeping afterwards.
            self.sealed_mass_g = self.sample_mass_g
        await self.fire("sealed" if sealed else "seal_failed", "" if sealed else "seal not confirmed")

    async def do_transfer(self) -> None:
        if self.transfer.read().stage != "lander_to_ascender":
            self.transfer.start("lander_to_ascender")
        await self.wait_for(lambda: self.transfer.read().done or self.transfer.read().fault, 10.0)
        if not await self.fire("transferred"):
            await self.safe("transfer into the ascender failed")

    @command(0x4011)
    def cmd_drill_abandon(self) -> Any:
        """Stop the drill; while drilling, retract it and complete the sample with the scoop."""
        self.drill.stop()
        if self.state != "drilling":
            return None
        self.emit("DRILL_ABANDONED", depth_m=self.drill.read().depth_m)
        return self.fire("abandon")

    def on_safe(self, source: str, reason: str) -> None:
        self._secure_mechanisms()
        super().on_safe(source, reason)

    # --- SAFE: hold at a safe point ----------------------------------------------------------
    def _secure_mechanisms(self) -> None:
        """Command what is not yet safe: drill stopped and on its way home, arm stowed (ignored by the
        arm until its stroke ends). Each command only when needed, so an idle machine sends none; a
        reading that is not valid tells nothing, so everything is commanded then."""
        drill = self.drill.read()
        if drill.drilling or not drill.valid:
            self.drill.stop()
        if (drill.depth_m > 0.0 and not drill.retracting) or not drill.valid:
            self.drill.retract()
        arm = self.arm.read()
        if (not arm.stowed and not arm.busy) or not arm.valid:
            self.arm.stow()

    def _at_safe_point(self) -> bool:
        drill, arm = self.drill.read(), self.arm.read()
        return drill.valid and arm.valid and drill.depth_m <= 0.0 and not drill.drilling and arm.stowed

    @command(0x4010)
    async def cmd_sampling_safe(self) -> None:
        """Stop sampling at a safe point (a step of the safing response; in any phase, idempotent)."""
        if self.state in HOLDABLE:
            self.held_from = self.state
            await self.fire("hold", "safing response")
        else:  # nothing running (or already held): only make sure nothing moves
            self._secure_mechanisms()

    def go_refusal(self, command_name: str) -> str | None:
        if self.state == "held" and command_name == "GO_SAMPLING":
            return None
        return super().go_refusal(command_name)

    def go(self, command_name: str) -> Any:
        if self.state == "held" and command_name == "GO_SAMPLING":
            return self.fire(RESUME.get(self.held_from, "resume_drill"))
        return super().go(command_name)

    async def do_held(self) -> None:
        self._secure_mechanisms()
        start = self.clock.monotonic()
        while not self._at_safe_point():
            if self.clock.monotonic() - start >= self.SAFE_POINT_LIMIT_S:
                self.emit("SAMPLING_SAFE_POINT_MISSED", limit_s=self.SAFE_POINT_LIMIT_S,
                          depth_m=self.drill.read().depth_m, stowed=self.arm.read().stowed)
                return
            await self.clock.sleep(self.POLL_S * 5)
            self._secure_mechanisms()  # the arm's stroke may have ended: stow it now
        self.emit("SAMPLING_SAFE_POINT", state=self.held_from, depth_m=self.drill.read().depth_m,
                  stowed=self.arm.read().stowed)
