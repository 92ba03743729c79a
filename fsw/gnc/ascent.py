"""Ascent guidance for the ~0.8 t ascender with its 3000 N engine (CE-5 class, ~6 min burn).

Phases: vertical_rise -> pitch_over -> orbit_insertion -> orbit (engine off).

Insertion is an explicit law: the vertical channel uses E-guidance to arrive at the insertion
height with zero vertical speed at time-to-go ``tgo`` (from the rocket equation on the remaining
horizontal speed), the rest of the fixed thrust goes horizontal. Cutoff is when the osculating
apoapsis reaches the target (periapsis then sits near the insertion height); a burn-time limit
cross-checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fsw.devices.descent import ASCENT_ENGINE_THRUST_N
from fsw.gnc.guidance_laws import e_guidance
from fsw.gnc.navigation import NavState
from fsw.gnc.orbit import orbit_from_state, speed_at_periapsis

VERTICAL_RISE = "vertical_rise"
PITCH_OVER = "pitch_over"
ORBIT_INSERTION = "orbit_insertion"
ORBIT = "orbit"


@dataclass(frozen=True)
class AscentConfig:
    insertion_alt_m: float = 15_000.0
    target_apoapsis_alt_m: float = 180_000.0
    vertical_rise_s: float = 10.0
    pitch_over_s: float = 12.0
    thrust_n: float = ASCENT_ENGINE_THRUST_N
    exhaust_velocity_m_s: float = 3_000.0  # [est.]
    max_burn_s: float = 480.0


@dataclass(frozen=True, slots=True)
class AscentCommand:
    t: float
    phase: str
    engine_on: bool
    pitch: float
    events: tuple[tuple[str, str], ...] = ()


@dataclass
class AscentGuidance:
    config: AscentConfig = field(default_factory=AscentConfig)
    phase: str = VERTICAL_RISE
    events: list[tuple[float, str, str]] = field(default_factory=list)
    _t0: float | None = None
    _phase_t: float = 0.0
    _pending: list[tuple[str, str]] = field(default_factory=list)

    def _enter(self, t: float, phase: str, detail: str = "") -> None:
        self.phase = phase
        self._phase_t = t
        self.events.append((t, f"phase:{phase}", detail))
        self._pending.append((f"phase:{phase}", detail))

    def insertion_pitch(self, nav: NavState) -> float:
        cfg = self.config
        r = nav.r
        v_target = speed_at_periapsis(cfg.insertion_alt_m, cfg.target_apoapsis_alt_m)
        dv = max(1.0, v_target - nav.vd)
        mdot = cfg.thrust_n / cfg.exhaust_velocity_m_s
        tgo = max(5.0, nav.mass_kg / mdot * (1.0 - math.exp(-dv / cfg.exhaust_velocity_m_s)))
        a_tot = cfg.thrust_n / nav.mass_kg
        g_eff = 4.9049e12 / (r * r) - nav.vd * nav.vd / r
        a_u = g_eff + e_guidance(nav.h, nav.vu, cfg.insertion_alt_m, 0.0, tgo)
        a_u = max(-0.5 * a_tot, min(0.95 * a_tot, a_u))
        return math.atan2(math.sqrt(a_tot * a_tot - a_u * a_u), a_u)

    def step(self, t: float, nav: NavState) -> AscentCommand:
        cfg = self.config
        if self._t0 is None:
            self._t0 = t
            self._enter(t, VERTICAL_RISE, "liftoff")
        burn = t - self._t0
        pitch = 0.0
        if self.phase == VERTICAL_RISE and burn >= cfg.vertical_rise_s:
            self._enter(t, PITCH_OVER)
        if self.phase == PITCH_OVER and t - self._phase_t >= cfg.pitch_over_s:
            self._enter(t, ORBIT_INSERTION)
        if self.phase in (PITCH_OVER, ORBIT_INSERTION):
            orbit = orbit_from_state(nav.r, nav.vu, nav.vd)
            if orbit.apoapsis_alt_m >= cfg.target_apoapsis_alt_m:
                self._enter(t, ORBIT, f"{orbit.periapsis_alt_m / 1e3:.1f} x {orbit.apoapsis_alt_m / 1e3:.1f} km")
            elif burn > cfg.max_burn_s:
                self._enter(t, ORBIT, "burn time limit")
        if self.phase == PITCH_OVER:
            blend = (t - self._phase_t) / cfg.pitch_over_s
            pitch = blend * self.insertion_pitch(nav)
        elif self.phase == ORBIT_INSERTION:
            pitch = self.insertion_pitch(nav)
        elif self.phase == ORBIT:
            pitch = math.pi / 2  # hold horizontal, prograde
        events = tuple(self._pending)
        self._pending.clear()
        return AscentCommand(t, self.phase, self.phase != ORBIT, pitch, events)
