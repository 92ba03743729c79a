"""Return: about six days waiting in lunar orbit, two trans-Earth injection burns (4 x 150 N), coast
with a 28 s mid-course correction (2 x 25 N), and the returner separation ~5000 km above the Earth.

Burns stop on the delta-v measured on board: the orbiter's accelerometers integrated by
:class:`fsw.gnc.burn.DeltaVMeter`, never the engine controller's own count (which assumes the rated
thrust). A burn-time limit cross-checks it (Luna-25: a burn that never reaches its delta-v must still
end), and no burn starts without valid accelerometer data."""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.devices.surface import OrbitEngines, OrbiterAccelerometers, SeparationDevice
from fsw.gnc.burn import DeltaVMeter
from fsw.mission.machine import MachineSpec, MissionMachine, StateSpec, machine_events, machine_telemetry
from fsw.mission.machine import TransitionSpec as T
from fsw.mission.windows import go_in_window

SEPARATION_LATCH = "returner_separation"
TEI_ACCEL_M_S2 = 600.0 / 2300.0  # [est.] for the burn-time limit: 4 x 150 N on ~2.3 t
MCC_ACCEL_M_S2 = 50.0 / 2200.0
SPEC = MachineSpec(
    name="return",
    initial="idle",
    states=(
        StateSpec("idle", "waiting for the samples in the returner", dormant=True),
        StateSpec("lunar_orbit_wait", "waiting in ~200 km lunar orbit for the return window", 777_600.0,
                  dwell_s="lunar_orbit_wait_s"),
        StateSpec("awaiting_go", "return window open: waiting for the ground go for TEI", 86_400.0,
                  go_command="GO_TEI"),
        StateSpec("tei_burn_1", "first trans-Earth injection burn", 3_600.0),
        StateSpec("tei_interburn", "coast between the two injection burns", 172_800.0, dwell_s="tei_interburn_s"),
        StateSpec("tei_burn_2", "second trans-Earth injection burn (~22 min)", 3_600.0),
        StateSpec("coast", "Earth transfer coast to the mid-course correction", 259_200.0, dwell_s="coast_to_mcc_s"),
        StateSpec("midcourse_correction", "28 s mid-course correction on 2 x 25 N", 600.0),
        StateSpec("final_coast", "coast to the returner separation point (~5000 km)", 432_000.0,
                  dwell_s="coast_to_separation_s"),
        StateSpec("separation", "returner separation (latched)", 120.0),
        StateSpec("returned", "returner on its way to re-entry", final=True),
        StateSpec("safe", "engines off, waiting for the ground", final=True),
    ),
    transitions=(
        T("begin", "idle", "lunar_orbit_wait", description="samples in the returner"),
        T("dwell_over", "lunar_orbit_wait", "awaiting_go", description="return window opens"),
        T("go", "awaiting_go", "tei_burn_1", ("accelerometers_valid",), "ground go with valid accelerometers"),
        T("burn_complete", "tei_burn_1", "tei_interburn", ("burn_1_delta_v_ok",), "delta-v reached"),
        T("dwell_over", "tei_interburn", "tei_burn_2", ("accelerometers_valid",), "second burn time"),
        T("burn_complete", "tei_burn_2", "coast", ("burn_2_delta_v_ok",), "delta-v reached"),
        T("dwell_over", "coast", "midcourse_correction", ("accelerometers_valid",), "correction time"),
        T("burn_complete", "midcourse_correction", "final_coast", description="28 s burn done"),
        T("dwell_over", "final_coast", "separation", description="separation point reached"),
        T("separated", "separation", "returned", ("returner_separated",), "separation confirmed"),
        T("abort", "*", "safe", description="burn fault, timeout or ground abort"),
    ),
)


