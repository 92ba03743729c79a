"""PUS 3 housekeeping: one periodic report per structure id, flowing from boot without being asked.

Report TM 3,25 carries CBOR ``[structure_id, {point_name: value}]``. Requests: 3,5 enable and 3,6
disable periodic generation (CBOR list of structure ids), 3,27 one-shot report, 3,31 change the
collection interval (CBOR list of [structure_id, seconds]).

While a vehicle flies under power (GNC says so on ``POWERED_FLIGHT_TOPIC``) the structures of
components marked ``hk_quiet_in_flight`` (payloads, the surface machines, file transfer...) report at
most every ``hk_flight_quiet_period_s``, as a lander's descent telemetry mode keeps the downlink for
what the descent needs; their periods come back when the flight ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity
from fsw.core.errors import CommandRejected, NotAvailable
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc

MIN_PERIOD_S = 0.05
# Software bus: (structure id, {point: value}) for every report sent, so that on-board readers of
# housekeeping (monitoring, sequences) take the values as they are instead of decoding the packet.
HK_TOPIC = "hk"
HK_BEAT_LIMIT_S = 5.0
# Software bus: True when a vehicle begins a powered flight, False when it ends (from GNC).
POWERED_FLIGHT_TOPIC = "powered_flight"
DORMANT_HK_SCALE = 3600.0  # a 1 s report comes every hour while dormant on the afap clock (days of coast)
MAX_PERIOD_S = 86_400.0


@dataclass
class Structure:
    sid: int
    component: Component
    period: float
    # Components whose points travel in this structure's report (their ``reported_in``).
    contributors: list[Component] = field(default_factory=list)
    enabled: bool = True
    next_due: float = 0.0
    reports: int = 0
    failures: int = 0


class HousekeepingService(Component):
    name = "hk"
    events = (
        EventDef(0x0601, "HK_REPORT_FAILED", Severity.MEDIUM,
                 "housekeeping structure {sid} ({component}) could not be collected: {reason} ({count} times)"),
        EventDef(0x0602, "HK_FLIGHT_QUIET", Severity.INFO,
                 "powered flight {state}: {count} structures idle in flight {change}"),
    )
    parameters = (
        ParameterDef(0x0601, "hk_flight_quiet_period_s", "f64", 10.0,
                     "in powered flight, the shortest period of the structures idle in flight (0: as set)",
                     0.0, MAX_PERIOD_S, unit="s"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.structures: dict[int, Structure] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.period_scale = 1.0  # > 1 in dormant afap phases: fewer reports over quiet days
        self.in_powered_flight = False
        self._powered_flight = ctx.bus.subscribe(POWERED_FLIGHT_TOPIC, depth=16)

    def interval(self, structure: Structure) -> float:
        """Seconds from one report of ``structure`` to the next, as things stand."""
        period = structure.period
        if self.in_powered_flight and structure.component.hk_quiet_in_flight:
            period = max(period, float(self.param("hk_flight_quiet_period_s")))
        return period * self.period_scale

    def set_period_scale(self, scale: float) -> None:
        self.period_scale = scale
        self._reschedule()

    def _reschedule(self) -> None:
        """A structure whose interval got shorter reports within the new one."""
        now = self.clock.monotonic()
        for structure in self.structures.values():
            structure.next_due = min(structure.next_due, now + self.interval(structure))
        self._changed.set()

    def _follow_powered_flight(self) -> None:
        before = self.in_powered_flight
        while (flying := self._powered_flight.get_nowait()) is not None:
            self.in_powered_flight = bool(flying)
        if self.in_powered_flight != before:
            quiet = [s for s in self.structures.values() if s.component.hk_quiet_in_flight]
            period = float(self.param("hk_flight_quiet_period_s"))
            change = f"report every {period:g} s at most" if self.in_powered_flight else "report at their own periods"
            self.emit("HK_FLIGHT_QUIET", state="begun" if self.in_powered_flight else "ended", count=len(quiet),
                      change=change)
            self._reschedule()

    def register_component(self, component: Component) -> None:
        sid = component.hk_structure
        if sid:
            if sid in self.structures:
                raise ValueError(f"housekeeping structure {sid} declared twice")
            self.structures[sid] = Structure(sid, component, component.hk_period_s)
        if component.reported_in:
            owner = self.structures.get(component.reported_in)
            if owner is None:
                raise ValueError(f"{component.name} reports in structure {component.reported_in}, not declared yet")
            owner.contributors.append(component)

    def dormancy_changed(self, dormant: bool) -> None:
        # On the afap clock quiet days should cost no wall time: reports come far less often.
        if self.clock.mode.kind == "afap":
            scale = DORMANT_HK_SCALE if dormant else 1.0
            self.set_period_scale(scale)
            self.ctx.health.watch("hk", HK_BEAT_LIMIT_S * scale)

    def report(self, sid: int) -> None:
        structure = self.structures[sid]
        try:
            values = structure.component.housekeeping()
            for contributor in structure.contributors:
                values.update(contributor.housekeeping())
        except NotAvailable:
            # A device not read yet in this phase (the ascent engine before ascent): its points
            # are reported as "not available" (None), quietly; that is not a fault.
            values = {point.name: None for owner in (structure.component, *structure.contributors)
                      for point in owner.telemetry}
        except Exception as error:  # one broken report must not stop the others
            structure.failures += 1
            if structure.failures == 1 or structure.failures % 1000 == 0:
                self.emit("HK_REPORT_FAILED", sid=sid, component=structure.component.name,
                          reason=f"{type(error).__name__}: {error}", count=structure.failures)
            return
        structure.reports += 1
        self.ctx.telemetry.send(3, 25, [sid, values])
        self.ctx.bus.publish(HK_TOPIC, (sid, values))

    async def start(self) -> None:
        now = self.clock.monotonic()
        for structure in self.structures.values():
            structure.next_due = now
        self.ctx.health.watch("hk", HK_BEAT_LIMIT_S)
        self._task = self.ctx.tasks.spawn("housekeeping", self._run)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            self._follow_powered_flight()
            now = self.clock.monotonic()
            due = [s for s in self.structures.values() if s.enabled and s.next_due <= now + 1e-9]
            for structure in sorted(due, key=lambda s: s.sid):
                self.report(structure.sid)
                # Keep the grid: a late report does not shift later ones.
                while structure.next_due <= now + 1e-9:
                    structure.next_due += self.interval(structure)
            self.ctx.health.beat("hk")
            pending = [s.next_due for s in self.structures.values() if s.enabled]
            self._changed.clear()
            timeout = (min(pending) - self.clock.monotonic()) if pending else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    # --- PUS 3 requests ----------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {(3, 5): self._enable, (3, 6): self._disable, (3, 27): self._one_shot, (3, 31): self._modify}

    def _sids(self, tc: PusTc) -> list[int]:
        sids = appdata.decode(tc.app_data)
        if not isinstance(sids, list) or not all(isinstance(s, int) for s in sids):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "expected a CBOR list of structure ids")
        unknown = [s for s in sids if s not in self.structures]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_STRUCTURE, f"unknown structure ids {unknown}", unknown)
        return sids

    def _set_enabled(self, sids: list[int], enabled: bool) -> None:
        now = self.clock.monotonic()
        for sid in sids:
            structure = self.structures[sid]
            if enabled and not structure.enabled:
                structure.next_due = now
            structure.enabled = enabled
        self._changed.set()

    def _enable(self, tc: PusTc) -> Any:
        sids = self._sids(tc)
        return lambda: self._set_enabled(sids, True)

    def _disable(self, tc: PusTc) -> Any:
        sids = self._sids(tc)
        return lambda: self._set_enabled(sids, False)

    def _one_shot(self, tc: PusTc) -> Any:
        sids = self._sids(tc)

        def send() -> None:
            for sid in sids:
                self.report(sid)

        return send

    def _modify(self, tc: PusTc) -> Any:
        pairs = appdata.decode(tc.app_data)
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "expected a CBOR list of [structure id, seconds]")
        for sid, period in pairs:
            if sid not in self.structures:
                raise CommandRejected(FailureCode.UNKNOWN_STRUCTURE, f"unknown structure id {sid}")
            if isinstance(period, bool) or not isinstance(period, int | float) or not (
                MIN_PERIOD_S <= period <= MAX_PERIOD_S
            ):
                raise CommandRejected(
                    FailureCode.ARGUMENT_RANGE, f"period {period!r} outside {MIN_PERIOD_S}..{MAX_PERIOD_S} s"
                )

        def apply() -> None:
            for sid, period in pairs:
                self.set_period(sid, float(period))

        return apply

    def set_minimum_period(self, seconds: float) -> None:
        """No structure registered so far reports more often than every ``seconds`` (a vehicle whose
        telemetry crosses a relay)."""
        for sid, structure in self.structures.items():
            if structure.period < seconds:
                self.set_period(sid, seconds)

    def set_period(self, sid: int, seconds: float) -> None:
        """Report structure ``sid`` every ``seconds`` from now (3,31, or a vehicle's wiring)."""
        structure = self.structures[sid]
        structure.period = seconds
        structure.next_due = self.clock.monotonic() + seconds
        self._changed.set()
