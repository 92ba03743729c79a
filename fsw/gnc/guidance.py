"""Powered-descent guidance through the CE-3/5 phase sequence.

``DescentGuidance.step(t, nav) -> GuidanceCommand`` is pure with respect to I/O: it reads a
:class:`NavState` (and the imager's elevation image handed in through :meth:`provide_hazard_map`,
judged on board by :mod:`fsw.gnc.hazard`) and returns the
main-engine thrust, the thrust-axis attitude, the phase and any sub-events. Phases:

main_braking -> rapid_adjustment -> approach -> hover -> hazard_avoidance -> slow_descent
-> free_fall -> landed.  A propellant bingo after main braking jumps straight to slow_descent.

Guidance laws (details and reasons in docs/gnc.md):
* main braking: thrust near maximum with range control (throttle chosen so the predicted
  full-thrust stopping distance lands on the braking gate), vertical channel tracks a height vs
  horizontal-speed profile, crossrange by an explicit (E-guidance) law;
* rapid adjustment: velocity-to-be-gained over a fixed time, pitching to near vertical;
* approach and hazard avoidance: E-guidance (quadratic acceleration) to a position and velocity
  at a time-to-go, tilt limited so the velocimeter keeps lock;
* hover and slow descent: velocity and position hold with a fixed descent-rate profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fsw.devices.descent import MAIN_ENGINE_MAX_THRUST_N, MAIN_ENGINE_MIN_THRUST_N, ElevationImageReading
from fsw.gnc.coarse_hazard import CoarseStage
from fsw.gnc.guidance_laws import e_guidance, first_order_lag, full_thrust_braking_distance
from fsw.gnc.hazard import HazardAssessment, HazardConfig
from fsw.gnc.navigation import GM_MOON, NavState
from fsw.gnc.site_selection import AVOIDANCE_MAX_TILT, AimPoint, SiteJudging, SiteSelection
from fsw.gnc.thrust_authority import accel_under_ceiling, stopping_distance

MAIN_BRAKING = "main_braking"
RAPID_ADJUSTMENT = "rapid_adjustment"
APPROACH = "approach"
HOVER = "hover"
HAZARD_AVOIDANCE = "hazard_avoidance"
SLOW_DESCENT = "slow_descent"
FREE_FALL = "free_fall"
LANDED = "landed"
PHASES = (MAIN_BRAKING, RAPID_ADJUSTMENT, APPROACH, HOVER, HAZARD_AVOIDANCE, SLOW_DESCENT, FREE_FALL, LANDED)


@dataclass(frozen=True)
class GuidanceConfig:
    target_downrange_m: float
    target_crossrange_m: float = 0.0
    target_terrain_height_m: float = 0.0  # from the onboard map, for the braking height profile
    exhaust_velocity_m_s: float = 3_000.0
    braking_start_height_m: float = 15_000.0
    braking_start_speed_m_s: float = 1_692.0
    braking_end_height_m: float = 3_000.0
    braking_end_speed_m_s: float = 57.0
    braking_gate_before_target_m: float = 1_600.0
    braking_max_duration_s: float = 850.0  # burn-time limit cross-check (Luna-25 lesson)
    # [est.] The braking height loop (0.063 rad/s) low-passed, so the metres an altimeter update moves
    # the navigated height at 15 km do not reach the attitude command as pitch jumps (docs/gnc.md).
    braking_vertical_filter_s: float = 3.0
    # Powered-descent initiation: ignite where a nominal engine brakes onto the gate at this throttle,
    # leaving the rest for an engine that delivers less than modelled.
    pdi_design_throttle: float = 0.95
    pdi_max_coast_s: float = 120.0  # a go far before the PDI point must not coast on for ever
    # The aim point moves at most this far from the uplinked target to stay reachable [est.: the
    # approach's divert envelope is ~1-2 km]; what lies farther is not a landing site of this plan.
    max_retarget_m: float = 3_000.0
    rapid_adjustment_duration_s: float = 12.0
    approach_end_height_m: float = 100.0
    approach_entry_descent_rate_m_s: float = 35.0
    approach_min_duration_s: float = 60.0
    approach_max_duration_s: float = 70.0
    # A higher entry than planned (navigation off after a reset, say) gets more time rather than a
    # dive the engine cannot stop.
    approach_max_mean_descent_rate_m_s: float = 40.0
    approach_max_tilt_rad: float = math.radians(18.0)
    hover_settle_s: float = 2.0
    hover_max_scans: int = 3
    avoidance_end_height_m: float = 30.0
    avoidance_duration_s: float = 15.0
    slow_descent_rate_m_s: float = 2.0
    final_descent_rate_m_s: float = 0.8
    final_descent_below_m: float = 8.0
    cutoff_height_m: float = 1.5
    bingo_propellant_kg: float = 120.0


@dataclass(frozen=True, slots=True)
class GuidanceCommand:
    t: float
    phase: str
    engine_on: bool
    thrust_n: float  # what to command the engine (already corrected for thrust efficiency)
    pitch: float
    yaw: float
    request_hazard_scan: bool = False
    events: tuple[tuple[str, str], ...] = ()
    coarse_look: tuple[float, float] | None = None  # request the coarse image centred this far from under us


@dataclass
class DescentGuidance(SiteSelection):
    config: GuidanceConfig
    phase: str = MAIN_BRAKING
    target: AimPoint = field(init=False)
    events: list[tuple[float, str, str]] = field(default_factory=list)
    phase_started_t: float = 0.0
    _pending: list[tuple[str, str]] = field(default_factory=list)
    # On-board hazard avoidance (off only for a negative control: the aim point is kept unjudged).
    hazard_avoidance: bool = True
    hazard_config: HazardConfig = field(default_factory=HazardConfig)
    last_hazard: HazardAssessment | None = None  # the latest image judged
    last_site_shift: tuple[float, float] = (0.0, 0.0)  # chosen site from the aim before it (downrange, crossrange)
    _hazard_map: ElevationImageReading | None = None
    _judging: SiteJudging | None = None  # the hover image's judgement under way
    # Coarse hazard avoidance in the approach (off only for a negative control).
    coarse: CoarseStage = field(default_factory=CoarseStage)
    _scans_requested: int = 0
    _scan_pending: bool = False
    _settled_since: float | None = None
    _phase_start_state: NavState | None = None
    _avoidance_s: float = 15.0  # this divert's avoidance time (longer for a site farther than it flies)
    bingo: bool = False
    braking_throttle: float = 1.0
    cutoff_t: float | None = None
    # Delivered thrust the attitude thrusters can balance (None: no limit), from fsw.gnc.thrust_limit.
    thrust_ceiling_n: float | None = None
    ceiling_exceeded: bool = False  # the remaining descent needed more than the ceiling (the fallback)
    _now: float = 0.0
    _braking_a_u: float | None = None  # the braking height loop's filtered output (m/s^2), and when
    _braking_a_u_t: float = 0.0

    def __post_init__(self) -> None:
        self.target = AimPoint(self.config.target_downrange_m, self.config.target_crossrange_m)

    # ------------------------------------------------------------ bookkeeping

    def _event(self, t: float, name: str, detail: str = "") -> None:
        self.events.append((t, name, detail))
        self._pending.append((name, detail))

    def _enter(self, t: float, phase: str, nav: NavState, detail: str = "") -> None:
        self.phase = phase
        self.phase_started_t = t
        if phase != HOVER:
            self._judging = None  # a hover ended early (a bingo) leaves its judgement unfinished
        self._phase_start_state = nav
        self._event(t, f"phase:{phase}", detail)

    def provide_coarse_map(self, reading: ElevationImageReading) -> None:
        self.coarse.reading = reading

    def provide_hazard_map(self, reading: ElevationImageReading) -> None:
        self._hazard_map = reading
        self._scan_pending = False

    def restarted(self, t: float) -> None:
        """The flight software restarted (this guidance restored from its checkpoint). A site already
        chosen is kept: its offset was judged from the lander's position at the scan, which the
        navigation carried over the gap. A hover that has not judged its image yet settles again
        before the scan: the outage (attitude control off) may have left the lander swinging."""
        if (self.phase == HOVER and self.last_hazard is None and self._judging is None
                and self._settled_since is not None):
            self._settled_since = None
            self._event(t, "hover_settling_again", "restart before the hazard scan")

    def touchdown_sensed(self, t: float, nav: NavState) -> None:
        if self.phase == FREE_FALL:
            self._enter(t, LANDED, nav)

    # ------------------------------------------------------------ main step

    def step(self, t: float, nav: NavState) -> GuidanceCommand:
        cfg = self.config
        self._now = t
        if self._phase_start_state is None:
            self._phase_start_state = nav
            self.phase_started_t = t
            self._event(t, f"phase:{self.phase}", "ignition")
        hag = nav.height_above_ground
        if (
            not self.bingo
            and self.phase not in (MAIN_BRAKING, FREE_FALL, LANDED)
            and nav.propellant_kg < cfg.bingo_propellant_kg
        ):
            self.bingo = True
            self._event(t, "bingo_propellant", f"{nav.propellant_kg:.0f} kg left")
            if self.phase != SLOW_DESCENT:
                # Land where a bounded-tilt stop puts us: no lateral excursions on the reserve.
                a_stop = 0.7 * nav.effective_gravity * math.tan(math.radians(10.0))
                self.target = AimPoint(
                    nav.s + nav.vd * abs(nav.vd) / (2.0 * a_stop), nav.c + nav.vc * abs(nav.vc) / (2.0 * a_stop)
                )
                self._enter(t, SLOW_DESCENT, nav, "bingo")

        # Phase transitions
        if self.phase == MAIN_BRAKING:
            if nav.vd <= cfg.braking_end_speed_m_s or hag <= cfg.braking_end_height_m * 0.9:
                self._enter(t, RAPID_ADJUSTMENT, nav)
            elif t - self.phase_started_t > cfg.braking_max_duration_s:
                self._event(t, "braking_time_limit", f"{t - self.phase_started_t:.0f} s")
                self._enter(t, RAPID_ADJUSTMENT, nav, "burn time limit")
        if self.phase == RAPID_ADJUSTMENT and t - self.phase_started_t >= cfg.rapid_adjustment_duration_s:
            self._enter(t, APPROACH, nav)
            self._retarget_if_unreachable(t, nav)
        if self.phase == APPROACH and (hag <= cfg.approach_end_height_m + 3.0 or self._approach_tgo(t) <= 1.0):
            self._enter(t, HOVER, nav)
            self._settled_since = None
        if self.phase == HAZARD_AVOIDANCE and (
            hag <= cfg.avoidance_end_height_m + 1.0 or t - self.phase_started_t >= self._avoidance_s
        ):
            self._enter(t, SLOW_DESCENT, nav)
        if self.thrust_ceiling_n is not None and self.phase in (APPROACH, HOVER, HAZARD_AVOIDANCE):
            self._replan_for_ceiling(t, nav)
        if self.phase == SLOW_DESCENT and hag <= cfg.cutoff_height_m:
            self.cutoff_t = t
            self._enter(t, FREE_FALL, nav, f"cutoff at {hag:.2f} m")

        if self.phase == MAIN_BRAKING:
            ax = self._main_braking(nav)
        elif self.phase == RAPID_ADJUSTMENT:
            ax = self._rapid_adjustment(t, nav)
        elif self.phase == APPROACH:
            ax = self._approach(t, nav)
        elif self.phase == HOVER:
            ax = self._hover(t, nav)
        elif self.phase == HAZARD_AVOIDANCE:
            ax = self._avoidance(t, nav)
        elif self.phase == SLOW_DESCENT:
            ax = self._slow_descent(nav)
        else:
            events = tuple(self._pending)
            self._pending.clear()
            return GuidanceCommand(t, self.phase, False, 0.0, 0.0, 0.0, False, events)

        a_u, a_d, a_c = ax
        pitch = math.atan2(a_d, a_u)
        norm = math.sqrt(a_u * a_u + a_d * a_d + a_c * a_c)
        yaw = math.asin(max(-1.0, min(1.0, a_c / norm))) if norm > 0 else 0.0
        eff = max(0.3, nav.thrust_efficiency)
        thrust = norm * nav.mass_kg / eff
        most = MAIN_ENGINE_MAX_THRUST_N if self.thrust_ceiling_n is None else self._max_accel(nav) * nav.mass_kg / eff
        thrust = max(MAIN_ENGINE_MIN_THRUST_N, min(MAIN_ENGINE_MAX_THRUST_N, most, thrust))
        request = False
        if self.phase == HOVER and self._scan_pending:
            request = True
        look = self.coarse.look((self.target.s - nav.s, self.target.c - nav.c)) if self.phase == APPROACH else None
        events = tuple(self._pending)
        self._pending.clear()
        return GuidanceCommand(t, self.phase, True, thrust, pitch, yaw, request, events, look)

    # ------------------------------------------------------------ helpers

    def _max_accel(self, nav: NavState) -> float:
        engine = MAIN_ENGINE_MAX_THRUST_N * max(0.3, nav.thrust_efficiency) / nav.mass_kg
        if self.thrust_ceiling_n is None:
            return engine
        accel, exceeded = accel_under_ceiling(self.thrust_ceiling_n, nav, self.config.cutoff_height_m)
        if exceeded and not self.ceiling_exceeded:  # the fallback, reported once
            self.ceiling_exceeded = True
            self._event(self._now, "thrust_ceiling_exceeded", exceeded)
        return min(engine, accel)

    def _replan_for_ceiling(self, t: float, nav: NavState) -> None:
        """Under a thrust ceiling, end the approach, hover or divert early when its end height can no
        longer be reached at rest: the slow descent takes over from here (at the ceiling's pace)."""
        cfg = self.config
        end = cfg.avoidance_end_height_m if self.phase == HAZARD_AVOIDANCE else cfg.approach_end_height_m
        stop = stopping_distance(nav, self._max_accel(nav))
        if nav.height_above_ground - stop < end:
            self._event(t, "descent_replanned_for_thrust_ceiling", f"stopping {-nav.vu:.1f} m/s takes {stop:.0f} m: "
                        f"{self.phase} ends at {nav.height_above_ground:.0f} m, slow descent")
            self._enter(t, SLOW_DESCENT, nav, "thrust ceiling")

    def _min_accel(self, nav: NavState) -> float:
        return MAIN_ENGINE_MIN_THRUST_N * max(0.3, nav.thrust_efficiency) / nav.mass_kg

    def _limit(
        self, nav: NavState, a_u: float, a_h: tuple[float, float], max_tilt: float
    ) -> tuple[float, float, float]:
        """Clamp a thrust-acceleration request: vertical first, tilt limit, engine range."""
        a_max = self._max_accel(nav)
        a_u = max(0.2, min(a_max * 0.98, a_u))
        a_d, a_c = a_h
        lim = min(a_u * math.tan(max_tilt), math.sqrt(max(0.0, a_max * a_max - a_u * a_u)))
        mag = math.hypot(a_d, a_c)
        if mag > lim:
            a_d, a_c = a_d * lim / mag, a_c * lim / mag
        return a_u, a_d, a_c

    # ------------------------------------------------------------ phase laws

    def range_to_gate(self, nav: NavState) -> float:
        cfg = self.config
        return cfg.target_downrange_m - cfg.braking_gate_before_target_m - nav.s

    def predicted_braking_distance(self, nav: NavState, a_u: float = 0.0) -> float:
        """Ground distance a full-thrust burn from ``nav`` needs to reach the braking end speed."""
        cfg = self.config
        a_max = self._max_accel(nav)
        v = max(nav.vd, cfg.braking_end_speed_m_s + 1.0)
        # The vertical share of thrust grows as orbital speed (centripetal relief) is lost: use the
        # need at mid-speed, which errs on the long side (we would rather throttle up later).
        v_mid = cfg.braking_end_speed_m_s + 0.7 * (v - cfg.braking_end_speed_m_s)
        a_u_pred = max(a_u, GM_MOON / nav.r**2 - v_mid * v_mid / nav.r)
        f_h = nav.mass_kg * math.sqrt(max(1e-6, a_max * a_max - a_u_pred * a_u_pred))
        return full_thrust_braking_distance(v, cfg.braking_end_speed_m_s, nav.mass_kg, f_h, cfg.exhaust_velocity_m_s)

    def pdi_due(self, nav: NavState) -> bool:
        """Powered-descent initiation: the braking law would now ask the design throttle (or more).

        Before ignition the navigator knows no thrust shortfall, so this places a nominal engine on
        the gate at ``pdi_design_throttle``; a weaker one throttles up into the margin."""
        return self.range_to_gate(nav) * self.config.pdi_design_throttle <= self.predicted_braking_distance(nav)

    def _main_braking(self, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        a_max = self._max_accel(nav)
        g_eff = nav.effective_gravity
        v = max(nav.vd, cfg.braking_end_speed_m_s + 1.0)
        range_to_gate = self.range_to_gate(nav)
        # Vertical: follow height(speed) profile, relative to the target's map height.
        span_v = cfg.braking_start_speed_m_s - cfg.braking_end_speed_m_s
        span_h = cfg.braking_start_height_m - cfg.braking_end_height_m
        frac = max(0.0, min(1.0, (nav.vd - cfg.braking_end_speed_m_s) / span_v))
        h_ref = cfg.braking_end_height_m + span_h * frac
        h_rel = nav.h - cfg.target_terrain_height_m
        a_h_now = a_max * 0.9
        vu_ref = -(span_h / span_v) * a_h_now
        a_u = g_eff + 0.004 * (h_ref - h_rel) + 0.15 * (vu_ref - nav.vu)
        a_u = max(-0.3, min(0.7 * a_max, a_u))
        if self._braking_a_u is not None:  # low-passed: the altimeter updates' steps stay out of the attitude
            elapsed = self._now - self._braking_a_u_t
            a_u = first_order_lag(self._braking_a_u, a_u, elapsed, cfg.braking_vertical_filter_s)
        self._braking_a_u, self._braking_a_u_t = a_u, self._now
        # Range control: predicted distance at full thrust vs distance to the gate.
        predicted = self.predicted_braking_distance(nav, a_u)
        k = 1.0 if range_to_gate <= 0 else max(0.75, min(1.0, predicted / range_to_gate))
        self.braking_throttle = k
        a_tot = k * a_max
        # Crossrange: explicit law with time-to-go from the remaining speed.
        tgo = max(20.0, v / max(0.5, a_tot))
        a_c = e_guidance(nav.c, nav.vc, self.target.c, 0.0, tgo)
        a_c = max(-0.2, min(0.2, a_c))
        a_d_sq = a_tot * a_tot - a_u * a_u - a_c * a_c
        a_d = -math.sqrt(max(0.0, a_d_sq))
        return a_u, a_d, a_c

    def _rapid_adjustment(self, t: float, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        tgo = max(2.0, cfg.rapid_adjustment_duration_s - (t - self.phase_started_t))
        g_eff = nav.effective_gravity
        a_u = g_eff + (-cfg.approach_entry_descent_rate_m_s - nav.vu) / tgo
        # Leave the horizontal speed that a uniform deceleration over the approach turns into the target.
        t_app = cfg.approach_max_duration_s
        vd_target = max(0.0, min(40.0, 2.0 * (self.target.s - nav.s) / (t_app + 2.0 * tgo)))
        a_d = (vd_target - nav.vd) / tgo
        a_c = (0.0 - nav.vc) / tgo
        a_max = self._max_accel(nav)
        a_u = max(0.2, min(a_max * 0.98, a_u))
        lim = math.sqrt(max(0.0, a_max * a_max - a_u * a_u))
        mag = math.hypot(a_d, a_c)
        if mag > lim:
            a_d, a_c = a_d * lim / mag, a_c * lim / mag
        return a_u, a_d, a_c

    def _approach_tgo(self, t: float) -> float:
        start = self._phase_start_state
        if start is None:
            return 100.0
        cfg = self.config
        # Constant deceleration from the entry descent rate to rest, bounded to a nominal duration.
        drop = start.height_above_ground - cfg.approach_end_height_m
        longest = max(cfg.approach_max_duration_s, drop / cfg.approach_max_mean_descent_rate_m_s)
        total = max(cfg.approach_min_duration_s, min(longest, 2.0 * drop / max(1.0, -start.vu)))
        return total - (t - self.phase_started_t)

    def _retarget_if_unreachable(self, t: float, nav: NavState) -> None:
        """Move the aim point inside the approach divert envelope instead of chasing it (Vikram lesson),
        never more than ``max_retarget_m`` from the uplinked target: a lander that cannot reach that
        far flies towards the target as far as its tilt limit lets it, and says so."""
        cfg = self.config
        tgo = max(3.0, self._approach_tgo(t))
        a_lim = 0.7 * nav.effective_gravity * math.tan(cfg.approach_max_tilt_rad)
        # Coasting aim (where zero divert effort ends) plus the distance a bounded divert can add.
        s_free, c_free = nav.s + nav.vd * tgo / 2.0, nav.c + nav.vc * tgo / 2.0
        reach = a_lim * tgo * tgo / 6.0
        ds, dc = self.target.s - s_free, self.target.c - c_free
        dist = math.hypot(ds, dc)
        if dist <= reach:
            return
        k = reach / dist
        old = (self.target.s, self.target.c)
        aim_s, aim_c = s_free + ds * k, c_free + dc * k
        planned_s, planned_c = cfg.target_downrange_m, cfg.target_crossrange_m
        shift = math.hypot(aim_s - planned_s, aim_c - planned_c)
        if shift > cfg.max_retarget_m:
            # Keep the aim on the line towards the reachable point, at the bound.
            scale = cfg.max_retarget_m / shift
            aim_s = planned_s + (aim_s - planned_s) * scale
            aim_c = planned_c + (aim_c - planned_c) * scale
            self._event(t, "retarget_limited", f"reachable aim {shift:.0f} m from the target, "
                        f"beyond the {cfg.max_retarget_m:.0f} m bound: aim kept at the bound")
        self.target = AimPoint(aim_s, aim_c)
        moved = math.hypot(self.target.s - old[0], self.target.c - old[1])
        self._event(t, "retarget_reachable", f"aim moved {moved:.0f} m into the divert envelope")

    def aim_coarse_shift(self) -> float:
        """How far the approach's coarse stage moved the aim (m; 0 when kept or not run)."""
        return math.hypot(*self.coarse.choice.shift) if self.coarse.choice is not None else 0.0

    def aim_shift(self) -> float:
        """How far the aim point now lies from the uplinked target (m)."""
        return math.hypot(self.target.s - self.config.target_downrange_m,
                          self.target.c - self.config.target_crossrange_m)

    def _approach(self, t: float, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        # Coarse hazard avoidance (fsw.gnc.coarse_hazard): the aim moves to the nearest safe region.
        shift, events = self.coarse.step(t, nav.t, (self.target.s - nav.s, self.target.c - nav.c), (nav.vd, nav.vc),
                                         nav.mass_kg)
        for name, detail in events:
            self._event(t, name, detail)
        if shift is not None:
            self.target = AimPoint(self.target.s + shift[0], self.target.c + shift[1])
        tgo = max(3.0, self._approach_tgo(t))
        hag = nav.height_above_ground
        a_u = nav.effective_gravity + e_guidance(hag, nav.vu, cfg.approach_end_height_m, 0.0, tgo)
        a_d = e_guidance(nav.s, nav.vd, self.target.s, 0.0, tgo)
        a_c = e_guidance(nav.c, nav.vc, self.target.c, 0.0, tgo)
        return self._limit(nav, a_u, (a_d, a_c), cfg.approach_max_tilt_rad)

    def _hold(
        self, nav: NavState, hag_ref: float, vu_ref: float | None = None, track_position: bool = True
    ) -> tuple[float, float, float]:
        hag = nav.height_above_ground
        if vu_ref is None:
            vu_ref = max(-3.0, min(3.0, 0.3 * (hag_ref - hag)))
        a_u = nav.effective_gravity + 1.0 * (vu_ref - nav.vu)
        # Position hold through a speed-limited velocity reference (a far target is flown to, not jumped at).
        gain = 0.08 if track_position else 0.0
        # Lateral speed allowed shrinks near the ground so drift is gone before the final metres.
        v_lim = min(3.0, max(0.0, 0.06 * (nav.height_above_ground - self.config.final_descent_below_m)))
        vd_ref = max(-v_lim, min(v_lim, gain * (self.target.s - nav.s)))
        vc_ref = max(-v_lim, min(v_lim, gain * (self.target.c - nav.c)))
        a_d = 0.5 * (vd_ref - nav.vd)
        a_c = 0.5 * (vc_ref - nav.vc)
        return self._limit(nav, a_u, (a_d, a_c), math.radians(10.0))

    def _hover(self, t: float, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        settled = abs(nav.vu) < 0.5 and math.hypot(nav.vd, nav.vc) < 0.5 and abs(nav.pitch) < math.radians(5)
        if settled and self._settled_since is None:
            self._settled_since = t
        if (
            self._settled_since is not None
            and t - self._settled_since >= cfg.hover_settle_s
            and not self._scan_pending
            and self._hazard_map is None
            and self._judging is None
        ):
            if self._scans_requested < cfg.hover_max_scans:
                self._scans_requested += 1
                self._scan_pending = True
                self._event(t, "hazard_scan_requested", f"scan {self._scans_requested}")
            else:
                self._event(t, "no_hazard_map", "keeping the current target")
                self._enter(t, HAZARD_AVOIDANCE, nav)
        if self._hazard_map is not None:
            reading = self._hazard_map
            self._hazard_map = None
            if not reading.valid:
                self._event(t, "hazard_scan_invalid", "")
                self._settled_since = t
            elif not self._begin_site_selection(t, nav, reading):
                self._avoidance_s = self._avoidance_time(nav)
                self._enter(t, HAZARD_AVOIDANCE, nav, f"{self._avoidance_s:.1f} s")
        # The judgement takes a step a cycle; the hover holds position over the old aim meanwhile.
        if self._judging is not None and self._continue_site_selection(t):
            self._avoidance_s = self._avoidance_time(nav)
            self._enter(t, HAZARD_AVOIDANCE, nav, f"{self._avoidance_s:.1f} s")
        return self._hold(nav, cfg.approach_end_height_m)

    def _avoidance(self, t: float, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        tgo = max(3.0, self._avoidance_s - (t - self.phase_started_t))
        if tgo <= 3.0:
            return self._hold(nav, cfg.avoidance_end_height_m)
        hag = nav.height_above_ground
        a_u = nav.effective_gravity + e_guidance(hag, nav.vu, cfg.avoidance_end_height_m, 0.0, tgo)
        a_d = e_guidance(nav.s, nav.vd, self.target.s, 0.0, tgo)
        a_c = e_guidance(nav.c, nav.vc, self.target.c, 0.0, tgo)
        return self._limit(nav, a_u, (a_d, a_c), AVOIDANCE_MAX_TILT)

    def _slow_descent(self, nav: NavState) -> tuple[float, float, float]:
        cfg = self.config
        hag = nav.height_above_ground
        if hag > cfg.avoidance_end_height_m + 5.0:
            # Only reached directly on a bingo: come down briskly, then the slow profile.
            rate = max(cfg.slow_descent_rate_m_s, min(15.0, 0.12 * hag))
        elif hag > cfg.final_descent_below_m:
            rate = cfg.slow_descent_rate_m_s
        else:
            rate = cfg.final_descent_rate_m_s
        # Touchdown attitude and zero drift before position (SLIM lesson): low down, stop chasing the site.
        return self._hold(nav, 0.0, vu_ref=-rate, track_position=hag > cfg.final_descent_below_m)
