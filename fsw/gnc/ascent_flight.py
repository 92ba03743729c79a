"""Ascent GNC rate-group step: attitude determination and control, and IMU navigation around
:class:`fsw.gnc.ascent.AscentGuidance`.

Talks to devices only through the ``fsw.devices.descent`` Protocols (the ascender's strapdown IMU,
star tracker, reaction control thrusters, ascent engine and propellant gauge). Every cycle (50 Hz)
the attitude filter (``fsw.gnc.attitude``) propagates on the gyros and takes each new star tracker
solution, the navigation turns the specific force with its estimate, and the ascender's attitude
control (``fsw.gnc.ascent_attitude``) fires the thrusters to hold the attitude guidance last asked
for (until then, the attitude found) against the engine's offset torque. Guidance runs every
``divider``-th cycle. The estimate is held on the pad until the engine is commanded on; the
thrusters fire from then on. In a cycle without a usable gyro sample (an invalid frame, or one whose
time tag does not advance) they answer only the engine's offset torque the control has learnt, no
attitude or rate error, until the gyros return (``gnc_hold_fire_without_gyros``: the lander holds
all fire, its engine's torque being small for its inertia).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.devices.descent import AscentEngine, PropellantGauge, ReactionControl, StarTracker, StrapdownImu
from fsw.gnc.ascent import ORBIT, AscentConfig, AscentGuidance
from fsw.gnc.ascent_attitude import AscenderAttitudeController
from fsw.gnc.attitude import AttitudeFilter, quat_multiply, rotation_matrix, tilted_quaternion
from fsw.gnc.attitude_control import attitude_health, local_frame_rate, reinitialisation_report, target_attitude
from fsw.gnc.frames import R_MOON
from fsw.gnc.navigation import Navigator, TerrainMap

ASCENDER_LIFTOFF_MASS_KG = 800.0  # [est.] mission-profile.md
ASCENDER_PROPELLANT_KG = 480.0  # [est.] ~1.85 km/s plus margin at 3000 m/s


@dataclass
class AscentDevices:
    imu: StrapdownImu
    star_tracker: StarTracker
    attitude: ReactionControl
    engine: AscentEngine
    propellant: PropellantGauge


class AscentController:
    STAR_OUTAGE_REPORT_S = 5.0  # no star tracker solution accepted this long: reported
    FOLLOW_RATE_LIMIT_RAD_S = math.radians(6.0)  # guidance's turns up to the control's slew rate are followed
    # Lit without a star tracker solution yet (the tracker in an outage): the ascender stood upright
    # on the lander, its x axis up at the site (the ascent frame's own axes), within a few degrees
    # of the lander's tilt on the ground.
    UPRIGHT = (1.0, 0.0, 0.0, 0.0)
    UPRIGHT_SIGMA_RAD = math.radians(5.0)
    INITIALISE_UPRIGHT = True  # off: wait for the star tracker (the fault case's negative control)
    # While no gyro sample is usable, no firing on the attitude and rate (the lander's Beresheet
    # response: the coasted rate cannot see the thrusters' own torque), but the engine's offset
    # torque learnt so far is still answered: unopposed, it would tumble the light ascender in
    # seconds. Class default: a controller restored from a checkpoint written before it existed.
    hold_fire_without_gyros = True

    def __init__(self, devices: AscentDevices, site_height_m: float = 0.0, config: AscentConfig | None = None,
                 *, divider: int = 5, attitude_control: bool = True, hold_fire_without_gyros: bool = True,
                 reinit_after_rejections: int = AttitudeFilter.reinit_after_rejections,
                 reinit_after_outage_s: float = AttitudeFilter.reinit_after_outage_s) -> None:
        self.dev = devices
        self.site_height_m = site_height_m
        self.guidance = AscentGuidance(config or AscentConfig())
        self.nav = Navigator(
            TerrainMap(1_000.0, (site_height_m, site_height_m)), t=0.0, h=site_height_m, s=0.0, c=0.0,
            vu=0.0, vd=0.0, vc=0.0, dry_mass_kg=ASCENDER_LIFTOFF_MASS_KG - ASCENDER_PROPELLANT_KG,
            propellant_kg=ASCENDER_PROPELLANT_KG,
        )
        self.divider = divider
        self.count = 0
        self.lit = False
        self.cutoff_t: float | None = None
        self.phase = "on_pad"
        self.attitude = AttitudeFilter()
        self.attitude.reinit_after_rejections = reinit_after_rejections
        self.attitude.reinit_after_outage_s = reinit_after_outage_s
        self.attitude_control = AscenderAttitudeController()
        self.attitude_control_enabled = attitude_control  # off: the attitude is left to the torques
        self.hold_fire_without_gyros = hold_fire_without_gyros
        self.events: list[tuple[float, str, str]] = []
        self._drained = 0
        self._attitude_target: tuple[float, float] | None = None
        # Guidance turns its pitch smoothly through the pitch-over and the insertion: the control
        # follows the turn between guidance cycles (pitch rate, and the time of the last command).
        self._pitch_rate = 0.0
        self._target_t = 0.0
        self._imu_last_t: float | None = None
        self._star_t: float | None = None
        self._star_outage_reported = False
        self._quiet_until = -1  # the last cycle promised to fire nothing

    def __getstate__(self) -> dict[str, object]:
        # The devices are this computer's handles on the hardware, not flight state.
        return {key: value for key, value in self.__dict__.items() if key != "dev"}

    def attach(self, devices: AscentDevices) -> None:
        """Give a controller restored from a checkpoint its devices back."""
        self.dev = devices

    def catch_up(self, gap_s: float, dt: float) -> None:
        """Propagate over ``gap_s`` of flight this controller did not see (a restart)."""
        reading = self.dev.imu.read()
        steps = max(1, round(gap_s / dt))
        for _ in range(steps):
            self.attitude.propagate(reading.angular_rate_body if reading.valid else None, gap_s / steps)
            self.nav.propagate(reading if reading.valid else None, gap_s / steps)

    def reconcile_actuators(self, t: float) -> None:
        """After a restart: an engine this controller already cut off stays off."""
        status = self.dev.engine.read()
        if self.cutoff_t is not None and status.valid and status.on:
            self.dev.engine.set_on(False)

    def cycles_without_commands(self) -> int:
        """How many cycles after the next one will send no command (up to the next guidance cycle):
        the attitude control promises those too, firing nothing in them."""
        guidance = (-self.count) % self.divider
        quiet = self.attitude_control.quiet_cycles(guidance) if self.lit else guidance
        self._quiet_until = max(self._quiet_until, self.count - 1 + quiet)
        return quiet

    def drain_events(self) -> list[tuple[float, str, str]]:
        """The controller's events (attitude) not yet returned by an earlier call: ``(t, name, detail)``."""
        fresh = self.events[self._drained:]
        self._drained = len(self.events)
        return fresh

    def step(self, t: float, dt: float) -> None:
        reading = self.dev.imu.read()
        # A frame whose time tag does not advance is an old one repeated: neither integrated nor used.
        fresh = reading.valid and (self._imu_last_t is None or reading.t > self._imu_last_t)
        if fresh:
            self._imu_last_t = reading.t
        self._attitude_cycle(t, dt, reading.angular_rate_body if fresh else None)
        self.nav.propagate(reading if fresh else None, dt)
        if not self.lit:
            # On the pad the accelerometer feels the ground holding the ascender up: hold the estimate.
            self.nav.h, self.nav.vu, self.nav.vd = self.site_height_m, 0.0, 0.0
            self.lit = self.dev.engine.read().on
        if self.count % self.divider == 0 and self.lit:
            gauge = self.dev.propellant.read()
            if gauge.valid:
                self.nav.propellant = gauge.mass_kg
            command = self.guidance.step(t, self.nav.state())
            self.phase = command.phase
            self._follow(t, command.pitch)
            if not command.engine_on and self.cutoff_t is None:
                self.dev.engine.set_on(False)
                self.cutoff_t = t
        self.count += 1

    @property
    def in_orbit(self) -> bool:
        return self.guidance.phase == ORBIT

    # ------------------------------------------------------------ attitude

    def _follow(self, t: float, pitch: float) -> None:
        """Guidance's new pitch: the rate since the last one is followed until the next (a step
        larger than the control's slew, a new phase's, is not)."""
        if self._attitude_target is not None and t > self._target_t:
            rate = (pitch - self._attitude_target[0]) / (t - self._target_t)
            self._pitch_rate = rate if abs(rate) < self.FOLLOW_RATE_LIMIT_RAD_S else 0.0
        self._attitude_target = (pitch, 0.0)
        self._target_t = t

    @property
    def attitude_target(self) -> tuple[float, float] | None:
        """The thrust-axis attitude (pitch, yaw in the local frame) the control holds now."""
        return self._attitude_target

    def _attitude_cycle(self, t: float, dt: float, rates: tuple[float, float, float] | None) -> None:
        """The filter on the gyros and any new star tracker solution; the navigation gets the
        estimate; once lit, the thrusters the on-times that hold the target."""
        filt = self.attitude
        filt.propagate(rates, dt)
        star = self.dev.star_tracker.read()
        if star.valid and (self._star_t is None or star.t > self._star_t):
            self._star_t = star.t
            verdict = filt.update_star(star.quaternion, t)
            if verdict == "initialised":
                self.events.append((t, "attitude_initialised", "from the star tracker"))
            elif verdict == "reinitialised":
                self.events.append((t, "attitude_reinitialised", reinitialisation_report(filt)))
        if not filt.initialised and self.lit and self.INITIALISE_UPRIGHT:
            filt.initialise(self.UPRIGHT, t, self.UPRIGHT_SIGMA_RAD)
            self.events.append((t, "attitude_initialised", "upright on the pad: no star tracker solution yet"))
        if not filt.initialised:
            return
        last = filt.last_update_t if filt.last_update_t is not None else t
        outage = t - last > self.STAR_OUTAGE_REPORT_S
        if outage != self._star_outage_reported:
            self._star_outage_reported = outage
            self.events.append((t, "star_tracker_outage", f"no solution accepted for {t - last:.1f} s, attitude "
                                "on the gyros") if outage else (t, "star_tracker_restored", ""))
        nav = self.nav
        w, x, y, z = tilted_quaternion(nav.s / R_MOON, nav.c / R_MOON)  # the local frame here
        nav.set_attitude(rotation_matrix(quat_multiply((w, -x, -y, -z), filt.q)))
        if not self.lit:  # standing on the lander: nothing to hold yet
            return
        if self._attitude_target is None:
            self._attitude_target = (nav.pitch, nav.yaw)
            self._target_t = t
        pitch, yaw = self._attitude_target
        pitch += self._pitch_rate * (t - self._target_t)
        wx, wy, wz = local_frame_rate(pitch, yaw, nav.h, nav.vd, nav.vc)
        # Without a gyro sample the filter coasts on the last rate, which no firing changes: the
        # thrusters answer only the engine torque learnt before, until the gyros return.
        blind = rates is None and self.hold_fire_without_gyros
        # The pitch turns about the target's z axis (its yaw is held at zero).
        on_ms = self.attitude_control.step(
            filt.q, filt.rate, target_attitude(pitch, yaw, nav.s, nav.c), (wx, wy, wz + self._pitch_rate),
            nav.propellant,
            may_fire=self.count > self._quiet_until and self.attitude_control_enabled, feedback=not blind)
        if on_ms is not None:
            self.dev.attitude.fire(on_ms)

    def attitude_health(self) -> dict[str, float]:
        return attitude_health(self.attitude, self.attitude_control, self.nav.t)
