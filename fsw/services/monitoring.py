"""PUS 12 on-board parameter monitoring (ECSS-E-ST-70-41C section 6.12).

A definition (PMON) checks one housekeeping point at its own interval. Values come from the HK
reports themselves: the service listens to every TM on the bus topic ``tm`` and keeps the latest
value of each point from the 3,25 reports (CBOR ``[sid, {point: value}]``), so it never reads
another component's state. A check needs a sample newer than the one the previous check used; a
point with no sample for ``max(10 intervals, 30 s)`` (outside dormancy) is INVALID.

Application data (CBOR). A definition is ``[pmon_id, point, interval_s, repetition, check]``:

- ``check`` ``["limit", low, high]``: BELOW_LOW_LIMIT if value < low, ABOVE_HIGH_LIMIT if value >
  high, else WITHIN_LIMITS (either bound may be null);
- ``["expected", value, mask]``: EXPECTED_VALUE if ``sample & mask == value`` (mask null: plain
  equality, for any CBOR scalar, enum names included), else UNEXPECTED_VALUE;
- ``["delta", low, high]``: the change since the previous check against the thresholds:
  BELOW_LOW_THRESHOLD, ABOVE_HIGH_THRESHOLD or WITHIN_THRESHOLDS.

A non-numeric sample for a limit or delta check is INVALID; a definition not checked yet, or
disabled, is UNCHECKED. The state changes when ``repetition`` consecutive checks agree.

- 12,1 / 12,2 enable / disable definitions ``[pmon_id, ...]`` (disabling sets UNCHECKED).
- 12,3 change the maximum transition reporting delay: seconds (0..3600).
- 12,4 delete all definitions. 12,5 add ``[definition, ...]`` (added disabled, as ECSS has it;
  all or nothing). 12,6 delete ``[pmon_id, ...]`` (each must be disabled). 12,7 modify
  ``[definition, ...]`` (same id and point; the check restarts from UNCHECKED).
- 12,8 report definitions ``[pmon_id, ...]`` (empty or no data: all) -> TM 12,9
  ``[max_delay_s, [[pmon_id, point, interval_s, repetition, check, enabled], ...]]``.
- 12,12 check transition report (TM, within the maximum reporting delay of the first transition
  it carries): ``[[pmon_id, point, value, limit, old_state, new_state, onboard_time], ...]``,
  ``limit`` being the bound crossed or the expected value (null otherwise).
- 12,13 report status -> TM 12,14 ``[[pmon_id, enabled, state], ...]``.
- 12,15 / 12,16 enable / disable the monitoring function.

Entering a violation state emits MONITOR_VIOLATION, leaving one MONITOR_RECOVERED, both carrying
``pmon``, ``point``, ``old``, ``new`` and ``value``: PUS 19 binds an action to a definition by
matching the event's arguments (``{"pmon": 7}``), so no event id has to be reserved per
definition (event ids are declarations, fixed when the software is built).

Defaults: at first boot (and for points a new build adds) every point with red limits gets an
enabled limit definition and every point with yellow limits a disabled one, ids from 0x8000, 1 s
interval, 3 repetitions. Definitions, enable states, the function state and the delay are kept in
the store (durably) on every change; a point's defaults are made once, so deleting one sticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Limits, Severity, TelemetryDef
from fsw.core.errors import CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.services.housekeeping import HK_TOPIC
from fsw.services.pmon_checks import INVALID, UNCHECKED, VIOLATIONS, Check, number

STORE_KEY = "monitoring"
MAX_DEFINITIONS = 256
DEFAULT_ID_BASE = 0x8000
MAX_ID = 0xFFFF
DEFAULT_INTERVAL_S = 1.0
DEFAULT_REPETITION = 3
DEFAULT_MAX_DELAY_S = 1.0
MAX_DELAY_LIMIT_S = 3600.0
MIN_INTERVAL_S, MAX_INTERVAL_S = 0.05, 86_400.0
MAX_REPETITION = 255
STALE_INTERVALS, STALE_MIN_S = 10, 30.0
TRANSITIONS_PER_REPORT = 32
LISTING_OVERHEAD = 64
HK_DEPTH = 256  # housekeeping reports waiting to be read; a full pipe drops (and counts) the newest

@dataclass
class Definition:
    pmon: int
    point: str
    interval: float
    repetition: int
    check: Check
    enabled: bool = False
    state: str = UNCHECKED
    candidate: str | None = None
    count: int = 0
    next_due: float = 0.0
    seen: int = 0  # serial of the sample the last check used
    previous: Any = None  # that sample's value (delta checks)

    def to_cbor(self) -> list[Any]:
        return [self.pmon, self.point, self.interval, self.repetition, self.check.to_cbor()]

    def reset(self) -> None:
        self.state, self.candidate, self.count, self.previous = UNCHECKED, None, 0, None


class MonitoringService(Component):
    name = "monitor"
    hk_structure = 14
    telemetry = (
        TelemetryDef("pmon_enabled", "bool", "", "parameter monitoring function enabled"),
        TelemetryDef("pmon_definitions", "u16", "", "monitoring definitions"),
        TelemetryDef("pmon_active", "u16", "", "monitoring definitions enabled"),
        TelemetryDef("pmon_violations", "u16", "", "definitions in a violation state now"),
        TelemetryDef("pmon_transitions", "u32", "", "check transitions since boot"),
    )
    events = (
        EventDef(0x0E01, "MONITOR_VIOLATION", Severity.MEDIUM,
                 "monitor {pmon}: {point} = {value} is {new} (was {old})"),
        EventDef(0x0E02, "MONITOR_RECOVERED", Severity.INFO, "monitor {pmon}: {point} = {value} is {new} (was {old})"),
        EventDef(0x0E03, "MONITOR_CHANGED", Severity.INFO, "parameter monitoring {change}: {count} definitions"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.points: dict[str, TelemetryDef] = {}
        self.definitions: dict[int, Definition] = {}
        self.enabled = True
        self.max_delay = DEFAULT_MAX_DELAY_S
        self.seeded: set[str] = set()
        self.samples: dict[str, tuple[Any, float, int]] = {}  # point: (value, monotonic time, serial)
        self.serial = 0
        self.transitions = 0
        self.pending: list[list[Any]] = []
        self.dormant = False
        self._flush: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def register_component(self, component: Component) -> None:
        for point in component.telemetry_defs():
            self.points[point.name] = point

    def dormancy_changed(self, dormant: bool) -> None:
        self.dormant = dormant

    # --- persistence -------------------------------------------------------------------------
    def _load(self) -> None:
        stored = self.ctx.store.get(STORE_KEY)
        if isinstance(stored, dict):
            self.enabled = bool(stored.get("enabled", True))
            self.max_delay = float(stored.get("max_delay", DEFAULT_MAX_DELAY_S))
            self.seeded = set(stored.get("seeded", []))
            for item in stored.get("definitions", []):
                with contextlib.suppress(TypeError, LookupError, ValueError):
                    definition = self._parse(item[:5], known_point=False)
                    definition.enabled = bool(item[5])
                    self.definitions[definition.pmon] = definition
        if self._seed_defaults():
            self._persist()

    def _seed_defaults(self) -> bool:
        """Definitions from the dictionary's red (enabled) and yellow (disabled) limits, once per point."""
        added = False
        next_id = max([DEFAULT_ID_BASE - 1, *self.definitions]) + 1
        for point in sorted(self.points.values(), key=lambda p: (p.structure, p.name)):
            if point.name in self.seeded:
                continue
            self.seeded.add(point.name)
            for limits, enabled in ((point.red, True), (point.yellow, False)):
                if limits is None or len(self.definitions) >= MAX_DEFINITIONS or next_id > MAX_ID:
                    continue
                self.definitions[next_id] = _limit_definition(next_id, point.name, limits, enabled)
                next_id += 1
                added = True
        return added

    def _persist(self) -> None:
        self.ctx.store.put(STORE_KEY, {
            "enabled": self.enabled, "max_delay": self.max_delay, "seeded": sorted(self.seeded),
            "definitions": [[*d.to_cbor(), d.enabled] for d in self.definitions.values()],
        })

    def _changed(self, change: str) -> None:
        self._persist()
        self.emit("MONITOR_CHANGED", change=change, count=len(self.definitions))
        self._wake.set()

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._load()
        subscription = self.ctx.bus.subscribe(HK_TOPIC, depth=HK_DEPTH)
        tasks = self.ctx.tasks
        self._tasks = [tasks.spawn("monitor_samples", lambda: self._follow_tm(subscription)),
                       tasks.spawn("monitor", self._check_loop)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._flush is not None:
            self._flush.cancel()

    def housekeeping(self) -> dict[str, Any]:
        definitions = self.definitions.values()
        return {
            "pmon_enabled": self.enabled, "pmon_definitions": len(self.definitions),
            "pmon_active": sum(d.enabled for d in definitions),
            "pmon_violations": sum(d.state in VIOLATIONS for d in definitions),
            "pmon_transitions": self.transitions,
        }

    async def _follow_tm(self, subscription: Any) -> None:
        while True:
            _, values = await subscription.get()
            now = self.clock.monotonic()
            for point, value in values.items():
                self.serial += 1
                self.samples[point] = (value, now, self.serial)
            self._wake.set()

    async def _check_loop(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock.monotonic()
            active = [d for d in self.definitions.values() if d.enabled] if self.enabled else []
            for definition in active:
                if definition.next_due <= now + 1e-9:
                    self._check(definition, now)
                    # Keep the grid, unless it is far behind (just enabled, or loaded from the store).
                    if definition.next_due < now - definition.interval:
                        definition.next_due = now
                    while definition.next_due <= now + 1e-9:
                        definition.next_due += definition.interval
            if self.pending and self.max_delay == 0:
                self._send_transitions()
            # Wake for a new HK sample or a point turning stale, not every interval: quiet days cost no wall time.
            wake = min((self._next_wake(d) for d in active), default=math.inf)
            timeout = None if math.isinf(wake) else max(0.0, wake - self.clock.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _next_wake(self, definition: Definition) -> float:
        """When this definition next needs a look: its next check if a new sample waits, else when
        its point turns stale (never while dormant, before its first sample, or once stale)."""
        sample = self.samples.get(definition.point)
        if sample is not None and sample[2] != definition.seen:
            return definition.next_due
        if sample is None:
            return math.inf if definition.state == UNCHECKED else definition.next_due
        if self.dormant or definition.state == INVALID:
            return math.inf  # already judged stale: the next sample wakes it
        stale_after = max(STALE_INTERVALS * definition.interval, STALE_MIN_S)
        return max(definition.next_due, sample[1] + stale_after + 1e-6)

    def _check(self, definition: Definition, now: float) -> None:
        sample = self.samples.get(definition.point)
        stale_after = max(STALE_INTERVALS * definition.interval, STALE_MIN_S)
        value: Any = None
        if sample is None or sample[2] == definition.seen:
            if self.dormant or (sample is not None and now - sample[1] <= stale_after) or (
                    sample is None and definition.state == UNCHECKED):
                return  # nothing new to check yet
            verdict: str | None = INVALID
            definition.previous = None
        else:
            value, _, definition.seen = sample
            verdict = definition.check.evaluate(value, definition.previous)
            definition.previous = value
        if verdict is None:
            return
        if verdict == definition.state:
            definition.candidate, definition.count = None, 0
            return
        if verdict != definition.candidate:
            definition.candidate, definition.count = verdict, 0
        definition.count += 1
        if definition.count >= definition.repetition:
            self._transition(definition, verdict, value)

    def _transition(self, definition: Definition, new: str, value: Any) -> None:
        old, definition.state = definition.state, new
        definition.candidate, definition.count = None, 0
        self.transitions += 1
        args = {"pmon": definition.pmon, "point": definition.point, "old": old, "new": new, "value": value}
        if new in VIOLATIONS:
            self.emit("MONITOR_VIOLATION", **args)
        elif old in VIOLATIONS:
            self.emit("MONITOR_RECOVERED", **args)
        self.pending.append([definition.pmon, definition.point, value, definition.check.limit(new), old, new,
                             self.clock.onboard_time()])
        if len(self.pending) >= TRANSITIONS_PER_REPORT:
            self._send_transitions()
        elif self._flush is None and self.max_delay > 0:
            self._flush = asyncio.get_running_loop().call_later(self.max_delay, self._send_transitions)

    def _send_transitions(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self.pending:
            self.ctx.telemetry.send(12, 12, self.pending)
            self.pending = []

    # --- definitions from requests -------------------------------------------------------------
    def _parse(self, item: Any, known_point: bool = True) -> Definition:
        if not isinstance(item, list) or len(item) != 5:
            raise ValueError("a definition is [pmon_id, point, interval_s, repetition, check]")
        pmon, point, interval, repetition, check = item
        if isinstance(pmon, bool) or not isinstance(pmon, int) or not 0 <= pmon <= MAX_ID:
            raise ValueError(f"pmon id {pmon!r} is not an integer 0..{MAX_ID}")
        if not isinstance(point, str):
            raise ValueError("point must be a telemetry point name")
        if known_point and point not in self.points:
            raise LookupError(point)
        if isinstance(interval, bool) or not number(interval) or not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
            raise ValueError(f"interval {interval!r} outside {MIN_INTERVAL_S}..{MAX_INTERVAL_S} s")
        if isinstance(repetition, bool) or not isinstance(repetition, int) or not 1 <= repetition <= MAX_REPETITION:
            raise ValueError(f"repetition {repetition!r} outside 1..{MAX_REPETITION}")
        return Definition(pmon, point, float(interval), repetition, Check.parse(check))

    def _definitions(self, tc: PusTc) -> list[Definition]:
        items = appdata.decode(tc.app_data)
        if not isinstance(items, list) or not items:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, f"12,{tc.subtype} takes a CBOR list of definitions")
        parsed = []
        for index, item in enumerate(items):
            try:
                parsed.append(self._parse(item))
            except LookupError as error:
                raise CommandRejected(FailureCode.UNKNOWN_POINT, f"definition {index}: no point {error}",
                                      [str(error.args[0])]) from error
            except ValueError as error:
                raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"definition {index}: {error}") from error
        ids = [d.pmon for d in parsed]
        if len(set(ids)) != len(ids):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "a pmon id appears twice in the request")
        return parsed

    def _ids(self, tc: PusTc, allow_empty: bool = False) -> list[int]:
        ids = appdata.decode(tc.app_data) if tc.app_data or not allow_empty else []
        if not isinstance(ids, list) or (not ids and not allow_empty) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, f"12,{tc.subtype} takes a CBOR list of pmon ids")
        unknown = [i for i in ids if i not in self.definitions]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_DEFINITION, f"no monitoring definition {unknown}", unknown)
        return ids

    # --- PUS 12 requests ---------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {
            (12, 1): self._enable, (12, 2): self._disable, (12, 3): self._change_delay, (12, 4): self._delete_all,
            (12, 5): self._add, (12, 6): self._delete, (12, 7): self._modify, (12, 8): self._report_definitions,
            (12, 13): self._report_status, (12, 15): self._enable_function, (12, 16): self._disable_function,
        }

    def _set_enabled(self, tc: PusTc, enabled: bool) -> Any:
        ids = self._ids(tc)

        def apply() -> None:
            now = self.clock.monotonic()
            for pmon in ids:
                definition = self.definitions[pmon]
                if definition.enabled != enabled:
                    definition.reset()
                    definition.enabled, definition.next_due = enabled, now
            self._changed(f"{len(ids)} {'enabled' if enabled else 'disabled'}")

        return apply

    def _enable(self, tc: PusTc) -> Any:
        return self._set_enabled(tc, True)

    def _disable(self, tc: PusTc) -> Any:
        return self._set_enabled(tc, False)

    def _change_delay(self, tc: PusTc) -> Any:
        delay = appdata.decode(tc.app_data)
        if isinstance(delay, bool) or not number(delay) or not 0 <= delay <= MAX_DELAY_LIMIT_S:
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"delay {delay!r} outside 0..{MAX_DELAY_LIMIT_S} s")

        def apply() -> None:
            self.max_delay = float(delay)
            self._changed(f"maximum reporting delay {delay} s")

        return apply

    def _delete_all(self, tc: PusTc) -> Any:
        _no_data(tc)

        def apply() -> None:
            self.definitions.clear()
            self._changed("all deleted")

        return apply

    def _add(self, tc: PusTc) -> Any:
        parsed = self._definitions(tc)
        taken = [d.pmon for d in parsed if d.pmon in self.definitions]
        if taken:
            raise CommandRejected(FailureCode.DEFINITION_EXISTS, f"pmon ids in use: {taken}", taken)
        if len(self.definitions) + len(parsed) > MAX_DEFINITIONS:
            raise CommandRejected(FailureCode.DEFINITIONS_FULL, f"at most {MAX_DEFINITIONS} definitions")

        def apply() -> None:
            self.definitions.update({d.pmon: d for d in parsed})
            self._changed(f"{len(parsed)} added")

        return apply

    def _delete(self, tc: PusTc) -> Any:
        ids = self._ids(tc)
        enabled = [pmon for pmon in ids if self.definitions[pmon].enabled]
        if enabled:
            raise CommandRejected(FailureCode.DEFINITION_ENABLED, f"disable first: {enabled}", enabled)

        def apply() -> None:
            for pmon in ids:
                self.definitions.pop(pmon, None)
            self._changed(f"{len(ids)} deleted")

        return apply

    def _modify(self, tc: PusTc) -> Any:
        parsed = self._definitions(tc)
        unknown = [d.pmon for d in parsed if d.pmon not in self.definitions]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_DEFINITION, f"no monitoring definition {unknown}", unknown)
        moved = [d.pmon for d in parsed if d.point != self.definitions[d.pmon].point]
        if moved:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, f"a modification keeps the point: {moved}", moved)

        def apply() -> None:
            now = self.clock.monotonic()
            for definition in parsed:
                definition.enabled, definition.next_due = self.definitions[definition.pmon].enabled, now
                self.definitions[definition.pmon] = definition
            self._changed(f"{len(parsed)} modified")

        return apply

    def _report_definitions(self, tc: PusTc) -> Any:
        ids = self._ids(tc, allow_empty=True) or list(self.definitions)

        def send() -> None:
            limit = self.ctx.telemetry.max_packet_size - LISTING_OVERHEAD
            chunk: list[list[Any]] = []
            size = 0
            for pmon in ids:
                definition = self.definitions.get(pmon)
                if definition is None:
                    continue
                item = [*definition.to_cbor(), definition.enabled]
                item_size = len(appdata.encode(item))
                if chunk and size + item_size > limit:
                    self.ctx.telemetry.send(12, 9, [self.max_delay, chunk])
                    chunk, size = [], 0
                chunk.append(item)
                size += item_size
            self.ctx.telemetry.send(12, 9, [self.max_delay, chunk])

        return send

    def _report_status(self, tc: PusTc) -> Any:
        _no_data(tc)

        def send() -> None:
            status = [[d.pmon, d.enabled, d.state] for d in self.definitions.values()]
            step = 64  # ~40 octets each: well inside a packet
            for start in range(0, max(len(status), 1), step):
                self.ctx.telemetry.send(12, 14, status[start:start + step])

        return send

    def _set_function(self, tc: PusTc, enabled: bool) -> Any:
        _no_data(tc)

        def apply() -> None:
            if enabled != self.enabled:
                now = self.clock.monotonic()
                for definition in self.definitions.values():
                    definition.reset()
                    definition.next_due = now
            self.enabled = enabled
            self._changed(f"function {'enabled' if enabled else 'disabled'}")

        return apply

    def _enable_function(self, tc: PusTc) -> Any:
        return self._set_function(tc, True)

    def _disable_function(self, tc: PusTc) -> Any:
        return self._set_function(tc, False)


def _limit_definition(pmon: int, point: str, limits: Limits, enabled: bool) -> Definition:
    return Definition(pmon, point, DEFAULT_INTERVAL_S, DEFAULT_REPETITION, Check("limit", limits.low, limits.high),
                      enabled=enabled)


def _no_data(tc: PusTc) -> None:
    if tc.app_data:
        raise CommandRejected(FailureCode.BAD_ARGUMENT, f"{tc.service},{tc.subtype} takes no application data")
