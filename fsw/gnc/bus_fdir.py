"""What the GNC does when its device bus dies, and how it gets the bus back (fault protection).

A request the plant does not answer is re-sent by the bus client a bounded number of times
(:mod:`fsw.devices.bus`); when every retry has timed out, or the link is gone, the bus is *dead*:

- ``DEVICE_BUS_DEAD`` (HIGH) with the typed reason (``timeout``, ``link_lost``, ``no_link``) and
  ``gnc_bus_state`` = ``dead`` in housekeeping;
- the fault response, unless the ``fdir_bus_safe`` parameter turns it off: the vehicle goes SAFE
  and a powered phase ends (descent reported ``aborted``, ascent ``failed``): guidance cannot fly on
  stale sensors, and the engine is commanded safe (thrust 0, engine off) by the first request that
  reaches the plant again (``ENGINE_SAFED`` then);
- the bus is tried again every ``bus_probe_interval_s`` of flight time, one request without retries,
  from a task of its own so that the fast rate group never waits on a dead plant; the first answer
  gives ``DEVICE_BUS_RECOVERED`` with the outage's length.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, ParameterDef, Severity, TelemetryDef
from fsw.devices.bus import DeviceBusDead

FDIR_BUS_SAFE = "fdir_bus_safe"
BUS_PROBE_INTERVAL = "bus_probe_interval_s"

BUS_TELEMETRY = (
    TelemetryDef("gnc_bus_state", "enum", "", "device bus: ok, or dead (no answer after every retry, or no link)",
                 enum=("ok", "dead")),
    TelemetryDef("gnc_bus_retries", "u32", "", "device bus requests sent again after a timeout",
                 yellow=Limits(high=0)),
    TelemetryDef("gnc_bus_timeouts", "u32", "", "device bus requests not answered in time (each attempt)"),
    TelemetryDef("gnc_bus_outages", "u16", "", "times the device bus was declared dead", yellow=Limits(high=0)),
    TelemetryDef("gnc_bus_probes", "u32", "", "attempts to re-establish a dead device bus"),
)
BUS_EVENTS = (
    EventDef(0x3003, "DEVICE_BUS_DEAD", Severity.HIGH, "device bus dead ({reason}): {detail}; {response}"),
    EventDef(0x3006, "DEVICE_BUS_RECOVERED", Severity.MEDIUM,
             "device bus answers again after {outage_s} s ({probes} attempts)"),
    EventDef(0x3007, "ENGINE_SAFED", Severity.MEDIUM, "{engine} commanded safe (off, thrust 0): {why}"),
)
BUS_PARAMETERS = (
    ParameterDef(0x3001, FDIR_BUS_SAFE, "bool", True,
                 "a dead device bus makes the vehicle SAFE, ends powered flight and safes the engine"),
    ParameterDef(0x3002, BUS_PROBE_INTERVAL, "f64", 1.0, "flight time between attempts to re-establish a dead "
                 "device bus", 0.1, 600.0, unit="s"),
)


class BusFaultHandling:
    """The GNC component's dead-bus handling (mixed into :class:`fsw.gnc.component.GncComponent`)."""

    ctx: Context
    bus: Any
    lander: Any
    ascender: Any
    descent: Any
    ascent: Any
    period_s: float
    failed: bool

    if TYPE_CHECKING:  # provided by the component this is mixed into
        def emit(self, event: str, /, **args: Any) -> None: ...
        def param(self, name: str) -> Any: ...
        def _finish_descent(self, outcome: str) -> None: ...
        def _end_ascent(self, outcome: str) -> None: ...

    def _init_bus_fdir(self) -> None:
        self.failed = False  # the bus is dead: the cycle does not exchange, the probe task tries
        self._dead_since = 0.0
        self._dead_reason = ""
        self._outages = 0
        self._probes = 0
        self._probe_task: asyncio.Task[None] | None = None
        self._engines_to_safe: list[str] = []  # engines whose safing waits for the bus to answer
        self._exchange_lock = asyncio.Lock()  # one request at a time: the cycle, a probe, a ground command

    def _bus_dead(self, error: DeviceBusDead) -> None:
        now = self.ctx.clock.monotonic()
        self.failed = True
        self._dead_since = now
        self._dead_reason = error.reason
        self._outages += 1
        respond = bool(self.param(FDIR_BUS_SAFE))
        flying = "lander" if self.descent is not None else "ascender" if self.ascent is not None else None
        if not respond:
            response = f"fault response disabled ({FDIR_BUS_SAFE} false)"
        elif flying is not None:
            response = f"SAFE; {flying} powered flight ended, engine safing queued for the bus's return"
        else:
            response = "SAFE"
        self.emit("DEVICE_BUS_DEAD", reason=error.reason, detail=error.detail, response=response)
        if respond:
            self.ctx.modes.enter_safe(f"device bus dead ({error.reason})")
            if flying is not None:
                self.command_engine_safe(flying)
                if flying == "lander":
                    self._finish_descent("aborted")
                else:
                    self._end_ascent("failed")
        self._probe_task = self.ctx.tasks.spawn("gnc_bus_probe", self._probe_until_back)

    def command_engine_safe(self, vehicle: str) -> None:
        """Queue the engine's safing (thrust 0, off) for the next request that reaches the plant."""
        if vehicle == "lander":
            self.lander.main_engine.set_thrust(0.0)
            self.lander.main_engine.set_on(False)
            engine = "main_engine"
        else:
            self.ascender.engine.set_on(False)
            engine = "ascent_engine"
        if engine not in self._engines_to_safe:
            self._engines_to_safe.append(engine)

    def _engines_safed(self, why: str) -> None:
        for engine in self._engines_to_safe:
            self.emit("ENGINE_SAFED", engine=engine, why=why)
        self._engines_to_safe = []

    async def _probe_until_back(self) -> None:
        clock = self.ctx.clock
        while self.failed:
            await clock.sleep(float(self.param(BUS_PROBE_INTERVAL)))
            self._probes += 1
            async with self._exchange_lock:
                try:
                    await self.bus.exchange(0, self.period_s, retries=0)
                except DeviceBusDead:
                    continue
            outage = clock.monotonic() - self._dead_since
            self.failed = False
            self.emit("DEVICE_BUS_RECOVERED", outage_s=round(outage, 2), probes=self._probes)
            self._engines_safed("the device bus answered again")

    def _stop_probing(self) -> None:
        if self._probe_task is not None:
            self._probe_task.cancel()

    async def _exchange_now(self) -> None:
        """An exchange outside the cycle (a ground command while the fast group sleeps); raises
        DeviceBusDead when the bus is dead, or dies now."""
        if self.failed:
            raise DeviceBusDead(self._dead_reason, "the device bus is dead; re-establishment attempts continue")
        async with self._exchange_lock:
            try:
                await self.bus.exchange(0, self.period_s)
            except DeviceBusDead as error:
                self._bus_dead(error)
                raise
        self._engines_safed("commanded")

    def bus_housekeeping(self) -> dict[str, Any]:
        bus = self.bus
        return {"gnc_bus_state": "dead" if self.failed else "ok", "gnc_bus_retries": bus.retries_sent,
                "gnc_bus_timeouts": bus.timeouts, "gnc_bus_outages": self._outages, "gnc_bus_probes": self._probes}


async def cancel_quietly(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
