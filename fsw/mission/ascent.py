"""Ascent: checks, ground go, ignition (critical, latched: never repeated), vertical rise, pitch-over,
orbit insertion, cutoff. The guidance (a :class:`~fsw.mission.drivers.PhaseDriver`) flies the phase and
reports its stages; this machine owns the irreversible acts and the checks on measured values."""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.core.errors import NotAvailable
from fsw.devices.descent import ASCENT_ENGINE_THRUST_N, AscentEngine
from fsw.devices.surface import SeparationDevice
from fsw.mission.drivers import PhaseDriver
from fsw.mission.machine import (
    MachineSpec,
    MissionMachine,
    StateSpec,
    TransitionSpec,
    machine_events,
    machine_telemetry,
)
from fsw.mission.windows import go_in_window

IGNITION_LATCH = "ascent_ignition"
T = TransitionSpec
SPEC = MachineSpec(
    name="ascent",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the samples to be aboard", dormant=True),
        StateSpec("checks", "ascent engine and separation readiness checks", 600.0),
        StateSpec("awaiting_go", "waiting for the ground go for liftoff", 172_800.0, go_command="GO_ASCENT"),
        StateSpec("ignition", "latched ignition and separation from the lander (critical)", 10.0),
        StateSpec("vertical_rise", "vertical rise clear of the lander", 60.0),
        StateSpec("pitch_over", "attitude adjustment towards the orbit plane", 120.0),
        StateSpec("orbit_insertion", "powered flight to orbit insertion", 480.0),
        StateSpec("cutoff", "engine cutoff and orbit check", 60.0),
        StateSpec("in_orbit", "ascender in lunar orbit", final=True),
        StateSpec("safe", "ascent stopped", final=True),
    ),
    transitions=(
        T("begin", "idle", "checks", description="samples aboard"),
        T("checks_passed", "checks", "awaiting_go", ("engine_ready",), "engine status valid and off"),
        T("go", "awaiting_go", "ignition", description="ground go (or auto_go)"),
        T("engine_lit", "ignition", "vertical_rise", ("thrust_nominal",), "measured thrust > 80 %"),
        T("pitch_over", "vertical_rise", "pitch_over", ("thrust_nominal",), "guidance: pitch-over"),
        T("orbit_insertion", "pitch_over", "orbit_insertion", ("thrust_nominal",), "guidance: insertion"),
        T("cutoff", "orbit_insertion", "cutoff", description="guidance: cutoff"),
        T("in_orbit", "cutoff", "in_orbit", ("engine_off",), "engine off, in orbit"),
        T("abort", "*", "safe", description="guidance failure, timeout or ground abort"),
    ),
)


class AscentMachine(MissionMachine):
    name = "ascent"
    spec = SPEC
    event_prefix = "ASCENT"
    hk_structure = 42
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("ignition_latched", "bool", "", "ascent ignition fired (irreversible)"),
        TelemetryDef("engine_thrust_n", "f32", "N", "ascent engine measured thrust"),
    )
    events = (
        *machine_events("ASCENT", 0x4020),
        EventDef(0x4028, "ASCENT_IGNITION", Severity.MEDIUM, "ascent ignition fired"),
        EventDef(0x4029, "ASCENT_WINDOW_WAIT", Severity.INFO,
                 "ascent go taken: waiting {opens_in_s:.0f} s for the window (closes in {closes_in_s:.0f} s)"),
    )
    parameters = (
        # The lift-off window the ground computed from the orbiter's orbit (on-board time; 0: none).
        ParameterDef(0x4020, "ascent_window_open_s", "f64", 0.0, "ascent window opening (on-board time)", 0.0,
                     1e10, unit="s"),
        ParameterDef(0x4021, "ascent_window_close_s", "f64", 0.0, "ascent window closing (on-board time, 0: none)",
                     0.0, 1e10, unit="s"),
    )

    def __init__(self, ctx: Context, engine: AscentEngine, separation: SeparationDevice,
                 driver: PhaseDriver | None = None) -> None:
        super().__init__(ctx)
        self.engine = engine
        self.separation = separation
        self.driver = driver

    def housekeeping(self) -> dict[str, Any]:
        try:
            thrust: float | None = round(self.engine.read().measured_thrust_n, 1)
        except NotAvailable:  # the engine is read from ascent on: until then, "not available"
            thrust = None
        return {**self.machine_housekeeping(), "ignition_latched": self.ctx.latches.is_fired(IGNITION_LATCH),
                "engine_thrust_n": thrust}

    def go(self, command_name: str) -> Any:
        """GO_ASCENT: taken inside the uplinked lift-off window, waits for it, or is refused after it."""
        return go_in_window(self, command_name, "ascent", "ASCENT_WINDOW_WAIT")

    def guard_engine_ready(self) -> bool:
        status = self.engine.read()
        return status.valid and not status.on

    def guard_thrust_nominal(self) -> bool:
        status = self.engine.read()
        return status.valid and status.on and status.measured_thrust_n >= 0.8 * ASCENT_ENGINE_THRUST_N

    def guard_engine_off(self) -> bool:
        status = self.engine.read()
        return status.valid and not status.on

    def report(self, stage: str) -> None:
        """Guidance reports: a stage name (a trigger) or "failed"."""
        if stage == "failed":
            self.post("abort", "ascent guidance failed")
        else:
            self.post(stage)

    async def do_checks(self) -> None:
        if not await self.fire("checks_passed"):
            await self.safe("ascent engine not ready")

    async def do_ignition(self, resumed: bool) -> None:
        latches = self.ctx.latches
        if not latches.is_fired(IGNITION_LATCH):
            self.ctx.modes.begin_critical("ascent")
            latches.fire(IGNITION_LATCH)  # recorded before the act: a reset never re-ignites
            self.separation.fire()
            self.engine.set_on(True)
            self.emit("ASCENT_IGNITION")
        await self.clock.sleep(0.5)
        if self.driver is not None:
            self.driver.begin(self.report, resumed)
        if not await self.fire("engine_lit"):
            await self.safe("no thrust after ignition")

    async def _resume_powered_flight(self, resumed: bool) -> None:
        """After a reset in powered flight the engine still burns and must never be lit again: hand
        the phase back to guidance, which reports the remaining stages."""
        if resumed:
            self.ctx.modes.begin_critical("ascent")
            if self.driver is not None:
                self.driver.begin(self.report, True)

    do_vertical_rise = do_pitch_over = do_orbit_insertion = do_cutoff = _resume_powered_flight

    async def do_in_orbit(self) -> None:
        self.ctx.modes.end_critical("ascent")
