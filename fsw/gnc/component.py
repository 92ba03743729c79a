"""The GNC component: flies the powered phases (descent, ascent) for the mission machines.

Each 50 Hz cycle it exchanges with the devices on the device bus (the plant advances one cycle),
then steps the active controller. It reports to the mission machines through the
:class:`fsw.mission.drivers.PhaseDriver` interface, and puts the executive to sleep (dormant) when
no powered phase is near, so that days of surface work and coasting cost no wall time.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, ParameterDef, Severity, TelemetryDef
from fsw.devices.bus import DeviceBusDead
from fsw.gnc import thrust_limit
from fsw.gnc.ascent_flight import AscentController, AscentDevices
from fsw.gnc.attitude_control import ATTITUDE_EVENTS, ATTITUDE_PARAMETERS
from fsw.gnc.bus_fdir import BUS_EVENTS, BUS_PARAMETERS, BUS_TELEMETRY, BusFaultHandling, cancel_quietly
from fsw.gnc.checkpoints import FinishedPhase, GncCheckpoints, milestone
from fsw.gnc.coarse_hazard import COARSE_EVENTS, COARSE_OUTCOME_EVENTS, COARSE_PARAMETERS, COARSE_TELEMETRY
from fsw.gnc.controller import HOLD_ORBIT, DescentController, DescentDevices, FaultResponses
from fsw.gnc.device_commands import DEVICE_COMMAND_EVENTS, IMU_UNITS, DeviceCommands
from fsw.gnc.guidance import LANDED
from fsw.gnc.setup import make_descent_controller
from fsw.gnc.uplink import UPLINK_EVENTS, UPLINK_PARAMETERS, UPLINK_TELEMETRY, DescentUplink, sensor_time
from fsw.mission.drivers import Report
from fsw.protocol.errors import FailureCode
from fsw.services.housekeeping import POWERED_FLIGHT_TOPIC

STRUCTURE = 30
SETTLE_AFTER_LANDING_S = 2.0
CHECKPOINT_EVERY_CYCLES = 50  # once a second: a resumed controller propagates over what it missed
# Mission states in which the device bus must run every cycle (sensors powered, engines live).
ACTIVE_STATES = {
    "mission": {"predescent_checks", "awaiting_descent_go", "powered_descent"},
    "ascent": {"checks", "ignition", "vertical_rise", "pitch_over", "orbit_insertion", "cutoff"},
}
DESCENT_SENSORS = ("imu", "star_tracker", "range_finder", "velocimeter", "microwave", "main_engine", "attitude",
                   "propellant")
ASCENT_STAGES = ("pitch_over", "orbit_insertion", "cutoff", "in_orbit")
# Guidance events of a landing-site decision, and how GNC_LANDING_SITE reports them.
SITE_OUTCOMES = {"site_confirmed_safe": "kept", "hazard_detected_retargeting": "moved", "no_safe_site": "none safe"}
ASCENT_SENSORS = ("ascent_imu", "ascent_star_tracker", "ascent_attitude", "ascent_engine", "ascent_propellant")
# The ascender's own attitude sensors and gauge, which nothing reads while the lander descends (the
# ascent machine's checks read its engine): left unread in the descent (4 of the 13 readings a cycle).
ASCENDER_IDLE_IN_DESCENT = ("ascent_imu", "ascent_star_tracker", "ascent_attitude", "ascent_propellant")


class GncComponent(GncCheckpoints, BusFaultHandling, DeviceCommands, DescentUplink, Component):
    name = "gnc"
    hk_structure = STRUCTURE
    telemetry = (
        TelemetryDef("gnc_vehicle", "enum", "", "vehicle in powered flight", enum=("none", "lander", "ascender")),
        TelemetryDef("gnc_phase", "str", "", "guidance phase of the vehicle in powered flight"),
        TelemetryDef("gnc_altitude_m", "f64", "m", "estimated height above the ground under the vehicle (the "
                     "terrain map corrected by the altimeter)", red=Limits(low=-20.0)),
        TelemetryDef("gnc_vertical_speed_m_s", "f64", "m/s", "estimated vertical speed (up positive)"),
        TelemetryDef("gnc_horizontal_speed_m_s", "f64", "m/s", "estimated horizontal speed"),
        TelemetryDef("gnc_downrange_m", "f64", "m", "estimated downrange position"),
        TelemetryDef("gnc_thrust_n", "f64", "N", "commanded main engine thrust", red=Limits(high=7_600.0)),
        TelemetryDef("gnc_propellant_kg", "f64", "kg", "estimated propellant of the vehicle in flight",
                     yellow=Limits(low=150.0)),
        TelemetryDef("gnc_time_s", "f64", "s", "time since the powered phase began"),
        TelemetryDef("gnc_bus_exchanges", "u32", "", "device bus exchanges since boot"),
        TelemetryDef("gnc_bus_errors", "u32", "", "device calls the plant refused"),
        TelemetryDef("gnc_imu_unit", "enum", "", "lander IMU unit the descent navigation uses (or last selected)",
                     enum=IMU_UNITS),
        TelemetryDef("gnc_imu_rejected", "u32", "", "lander IMU samples the descent rejected (stale or "
                     "implausible) since it began"),
        TelemetryDef("gnc_imu_rejected_run", "u32", "", "lander IMU samples rejected in a row now, 50 a second "
                     "(0: the last sample was used); the navigation coasts on its model meanwhile"),
        TelemetryDef("gnc_attitude_error_deg", "f64", "deg", "attitude estimate of the vehicle in powered flight from "
                     "the attitude guidance asks for (tens of degrees in the descent's commanded slews)",
                     yellow=Limits(high=30.0), red=Limits(high=60.0)),
        TelemetryDef("gnc_body_rate_deg_s", "f64", "deg/s", "body rate of the vehicle in powered flight, gyros less "
                     "the estimated bias", yellow=Limits(high=5.0), red=Limits(high=10.0)),
        TelemetryDef("gnc_rcs_pulses", "u32", "", "attitude thruster pulses commanded in this descent or ascent"),
        TelemetryDef("gnc_rcs_propellant_kg", "f64", "kg", "attitude thruster propellant used in this descent or "
                     "ascent (commanded on-times at the design flow)", yellow=Limits(high=60.0), red=Limits(high=90.0)),
        TelemetryDef("gnc_star_tracker_age_s", "f64", "s", "since the attitude filter last accepted a star tracker "
                     "solution", yellow=Limits(high=5.0), red=Limits(high=30.0)),
        TelemetryDef("gnc_star_tracker_rejected", "u32", "", "star tracker solutions the attitude filter's gate "
                     "rejected"),
        TelemetryDef("gnc_attitude_sigma_deg", "f64", "deg", "attitude filter's own 1-sigma uncertainty",
                     yellow=Limits(high=0.1), red=Limits(high=1.0)),
        TelemetryDef("gnc_hazard_unsafe_cells", "u32", "", "cells of the last elevation image a lander footprint "
                     "cannot be centred on (hazards near, slope, roughness, unknown ground, image edge)"),
        TelemetryDef("gnc_hazard_unknown_cells", "u32", "", "cells of the last elevation image without a measurement"),
        TelemetryDef("gnc_site_shift_downrange_m", "f64", "m", "chosen landing site from the aim it replaced, "
                     "downrange"),
        TelemetryDef("gnc_site_shift_crossrange_m", "f64", "m", "chosen landing site from the aim it replaced, "
                     "crossrange"),
        TelemetryDef("gnc_site_score", "f64", "", "score of the chosen landing site (safety 0..1 less distance and "
                     "propellant costs)"),
        *BUS_TELEMETRY,
        *UPLINK_TELEMETRY,
        *thrust_limit.THRUST_LIMIT_TELEMETRY,
        *COARSE_TELEMETRY,
    )
    events = (
        EventDef(0x3001, "GNC_EVENT", Severity.INFO, "{vehicle} t={t}s {event} {detail}"),
        EventDef(0x3002, "GNC_PHASE", Severity.LOW, "{vehicle} guidance phase {old} -> {new}"),
        EventDef(0x3004, "GNC_RESUMED", Severity.MEDIUM,
                 "{vehicle} guidance resumed after restart at t={t}s in {phase}, {gap}s not seen"),
        EventDef(0x3005, "GNC_CHECKPOINT_LOST", Severity.HIGH,
                 "{vehicle}: no usable guidance checkpoint ({reason}), starting guidance afresh"),
        EventDef(0x3030, "GNC_LANDING_SITE", Severity.LOW,
                 "landing site {outcome}: shift ({downrange}, {crossrange}) m, score {score}, "
                 "{unsafe} unsafe and {unknown} unknown of {cells} cells"),
        *BUS_EVENTS,
        *DEVICE_COMMAND_EVENTS,
        *UPLINK_EVENTS,
        *thrust_limit.THRUST_LIMIT_EVENTS,
        *COARSE_EVENTS,
        *ATTITUDE_EVENTS,
    )
    # The bus fault handling's, then the descent's autonomous fault responses, each switchable by the
    # ground (read when a descent begins; a resumed descent keeps the switches it began with). Off
    # only for a negative control. 0x3011 (an in-loop IMU unit switch) is retired: the unit is
    # switched by the fault protection table (PUS 12/19), on the IMU points below.
    parameters = (
        *BUS_PARAMETERS,
        ParameterDef(0x3010, "gnc_sensor_checks", "bool", True,
                     "descent no-go without valid accelerometers or altimeter before ignition (Luna-25, IM-1)"),
        ParameterDef(0x3012, "gnc_thrust_estimation", "bool", True,
                     "estimate delivered / commanded thrust and let guidance compensate (SLIM, Vikram)"),
        ParameterDef(0x3013, "gnc_altimeter_readmission", "bool", True,
                     "re-admit an altimeter that consistently disagrees with the terrain map (Hakuto-R); "
                     "false: such an altimeter is latched failed"),
        ParameterDef(0x3014, "gnc_attitude_control", "bool", True,
                     "hold the lander's and the ascender's attitude with their attitude thrusters (SLIM's thrust off "
                     "the centre of mass); false: no thruster is fired, the attitude is whatever the torques make it"),
        ParameterDef(0x3015, "gnc_hold_fire_without_gyros", "bool", True,
                     "fire no attitude thruster, lander's or ascender's, while no gyro sample is usable (Beresheet's "
                     "failing IMU, until the unit switch); false: control on the coasted rate, which no firing "
                     "changes"),
        ParameterDef(0x3030, "gnc_hazard_avoidance", "bool", True,
                     "judge the imager's elevation image at the hover and divert to a safe site; false: land on "
                     "the aim point unjudged"),
        *UPLINK_PARAMETERS,
        *thrust_limit.THRUST_LIMIT_PARAMETERS,
        *COARSE_PARAMETERS,
        *ATTITUDE_PARAMETERS,
    )

    def __init__(self, ctx: Context, bus: Any, period_s: float = 0.02) -> None:
        super().__init__(ctx)
        self.bus = bus
        self.period_s = period_s
        self.lander = DescentDevices(
            imu=bus.device("imu"), range_finder=bus.device("range_finder"), velocimeter=bus.device("velocimeter"),
            hazard_imager=bus.device("hazard_imager", (), ("scan", "coarse_scan")),
            main_engine=bus.device("main_engine"),
            attitude=bus.device("attitude"), propellant=bus.device("propellant"), microwave=bus.device("microwave"),
            star_tracker=bus.device("star_tracker"),
        )
        self.ascender = AscentDevices(imu=bus.device("ascent_imu"), star_tracker=bus.device("ascent_star_tracker"),
                                      attitude=bus.device("ascent_attitude"), engine=bus.device("ascent_engine"),
                                      propellant=bus.device("ascent_propellant"))
        self.descent: DescentController | None = None
        self.ascent: AscentController | None = None
        self._descent_report: Report | None = None
        self._ascent_report: Report | None = None
        self._started_at = 0.0
        self._landed_at: float | None = None
        self._phase = "none"
        self._ascent_stage_reported: set[str] = set()
        self._resuming = False  # a controller restored from a checkpoint has not flown a cycle yet
        self._catch_up_from: float | None = None  # sensor time of that checkpoint
        self._cycles = 0
        self._checkpointed_as: tuple[str, bool] | None = None
        self._machines: dict[str, Any] = {}
        # The lander IMU as the last descent measured it (unit, rejected, in a row); a selection
        # outside a descent sets the unit.
        self.imu_health: tuple[int, int, int] = (0, 0, 0)
        # The last landing-site selection: (unsafe cells, unknown cells, shift from the aim, score).
        self.hazard_health: tuple[int, int, tuple[float, float], float] | None = None
        self.coarse_shift_m: float | None = None  # the approach's coarse aim move (None: none judged)
        self._subscription = ctx.bus.subscribe("mission.state", depth=256)
        self._watcher: asyncio.Task[None] | None = None
        self._powered_flight_told = False
        self._init_bus_fdir()
        self.descent_driver = _Driver(self._begin_descent, self.descent_go_refusal)
        self.ascent_driver = _Driver(self._begin_ascent)

    def watch_machines(self, machines: dict[str, Any]) -> None:
        """The mission machines whose states decide when the bus must run."""
        self._machines = machines

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        await self.bus.open()  # a plant port missing now is retried in the background
        self.ctx.rate_groups["fast"].add(self._cycle)
        self._watcher = self.ctx.tasks.spawn("gnc_activity", self._watch)

    async def stop(self) -> None:
        await cancel_quietly(self._watcher)
        await cancel_quietly(self._probe_task)
        await self.bus.close()

    async def _watch(self) -> None:
        self._update_activity()
        while True:
            await self._subscription.get()
            while self._subscription.get_nowait() is not None:
                pass
            self._update_activity()

    def _update_activity(self) -> None:
        flying = self.descent is not None or self.ascent is not None
        busy = flying or any(
            getattr(self._machines.get(name), "state", None) in states for name, states in ACTIVE_STATES.items()
        )
        self.ctx.dormancy.set_dormant(not busy)
        if flying != self._powered_flight_told:  # housekeeping's flight telemetry mode
            self._powered_flight_told = flying
            self.ctx.bus.publish(POWERED_FLIGHT_TOPIC, flying)

    # --- drivers -----------------------------------------------------------------------------
    def _begin_descent(self, report: Report, resumed: bool) -> None:
        async def begin() -> None:
            controller = self._restore("lander") if resumed else None
            if isinstance(controller, FinishedPhase):  # the phase ended; the report may not have been taken
                self.emit("GNC_RESUMED", vehicle="lander", t=0.0, phase=controller.outcome, gap=0.0)
                report(controller.outcome)
                return
            if controller is None:
                if sensor_time(self.lander) is None:  # nothing exchanged yet: the sensors' time now
                    try:
                        await self._exchange_now()
                    except DeviceBusDead:  # no plant, no sensors: no descent to fly
                        report("aborted")
                        return
                plan = self.plan_now()
                # A go without a usable uplink (auto_go: the ground's go was checked already): no descent.
                refusal = plan if isinstance(plan, str) else self.frame_refusal(plan)
                if refusal is not None or isinstance(plan, str):
                    self.emit("DESCENT_GO_REFUSED", reason=refusal)
                    report("aborted")
                    return
                if plan.moon_pole is None:  # waived by the ground: flown, and said so
                    self.emit("DESCENT_FRAME_MISSING")
                now = sensor_time(self.lander)
                assert now is not None  # the plan needs it
                controller = make_descent_controller(self.lander, plan, now, responses=self._fault_responses())
                self._started_at = self.clock.monotonic()
            self.descent = controller
            self.bus.stop_polling(ASCENDER_IDLE_IN_DESCENT)
            self._descent_report = report
            self._landed_at = None
            self._update_activity()
            if not self._resuming:
                self._checkpoint()

        self.ctx.tasks.spawn("gnc_begin_descent", begin, restart=False)

    def _fault_responses(self) -> FaultResponses:
        return FaultResponses(sensor_checks=bool(self.param("gnc_sensor_checks")),
                              thrust_estimation=bool(self.param("gnc_thrust_estimation")),
                              altimeter_readmission=bool(self.param("gnc_altimeter_readmission")),
                              attitude_control=bool(self.param("gnc_attitude_control")),
                              hazard_avoidance=bool(self.param("gnc_hazard_avoidance")),
                              coarse_hazard_avoidance=bool(self.param("gnc_coarse_hazard_avoidance")),
                              thrust_authority=bool(self.param("gnc_thrust_authority_limit")),
                              hold_fire_without_gyros=bool(self.param("gnc_hold_fire_without_gyros")),
                              attitude_reinit_rejections=int(self.param("gnc_attitude_reinit_rejections")),
                              attitude_reinit_outage_s=float(self.param("gnc_attitude_reinit_outage_s")))

    def _begin_ascent(self, report: Report, resumed: bool) -> None:
        controller = self._restore("ascender") if resumed else None
        if isinstance(controller, FinishedPhase):  # in orbit already: every stage again, the machine takes its own
            self.emit("GNC_RESUMED", vehicle="ascender", t=0.0, phase=controller.outcome, gap=0.0)
            for stage in (ASCENT_STAGES if controller.outcome == "in_orbit" else (controller.outcome,)):
                report(stage)
            return
        if controller is None:
            responses = self._fault_responses()
            controller = AscentController(self.ascender, attitude_control=responses.attitude_control,
                                          hold_fire_without_gyros=responses.hold_fire_without_gyros,
                                          reinit_after_rejections=responses.attitude_reinit_rejections,
                                          reinit_after_outage_s=responses.attitude_reinit_outage_s)
            self._ascent_stage_reported = set()
            self._started_at = self.clock.monotonic()
        self.ascent = controller
        self._ascent_report = report
        self.bus.stop_polling(DESCENT_SENSORS)
        self._update_activity()
        if not self._resuming:
            self._checkpoint()

    # --- the 50 Hz cycle ---------------------------------------------------------------------
    async def _cycle(self) -> None:
        if self.ctx.dormancy.dormant or self.failed:  # a dead bus is tried again by its probe task
            return
        controller = self.descent or self.ascent
        # Cycles flown ahead are a promise that no command comes in them. Only a flying controller can
        # make it: without one, a mission machine commands at any instant (the ascent's ignition), and
        # a command made after the plant flew on without it would reach the plant cycles late, by as
        # many as the fast group happened to fly before a dormancy: a seeded run would not repeat.
        ahead = controller.cycles_without_commands() if controller is not None else 0
        async with self._exchange_lock:
            try:
                # A flying controller's commands go out at the start of the next cycle, its request
                # sent ahead: the plant flies the next cycle while this one is computed.
                await self.bus.exchange(ahead, self.period_s, pipeline=controller is not None)
            except DeviceBusDead as error:  # retries exhausted or the link gone: report, respond, retry later
                self._bus_dead(error)
                return
        self._engines_safed("commanded")
        flying = self._flying()
        if self._resuming and flying is not None:
            self._catch_up(*flying)
        t = self.clock.monotonic() - self._started_at
        if self.descent is not None:
            self._step_descent(self.descent, t)
        elif self.ascent is not None:
            self._step_ascent(self.ascent, t)
        self._cycles += 1
        controller = self.descent or self.ascent
        if controller is not None and (self._cycles % CHECKPOINT_EVERY_CYCLES == 0
                                       or milestone(controller) != self._checkpointed_as):
            # A new phase (an ignition, a cutoff) is saved in the cycle that decides it, before its
            # commands go out on the next exchange: a reset never finds the act done but not recorded.
            self._checkpoint()

    def _step_descent(self, controller: DescentController, t: float) -> None:
        controller.step(t, self.period_s)
        self._note_phase("lander", controller.phase)
        for when, event, detail in controller.drain_events():
            self.emit("GNC_EVENT", vehicle="lander", t=round(when, 2), event=event, detail=detail)
            if event == "attitude_reinitialised":
                self.emit("ATTITUDE_REINITIALISED", vehicle="lander", detail=detail)
            if event in SITE_OUTCOMES:
                self._report_site(controller, SITE_OUTCOMES[event])
            if event in COARSE_OUTCOME_EVENTS:
                self.emit("GNC_COARSE_SITE", outcome=event.removeprefix("coarse_"), detail=detail)
                self.coarse_shift_m = controller.guidance.aim_coarse_shift()
            if event in thrust_limit.THRUST_LIMIT_EVENT_IDS:
                self.emit(thrust_limit.THRUST_LIMIT_EVENT_IDS[event], event=event, detail=detail)
        if controller.phase == HOLD_ORBIT:
            self._finish_descent("aborted")
        elif controller.phase == LANDED:
            if self._landed_at is None:
                self._landed_at = t
            elif t - self._landed_at >= SETTLE_AFTER_LANDING_S:
                self._finish_descent("landed")

    def _report_site(self, controller: DescentController, outcome: str) -> None:
        found, shift = controller.hazard_assessment()
        if found is None:
            return
        score = found.site_score if found.site is not None else 0.0
        self.hazard_health = (found.unsafe_sites, found.unknown_cells, shift, score)
        self.emit("GNC_LANDING_SITE", outcome=outcome, downrange=round(shift[0], 1), crossrange=round(shift[1], 1),
                  score=round(score, 3), unsafe=found.unsafe_sites, unknown=found.unknown_cells,
                  cells=found.rows * found.cols)

    def _finish_descent(self, outcome: str) -> None:
        report, self._descent_report = self._descent_report, None
        if self.descent is not None:  # no descent reads the IMU now: nothing is being rejected
            unit, rejected, _ = self.descent.imu_health()
            self.imu_health = (unit, rejected, 0)
        self.descent = None
        self._checkpoint_finished("lander", outcome)
        self.bus.stop_polling(("velocimeter", "microwave", "hazard_imager"))
        self.bus.start_polling(ASCENDER_IDLE_IN_DESCENT)
        self._update_activity()
        if report is not None:
            report(outcome)

    def _step_ascent(self, controller: AscentController, t: float) -> None:
        controller.step(t, self.period_s)
        self._note_phase("ascender", controller.phase)
        for when, event, detail in controller.drain_events():
            self.emit("GNC_EVENT", vehicle="ascender", t=round(when, 2), event=event, detail=detail)
            if event == "attitude_reinitialised":
                self.emit("ATTITUDE_REINITIALISED", vehicle="ascender", detail=detail)
        stages = []
        if controller.phase in ("pitch_over", "orbit_insertion"):
            stages = ["pitch_over"] if controller.phase == "pitch_over" else ["pitch_over", "orbit_insertion"]
        if controller.cutoff_t is not None:
            stages = ["pitch_over", "orbit_insertion", "cutoff"]
            if t - controller.cutoff_t >= 1.0:
                stages.append("in_orbit")
        for stage in stages:
            if stage not in self._ascent_stage_reported:
                self._ascent_stage_reported.add(stage)
                if self._ascent_report is not None:
                    self._ascent_report(stage)
        if "in_orbit" in self._ascent_stage_reported:
            self._end_ascent("in_orbit")

    def _end_ascent(self, outcome: str) -> None:
        """The ascent is over: in orbit, or ``failed`` (reported to the machine, which safes)."""
        self.ascent = None
        self._checkpoint_finished("ascender", outcome)
        self.bus.stop_polling(ASCENT_SENSORS)
        self._update_activity()
        if outcome == "failed" and self._ascent_report is not None:
            self._ascent_report("failed")

    def _flight_time(self) -> float:
        """Time since the powered phase began (the controllers' event times)."""
        return self.clock.monotonic() - self._started_at

    def _note_phase(self, vehicle: str, phase: str) -> None:
        if phase != self._phase:
            self.emit("GNC_PHASE", vehicle=vehicle, old=self._phase, new=phase)
            self._phase = phase

    def housekeeping(self) -> dict[str, Any]:
        if self.descent is not None:
            self.imu_health = self.descent.imu_health()
        unit, rejected, run = self.imu_health
        values: dict[str, Any] = {"gnc_vehicle": "none", "gnc_phase": self._phase,
                                  "gnc_bus_exchanges": self.bus.exchanges, "gnc_bus_errors": len(self.bus.errors),
                                  "gnc_imu_unit": IMU_UNITS[unit], "gnc_imu_rejected": rejected,
                                  "gnc_imu_rejected_run": run, **self.bus_housekeeping(),
                                  **self.uplink_housekeeping()}
        if self.coarse_shift_m is not None:
            values["gnc_coarse_shift_m"] = round(self.coarse_shift_m, 1)
        if self.hazard_health is not None:
            unsafe, unknown, shift, score = self.hazard_health
            values.update({"gnc_hazard_unsafe_cells": unsafe, "gnc_hazard_unknown_cells": unknown,
                           "gnc_site_shift_downrange_m": round(shift[0], 2),
                           "gnc_site_shift_crossrange_m": round(shift[1], 2),
                           "gnc_site_score": round(score, 3)})
        controller = self.descent or self.ascent
        if controller is not None:
            nav = controller.nav.state()
            values.update({
                "gnc_vehicle": "lander" if controller is self.descent else "ascender",
                "gnc_altitude_m": round(nav.height_above_ground, 2),
                "gnc_height_above_sphere_m": round(nav.h, 1),
                "gnc_vertical_speed_m_s": round(nav.vu, 3),
                "gnc_horizontal_speed_m_s": round((nav.vd**2 + nav.vc**2) ** 0.5, 3),
                "gnc_downrange_m": round(nav.s, 1),
                "gnc_propellant_kg": round(controller.nav.propellant, 1),
                "gnc_time_s": round(self.clock.monotonic() - self._started_at, 2),
            })
            if controller is self.descent:
                guidance = self.descent.guidance.config
                values["gnc_target_distance_m"] = round(math.hypot(guidance.target_downrange_m - nav.s,
                                                                   guidance.target_crossrange_m - nav.c), 1)
                values["gnc_aim_shift_m"] = round(self.descent.guidance.aim_shift(), 1)
                if self.descent.last_command is not None:
                    values["gnc_thrust_n"] = round(self.descent.last_command.thrust_n, 1)
                values.update(self.descent.thrust_limit_housekeeping())
            attitude = controller.attitude_health()
            values.update({
                "gnc_attitude_error_deg": round(attitude["error_deg"], 3),
                "gnc_body_rate_deg_s": round(attitude["rate_deg_s"], 3),
                "gnc_rcs_pulses": int(attitude["rcs_pulses"]),
                "gnc_rcs_propellant_kg": round(attitude["rcs_propellant_kg"], 2),
                "gnc_star_tracker_age_s": round(attitude["star_age_s"], 2),
                "gnc_star_tracker_rejected": int(attitude["star_rejected"]),
                "gnc_attitude_sigma_deg": round(attitude["sigma_deg"], 4),
            })
        return values


class _Driver:
    """A PhaseDriver handing its phase to the GNC component; ``go_refusal`` says why a go cannot
    be taken now (a failure code and a reason), None when it can."""

    def __init__(self, begin: Any, refusal: Any = None) -> None:
        self._begin = begin
        self._refusal = refusal

    def go_refusal(self) -> tuple[FailureCode, str] | None:
        return self._refusal() if self._refusal is not None else None

    def begin(self, report: Report, resumed: bool) -> None:
        self._begin(report, resumed)
