"""The executive: owns the clock, the store, the software bus and the core services, wires
components, runs rate groups, and sends telemetry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fsw.clock import Clock
from fsw.core.bus import SoftwareBus
from fsw.core.component import Component
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.core.dictionary import Dictionary
from fsw.core.health import HealthMonitor
from fsw.core.latches import Latches
from fsw.core.rategroup import RateGroup
from fsw.core.store import Store
from fsw.protocol import appdata
from fsw.protocol.packet import DEFAULT_MAX_PACKET_SIZE, PusTm, SequenceCounters
from fsw.protocol.security import KeyRing
from fsw.services.dispatcher import Dispatcher
from fsw.services.events import EventService
from fsw.services.health import HealthService
from fsw.services.housekeeping import HousekeepingService
from fsw.services.modes import ModeManager
from fsw.services.parameters import ParameterService
from fsw.services.ping import TestService
from fsw.services.scheduler import Scheduler
from fsw.services.timeman import TimeManager

log = logging.getLogger("fsw.executive")

EXECUTIVE_APID = 100
SEQUENCE_KEY = "sequence_counters"
SEQUENCE_FLUSH_S = 1.0
RATE_GROUPS = (("fast", 50.0), ("medium", 10.0), ("slow", 1.0))
DORMANT_RATE_HZ = 1.0 / 60.0
DORMANT_HK_SCALE = 600.0  # a 1 s report comes every 10 min while dormant on the afap clock


def _rate_group_points() -> tuple[TelemetryDef, ...]:
    points = []
    for name, rate in RATE_GROUPS:
        points += [
            TelemetryDef(f"{name}_cycles", "u32", "", f"{rate:g} Hz rate group cycles"),
            TelemetryDef(f"{name}_overruns", "u32", "", f"{rate:g} Hz rate group overruns",
                         yellow=Limits(high=0)),
            TelemetryDef(f"{name}_cycle_max_ms", "f32", "ms", f"{rate:g} Hz longest cycle"),
            TelemetryDef(f"{name}_jitter_max_ms", "f32", "ms", f"{rate:g} Hz worst wake-up lateness"),
            TelemetryDef(f"{name}_jitter_p99_ms", "f32", "ms", f"{rate:g} Hz wake-up lateness, 99th percentile",
                         yellow=Limits(high=1.0), red=Limits(high=5.0)),
        ]
    return tuple(points)


class ExecutiveComponent(Component):
    """The executive's own housekeeping (structure 1) and life-cycle events."""

    name = "exec"
    hk_structure = 1
    telemetry = (
        TelemetryDef("uptime_s", "f64", "s", "flight time since boot"),
        TelemetryDef("onboard_time", "f64", "s", "on-board TAI seconds since 1958"),
        TelemetryDef("boot_count", "u32", "", "boots recorded in the persistent store"),
        TelemetryDef("authenticated", "bool", "", "TCs must be signed (SDLS-style)"),
        TelemetryDef("bus_dropped", "u32", "", "software bus messages dropped on full pipes"),
        TelemetryDef("tm_sent", "u32", "", "telemetry packets sent"),
        TelemetryDef("store_writes", "u32", "", "persistent store transactions"),
        TelemetryDef("tasks_stalled", "u16", "", "tasks that missed their heartbeat", red=Limits(high=0)),
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
    )

    def housekeeping(self) -> dict[str, Any]:
        executive = self.executive
        values: dict[str, Any] = {
            "uptime_s": round(self.clock.monotonic() - executive.boot_time, 3),
            "onboard_time": self.clock.onboard_time(),
            "boot_count": executive.boot_count,
            "authenticated": executive.authenticated,
            "bus_dropped": executive.bus.dropped,
            "tm_sent": executive.tm_sent,
            "store_writes": executive.store.writes,
            "tasks_stalled": sum(h.stalled for h in executive.health.tasks.values()),
            "dormant": executive.dormant,
        }
        for group in executive.rate_groups.values():
            values.update(group.stats())
        for component in (executive.modes, executive.dispatcher, executive.events):
            values.update(component.housekeeping())
        return values


