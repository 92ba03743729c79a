"""The executive core: owns the clock, the store, the software bus, the telemetry output, the rate
groups, health monitoring and the latches; registers components and runs their life cycle.

It knows no service by name. Which components exist, in what order, and who plays the events,
parameters, modes and commands roles is the topology's business (``fsw/topology.py``). Services
that index other components' declarations (commands, events, parameters, housekeeping) are
*registrars*: each added component is offered to every registrar, in the order added.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from fsw.clock import Clock
from fsw.core.bus import SoftwareBus
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.core.dictionary import Dictionary
from fsw.core.health import HealthMonitor
from fsw.core.latches import Latches
from fsw.core.rategroup import RateGroup
from fsw.core.store import Store
from fsw.core.tasks import TaskSupervisor
from fsw.protocol import appdata
from fsw.protocol.packet import DEFAULT_MAX_PACKET_SIZE, PusTm, SequenceCounters
from fsw.protocol.security import KeyRing

log = logging.getLogger("fsw.executive")

EXECUTIVE_APID = 100
SEQUENCE_KEY = "sequence_counters"
SEQUENCE_FLUSH_S = 1.0
RATE_GROUPS: tuple[tuple[str, float], ...] = (("fast", 50.0), ("medium", 10.0), ("slow", 1.0))
DORMANT_RATE_HZ = 1.0 / 60.0


@runtime_checkable
class Registrar(Protocol):
    """A component that indexes what other components declare (commands, events, ...)."""

    def register_component(self, component: Component) -> None: ...


def _rate_group_points() -> tuple[TelemetryDef, ...]:
    points = []
    for name, rate in RATE_GROUPS:
        # Lateness matters against the group's own period: a quarter of it is worth a look (a loaded
        # host), half of it nearly costs the slot. A fixed millisecond limit cried wolf at 1 Hz.
        period_ms = 1e3 / rate
        points += [
            TelemetryDef(f"{name}_cycles", "u32", "", f"{rate:g} Hz rate group cycles"),
            TelemetryDef(f"{name}_overruns", "u32", "", f"{rate:g} Hz rate group overruns",
                         yellow=Limits(high=0)),
            TelemetryDef(f"{name}_cycle_max_ms", "f32", "ms", f"{rate:g} Hz longest cycle"),
            TelemetryDef(f"{name}_jitter_max_ms", "f32", "ms", f"{rate:g} Hz worst wake-up lateness"),
            TelemetryDef(f"{name}_jitter_p99_ms", "f32", "ms", f"{rate:g} Hz wake-up lateness, 99th percentile",
                         yellow=Limits(high=period_ms / 4), red=Limits(high=period_ms / 2)),
            TelemetryDef(f"{name}_member_faults", "u32", "", f"{rate:g} Hz members' exceptions caught",
                         yellow=Limits(high=0)),
            TelemetryDef(f"{name}_members_disabled", "u16", "", f"{rate:g} Hz members taken out after repeated faults",
                         red=Limits(high=0)),
        ]
    return tuple(points)


class TelemetrySender:
    """The one way out for telemetry: sequence counts per APID, message counters per type, sinks."""

    def __init__(self, clock: Clock, bus: SoftwareBus, apid: int, max_packet_size: int,
                 sequence: SequenceCounters) -> None:
        self.clock = clock
        self.bus = bus
        self.apid = apid
        self.max_packet_size = max_packet_size
        self.sequence = sequence
        self.message_counters: dict[tuple[int, int], int] = {}
        self.sinks: list[Callable[[bytes], None]] = []
        self.sent = 0

    def add_sink(self, sink: Callable[[bytes], None]) -> None:
        self.sinks.append(sink)

    def send(self, service: int, subtype: int, value: Any) -> None:
        self.send_raw(service, subtype, appdata.encode(value))

    def send_raw(self, service: int, subtype: int, source_data: bytes, apid: int | None = None) -> None:
        apid = self.apid if apid is None else apid
        key = (service, subtype)
        counter = self.message_counters.get(key, 0)
        self.message_counters[key] = (counter + 1) & 0xFFFF
        packet = PusTm(apid, service, subtype, source_data, self.sequence.next(apid), self.clock.onboard_time(),
                       msg_counter=counter).pack(self.max_packet_size)
        self.sent += 1
        for sink in self.sinks:
            sink(packet)
        self.bus.publish("tm", packet)


class ExecutiveComponent(Component):
    """The executive's own housekeeping (structure 1) and life-cycle events."""

    name = "exec"
    hk_structure = 1
    telemetry = (
        TelemetryDef("uptime_s", "f64", "s", "flight time since boot"),
        TelemetryDef("onboard_time", "f64", "TAI", "on-board time, TAI seconds since 1958 (the CUC epoch)"),
        TelemetryDef("boot_count", "u32", "", "boots recorded in the persistent store"),
        TelemetryDef("authenticated", "bool", "", "TCs must be signed (SDLS-style)"),
        TelemetryDef("bus_dropped", "u32", "", "software bus messages dropped on full pipes"),
        TelemetryDef("tm_sent", "u32", "", "telemetry packets sent"),
        TelemetryDef("store_writes", "u32", "", "persistent store transactions"),
        TelemetryDef("tasks_stalled", "u16", "", "tasks that missed their heartbeat", red=Limits(high=0)),
        TelemetryDef("tasks_died", "u16", "", "long-lived tasks that died with an exception", yellow=Limits(high=0)),
        TelemetryDef("tasks_restarted", "u16", "", "long-lived tasks started again after dying"),
        TelemetryDef("dormant", "bool", "", "quiet phase: fast rate group stopped"),
        *_rate_group_points(),
    )
    events = (
        EventDef(0x0001, "BOOT", Severity.INFO, "flight software boot {boot_count}, clock {clock}"),
        EventDef(0x0002, "SHUTDOWN", Severity.MEDIUM, "flight software shutting down: {reason}"),
        EventDef(0x0003, "STORE_CORRUPTED", Severity.HIGH, "persistent store corrupted ({reason}); booting SAFE"),
        EventDef(0x0004, "UNAUTHENTICATED", Severity.HIGH, "telecommands are not authenticated"),
        EventDef(0x0005, "TASK_STALLED", Severity.HIGH, "task {task} missed its heartbeat for {age} s"),
        EventDef(0x0006, "TASK_RECOVERED", Severity.LOW, "task {task} beats again"),
        EventDef(0x0007, "DORMANCY", Severity.INFO, "executive {state}: fast rate group stopped while quiet"),
        EventDef(0x0008, "RATE_GROUP_MEMBER_FAILED", Severity.MEDIUM,
                 "{group} rate group member {member} raised {error}; the group carries on"),
        EventDef(0x0009, "RATE_GROUP_MEMBER_DISABLED", Severity.HIGH,
                 "{group} rate group member {member} failed every cycle and was taken out: {error}"),
        EventDef(0x000A, "TASK_DIED", Severity.HIGH, "task {task} died: {error}: {detail}; {action}"),
        EventDef(0x000B, "TASK_RESTARTED", Severity.LOW, "task {task} started again (restart {restarts})"),
    )

    def __init__(self, ctx: Context, executive: Executive) -> None:
        super().__init__(ctx)
        self._executive = executive  # the core's own component: it reports the core's figures

    def housekeeping(self) -> dict[str, Any]:
        executive, ctx = self._executive, self.ctx
        values: dict[str, Any] = {
            "uptime_s": round(self.clock.monotonic() - executive.boot_time, 3),
            "onboard_time": self.clock.onboard_time(),
            "boot_count": executive.boot_count,
            "authenticated": ctx.keys is not None,
            "bus_dropped": ctx.bus.dropped,
            "tm_sent": executive.telemetry.sent,
            "store_writes": ctx.store.writes,
            "tasks_stalled": sum(h.stalled for h in ctx.health.tasks.values()),
            "tasks_died": ctx.tasks.deaths,
            "tasks_restarted": ctx.tasks.restarts,
            "dormant": executive.dormant,
        }
        for group in ctx.rate_groups.values():
            values.update(group.stats())
        return values


