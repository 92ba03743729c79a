"""Time management: on-board time correlation (TIME_SET, TIME_ADJUST) and PUS 9 time reports.

On-board time is the clock's monotonic flight time plus a correlation offset. Changing the offset
never moves monotonic time, so rate groups (monotonic deadlines) neither repeat nor skip a cycle.
Every change is published on the software bus as ``time_correlation`` (the step in seconds) for
those that plan in on-board time, such as the PUS 11 scheduler.

The commanded part of the correlation (the sum of all steps) is persisted, so that after a restart
on a real-time clock on-board time is again the host's TAI estimate plus the same correction.

PUS 9: TC 9,1 carries CBOR ``period_s`` (integer seconds, 0 stops periodic reports); each report is
TM 9,2 with CBOR ``[onboard_time, correlation_changes]``. One report is sent at once on a 9,1.
"""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Arg, EventDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed, CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc

AFAP_TIME_KEY = "afap_onboard_time"
AFAP_TIME_SAVE_S = 10.0  # of flight time: a restart repeats at most this much
# Dormant (days of coasting, a slow cycle a flight minute), a write every cycle was the store's
# busiest work; a restart there repeats at most ten minutes of coast.
AFAP_TIME_SAVE_DORMANT_S = 600.0
STORE_KEY = "time_correlation"
CORRELATION_TOPIC = "time_correlation"
MAX_REPORT_PERIOD_S = 86_400
# On-board time must stay inside the range a 4+3 octet CUC field carries (TAI 1958 + 2^32 s).
MAX_ONBOARD_TIME_S = float(2**32 - 1)
MAX_ADJUST_S = 1.0e8


class TimeManager(Component):
    name = "time"
    hk_structure = 10
    telemetry = (
        TelemetryDef("time_onboard", "f64", "s", "on-board TAI seconds since 1958"),
        TelemetryDef("time_correlation_changes", "u32", "", "TIME_SET / TIME_ADJUST applied since boot"),
        TelemetryDef("time_correction_s", "f64", "s", "sum of commanded steps (persisted across restart)"),
        TelemetryDef("time_report_period_s", "u32", "s", "PUS 9 time report period (0: off)"),
    )
    events = (
        EventDef(0x0A01, "TIME_CORRELATED", Severity.MEDIUM, "on-board time {how}: step {step} s, now {onboard}"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.correction_s = 0.0
        self.report_period_s = 0
        self._next_report = 0.0
        self._afap_time_saved = 0.0

    async def start(self) -> None:
        stored = self.ctx.store.get(STORE_KEY, {}) or {}
        correction = stored.get("correction_s", 0.0) if isinstance(stored, dict) else 0.0
        # A virtual clock starts at a fixed epoch on purpose (repeatable runs): only a clock that
        # follows the host's TAI estimate takes the persisted correction back.
        if self.clock.mode.kind != "afap" and isinstance(correction, float) and correction:
            self.clock.adjust_onboard_time(correction)
            self.correction_s = correction
        # ...and after a restart it carries on from where the last run was, so that deadlines kept
        # in on-board time (schedules, state timeouts) are not waited for a second time.
        resumed_at = self.ctx.store.get(AFAP_TIME_KEY)
        if self.clock.mode.kind == "afap" and isinstance(resumed_at, float) and resumed_at > self.clock.onboard_time():
            self.clock.set_onboard_time(resumed_at)
        self.ctx.rate_groups["slow"].add(self._report_if_due)
        if self.clock.mode.kind == "afap":
            self.ctx.rate_groups["slow"].add(self._remember_afap_time)

    def _remember_afap_time(self) -> None:
        now = self.clock.onboard_time()
        every = AFAP_TIME_SAVE_DORMANT_S if self.ctx.dormancy.dormant else AFAP_TIME_SAVE_S
        if now - self._afap_time_saved >= every:
            self._afap_time_saved = now
            self.ctx.store.put(AFAP_TIME_KEY, now, durable=False)

    def housekeeping(self) -> dict[str, Any]:
        return {
            "time_onboard": self.clock.onboard_time(),
            "time_correlation_changes": self.clock.correlation_changes,
            "time_correction_s": self.correction_s,
            "time_report_period_s": self.report_period_s,
        }

    # --- correlation -------------------------------------------------------------------------
    def _changed(self, how: str, step: float) -> None:
        self.correction_s += step
        self.ctx.store.put(STORE_KEY, {"correction_s": self.correction_s})
        self.emit("TIME_CORRELATED", how=how, step=round(step, 6), onboard=round(self.clock.onboard_time(), 6))
        self.ctx.bus.publish(CORRELATION_TOPIC, step)

    @command(0x0A01, Arg("tai", "f64", "new on-board time, TAI seconds since 1958", min=0.0, max=MAX_ONBOARD_TIME_S,
                         unit="s"))
    def cmd_time_set(self, tai: float) -> None:
        """Set on-board time (correlation step); scheduled work is neither repeated nor skipped."""
        step = self.clock.set_onboard_time(tai)
        self._changed("set", step)

    @command(0x0A02, Arg("delta", "f64", "step to add to on-board time", min=-MAX_ADJUST_S, max=MAX_ADJUST_S,
                         unit="s"))
    def cmd_time_adjust(self, delta: float) -> None:
        """Add a step to on-board time (correlation); scheduled work is neither repeated nor skipped."""
        if not 0.0 <= self.clock.onboard_time() + delta <= MAX_ONBOARD_TIME_S:
            raise CommandFailed(FailureCode.ARGUMENT_RANGE, "on-board time would leave the CUC range")
        self.clock.adjust_onboard_time(delta)
        self._changed("adjusted", delta)

    # --- PUS 9 -------------------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {(9, 1): self._set_report_rate}

    def _set_report_rate(self, tc: PusTc) -> Any:
        period = appdata.decode(tc.app_data)
        if isinstance(period, bool) or not isinstance(period, int) or not 0 <= period <= MAX_REPORT_PERIOD_S:
            raise CommandRejected(FailureCode.BAD_ARGUMENT,
                                  f"9,1 takes a CBOR integer period 0..{MAX_REPORT_PERIOD_S} s")

        def apply() -> None:
            self.report_period_s = period
            self._next_report = self.clock.monotonic() + period
            self.send_time_report()

        return apply

    def send_time_report(self) -> None:
        self.ctx.telemetry.send(9, 2, [self.clock.onboard_time(), self.clock.correlation_changes])

    def _report_if_due(self) -> None:
        if self.report_period_s and self.clock.monotonic() >= self._next_report - 1e-9:
            self.send_time_report()
            while self._next_report <= self.clock.monotonic() + 1e-9:
                self._next_report += self.report_period_s
