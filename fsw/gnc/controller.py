"""Descent GNC rate group: device I/O around the navigator and the guidance.

``DescentController.step(t, dt)`` is meant to be called by the executive at the IMU rate (50 Hz);
sensors, guidance and actuator commands run every ``divider``-th call (10 Hz by default). It talks
to devices only through the ``fsw.devices.descent`` Protocols.

Fault handling built in (mission-profile.md anomalies):
* go/no-go before ignition: accelerometers on and valid, altimeter valid; otherwise hold in orbit
  (Luna-25, IM-1);
* powered-descent initiation: after the go the lander coasts until the braking law would ask its
  design throttle (``DescentGuidance.pdi_due``), so a weak engine has thrust to spare;
* IMU samples checked for age (a time tag that does not advance) and plausibility against engine
  thrust feedback (``fsw.gnc.imu_checks``); a rejected sample is not integrated, the navigation
  coasts on its model. The controller counts the rejections (``imu_health``) and never decides a
  unit is dead: switching units is the fault protection table's (PUS 12 on the counts, PUS 19
  sending ``IMU_SELECT``), which the controller follows (``select_imu``);
* thrust efficiency (delivered / commanded) is estimated and guidance compensates (Vikram, SLIM);
* altimeter readings are gated, never latched failed (Hakuto-R) - see ``fsw.gnc.navigation``;
* at the hover the imager's elevation image is judged on board and the aim moved to a safe site
  (``fsw.gnc.hazard``, through the guidance).

Attitude, every cycle from the first star tracker solution on: the attitude filter
(``fsw.gnc.attitude``) propagates on the gyros and takes each new star tracker solution; the
navigation turns the specific force with its estimate; the attitude control
(``fsw.gnc.attitude_control``) holds the attitude guidance last asked for (until then, the one
found) with thruster on-times. The engine's torque off the centre of mass is estimated in the same
cycle; once it needs more than the thrusters can balance at full thrust, guidance gets a thrust
ceiling and re-plans under it (SLIM, :mod:`fsw.gnc.thrust_limit`).

Each of these responses can be switched off (:class:`FaultResponses`, from the GNC component's
parameters): the fault scenarios' negative controls fly the same fault without the response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.devices.descent import (
    MAIN_ENGINE_MAX_THRUST_N,
    HazardImager,
    LaserDopplerVelocimeter,
    LaserRangeFinder,
    MainEngine,
    MicrowaveRangeVelocity,
    PropellantGauge,
    ReactionControl,
    StarTracker,
    StrapdownImu,
)
from fsw.gnc.attitude import AttitudeFilter, quat_multiply, rotation_matrix, tilted_quaternion
from fsw.gnc.attitude_control import (
    AttitudeController,
    attitude_health,
    local_frame_rate,
    reinitialisation_report,
    target_attitude,
)
from fsw.gnc.frames import R_MOON
from fsw.gnc.guidance import (
    FREE_FALL,
    LANDED,
    MAIN_BRAKING,
    PHASES,
    DescentGuidance,
    GuidanceCommand,
)
from fsw.gnc.hazard import HazardAssessment
from fsw.gnc.imu_checks import ImuChecks
from fsw.gnc.navigation import Navigator
from fsw.gnc.thrust_limit import ThrustLimitResponse

PREFLIGHT = "preflight_checks"
HOLD_ORBIT = "hold_orbit"
PDI_COAST = "coast_to_pdi"
# [est.] how far the body rate may wander from the one held over a restart's gap (the hover and the
# diverts see a few deg/s, with attitude control off in the gap).
GAP_RATE_UNCERTAINTY_RAD_S = math.radians(2.0)
#: Every value ``DescentController.phase`` can take, in flight order (hold_orbit instead of the rest).
CONTROLLER_PHASES = (PREFLIGHT, HOLD_ORBIT, PDI_COAST, *PHASES)


@dataclass(frozen=True)
class FaultResponses:
    """Which autonomous fault responses the descent runs (all on in flight)."""

    sensor_checks: bool = True  # no-go before ignition without accelerometers or altimeter (Luna-25, IM-1)
    thrust_estimation: bool = True  # estimate delivered / commanded thrust, guidance compensates (SLIM, Vikram)
    altimeter_readmission: bool = True  # re-admit a consistently disagreeing altimeter (Hakuto-R)
    attitude_control: bool = True  # hold attitude with the thrusters (off: the attitude is left to the torques)
    hazard_avoidance: bool = True  # judge the imager's elevation image at the hover and divert to a safe site
    coarse_hazard_avoidance: bool = True  # judge the approach's coarse image and move the aim to a safe region
    thrust_authority: bool = True  # cap the thrust at what the thrusters can balance of the engine's torque (SLIM)
    # No thruster firing while no gyro sample is usable (Beresheet): the coasted rate cannot see the
    # thrusters' own torque, and control on it spins the lander up.
    hold_fire_without_gyros: bool = True
    # Re-initialise a diverged attitude filter from the star tracker (fsw.gnc.attitude): after this
    # many agreeing solutions rejected in a row, or two after this long without an accepted one (0: never).
    attitude_reinit_rejections: int = AttitudeFilter.reinit_after_rejections
    attitude_reinit_outage_s: float = AttitudeFilter.reinit_after_outage_s


@dataclass
class DescentDevices:
    imu: StrapdownImu
    range_finder: LaserRangeFinder
    velocimeter: LaserDopplerVelocimeter
    hazard_imager: HazardImager
    main_engine: MainEngine
    attitude: ReactionControl
    propellant: PropellantGauge
    microwave: MicrowaveRangeVelocity | None = None  # backup altimeter
    star_tracker: StarTracker | None = None  # without one the attitude is never found: no control


class DescentController(ImuChecks, ThrustLimitResponse):
    PREFLIGHT_S = 4.0
    STAR_OUTAGE_REPORT_S = 5.0  # no star tracker solution accepted this long: reported
    # Class default: a controller restored from a checkpoint written before it existed.
    responses = FaultResponses()

    def __init__(
        self, devices: DescentDevices, navigator: Navigator, guidance: DescentGuidance, *, divider: int = 5,
        responses: FaultResponses | None = None,
    ) -> None:
        self.dev = devices
        self.nav = navigator
        self.guidance = guidance
        self.divider = divider
        if responses is not None:
            self.responses = responses
            navigator.altimeter_readmission = responses.altimeter_readmission
            guidance.hazard_avoidance = responses.hazard_avoidance
            guidance.coarse.enabled = responses.coarse_hazard_avoidance
        self.phase = PREFLIGHT
        self.events: list[tuple[float, str, str]] = []
        self.no_go_reasons: list[str] = []
        self.last_command: GuidanceCommand | None = None
        self._count = 0
        self._started_t: float | None = None
        self._go_t: float | None = None
        self._checks_ok = {"accelerometer": False, "altimeter": False}
        self._imu_unit_wanted: int | None = None  # the unit last selected, until its readings arrive
        self._short_beam = False
        self._thrust_cmd = 0.0
        self._measured_thrust = 0.0
        self._on_backup_altimeter = False
        self._drained = 0
        self._nav_drained = 0
        self._bias_sum = [0.0, 0.0, 0.0]
        self._bias_n = 0
        self.attitude = AttitudeFilter()
        self.attitude.reinit_after_rejections = self.responses.attitude_reinit_rejections
        self.attitude.reinit_after_outage_s = self.responses.attitude_reinit_outage_s
        self.attitude_control = AttitudeController()
        self._attitude_target: tuple[float, float] | None = None  # (pitch, yaw) in the local frame
        self._star_t: float | None = None  # time tag of the newest star tracker solution seen
        self._star_outage_reported = False
        self._quiet_until = 0  # cycles up to this count were promised free of thruster commands
        self._gyro: tuple[float, float, float] | None = None  # this cycle's usable gyro rates

    # ------------------------------------------------------------ checkpoint

    def __getstate__(self) -> dict[str, object]:
        # The devices are this computer's handles on the hardware, not flight state.
        return {key: value for key, value in self.__dict__.items() if key != "dev"}

    def attach(self, devices: DescentDevices) -> None:
        """Give a controller restored from a checkpoint its devices back."""
        self.dev = devices

    def catch_up(self, gap_s: float, dt: float) -> None:
        """Propagate over ``gap_s`` of flight this controller did not see (a restart), holding the
        current IMU reading: the engine kept burning as last commanded."""
        imu = self.dev.imu.read()
        status = self.dev.main_engine.read()
        if status.valid:  # judge the IMU against the thrust now, not the one saved (zero if saved at ignition)
            self._measured_thrust = status.measured_thrust_n
        fresh = self._imu_last_t is None or imu.t > self._imu_last_t
        usable = imu if self.phase not in (PREFLIGHT, PDI_COAST) and fresh and self._imu_fault(imu) is None else None
        steps = max(1, round(gap_s / dt))
        self.authority.restart()  # its rate prediction is of before the gap
        for _ in range(steps):
            self.attitude.propagate(usable.angular_rate_body if usable is not None else None, gap_s / steps)
            self.nav.propagate(usable, gap_s / steps)
        # The rates changed in the gap (attitude control was off): the held one turned the estimate
        # by an unknown error, which the next star tracker solutions must be let in to correct.
        self.attitude.widen(GAP_RATE_UNCERTAINTY_RAD_S * gap_s)

    def reconcile_actuators(self, t: float) -> None:
        """After a restart: put the engine back in the state this controller's phase commands. A
        command queued in the cycle before the reset may never have reached the engine; the
        checkpoint was written before it went out. Guidance learns of the restart too."""
        self.guidance.restarted(t)
        status = self.dev.main_engine.read()
        if not status.valid:
            return
        self._measured_thrust = status.measured_thrust_n  # the IMU check compares against it
        if self.engine_burning and not status.on:
            self.dev.main_engine.set_thrust(self._thrust_cmd)
            self.dev.main_engine.set_on(True)
            self._event(t, "engine_restored_after_reset", f"{self._thrust_cmd:.0f} N")
        elif not self.engine_burning and status.on:
            self.dev.main_engine.set_on(False)
            self._event(t, "engine_shut_after_reset", self.phase)

    def _event(self, t: float, name: str, detail: str = "") -> None:
        self.events.append((t, name, detail))

    def drain_events(self) -> list[tuple[float, str, str]]:
        """Events (controller, guidance and navigation) not yet returned by an earlier call.

        For the mission state machine and telemetry: ``(t, name, detail)``, time ordered.
        """
        if self._drained == len(self.events) and self._nav_drained == len(self.nav.events):
            return []  # (most cycles: asked every cycle)
        fresh = self.events[self._drained :] + self.nav.events[self._nav_drained :]
        self._drained, self._nav_drained = len(self.events), len(self.nav.events)
        return sorted(fresh, key=lambda e: e[0])

    @property
    def engine_burning(self) -> bool:
        return self.phase not in (PREFLIGHT, HOLD_ORBIT, PDI_COAST, FREE_FALL, LANDED)

    def hazard_assessment(self) -> tuple[HazardAssessment | None, tuple[float, float]]:
        """The latest elevation image judged at the hover (None before one) and the chosen site's
        offset from the aim it replaced (downrange, crossrange; zero when the aim was kept)."""
        return self.guidance.last_hazard, self.guidance.last_site_shift

    # ------------------------------------------------------------ step

    def cycles_without_commands(self) -> int:
        """How many cycles after the next one will certainly send no command (up to the next
        guidance cycle), so that a device bus may fly them in one round trip. None in the phases
        that act on any cycle (checks, the coast to initiation, the free fall to touchdown)."""
        if self.phase in (PREFLIGHT, PDI_COAST, FREE_FALL):
            return 0
        guidance = (-(self._count + 1)) % self.divider
        # The attitude control promises those cycles too: it fires nothing in them (what it would
        # have fired waits for the next cycle allowed).
        quiet = self.attitude_control.quiet_cycles(guidance) if self.phase != LANDED else guidance
        self._quiet_until = max(self._quiet_until, self._count + quiet)
        return quiet

    def step(self, t: float, dt: float) -> None:
        self._count += 1
        if self.phase == HOLD_ORBIT:
            return
        if self.phase in (PREFLIGHT, PDI_COAST):
            if self.phase == PREFLIGHT:
                self._preflight(t)
            self._attitude_cycle(t, dt, self._gyro_sample())
            # Coasting: propagate so the estimate stays current until ignition.
            self.nav.propagate(None, dt)
            if self.phase == PDI_COAST:
                self._await_pdi(t + dt)
            return
        imu = self._read_imu(t)
        if self.phase != LANDED:
            self._attitude_cycle(t, dt, self._gyro)
        self.nav.propagate(imu, dt)
        if self.phase == FREE_FALL and imu is not None and imu.specific_force_body[0] > 1.0:
            cutoff = self.guidance.cutoff_t or t
            if t - cutoff > 0.2:
                self.nav.hold_on_surface()
                self.guidance.touchdown_sensed(t, self.nav.state())
                self.phase = LANDED
                self.dev.attitude.set_enabled(False)
                self._event(t, "touchdown_sensed", f"{t - cutoff:.2f} s after cutoff")
        if self._count % self.divider:
            return
        self._slow_cycle(t)

    # ------------------------------------------------------------ attitude

    def _attitude_cycle(self, t: float, dt: float, rates: tuple[float, float, float] | None) -> None:
        """Attitude determination, then control: the filter on the gyros and any new star tracker
        solution; the navigation gets the estimate; the thrusters the on-times that hold the target."""
        filt = self.attitude
        filt.propagate(rates, dt)
        tracker = self.dev.star_tracker
        if tracker is not None:
            star = tracker.read()
            if star.valid and (self._star_t is None or star.t > self._star_t):
                self._star_t = star.t
                verdict = filt.update_star(star.quaternion, t)
                if verdict == "initialised":
                    self._event(t, "attitude_initialised", "from the star tracker")
                elif verdict == "reinitialised":
                    self._event(t, "attitude_reinitialised", reinitialisation_report(filt))
        if not filt.initialised:
            return
        nav = self.nav
        last = filt.last_update_t if filt.last_update_t is not None else t
        if t - last > self.STAR_OUTAGE_REPORT_S and not self._star_outage_reported:
            self._star_outage_reported = True
            self._event(t, "star_tracker_outage", f"no solution accepted for {t - last:.1f} s, attitude on the gyros")
        elif t - last <= self.STAR_OUTAGE_REPORT_S and self._star_outage_reported:
            self._star_outage_reported = False
            self._event(t, "star_tracker_restored")
        turn = nav.frame_turn()  # the Moon's turn since the star tracker's frame was the MCDF
        w, x, y, z = quat_multiply(turn, tilted_quaternion(nav.s / R_MOON, nav.c / R_MOON))  # the local frame here
        nav.set_attitude(rotation_matrix(quat_multiply((w, -x, -y, -z), filt.q)))
        if self._attitude_target is None:  # hold the attitude found until guidance asks for one
            self._attitude_target = (nav.pitch, nav.yaw)
        pitch, yaw = self._attitude_target
        self._answer_offset_torque()
        # Without a gyro sample the filter coasts on the last rate, which no firing changes: control
        # on it would go on firing against a rate it cannot see stop. Hold fire until the gyros return.
        blind = rates is None and self.responses.hold_fire_without_gyros
        on_ms = self.attitude_control.step(
            filt.q, filt.rate, target_attitude(pitch, yaw, nav.s, nav.c, turn),
            local_frame_rate(pitch, yaw, nav.h, nav.vd, nav.vc), nav.propellant,
            may_fire=self._count > self._quiet_until and self.responses.attitude_control and not blind)
        if on_ms is not None:
            self.dev.attitude.fire(on_ms)
        self._observe_offset_torque(filt.rate if rates is not None else None, on_ms, dt)

    def attitude_health(self) -> dict[str, float]:
        return attitude_health(self.attitude, self.attitude_control, self.nav.t)

    def _preflight(self, t: float) -> None:
        if self._started_t is None:
            self._started_t = t
            self.dev.imu.set_power(True)
            self.dev.imu.set_accelerometer(True)
            self.dev.range_finder.set_power(True)
            self.dev.range_finder.select_beam("long")
            self._event(t, "preflight_checks_started")
        imu = self.dev.imu.read()
        if imu.valid and imu.accelerometer_on:
            self._checks_ok["accelerometer"] = True
            # Coasting: the accelerometers should read zero, so the mean is their bias.
            self._bias_sum = [a + b for a, b in zip(self._bias_sum, imu.specific_force_body, strict=True)]
            self._bias_n += 1
        lrf = self.dev.range_finder.read()
        if lrf.valid:
            self._checks_ok["altimeter"] = True
        if t - self._started_t < self.PREFLIGHT_S:
            return
        failed = [name for name, ok in self._checks_ok.items() if not ok]
        if failed and not self.responses.sensor_checks:
            self._event(t, "sensor_checks_disabled", ", ".join(f"{name} not valid" for name in failed))
            failed = []
        if failed:
            self.no_go_reasons = failed
            self.phase = HOLD_ORBIT
            self._event(t, "no_go_hold_orbit", ", ".join(f"{name} not valid" for name in failed))
            return
        samples = max(1, self._bias_n)  # none when the checks were switched off without accelerometers
        sum_x, sum_y, sum_z = self._bias_sum
        self.nav.accel_bias = (sum_x / samples, sum_y / samples, sum_z / samples)
        bias = ", ".join(f"{b:.5f}" for b in self.nav.accel_bias)
        self._event(t, "go_for_powered_descent", f"accelerometer bias {bias}")
        self.dev.velocimeter.set_power(True)
        if self.dev.microwave is not None:
            self.dev.microwave.set_power(True)
        self.phase = PDI_COAST
        self._go_t = t

    def _await_pdi(self, t: float) -> None:
        """Coast after the go until the powered-descent initiation point, then light the engine.

        Decided from the navigation state alone, so a controller resumed from a checkpoint taken in
        the coast waits for the same point (or lights at once if the restart carried it past)."""
        state = self.nav.state()
        coast = t - (self._go_t if self._go_t is not None else t)
        due = self.guidance.pdi_due(state)
        if not due and coast < self.guidance.config.pdi_max_coast_s:
            return
        to_gate = self.guidance.range_to_gate(state)
        reason = f"{to_gate / 1e3:.1f} km to the braking gate after {coast:.1f} s coast"
        if not due:
            self._event(t, "pdi_coast_limit", reason)
        self._event(t, "powered_descent_initiation", reason)
        self.phase = MAIN_BRAKING
        thrust = MAIN_ENGINE_MAX_THRUST_N * self.guidance.config.pdi_design_throttle
        self.dev.main_engine.set_thrust(thrust)
        self.dev.main_engine.set_on(True)
        self._thrust_cmd = thrust

    def _slow_cycle(self, t: float) -> None:
        dev, nav = self.dev, self.nav
        engine = dev.main_engine.read()
        self._measured_thrust = engine.measured_thrust_n if engine.valid else self._thrust_cmd
        if self.engine_burning and self._thrust_cmd > 0 and self.responses.thrust_estimation:
            nav.update_thrust_efficiency(self._thrust_cmd)
        dev_range = dev.range_finder.read()
        nav.update_range(dev_range)  # re-admissions are reported in the navigator's events
        # The backup matters once near vertical (it cannot see the ground in braking) and until cutoff.
        backup_useful = self.phase not in (MAIN_BRAKING, FREE_FALL, LANDED)
        if backup_useful and dev.microwave is not None and t - nav.last_altimeter_accept > 1.0:
            if not self._on_backup_altimeter:
                self._on_backup_altimeter = True
                self._event(t, "altimeter_backup_microwave", "no laser range accepted for 1 s")
            nav.update_microwave(dev.microwave.read())
        elif self._on_backup_altimeter and t - nav.last_altimeter_accept < 0.2 and dev_range.valid:
            self._on_backup_altimeter = False
            self._event(t, "altimeter_laser_restored")
        if self.phase not in (MAIN_BRAKING,):
            nav.update_velocity(dev.velocimeter.read())
        gauge = dev.propellant.read()
        if gauge.valid:
            nav.update_propellant(gauge.mass_kg)
        state = nav.state()
        if not self._short_beam and abs(state.pitch) < math.radians(25.0) and state.height_above_ground < 3_500.0:
            dev.range_finder.select_beam("short")
            self._short_beam = True
            self._event(t, "lrf_short_beam")
        self._limit_thrust_to_authority(t)
        cmd = self.guidance.step(t, state)
        self.last_command = cmd
        for name, detail in cmd.events:
            self._event(t, name, detail)
        if cmd.phase != self.phase and self.phase != LANDED:
            self.phase = cmd.phase
        if self.phase == LANDED:
            return
        if cmd.engine_on:
            dev.main_engine.set_thrust(cmd.thrust_n)
            self._thrust_cmd = cmd.thrust_n
            self._attitude_target = (cmd.pitch, cmd.yaw)
        else:
            if self._thrust_cmd > 0:
                dev.main_engine.set_on(False)
                self._thrust_cmd = 0.0
            self._attitude_target = (0.0, 0.0)
        if cmd.coarse_look is not None:
            dev.hazard_imager.point_coarse(*cmd.coarse_look)
            coarse = dev.hazard_imager.coarse_scan()
            if coarse is not None:  # an imager on a device bus answers on a later cycle
                self.guidance.provide_coarse_map(coarse)
        if cmd.request_hazard_scan:
            scan = dev.hazard_imager.scan()
            if scan is not None:  # an imager on a device bus answers on a later cycle
                self.guidance.provide_hazard_map(scan)