class Executive:
    def __init__(self, clock: Clock, store: Store, *, apid: int = EXECUTIVE_APID,
                 max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        self.clock = clock
        self.store = store
        self.apid = apid
        self.max_packet_size = max_packet_size
        self.bus = SoftwareBus()
        self.keys: KeyRing | None = None  # set by the wiring when TCs must be signed
        self.boot_time = clock.monotonic()
        self.boot_count = int(store.get("boot_count", 0)) + 1
        restored = store.get(SEQUENCE_KEY, {}) or {}
        self.sequence = SequenceCounters({int(apid): int(count) for apid, count in restored.items()})
        self.message_counters: dict[tuple[int, int], int] = {}
        self.tm_sinks: list[Callable[[bytes], None]] = []
        self.tm_sent = 0
        self.components: list[Component] = []
        self.dictionary = Dictionary()
        self.health = HealthMonitor(self)
        self.rate_groups: dict[str, RateGroup] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = False
        self.shutdown_requested = asyncio.Event()
        self.dormant = False
        self._last_sequence_flush = 0.0
        for name, rate in RATE_GROUPS:
            self.rate_groups[name] = RateGroup(name, rate, clock, precise=(name == "fast"))
        self.core = ExecutiveComponent(self)
        self.events = EventService(self)
        self.parameters = ParameterService(self)
        self.modes = ModeManager(self)
        self.dispatcher = Dispatcher(self)
        self.housekeeping = HousekeepingService(self)
        self.latches = Latches(store, clock)
        self.time = TimeManager(self)
        self.scheduler = Scheduler(self)
        self.health_service = HealthService(self)
        for component in (self.core, self.events, self.parameters, self.modes, self.dispatcher, self.housekeeping,
                          TestService(self), self.time, self.scheduler, self.health_service):
            self.add(component)

    @property
    def authenticated(self) -> bool:
        return self.keys is not None

    # --- wiring ------------------------------------------------------------------------------
    def add(self, component: Component) -> Component:
        """Register a component's declarations, housekeeping and PUS routes."""
        self.components.append(component)
        commands = component.bound_command_defs()
        self.dictionary.add(component, commands)
        self.dispatcher.register(commands)
        self.events.register(component.event_defs())
        self.parameters.register(component.parameter_defs())
        self.housekeeping.register(component)
        routes = getattr(component, "routes", None)
        if routes is not None:
            self.dispatcher.add_routes(routes())
        return component

    # --- telemetry ---------------------------------------------------------------------------
    def send_tm(self, service: int, subtype: int, value: Any) -> None:
        self.send_tm_raw(service, subtype, appdata.encode(value))

    def send_tm_raw(self, service: int, subtype: int, source_data: bytes, apid: int | None = None) -> None:
        apid = self.apid if apid is None else apid
        key = (service, subtype)
        counter = self.message_counters.get(key, 0)
        self.message_counters[key] = (counter + 1) & 0xFFFF
        packet = PusTm(apid, service, subtype, source_data, self.sequence.next(apid), self.clock.onboard_time(),
                       msg_counter=counter).pack(self.max_packet_size)
        self.tm_sent += 1
        for sink in self.tm_sinks:
            sink(packet)
        self.bus.publish("tm", packet)

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.store.put("boot_count", self.boot_count)
        self.parameters.restore()
        self.events.emit("BOOT", boot_count=self.boot_count, clock=str(self.clock.mode))
        if not self.authenticated:
            self.events.emit("UNAUTHENTICATED")
        corruption = self.store.corruption
        if corruption:
            self.events.emit("STORE_CORRUPTED", reason=corruption)
        for component in self.components:
            await component.start()
        self.modes.boot_complete("persistent store corrupted" if corruption else None)
        loop = asyncio.get_running_loop()
        self.rate_groups["slow"].add(self._slow_cycle)
        for group in self.rate_groups.values():
            self.health.watch(f"rate_group_{group.name}", max(1.0, 5 * group.period))
            self._tasks.append(loop.create_task(self._run_group(group), name=f"rate_group_{group.name}"))
        self.health.watch("hk", 5.0)

    def set_dormant(self, dormant: bool) -> None:
        """Quiet phases: the 50 Hz group stops; on the afap clock the 10 Hz and 1 Hz groups drop to
        one cycle a minute, so that days of coasting cost no wall time (health checks, watchdog
        strokes and persistence still run, just less often)."""
        if dormant == self.dormant:
            return
        self.dormant = dormant
        fast = self.rate_groups["fast"]
        if dormant:
            fast.suspend()
            self.health.unwatch("rate_group_fast")
        else:
            fast.resume()
            self.health.watch("rate_group_fast", max(1.0, 5 * fast.period))
        if self.clock.mode.kind == "afap":
            self.housekeeping.set_period_scale(DORMANT_HK_SCALE if dormant else 1.0)
            self.health.watch("hk", 5.0 * (DORMANT_HK_SCALE if dormant else 1.0))
            for name, rate in RATE_GROUPS:
                if name == "fast":
                    continue
                group = self.rate_groups[name]
                group.set_rate(DORMANT_RATE_HZ if dormant else rate)
                self.health.watch(f"rate_group_{name}", max(1.0, 5 * group.period))
        self.events.emit("DORMANCY", state="dormant" if dormant else "active")

    async def _run_group(self, group: RateGroup) -> None:
        original = list(group.members)
        group.members = [*original, lambda: self.health.beat(f"rate_group_{group.name}")]
        await group.run()

    def _slow_cycle(self) -> None:
        self.health.check()
        now = self.clock.monotonic()
        if now - self._last_sequence_flush >= SEQUENCE_FLUSH_S:
            self.flush_sequence_counters()

    def flush_sequence_counters(self) -> None:
        self._last_sequence_flush = self.clock.monotonic()
        self.store.put(SEQUENCE_KEY, self.sequence.snapshot(), durable=False)

    async def stop(self, reason: str = "commanded") -> None:
        if self._stopped:
            return
        self._stopped = True
        self.events.emit("SHUTDOWN", reason=reason)
        for task in self._tasks:
            task.cancel()
        for component in reversed(self.components):
            await component.stop()
        self.flush_sequence_counters()