class ReturnMachine(MissionMachine):
    name = "return"
    spec = SPEC
    event_prefix = "RETURN"
    hk_structure = 44
    hk_quiet_in_flight = True
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("tei_1_delta_v_m_s", "f32", "m/s", "first injection burn delta-v (measured)"),
        TelemetryDef("tei_2_delta_v_m_s", "f32", "m/s", "second injection burn delta-v (measured)"),
        TelemetryDef("mcc_delta_v_m_s", "f32", "m/s", "mid-course correction delta-v (measured)"),
        TelemetryDef("returned", "bool", "", "returner separated towards the Earth"),
    )
    events = (
        *machine_events("RETURN", 0x4040),
        EventDef(0x4048, "BURN_DONE", Severity.INFO, "{burn}: {delta_v_m_s:.2f} m/s in {duration_s:.1f} s"),
        EventDef(0x4049, "BURN_LIMIT", Severity.HIGH, "{burn} stopped on its time limit at {delta_v_m_s:.2f} m/s"),
        EventDef(0x404A, "RETURNER_SEPARATED", Severity.INFO, "returner separated"),
        EventDef(0x404B, "TEI_WINDOW_WAIT", Severity.INFO,
                 "TEI go taken: waiting {opens_in_s:.0f} s for the window (closes in {closes_in_s:.0f} s)"),
    )
    parameters = (
        ParameterDef(0x4040, "lunar_orbit_wait_s", "f64", 518_400.0, "wait in lunar orbit before TEI", 0.0,
                     691_200.0, unit="s"),
        ParameterDef(0x4041, "tei_interburn_s", "f64", 86_400.0, "coast between the two TEI burns", 0.0, 172_800.0,
                     unit="s"),
        ParameterDef(0x4042, "coast_to_mcc_s", "f64", 129_600.0, "coast before the mid-course correction", 0.0,
                     259_200.0, unit="s"),
        ParameterDef(0x4043, "coast_to_separation_s", "f64", 241_200.0, "coast to the separation point", 0.0,
                     432_000.0, unit="s"),
        ParameterDef(0x4044, "tei_1_delta_v_m_s", "f64", 480.0, "first TEI burn target", 1.0, 1500.0, unit="m/s"),
        ParameterDef(0x4045, "tei_2_delta_v_m_s", "f64", 345.0, "second TEI burn target", 1.0, 1500.0, unit="m/s"),
        ParameterDef(0x4046, "mcc_duration_s", "f64", 28.0, "mid-course correction burn time", 1.0, 600.0, unit="s"),
        # The injection window the ground computed for the return trajectory (on-board time; 0: none).
        ParameterDef(0x404A, "tei_window_open_s", "f64", 0.0, "TEI window opening (on-board time)", 0.0, 1e10,
                     unit="s"),
        ParameterDef(0x404B, "tei_window_close_s", "f64", 0.0, "TEI window closing (on-board time, 0: none)", 0.0,
                     1e10, unit="s"),
    )

    BURN_LIMIT_MARGIN = 1.15
    DELTA_V_TOLERANCE = 0.02

    # Readings of the accelerometers in a row that may be lost before a burn is stopped.
    MAX_ACCELEROMETER_GAPS = 5

    def __init__(self, ctx: Context, engines: OrbitEngines, separation: SeparationDevice,
                 accelerometers: OrbiterAccelerometers | None = None) -> None:
        super().__init__(ctx)
        self.engines = engines
        self.separation = separation
        self.accelerometers = accelerometers
        self.delta_v: dict[str, float] = {}

    def snapshot(self) -> dict[str, Any]:
        return {"delta_v": self.delta_v}

    def restore_snapshot(self, values: dict[str, Any]) -> None:
        self.delta_v = {str(k): float(v) for k, v in (values.get("delta_v") or {}).items()}

    def housekeeping(self) -> dict[str, Any]:
        return {**self.machine_housekeeping(), "tei_1_delta_v_m_s": round(self.delta_v.get("tei_1", 0.0), 3),
                "tei_2_delta_v_m_s": round(self.delta_v.get("tei_2", 0.0), 3),
                "mcc_delta_v_m_s": round(self.delta_v.get("mcc", 0.0), 4), "returned": self.state == "returned"}

    def go(self, command_name: str) -> Any:
        """GO_TEI: taken inside the uplinked injection window, waits for it, or is refused after it."""
        return go_in_window(self, command_name, "tei", "TEI_WINDOW_WAIT")

    def guard_accelerometers_valid(self) -> bool:
        return self.accelerometers is not None and self.accelerometers.read().valid

    def _delta_v_ok(self, burn: str) -> bool:
        target = float(self.param(f"{burn}_delta_v_m_s"))
        return abs(self.delta_v.get(burn, 0.0) - target) <= self.DELTA_V_TOLERANCE * target

    def guard_burn_1_delta_v_ok(self) -> bool:
        return self._delta_v_ok("tei_1")

    def guard_burn_2_delta_v_ok(self) -> bool:
        return self._delta_v_ok("tei_2")

    def guard_returner_separated(self) -> bool:
        return self.separation.read().separated

    def _measure(self, meter: DeltaVMeter) -> None:
        if self.accelerometers is None:
            meter.add(0.0, (0.0, 0.0, 0.0), False)  # nothing to measure with: a gap
            return
        reading = self.accelerometers.read()
        meter.add(reading.t, reading.specific_force_m_s2, reading.valid)

    async def _burn(self, burn: str, engine_set: str, target_m_s: float | None, duration_s: float) -> None:
        """Burn to a delta-v target measured on the accelerometers (or for a duration), cut off by
        the time limit in any case."""
        if self.accelerometers is None:  # a resumed burn on a vehicle without them (the go checks it)
            await self.safe(f"{burn}: no accelerometers to measure the burn")
            return
        meter = DeltaVMeter()
        self._measure(meter)
        self.engines.start_burn(engine_set)
        start = self.clock.monotonic()
        limit = duration_s * (self.BURN_LIMIT_MARGIN if target_m_s is not None else 1.0)
        failure, lost = "", 0
        while True:
            await self.clock.sleep(0.1 if target_m_s is None or duration_s < 60 else 1.0)
            gaps = meter.gaps
            self._measure(meter)
            lost = lost + 1 if meter.gaps > gaps else 0
            elapsed = self.clock.monotonic() - start
            if target_m_s is not None and meter.along_axis_m_s >= target_m_s:
                break
            if target_m_s is not None and lost > self.MAX_ACCELEROMETER_GAPS:
                failure = "accelerometers lost"
                break
            if elapsed >= limit:
                if target_m_s is not None:
                    failure = "time limit"
                break
        self.engines.stop_burn()
        self._measure(meter)  # the tail-off to the cut-off
        self.delta_v[burn] = meter.along_axis_m_s
        if failure:
            if failure == "time limit":
                self.emit("BURN_LIMIT", burn=burn, delta_v_m_s=self.delta_v[burn])
            await self.safe(f"{burn} stopped: {failure}")
            return
        self.emit("BURN_DONE", burn=burn, delta_v_m_s=self.delta_v[burn], duration_s=self.clock.monotonic() - start)
        await self.fire("burn_complete")

    async def do_tei_burn_1(self) -> None:
        target = float(self.param("tei_1_delta_v_m_s"))
        await self._burn("tei_1", "tei", target, target / TEI_ACCEL_M_S2)

    async def do_tei_burn_2(self) -> None:
        target = float(self.param("tei_2_delta_v_m_s"))
        await self._burn("tei_2", "tei", target, target / TEI_ACCEL_M_S2)

    async def do_midcourse_correction(self) -> None:
        await self._burn("mcc", "mcc", None, float(self.param("mcc_duration_s")))

    async def do_separation(self) -> None:
        latches = self.ctx.latches
        if not latches.is_fired(SEPARATION_LATCH):
            latches.fire(SEPARATION_LATCH)
            self.separation.fire()
            self.emit("RETURNER_SEPARATED")
        await self.clock.sleep(1.0)
        if not await self.fire("separated"):
            await self.safe("returner separation not confirmed")

    def on_safe(self, source: str, reason: str) -> None:
        self.engines.stop_burn()
        super().on_safe(source, reason)
