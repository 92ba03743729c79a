"""The mission: pre-descent go/no-go, powered descent, surface operations, ascent, rendezvous and
docking, sample transfer, lunar orbit wait, trans-Earth injection, coast, returner separation.

Each later phase delegates to its own machine and completes when that machine reaches its goal; the
powered descent is flown by guidance (a :class:`~fsw.mission.drivers.PhaseDriver`) that reports the
outcome. Before descent the sensors are checked: without a valid altimeter (IM-1) the lander holds in
orbit and checks again one orbit later instead of descending blind.
"""

from __future__ import annotations

from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import (
    MISSION_MODES,
    EventDef,
    ParameterDef,
    Severity,
    TelemetryDef,
    command,
)
from fsw.core.errors import CommandStartFailed
from fsw.devices.descent import LaserRangeFinder, MainEngine, PropellantGauge, StrapdownImu
from fsw.mission.drivers import PhaseDriver
from fsw.mission.machine import (
    AUTO_GO,
    GROUND_HOLD,
    MachineSpec,
    MissionMachine,
    StateSpec,
    machine_events,
    machine_telemetry,
)
from fsw.mission.machine import TransitionSpec as T
from fsw.protocol.errors import FailureCode

DESCENT_LATCH = "descent_ignition"
SENSOR_CHECKS = "descent_sensor_checks"
SENSOR_GUARDS = ("altimeter_valid", "imu_valid", "accelerometers_on")
SPEC = MachineSpec(
    name="mission",
    initial="predescent_checks",
    states=(
        StateSpec("predescent_checks", "sensor health go/no-go in the landing preparation orbit", 600.0,
                  timeout_trigger="checks_failed"),
        StateSpec("orbit_hold", "no-go: staying in orbit, checks again after one orbit", 259_200.0,
                  dwell_s="orbit_hold_s", dwell_trigger="recheck"),
        StateSpec("awaiting_descent_go", "sensors go: waiting for the ground go for powered descent", 86_400.0,
                  go_command="GO_DESCENT"),
        StateSpec("powered_descent", "autonomous powered descent flown by guidance (critical)", 1_200.0),
        StateSpec("surface_operations", "sampling on the surface", 216_000.0),
        StateSpec("ascent", "ascent to lunar orbit", 259_200.0),
        StateSpec("rendezvous_docking", "rendezvous and capture by the orbiter", 345_600.0),
        StateSpec("sample_transfer", "container into the returner, ascender release", 86_400.0),
        StateSpec("lunar_orbit_wait", "waiting in lunar orbit for the return window", 864_000.0),
        StateSpec("trans_earth_injection", "two trans-Earth injection burns", 259_200.0),
        StateSpec("coast", "Earth transfer coast with the mid-course correction", 691_200.0),
        StateSpec("returner_separation", "returner separation", 3_600.0),
        StateSpec("complete", "returner on its way home", final=True),
        StateSpec("safe", "mission safed: waiting for the ground", final=True),
    ),
    transitions=(
        T("checks_passed", "predescent_checks", "awaiting_descent_go",
          ("altimeter_valid", "imu_valid", "accelerometers_on", "propellant_ok", "engine_ready"), "all sensors go"),
        T("go", "awaiting_descent_go", "powered_descent", description="ground go (or auto_go) for powered descent"),
        T("checks_failed", "predescent_checks", "orbit_hold", description="a sensor no-go (or checks timed out)"),
        T("recheck", "orbit_hold", "predescent_checks", description="one orbit later, or ground recheck"),
        T("landed", "powered_descent", "surface_operations", ("main_engine_off",), "guidance: touchdown"),
        T("samples_stowed", "surface_operations", "ascent", description="samples sealed in the ascender"),
        T("in_orbit", "ascent", "rendezvous_docking", description="ascender in orbit"),
        T("captured", "rendezvous_docking", "sample_transfer", description="claws latched"),
        T("transfer_complete", "sample_transfer", "lunar_orbit_wait", description="ascender released"),
        T("tei_started", "lunar_orbit_wait", "trans_earth_injection", description="first TEI burn started"),
        T("tei_complete", "trans_earth_injection", "coast", description="both TEI burns done"),
        T("separation_started", "coast", "returner_separation", description="separation point reached"),
        T("returned", "returner_separation", "complete", description="returner separated"),
        T("abort", "*", "safe", description="phase failure, timeout or ground abort"),
    ),
)


