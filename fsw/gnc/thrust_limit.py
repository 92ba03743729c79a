"""The descent's answer to an engine torque beyond the thrusters' authority (SLIM, January 2024).

Mixed into :class:`fsw.gnc.controller.DescentController`. Every 50 Hz attitude cycle the
:class:`fsw.gnc.thrust_authority.ThrustAuthorityMonitor` learns the engine's offset torque per
newton from the gyros and the thrusters' commanded impulse. Once the thrust the thrusters can
balance (with a margin kept for steering) has stayed below full thrust for 0.2 s, the response:

- hands guidance that thrust as its ceiling (``DescentGuidance.thrust_ceiling_n``), every 10 Hz
  cycle from the latest estimate; guidance re-plans under it (``descent_replanned_for_thrust_ceiling``)
  and exceeds it only to stop the descent before the ground (``thrust_ceiling_exceeded``);
- gives the attitude control the estimated torque as a feedforward, handed over from its integral;
- reports ``thrust_limited_to_attitude_authority`` once (``GNC_THRUST_LIMITED`` on the ground).

Switched off (``FaultResponses.thrust_authority``, the ``gnc_thrust_authority_limit`` parameter),
the estimate still runs and the excess is reported (``thrust_authority_exceeded``), nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsw.core.declarations import EventDef, Limits, ParameterDef, Severity, TelemetryDef
from fsw.devices.descent import MAIN_ENGINE_MAX_THRUST_N
from fsw.gnc.attitude import Vector3
from fsw.gnc.attitude_control import GROUP_TORQUE_NM, design_inertia
from fsw.gnc.thrust_authority import AUTHORITY_MARGIN, ThrustAuthorityMonitor, commanded_impulse

if TYPE_CHECKING:
    from fsw.gnc.attitude_control import AttitudeController
    from fsw.gnc.controller import FaultResponses
    from fsw.gnc.guidance import DescentGuidance
    from fsw.gnc.navigation import Navigator

PITCH_YAW_AUTHORITY_NM = GROUP_TORQUE_NM[1]
HOVER_THRUST_AT_LANDING_N = 3_100.0  # ~1.9 t at touchdown in lunar gravity [est., from the plant's budget]

THRUST_LIMIT_TELEMETRY = (
    TelemetryDef("gnc_engine_offset_torque_nm", "f64", "N m", "main engine's torque off the centre of mass, as the "
                 f"attitude cycle estimates it (the thrusters balance {PITCH_YAW_AUTHORITY_NM:.0f} N m about pitch "
                 "and yaw)", yellow=Limits(high=round(AUTHORITY_MARGIN * PITCH_YAW_AUTHORITY_NM)),
                 red=Limits(high=round(PITCH_YAW_AUTHORITY_NM))),
    TelemetryDef("gnc_thrust_ceiling_n", "f64", "N", "main engine thrust guidance flies under: what the attitude "
                 f"thrusters can balance with a {1.0 - AUTHORITY_MARGIN:.0%} margin ({MAIN_ENGINE_MAX_THRUST_N:.0f}: "
                 "no ceiling)", yellow=Limits(low=MAIN_ENGINE_MAX_THRUST_N - 1.0),
                 red=Limits(low=HOVER_THRUST_AT_LANDING_N)),
)
THRUST_LIMIT_EVENTS = (
    EventDef(0x3050, "GNC_THRUST_LIMITED", Severity.MEDIUM,
             "main engine thrust capped at what the attitude thrusters can balance: {detail}"),
    EventDef(0x3051, "GNC_THRUST_AUTHORITY_EXCEEDED", Severity.HIGH,
             "engine torque beyond the attitude thrusters' authority ({event}): {detail}"),
)
THRUST_LIMIT_PARAMETERS = (
    ParameterDef(0x3050, "gnc_thrust_authority_limit", "bool", True,
                 "cap the main engine thrust at what the attitude thrusters can balance of its torque off the "
                 "centre of mass, guidance re-planning under the cap (SLIM); false: the torque is only reported"),
)
#: The controller's events the GNC component reports with an event of their own.
THRUST_LIMIT_EVENT_IDS = {"thrust_limited_to_attitude_authority": "GNC_THRUST_LIMITED",
                          "thrust_authority_exceeded": "GNC_THRUST_AUTHORITY_EXCEEDED",
                          "thrust_ceiling_exceeded": "GNC_THRUST_AUTHORITY_EXCEEDED"}


class ThrustLimitResponse:
    """The controller's thrust-authority response; the state it keeps defaults at class level, so a
    controller restored from a checkpoint written without it starts it afresh."""

    nav: Navigator
    guidance: DescentGuidance
    attitude_control: AttitudeController
    responses: FaultResponses
    _measured_thrust: float
    _authority: ThrustAuthorityMonitor | None = None
    _authority_reported = False
    _feedforward_on = False

    @property
    def engine_burning(self) -> bool:
        raise NotImplementedError

    def _event(self, t: float, name: str, detail: str = "") -> None:
        raise NotImplementedError

    @property
    def authority(self) -> ThrustAuthorityMonitor:
        """The engine's offset torque and the thrust the thrusters can balance, as estimated."""
        if self._authority is None:
            self._authority = ThrustAuthorityMonitor()
        return self._authority

    def _engine_thrust(self) -> float:
        return self._measured_thrust if self.engine_burning else 0.0

    def _answer_offset_torque(self) -> None:
        """Before the attitude control's cycle: the estimated engine torque as its feedforward, once
        the response has engaged (the integral hands over what it had learnt of it)."""
        monitor = self.authority
        if not (monitor.confirmed and self.responses.thrust_authority):
            return
        thrust = self._engine_thrust()
        lever = monitor.lever
        self.attitude_control.set_feedforward((-lever[0] * thrust, -lever[1] * thrust, -lever[2] * thrust),
                                              hand_over=not self._feedforward_on)
        self._feedforward_on = True

    def _observe_offset_torque(self, rate: Vector3 | None, on_ms: tuple[int, ...] | None, dt: float) -> None:
        """After the attitude control's cycle: the monitor learns from this cycle's gyros and firing."""
        nav = self.nav
        self.authority.update(rate, commanded_impulse(on_ms), self._engine_thrust(), design_inertia(nav.propellant),
                              dt, MAIN_ENGINE_MAX_THRUST_N * nav.thrust_efficiency)

    def _limit_thrust_to_authority(self, t: float) -> None:
        """Before guidance's cycle: once confirmed, guidance flies under the ceiling the estimate gives."""
        monitor = self.authority
        if not monitor.confirmed or not self.engine_burning:
            return
        ceiling = monitor.ceiling_n()
        if not self._authority_reported:
            self._authority_reported = True
            torque = monitor.offset_torque_nm
            lever_mm = 1000.0 * torque / max(1.0, monitor.thrust_n)
            found = f"engine offset torque {torque:.0f} N m at {monitor.thrust_n:.0f} N ({lever_mm:.0f} mm lever)"
            if self.responses.thrust_authority:
                self._event(t, "thrust_limited_to_attitude_authority", f"{found}: thrust held under {ceiling:.0f} N")
            else:
                self._event(t, "thrust_authority_exceeded", f"{found}: the thrust ceiling is switched off")
        if self.responses.thrust_authority:
            self.guidance.thrust_ceiling_n = ceiling

    def thrust_limit_housekeeping(self) -> dict[str, Any]:
        """The points of :data:`THRUST_LIMIT_TELEMETRY`."""
        ceiling = self.guidance.thrust_ceiling_n
        in_effect = MAIN_ENGINE_MAX_THRUST_N if ceiling is None else min(ceiling, MAIN_ENGINE_MAX_THRUST_N)
        return {"gnc_engine_offset_torque_nm": round(self.authority.offset_torque_nm, 1),
                "gnc_thrust_ceiling_n": round(in_effect, 1)}