class Executive:
    def __init__(self, clock: Clock, store: Store, *, apid: int = EXECUTIVE_APID,
                 max_packet_size: int = DEFAULT_MAX_PACKET_SIZE, keys: KeyRing | None = None,
                 rate_groups: Sequence[tuple[str, float]] = RATE_GROUPS) -> None:
        self.clock = clock
        self.store = store
        self.boot_time = clock.monotonic()
        self.boot_count = int(store.get("boot_count", 0)) + 1
        restored = store.get(SEQUENCE_KEY, {}) or {}
        sequence = SequenceCounters({int(apid): int(count) for apid, count in restored.items()})
        bus = SoftwareBus()
        self.telemetry = TelemetrySender(clock, bus, apid, max_packet_size, sequence)
        self.rate_groups = {name: RateGroup(name, rate, clock, precise=(name == "fast")) for name, rate in rate_groups}
        for group in self.rate_groups.values():
            group.on_fault = self._member_fault
        self._nominal_rates = dict(rate_groups)
        self.ctx = Context(clock=clock, store=store, bus=bus, telemetry=self.telemetry, rate_groups=self.rate_groups,
                           health=HealthMonitor(clock, self._emit), latches=Latches(store, clock), dormancy=self,
                           keys=keys, tasks=TaskSupervisor(clock, self._emit))
        self.components: list[Component] = []
        self.registrars: list[Registrar] = []
        self.dictionary = Dictionary()
        self.dormant = False
        self.shutdown_requested = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._beating: set[str] = set()
        self._stopped = False
        self._last_sequence_flush = 0.0
        self.add(ExecutiveComponent(self.ctx, self))

    def _emit(self, event: str, /, **args: Any) -> None:
        self.ctx.events.emit(event, **args)

    def _member_fault(self, group: str, member: str, error: str, disabled: bool) -> None:
        event = "RATE_GROUP_MEMBER_DISABLED" if disabled else "RATE_GROUP_MEMBER_FAILED"
        self.ctx.events.emit(event, group=group, member=member, error=error)

    # --- wiring ------------------------------------------------------------------------------
    def add(self, component: Component) -> Component:
        """Register a component: its declarations go into the dictionary and to every registrar."""
        if component.ctx is not self.ctx:
            raise ValueError(f"component {component.name} was built with another executive's context")
        self.components.append(component)
        self.dictionary.add(component, component.bound_command_defs())
        for registrar in self.registrars:
            registrar.register_component(component)
        if isinstance(component, Registrar):
            self.registrars.append(component)
            for earlier in self.components:  # it indexes what came before it too (itself included)
                component.register_component(earlier)
        return component

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        ctx = self.ctx
        self.store.put("boot_count", self.boot_count)
        ctx.events.emit("BOOT", boot_count=self.boot_count, clock=str(self.clock.mode))
        if ctx.keys is None:
            ctx.events.emit("UNAUTHENTICATED")
        corruption = self.store.corruption
        if corruption:
            ctx.events.emit("STORE_CORRUPTED", reason=corruption)
        for component in self.components:
            await component.start()
        ctx.modes.boot_complete("persistent store corrupted" if corruption else None)
        max(self.rate_groups.values(), key=lambda group: group.period).add(self._slow_cycle)
        for group in self.rate_groups.values():
            ctx.health.watch(f"rate_group_{group.name}", max(1.0, 5 * group.period))
            self._tasks.append(ctx.tasks.spawn(f"rate_group_{group.name}", partial(self._run_group, group)))

    def set_dormant(self, dormant: bool) -> None:
        """Quiet phases: the 50 Hz group stops; on the afap clock the slower groups drop to one cycle
        a minute, so that days of coasting cost no wall time (health checks, watchdog strokes and
        persistence still run, just less often). Components hear of it through ``dormancy_changed``."""
        if dormant == self.dormant:
            return
        self.dormant = dormant
        health = self.ctx.health
        fast = min(self.rate_groups.values(), key=lambda group: group.period)
        if dormant:
            fast.suspend()
            health.unwatch(f"rate_group_{fast.name}")
        else:
            fast.resume()
            health.watch(f"rate_group_{fast.name}", max(1.0, 5 * fast.period))
        if self.clock.mode.kind == "afap":
            for name, rate in self._nominal_rates.items():
                if name == fast.name:
                    continue
                group = self.rate_groups[name]
                group.set_rate(DORMANT_RATE_HZ if dormant else rate)
                health.watch(f"rate_group_{name}", max(1.0, 5 * group.period))
        for component in self.components:
            component.dormancy_changed(dormant)
        self.ctx.events.emit("DORMANCY", state="dormant" if dormant else "active")

    async def _run_group(self, group: RateGroup) -> None:
        if group.name not in self._beating:  # once: a restarted group keeps its one heartbeat member
            self._beating.add(group.name)
            group.members = [*group.members, lambda: self.ctx.health.beat(f"rate_group_{group.name}")]
        await group.run()

    def _slow_cycle(self) -> None:
        self.ctx.health.check()
        now = self.clock.monotonic()
        if now - self._last_sequence_flush >= SEQUENCE_FLUSH_S:
            self.flush_sequence_counters()

    def flush_sequence_counters(self) -> None:
        self._last_sequence_flush = self.clock.monotonic()
        counters = self.telemetry.sequence.snapshot()
        if counters != self.store.get(SEQUENCE_KEY):  # (a quiet minute sends nothing: no write)
            self.store.put(SEQUENCE_KEY, counters, durable=False)

    async def stop(self, reason: str = "commanded") -> None:
        if self._stopped:
            return
        self._stopped = True
        self.ctx.events.emit("SHUTDOWN", reason=reason)
        for task in self._tasks:
            task.cancel()
        for component in reversed(self.components):
            await component.stop()
        self.flush_sequence_counters()
