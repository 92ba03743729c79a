"""The rover: deployment from the lander, drives between uploaded waypoints with hazard stops, science
stops, a midday nap in the heat, and hibernation through the lunar night.

The night sequence must never depend on a mechanism. Yutu-1 (2014) lost its mechanisms before its
second night and could not stow the mast and arrays: here a stow that fails (or a mechanism that
reports a fault) is recorded and the sequence goes on to hibernate; ``prepare_night`` also leaves on
its own timeout. The rover wakes by itself when the sun sensor sees the Sun up again after a night
(Yutu-2). The wake threshold is above the evening one, so a rover woken in the low morning Sun is not
put straight back to sleep.

The rover is a vehicle of its own: safing it stops the drive but does not put the lander's executive
in SAFE, and a safed rover still hibernates at nightfall.

In the lander's SAFE the rover does not drive: ``ROVER_STOP`` (a step of the safing response) stops
a drive under way and puts the rover in standby, and standby starts no drive until the mode is
NOMINAL again (the next standby check, or a new waypoint, then drives on). A deploy under way runs
to its end: a rover stopped on the ramp is worse off than one on the surface. The night sequence
goes on in SAFE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsw.core.context import Context
from fsw.core.declarations import (
    MISSION_MODES,
    SAFING_STOP_MOTION,
    Arg,
    EventDef,
    ParameterDef,
    SafingStep,
    Severity,
    TelemetryDef,
    command,
)
from fsw.core.errors import CommandFailed, CommandStartFailed
from fsw.devices.surface import Power, RoverDeployMechanism, RoverMobility, SunSensor, Thermal
from fsw.mission.machine import MachineSpec, MissionMachine, StateSpec, machine_events, machine_telemetry
from fsw.mission.machine import TransitionSpec as T
from fsw.protocol.errors import FailureCode

DAY_S = 86_400.0
NIGHT_WITHOUT_STOW = "rover_night_without_stow"
MAX_WAYPOINTS = 32
DAYTIME = ("standby", "drive", "hazard_wait", "science_stop")
SPEC = MachineSpec(
    name="rover",
    initial="idle",
    states=(
        StateSpec("idle", "on the lander, waiting for the surface phase", dormant=True),
        StateSpec("awaiting_deploy", "waiting for the ground deploy command", 30 * DAY_S, timeout_trigger="abort",
                  go_command="ROVER_DEPLOY"),
        StateSpec("deploy", "released and driving down the ramp", 7_200.0, timeout_trigger="abort"),
        StateSpec("standby", "on the surface, nothing to drive to (or mechanisms failed)", 16 * DAY_S,
                  timeout_trigger="evening"),
        StateSpec("drive", "driving to the next waypoint, hazard cameras on", 14_400.0, timeout_trigger="abort"),
        StateSpec("hazard_wait", "stopped before an obstacle, re-planning the leg", 3_600.0, timeout_trigger="abort",
                  dwell_s="rover_hazard_wait_s"),
        StateSpec("science_stop", "at a waypoint: instruments at work", 14_400.0, timeout_trigger="abort",
                  dwell_s="rover_science_dwell_s"),
        StateSpec("nap", "midday nap: surface too hot to work", 8 * DAY_S, timeout_trigger="cool"),
        StateSpec("prepare_night", "stowing and setting up the hibernation configuration", 3_600.0,
                  timeout_trigger="ready"),
        StateSpec("hibernate", "lunar night: powered down, heaters on", 20 * DAY_S, timeout_trigger="night_limit"),
        StateSpec("wake", "power back on, mechanisms unstowed", 3_600.0, timeout_trigger="awake"),
        StateSpec("safe", "drive stopped, waiting for the ground (still hibernates at nightfall)", 16 * DAY_S,
                  timeout_trigger="evening"),
    ),
    transitions=(
        T("begin", "idle", "awaiting_deploy", description="surface phase begun"),
        T("go", "awaiting_deploy", "deploy", description="ground ROVER_DEPLOY (or auto_go)"),
        T("deployed", "deploy", "standby", ("on_surface",), "wheels on the surface"),
        T("drive", "standby", "drive", ("has_waypoint", "mechanisms_ok", "mode_nominal"),
          "a waypoint to drive to (not in SAFE)"),
        T("halt", ("drive", "hazard_wait"), "standby", description="SAFE: the safing response stopped the drive"),
        T("hazard", "drive", "hazard_wait", description="hazard cameras stopped the drive"),
        T("dwell_over", "hazard_wait", "drive", description="leg re-planned, drive on"),
        T("arrived", "drive", "science_stop", description="waypoint reached"),
        T("done", "drive", "standby", description="no waypoint left (the last one skipped)"),
        T("fault", "drive", "standby", description="mechanism fault: no more driving"),
        T("dwell_over", "science_stop", "standby", description="science done"),
        T("hot", DAYTIME, "nap", ("surface_hot",), "surface above the nap temperature"),
        T("cool", "nap", "standby", description="surface cooled (or nap timed out)"),
        T("evening", (*DAYTIME, "nap", "safe"), "prepare_night", description="Sun below the evening elevation"),
        T("ready", "prepare_night", "hibernate", description="night configuration set, stowed or not"),
        T("sunrise", "hibernate", "wake", ("night_over",), "Sun up again after the night"),
        T("night_limit", "hibernate", "wake", description="longest night exceeded"),
        T("awake", "wake", "standby", description="powered up"),
        T("abort", "*", "safe", description="deploy failure, timeout or ground abort"),
    ),
)


class RoverMachine(MissionMachine):
    name = "rover"
    spec = SPEC
    event_prefix = "ROVER"
    hk_structure = 45
    hk_quiet_in_flight = True
    telemetry = (
        *machine_telemetry(SPEC),
        TelemetryDef("rover_east_m", "f32", "m", "rover position east of the lander"),
        TelemetryDef("rover_north_m", "f32", "m", "rover position north of the lander"),
        TelemetryDef("rover_waypoints_left", "u16", "", "uploaded waypoints not yet reached"),
        TelemetryDef("rover_hazard_stops", "u16", "", "hazard stops since deployment"),
        TelemetryDef("rover_mechanism_fault", "bool", "", "a mechanism fault was recorded"),
        TelemetryDef("rover_stowed", "bool", "", "mast and arrays in the night configuration"),
        TelemetryDef("rover_sun_elevation_deg", "f32", "deg", "sun sensor elevation"),
        TelemetryDef("rover_battery_soc", "f32", "", "rover battery state of charge"),
    )
    events = (
        *machine_events("ROVER", 0x4500),
        EventDef(0x4508, "ROVER_DEPLOYED", Severity.INFO, "rover on the surface"),
        EventDef(0x4509, "ROVER_WAYPOINT_ADDED", Severity.INFO, "waypoint {index} at ({east_m:.1f}, {north_m:.1f}) m"),
        EventDef(0x450A, "ROVER_HAZARD_STOP", Severity.MEDIUM,
                 "hazard stop at ({east_m:.1f}, {north_m:.1f}) m on the way to waypoint {index} (stop {count})"),
        EventDef(0x450B, "ROVER_WAYPOINT_REACHED", Severity.INFO, "waypoint {index} reached at ({east_m:.1f}, "
                                                                  "{north_m:.1f}) m"),
        EventDef(0x450C, "ROVER_WAYPOINT_SKIPPED", Severity.MEDIUM, "waypoint {index} skipped after {count} hazards"),
        EventDef(0x450D, "ROVER_MECHANISM_FAULT", Severity.HIGH, "mechanism fault in {state} ({action}): {detail}"),
        EventDef(0x450E, "ROVER_HIBERNATING", Severity.INFO,
                 "hibernating at Sun {elevation_deg:.1f} deg, stowed {stowed}, faults: {faults}"),
        EventDef(0x450F, "ROVER_AWAKE", Severity.INFO, "awake at Sun {elevation_deg:.1f} deg"),
        EventDef(0x4510, "ROVER_NAP", Severity.INFO, "midday nap: surface {surface_c:.0f} C"),
    )
    safing = (SafingStep("ROVER_STOP", rank=SAFING_STOP_MOTION),)
    parameters = (
        ParameterDef(0x4500, "rover_evening_sun_deg", "f64", 10.0, "Sun elevation below which the rover prepares "
                     "for the night", -5.0, 45.0, unit="deg"),
        ParameterDef(0x4501, "rover_wake_sun_deg", "f64", 15.0, "Sun elevation that wakes the rover after a night "
                     "(keep above the evening elevation)", 0.0, 60.0, unit="deg"),
        ParameterDef(0x4502, "rover_nap_surface_c", "f64", 100.0, "surface temperature that starts the midday nap",
                     20.0, 150.0, unit="C"),
        ParameterDef(0x4503, "rover_nap_end_surface_c", "f64", 90.0, "surface temperature that ends the nap", 0.0,
                     150.0, unit="C"),
        ParameterDef(0x4504, "rover_science_dwell_s", "f64", 1_800.0, "dwell at each waypoint", 0.0, 14_000.0,
                     unit="s"),
        ParameterDef(0x4505, "rover_hazard_wait_s", "f64", 300.0, "stop before an obstacle while the leg is "
                     "re-planned", 0.0, 3_500.0, unit="s"),
        ParameterDef(0x4506, "rover_hazard_retries", "u16", 3, "hazard stops on one leg before its waypoint is "
                     "skipped", 0, 20),
        ParameterDef(0x4507, "rover_stow_limit_s", "f64", 600.0, "longest wait for the stow before hibernating "
                     "anyway", 10.0, 3_000.0, unit="s"),
        ParameterDef(0x4508, NIGHT_WITHOUT_STOW, "bool", True, "set up the night configuration (heaters, "
                     "hibernation power) even when the stow failed (Yutu-1); false only for a negative control: "
                     "the night configuration then waits for the stow"),
    )

    DRIVE_POLL_S = 5.0
    STANDBY_POLL_S = 600.0
    HIBERNATE_POLL_S = 1_800.0
    ARRIVAL_TOLERANCE_M = 0.5
    STALLED_POLLS = 3  # polls with no motion, no arrival and no hazard: the drive is not moving

    def __init__(self, ctx: Context, deploy: RoverDeployMechanism, mobility: RoverMobility, sun: SunSensor,
                 power: Power, thermal: Thermal | None = None) -> None:
        super().__init__(ctx)
        self.deploy, self.mobility, self.sun, self.power, self.thermal = deploy, mobility, sun, power, thermal
        self.waypoints: list[tuple[float, float]] = []
        self.next_waypoint = 0
        self.hazard_stops = 0
        self.leg_hazards = 0
        self.faults: list[str] = []
        self.night_seen = False

    # --- persistence -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"waypoints": [list(point) for point in self.waypoints], "next_waypoint": self.next_waypoint,
                "hazard_stops": self.hazard_stops, "leg_hazards": self.leg_hazards, "faults": list(self.faults),
                "night_seen": self.night_seen}

    def restore_snapshot(self, values: dict[str, Any]) -> None:
        self.waypoints = [(float(e), float(n)) for e, n in values.get("waypoints", [])]
        self.next_waypoint = int(values.get("next_waypoint", 0))
        self.hazard_stops = int(values.get("hazard_stops", 0))
        self.leg_hazards = int(values.get("leg_hazards", 0))
        self.faults = [str(fault) for fault in values.get("faults", [])]
        self.night_seen = bool(values.get("night_seen", False))

    @property
    def mechanism_fault(self) -> bool:
        return bool(self.faults)

    def housekeeping(self) -> dict[str, Any]:
        mobility = self.mobility.read()
        sun = self.sun.read()
        return {**self.machine_housekeeping(), "rover_east_m": round(mobility.east_m, 2),
                "rover_north_m": round(mobility.north_m, 2),
                "rover_waypoints_left": max(0, len(self.waypoints) - self.next_waypoint),
                "rover_hazard_stops": self.hazard_stops, "rover_mechanism_fault": self.mechanism_fault,
                "rover_stowed": mobility.stowed, "rover_sun_elevation_deg": round(sun.elevation_deg, 2),
                "rover_battery_soc": round(self.power.read().battery_soc, 3)}

    # --- commands ----------------------------------------------------------------------------
    def command_refusal(self, name: str) -> str | None:
        if name == "ROVER_DEPLOY" and self.state not in ("idle", "awaiting_deploy", "deploy"):
            return f"rover is in {self.state}, not awaiting deploy"
        return None

    @command(0x4501, modes=MISSION_MODES, critical=True)
    async def cmd_rover_deploy(self) -> None:
        """Ground go: release the rover from the lander (irreversible: armed first)."""
        if self.state == "idle":
            await self.fire("begin")
        if self.state == "awaiting_deploy":  # auto_go may already have moved on
            await self.go("ROVER_DEPLOY")

    @command(0x4502, Arg("east_m", "f64", "waypoint east of the lander", -5_000.0, 5_000.0, unit="m"),
             Arg("north_m", "f64", "waypoint north of the lander", -5_000.0, 5_000.0, unit="m"), modes=MISSION_MODES)
    async def cmd_rover_waypoint(self, east_m: float, north_m: float) -> None:
        """Append a waypoint to the drive plan."""
        self.add_waypoint(east_m, north_m)
        if self.state == "standby":
            await self.fire("drive")

    @command(0x4503)
    async def cmd_rover_stop(self) -> None:
        """Stop the rover's drive and keep it in standby while SAFE (a step of the safing response; idempotent)."""
        if self.state in ("idle", "awaiting_deploy", "deploy"):
            return  # not on the surface yet: no wheels turning (a deploy under way runs to its end)
        if not self.attempt("stop", self.mobility.stop):
            raise CommandFailed(FailureCode.EXECUTION_FAILED, "the mobility refused the stop (ROVER_MECHANISM_FAULT)")
        if self.state in ("drive", "hazard_wait"):
            await self.fire("halt", "safing response")

    def add_waypoint(self, east_m: float, north_m: float) -> None:
        if len(self.waypoints) - self.next_waypoint >= MAX_WAYPOINTS:
            raise CommandStartFailed(FailureCode.BAD_ARGUMENT, f"the plan holds {MAX_WAYPOINTS} waypoints")
        self.waypoints.append((float(east_m), float(north_m)))
        self.emit("ROVER_WAYPOINT_ADDED", index=len(self.waypoints) - 1, east_m=east_m, north_m=north_m)
        self.persist()

    # --- guards ------------------------------------------------------------------------------
    def guard_on_surface(self) -> bool:
        reading = self.deploy.read()
        return reading.valid and reading.on_surface

    def guard_has_waypoint(self) -> bool:
        return self.next_waypoint < len(self.waypoints)

    def guard_mechanisms_ok(self) -> bool:
        return not self.mechanism_fault

    def guard_mode_nominal(self) -> bool:
        return self.ctx.modes.mode == "NOMINAL"

    def guard_surface_hot(self) -> bool:
        if self.thermal is None:
            return False
        reading = self.thermal.read()
        return reading.valid and reading.surface_c > self.param("rover_nap_surface_c")

    def guard_night_over(self) -> bool:
        reading = self.sun.read()
        return self.night_seen and reading.valid and reading.elevation_deg >= self.param("rover_wake_sun_deg")

    def evening(self) -> bool:
        reading = self.sun.read()
        return reading.valid and reading.elevation_deg < self.param("rover_evening_sun_deg")

    # --- faults ------------------------------------------------------------------------------
    def record_fault(self, action: str, detail: str) -> None:
        fault = f"{action}: {detail}"
        if fault not in self.faults:
            self.faults.append(fault)
            self.emit("ROVER_MECHANISM_FAULT", state=self.state, action=action, detail=detail)
            self.persist()

    def attempt(self, action: str, call: Callable[[], Any]) -> bool:
        """Command a device; a failing call is a recorded fault, never the end of the sequence."""
        try:
            call()
        except Exception as error:  # any device failure: record it and carry on
            self.record_fault(action, f"{type(error).__name__}: {error}")
            return False
        return True

    # --- activities --------------------------------------------------------------------------
    async def do_deploy(self) -> None:
        self.deploy.release()
        await self.wait_for(lambda: self.deploy.read().on_surface or self.deploy.read().fault, 60.0)
        if self.deploy.read().fault:
            await self.safe("deploy mechanism fault")
            return
        self.emit("ROVER_DEPLOYED")
        await self.fire("deployed")

    async def _daytime_exit(self) -> bool:
        """Leave a daytime state for the night or the nap; True if a transition happened."""
        if self.evening():
            self.attempt("stop", self.mobility.stop)
            return await self.fire("evening")
        if self.guard_surface_hot():
            self.attempt("stop", self.mobility.stop)
            assert self.thermal is not None
            self.emit("ROVER_NAP", surface_c=self.thermal.read().surface_c)
            return await self.fire("hot")
        return False

    async def do_standby(self) -> None:
        while True:
            if await self._daytime_exit():
                return
            if self.guard_has_waypoint() and self.guard_mechanisms_ok() and await self.fire("drive"):
                return
            await self.clock.sleep(self.STANDBY_POLL_S)

    async def do_drive(self) -> None:
        if not self.guard_has_waypoint():
            await self.fire("done")
            return
        if self.mechanism_fault or self.mobility.read().mechanism_fault:
            self.record_fault("drive", "mobility reports a mechanism fault")
            await self.fire("fault")
            return
        index = self.next_waypoint
        east, north = self.waypoints[index]
        if not self.attempt("drive", lambda: self.mobility.drive_to(east, north)):
            await self.fire("fault")
            return
        still = 0
        while True:
            await self.clock.sleep(self.DRIVE_POLL_S)
            reading = self.mobility.read()
            if reading.mechanism_fault:
                self.attempt("stop", self.mobility.stop)
                self.record_fault("drive", "mobility reports a mechanism fault")
                await self.fire("fault")
                return
            miss_m = abs(reading.east_m - east) + abs(reading.north_m - north)
            if reading.arrived and miss_m <= self.ARRIVAL_TOLERANCE_M:
                self.next_waypoint, self.leg_hazards = index + 1, 0
                self.emit("ROVER_WAYPOINT_REACHED", index=index, east_m=reading.east_m, north_m=reading.north_m)
                await self.fire("arrived")
                return
            if reading.hazard_stop:
                await self._hazard(index, reading.east_m, reading.north_m)
                return
            if await self._daytime_exit():
                return
            still = 0 if reading.driving else still + 1
            if still >= self.STALLED_POLLS:
                self.attempt("stop", self.mobility.stop)
                self.record_fault("drive", "wheels not moving")
                await self.fire("fault")
                return

    async def _hazard(self, index: int, east_m: float, north_m: float) -> None:
        self.attempt("stop", self.mobility.stop)
        self.hazard_stops += 1
        self.leg_hazards += 1
        self.emit("ROVER_HAZARD_STOP", index=index, east_m=east_m, north_m=north_m, count=self.leg_hazards)
        if self.leg_hazards > int(self.param("rover_hazard_retries")):
            self.emit("ROVER_WAYPOINT_SKIPPED", index=index, count=self.leg_hazards)
            self.next_waypoint, self.leg_hazards = index + 1, 0
        self.persist()
        await self.fire("hazard")

    async def do_hazard_wait(self) -> None:
        # The dwell re-plans the leg; the night and the heat still take precedence.
        while not await self._daytime_exit():
            await self.clock.sleep(self.STANDBY_POLL_S)

    async def do_science_stop(self) -> None:
        while not await self._daytime_exit():
            await self.clock.sleep(self.STANDBY_POLL_S)

    async def do_nap(self) -> None:
        while True:
            if self.evening():
                await self.fire("evening")
                return
            assert self.thermal is not None  # only a thermal reading starts a nap
            reading = self.thermal.read()
            if reading.valid and reading.surface_c < self.param("rover_nap_end_surface_c"):
                await self.fire("cool")
                return
            await self.clock.sleep(self.STANDBY_POLL_S)

    async def do_prepare_night(self) -> None:
        # Nothing here may stop the sequence: each step that fails is recorded and skipped.
        self.night_seen = False
        self.attempt("stop", self.mobility.stop)
        stowed = False
        if self.attempt("stow", self.mobility.stow):
            await self.wait_for(lambda: self.mobility.read().stowed or self.mobility.read().mechanism_fault, 10.0,
                                limit_s=float(self.param("rover_stow_limit_s")))
            reading = self.mobility.read()
            stowed = reading.valid and reading.stowed
            if not stowed:
                self.record_fault("stow", "mast and arrays not stowed for the night")
                if not self.param(NIGHT_WITHOUT_STOW):
                    # The response switched off: the sequence waits for a stow that never comes,
                    # until the state's timeout carries the rover into the night as it is.
                    await self.wait_for(lambda: self.mobility.read().stowed, 60.0)
        if self.thermal is not None:
            thermal = self.thermal
            self.attempt("heaters", lambda: thermal.set_heaters(True))
        self.attempt("hibernation", lambda: self.power.set_hibernation(True))
        sun = self.sun.read()
        self.emit("ROVER_HIBERNATING", elevation_deg=sun.elevation_deg, stowed=stowed,
                  faults="; ".join(self.faults) or "none")
        await self.fire("ready")

    async def do_hibernate(self) -> None:
        while True:
            reading = self.sun.read()
            if reading.valid and reading.elevation_deg < 0.0 and not self.night_seen:
                self.night_seen = True
                self.persist()
            if self.guard_night_over():
                await self.fire("sunrise")
                return
            await self.clock.sleep(self.HIBERNATE_POLL_S)

    async def do_wake(self) -> None:
        self.attempt("hibernation", lambda: self.power.set_hibernation(False))
        if self.thermal is not None:
            thermal = self.thermal
            self.attempt("heaters", lambda: thermal.set_heaters(False))
        if self.attempt("unstow", self.mobility.unstow) and self.mobility.read().mechanism_fault:
            self.record_fault("unstow", "mobility reports a mechanism fault")
        self.emit("ROVER_AWAKE", elevation_deg=self.sun.read().elevation_deg)
        await self.fire("awake")

    async def do_safe(self) -> None:
        while not self.evening():
            await self.clock.sleep(self.STANDBY_POLL_S)
        await self.fire("evening")

    def on_safe(self, source: str, reason: str) -> None:
        # The rover's own safe configuration; the lander's executive keeps its mode.
        self.attempt("stop", self.mobility.stop)