class MissionControl(MissionMachine):
    name = "mission"
    spec = SPEC
    event_prefix = "MISSION"
    hk_structure = 40
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("auto_go", "bool", "", "go/no-go points pass without ground commands"),
        TelemetryDef("hold_count", "u16", "", "times the descent was held for a sensor no-go"),
        TelemetryDef("last_no_go", "str", "", "the check that failed last"),
    )
    events = (
        *machine_events("MISSION", 0x4000),
        EventDef(0x4008, "DESCENT_NO_GO", Severity.HIGH, "descent no-go: {reasons}; holding in orbit"),
        EventDef(0x4009, "DESCENT_OUTCOME", Severity.MEDIUM, "powered descent reported {outcome}"),
        EventDef(0x400A, "DESCENT_SENSOR_CHECKS_OFF", Severity.HIGH,
                 "descent sensor checks switched off: going on although {reasons} failed"),
    )
    parameters = (
        ParameterDef(0x4000, AUTO_GO, "bool", False, "go/no-go points pass without ground commands"),
        ParameterDef(0x4047, GROUND_HOLD, "bool", False,
                     "on the afap clock, flight time stands still while a go/no-go waits for the ground"),
        ParameterDef(0x4001, "orbit_hold_s", "f64", 7_200.0, "hold before checking again (one orbit)", 60.0,
                     86_400.0, unit="s"),
        ParameterDef(0x4002, "min_descent_propellant_kg", "f64", 1_950.0, "propellant needed to start descent", 0.0,
                     5_000.0, unit="kg"),
        ParameterDef(0x4048, SENSOR_CHECKS, "bool", True, "the pre-descent go/no-go requires a valid altimeter, IMU "
                     "and accelerometers (Luna-25, IM-1); false only for a negative control"),
    )

    CHECK_SAMPLES = 10
    CHECK_VALID_FRACTION = 0.8

    def __init__(self, ctx: Context, *, imu: StrapdownImu, range_finder: LaserRangeFinder, main_engine: MainEngine,
                 propellant: PropellantGauge, descent_driver: PhaseDriver | None = None,
                 phases: dict[str, MissionMachine] | None = None) -> None:
        super().__init__(ctx)
        self.imu, self.range_finder, self.main_engine, self.propellant = imu, range_finder, main_engine, propellant
        self.descent_driver = descent_driver
        self.phases = phases or {}
        self.hold_count = 0
        self.last_no_go = ""
        self._altimeter_valid_fraction = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {"hold_count": self.hold_count, "last_no_go": self.last_no_go}

    def restore_snapshot(self, values: dict[str, Any]) -> None:
        self.hold_count = int(values.get("hold_count", 0))
        self.last_no_go = str(values.get("last_no_go", ""))

    def housekeeping(self) -> dict[str, Any]:
        return {**self.machine_housekeeping(), "auto_go": bool(self.param(AUTO_GO)), "hold_count": self.hold_count,
                "last_no_go": self.last_no_go}

    # --- go/no-go guards on measured values --------------------------------------------------
    def guard_altimeter_valid(self) -> bool:
        return self._altimeter_valid_fraction >= self.CHECK_VALID_FRACTION or self._sensor_checks_off()

    def guard_imu_valid(self) -> bool:
        return self.imu.read().valid or self._sensor_checks_off()

    def guard_accelerometers_on(self) -> bool:
        return self.imu.read().accelerometer_on or self._sensor_checks_off()

    def _sensor_checks_off(self) -> bool:
        return not self.param(SENSOR_CHECKS)

    def guard_propellant_ok(self) -> bool:
        reading = self.propellant.read()
        return reading.valid and reading.mass_kg >= self.param("min_descent_propellant_kg")

    def guard_engine_ready(self) -> bool:
        status = self.main_engine.read()
        return status.valid and not status.on

    def guard_main_engine_off(self) -> bool:
        status = self.main_engine.read()
        return status.valid and not status.on

    def no_go_reasons(self) -> list[str]:
        checks = ("altimeter_valid", "imu_valid", "accelerometers_on", "propellant_ok", "engine_ready")
        return [name for name in checks if not getattr(self, f"guard_{name}")()]

    def waived_sensor_checks(self) -> list[str]:
        """The sensor checks that would fail now, had they not been switched off."""
        if not self._sensor_checks_off():
            return []
        measured = {"altimeter_valid": self._altimeter_valid_fraction >= self.CHECK_VALID_FRACTION,
                    "imu_valid": self.imu.read().valid, "accelerometers_on": self.imu.read().accelerometer_on}
        return [name for name in SENSOR_GUARDS if not measured[name]]

    # --- activities --------------------------------------------------------------------------
    async def do_predescent_checks(self) -> None:
        self.imu.set_power(True)
        self.imu.set_accelerometer(True)
        self.range_finder.set_power(True)
        self.range_finder.select_beam("long")
        valid = 0
        for _ in range(self.CHECK_SAMPLES):  # validity flags over several samples, not one
            await self.clock.sleep(1.0)
            valid += self.range_finder.read().valid
        self._altimeter_valid_fraction = valid / self.CHECK_SAMPLES
        waived = self.waived_sensor_checks()
        if waived:
            self.emit("DESCENT_SENSOR_CHECKS_OFF", reasons=",".join(waived))
        if await self.fire("checks_passed"):
            return
        reasons = self.no_go_reasons()
        self.hold_count += 1
        self.last_no_go = ",".join(reasons)
        self.emit("DESCENT_NO_GO", reasons=self.last_no_go)
        await self.fire("checks_failed")

    async def do_powered_descent(self, resumed: bool) -> None:
        latches = self.ctx.latches
        if not latches.is_fired(DESCENT_LATCH):
            self.ctx.modes.begin_critical("powered_descent")
            latches.fire(DESCENT_LATCH)
            resumed = False
        elif resumed:  # a reset in powered flight: guidance resumes, the engine is never re-ignited
            self.ctx.modes.begin_critical("powered_descent")
        if self.descent_driver is not None:
            self.descent_driver.begin(self.descent_complete, resumed)

    def descent_complete(self, outcome: str) -> None:
        """Guidance reports the end of the powered descent: "landed" or "aborted"."""
        self.emit("DESCENT_OUTCOME", outcome=outcome)
        self.ctx.modes.end_critical("powered_descent")
        if outcome == "landed":
            self.post("landed")
        else:
            self.post("abort", f"powered descent {outcome}")

    async def do_surface_operations(self) -> None:
        rover = self.phases.get("rover")
        if rover is not None:
            await rover.begin()
        await self.run_child(self.phases["sampling"], "complete", "samples_stowed")

    async def do_ascent(self) -> None:
        await self.run_child(self.phases["ascent"], "in_orbit", "in_orbit")

    async def do_rendezvous_docking(self) -> None:
        await self.run_child(self.phases["rendezvous"], "transfer", "captured")

    async def do_sample_transfer(self) -> None:
        await self.run_child(self.phases["rendezvous"], "released", "transfer_complete")

    async def do_lunar_orbit_wait(self) -> None:
        await self.run_child(self.phases["return"], "tei_burn_1", "tei_started")

    async def do_trans_earth_injection(self) -> None:
        await self.run_child(self.phases["return"], "coast", "tei_complete")

    async def do_coast(self) -> None:
        await self.run_child(self.phases["return"], "separation", "separation_started")

    async def do_returner_separation(self) -> None:
        await self.run_child(self.phases["return"], "returned", "returned")

    # --- ground commands ---------------------------------------------------------------------
    GO_OWNERS = {"GO_DESCENT": None, "GO_SAMPLING": "sampling", "GO_ASCENT": "ascent",
                 "GO_SHORT_RANGE": "rendezvous", "GO_TEI": "return"}

    def command_refusal(self, name: str) -> str | None:
        if name in self.GO_OWNERS:
            owner = self.GO_OWNERS[name]
            return (self if owner is None else self.phases[owner]).go_refusal(name)
        if name == "MISSION_RECHECK" and self.state != "orbit_hold":
            return f"mission is in {self.state}, not orbit_hold"
        return None

    @command(0x4007, modes=MISSION_MODES, critical=True)
    def cmd_go_descent(self) -> Any:
        """Ground go for powered descent (the descent itself is autonomous; ignition: armed first).
        Refused without a usable ground uplink or outside the powered-descent initiation window (the
        guidance's verdict, asked through the descent driver)."""
        refusal = self.go_refusal("GO_DESCENT")
        if refusal is not None:
            raise CommandStartFailed(FailureCode.WRONG_STATE, refusal)
        check = getattr(self.descent_driver, "go_refusal", None)
        verdict = check() if check is not None else None
        if verdict is not None:
            code, reason = verdict
            raise CommandStartFailed(FailureCode(code), reason)
        return self.fire("go")

    @command(0x4001, modes=MISSION_MODES, critical=True)
    def cmd_go_sampling(self) -> Any:
        """Ground go: start sampling."""
        return self.phases["sampling"].go("GO_SAMPLING")

    @command(0x4002, modes=MISSION_MODES, critical=True)
    def cmd_go_ascent(self) -> Any:
        """Ground go: ascent ignition."""
        return self.phases["ascent"].go("GO_ASCENT")

    @command(0x4003, modes=MISSION_MODES, critical=True)
    def cmd_go_short_range(self) -> Any:
        """Ground go: hand the rendezvous over to the autonomous short range."""
        return self.phases["rendezvous"].go("GO_SHORT_RANGE")

    @command(0x4004, modes=MISSION_MODES, critical=True)
    def cmd_go_tei(self) -> Any:
        """Ground go: trans-Earth injection."""
        return self.phases["return"].go("GO_TEI")

    @command(0x4005)
    def cmd_mission_recheck(self) -> Any:
        """Run the pre-descent checks again now (from the orbit hold)."""
        if self.state != "orbit_hold":
            raise CommandStartFailed(FailureCode.WRONG_STATE, f"mission is in {self.state}, not orbit_hold")
        return self.fire("recheck")

    @command(0x4006)
    def cmd_mission_abort(self) -> Any:
        """Safe the mission and every phase machine that is running."""
        return self._abort_all("ground abort")

    async def _abort_all(self, reason: str) -> None:
        for machine in self.phases.values():
            if not machine.spec.by_name[machine.state].dormant:
                await machine.fire("abort", reason)
        await self.fire("abort", reason)
