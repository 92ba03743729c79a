"""PUS 19 event-action (ECSS-E-ST-70-41C section 6.19): a TC run on board when an event occurs.

The service hears every event occurrence on the software bus topic ``event`` (published by the
event service as ``(event id, name, args)``, whether or not its report is enabled for the ground).
A definition is ``[action_id, event_id, qualifier, tc_bytes]`` in CBOR: ``tc_bytes`` is a whole
packed PusTc for this APID, as ECSS has it; ``qualifier`` is null (every occurrence) or a map of
event arguments that must all be equal in the occurrence, e.g. ``{"pmon": 7}`` to act on one PUS 12
monitoring definition's MONITOR_VIOLATION only. Because several definitions may then share an event
id, each has its own ``action_id`` (ECSS names a definition by its event id alone).

- 19,1 add ``[definition, ...]`` (added disabled, all or nothing). 19,2 delete ``[action_id, ...]``
  (each must be disabled). 19,3 delete all. 19,4 / 19,5 enable / disable ``[action_id, ...]``.
- 19,6 report status -> TM 19,7 ``[[action_id, event_id, enabled, triggers], ...]``.
- 19,8 / 19,9 enable / disable the event-action function.
- 19,10 report definitions ``[action_id, ...]`` (empty or no data: all) -> TM 19,11
  ``[[action_id, event_id, qualifier, tc_bytes, enabled], ...]``.

A triggered TC is submitted through the commands role, so it is verified (PUS 1) like any other,
and EVENT_ACTION_TRIGGERED reports it. Loop guard (an action whose command emits its own trigger
event again): a definition triggers at most once per ``event_action_min_interval_s`` (parameter,
default 1 s) and the service runs at most ``MAX_TRIGGERS_PER_S`` actions in any second; a held-back
trigger is counted and reported once per streak (EVENT_ACTION_THROTTLED). The service's own events
cannot be bound. Definitions and enable states are kept in the store (durably) on every change.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, TelemetryDef
from fsw.core.errors import CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import PusTc
from fsw.services.events import EVENT_TOPIC

STORE_KEY = "event_action"
MAX_DEFINITIONS = 128
MAX_ID = 0xFFFF
MAX_TRIGGERS_PER_S = 10
EVENT_DEPTH = 256
LISTING_OVERHEAD = 64


@dataclass
class Action:
    action_id: int
    event_id: int
    qualifier: dict[str, Any] | None
    tc_bytes: bytes
    enabled: bool = False
    triggers: int = 0
    last: float | None = None  # monotonic time of the last trigger
    throttled: bool = False  # a held-back trigger was reported since the last trigger

    def to_cbor(self) -> list[Any]:
        return [self.action_id, self.event_id, self.qualifier, self.tc_bytes]

    def matches(self, event_id: int, args: dict[str, Any]) -> bool:
        if event_id != self.event_id:
            return False
        return self.qualifier is None or all(key in args and args[key] == value
                                             for key, value in self.qualifier.items())


class EventActionService(Component):
    name = "eventaction"
    reported_in = 14
    telemetry = (
        TelemetryDef("evact_enabled", "bool", "", "event-action function enabled"),
        TelemetryDef("evact_definitions", "u16", "", "event-action definitions"),
        TelemetryDef("evact_triggered", "u32", "", "actions submitted since boot"),
        TelemetryDef("evact_throttled", "u32", "", "triggers held back by the loop guard since boot"),
    )
    events = (
        EventDef(0x1301, "EVENT_ACTION_TRIGGERED", Severity.INFO,
                 "event {name} triggered action {action}: TC {service},{subtype} {verdict}"),
        EventDef(0x1302, "EVENT_ACTION_THROTTLED", Severity.MEDIUM,
                 "action {action} on event {name} held back: {reason}"),
        EventDef(0x1303, "EVENT_ACTION_CHANGED", Severity.INFO, "event-action {change}: {count} definitions"),
    )
    parameters = (
        ParameterDef(0x1301, "event_action_min_interval_s", "f64", 1.0,
                     "shortest time between two triggers of one event-action definition", 0.0, 86_400.0, unit="s"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.known_events: dict[int, str] = {}
        self.actions: dict[int, Action] = {}
        self.enabled = True
        self.triggered = 0
        self.throttled = 0
        self.recent: deque[float] = deque()
        self._task: asyncio.Task[None] | None = None

    def register_component(self, component: Component) -> None:
        for event in component.event_defs():
            self.known_events[event.id] = event.name

    # --- persistence -------------------------------------------------------------------------
    def _load(self) -> None:
        stored = self.ctx.store.get(STORE_KEY)
        if not isinstance(stored, dict):
            return
        self.enabled = bool(stored.get("enabled", True))
        for item in stored.get("definitions", []):
            try:
                action = self._parse(item[:4])
                action.enabled = bool(item[4])
            except (CommandRejected, TypeError, LookupError, ValueError):
                continue  # an event this build no longer declares, say
            self.actions[action.action_id] = action

    def _persist(self) -> None:
        self.ctx.store.put(STORE_KEY, {
            "enabled": self.enabled,
            "definitions": [[*a.to_cbor(), a.enabled] for a in self.actions.values()],
        })

    def _changed(self, change: str) -> None:
        self._persist()
        self.emit("EVENT_ACTION_CHANGED", change=change, count=len(self.actions))

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._load()
        subscription = self.ctx.bus.subscribe(EVENT_TOPIC, depth=EVENT_DEPTH)
        self._task = self.ctx.tasks.spawn("eventaction", lambda: self._follow(subscription))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def housekeeping(self) -> dict[str, Any]:
        return {"evact_enabled": self.enabled, "evact_definitions": len(self.actions),
                "evact_triggered": self.triggered, "evact_throttled": self.throttled}

    async def _follow(self, subscription: Any) -> None:
        while True:
            event_id, name, args = await subscription.get()
            if self.enabled:
                for action in [a for a in self.actions.values() if a.enabled and a.matches(event_id, args)]:
                    self._trigger(action, name)

    def _trigger(self, action: Action, name: str) -> None:
        now = self.clock.monotonic()
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        reason = ""
        if action.last is not None and now - action.last < float(self.param("event_action_min_interval_s")):
            reason = "triggered again within event_action_min_interval_s"
        elif len(self.recent) >= MAX_TRIGGERS_PER_S:
            reason = f"more than {MAX_TRIGGERS_PER_S} actions in a second"
        if reason:
            self.throttled += 1
            if not action.throttled:
                action.throttled = True
                self.emit("EVENT_ACTION_THROTTLED", action=action.action_id, name=name, reason=reason)
            return
        action.last, action.throttled = now, False
        action.triggers += 1
        self.triggered += 1
        self.recent.append(now)
        tc = PusTc.unpack(action.tc_bytes)
        self.emit("EVENT_ACTION_TRIGGERED", action=action.action_id, name=name, service=tc.service,
                  subtype=tc.subtype, verdict="submitted")
        self.ctx.commands.submit(tc, origin="event-action")

    # --- definitions from requests -------------------------------------------------------------
    def _parse(self, item: Any) -> Action:
        if not isinstance(item, list) or len(item) != 4:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "a definition is [action_id, event_id, qualifier, tc]")
        action_id, event_id, qualifier, tc_bytes = item
        for value, what in ((action_id, "action id"), (event_id, "event id")):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
                raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"{what} {value!r} is not an integer 0..{MAX_ID}")
        if event_id not in self.known_events:
            raise CommandRejected(FailureCode.UNKNOWN_EVENT, f"no event 0x{event_id:04X}", [event_id])
        if self.known_events[event_id] in {event.name for event in self.events}:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "the event-action service's own events cannot be bound")
        if qualifier is not None and not (isinstance(qualifier, dict) and all(isinstance(k, str) for k in qualifier)):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "qualifier must be null or a map of event arguments")
        if not isinstance(tc_bytes, bytes):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "the action must be a CBOR byte string (a packed TC)")
        try:
            tc = PusTc.unpack(tc_bytes)
        except PacketError as error:
            raise CommandRejected(error.code, f"action TC: {error.message}") from error
        if tc.apid != self.ctx.telemetry.apid:
            raise CommandRejected(FailureCode.UNKNOWN_APID, f"action TC for APID {tc.apid}")
        return Action(action_id, event_id, qualifier, tc_bytes)

    def _ids(self, tc: PusTc, allow_empty: bool = False) -> list[int]:
        ids = appdata.decode(tc.app_data) if tc.app_data or not allow_empty else []
        if not isinstance(ids, list) or (not ids and not allow_empty) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, f"19,{tc.subtype} takes a CBOR list of action ids")
        unknown = [i for i in ids if i not in self.actions]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_DEFINITION, f"no event-action definition {unknown}", unknown)
        return ids

    # --- PUS 19 requests ---------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {
            (19, 1): self._add, (19, 2): self._delete, (19, 3): self._delete_all, (19, 4): self._enable,
            (19, 5): self._disable, (19, 6): self._report_status, (19, 8): self._enable_function,
            (19, 9): self._disable_function, (19, 10): self._report_definitions,
        }

    def _add(self, tc: PusTc) -> Any:
        items = appdata.decode(tc.app_data)
        if not isinstance(items, list) or not items:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "19,1 takes a CBOR list of definitions")
        parsed = [self._parse(item) for item in items]
        ids = [a.action_id for a in parsed]
        taken = sorted({i for i in ids if i in self.actions or ids.count(i) > 1})
        if taken:
            raise CommandRejected(FailureCode.DEFINITION_EXISTS, f"action ids in use: {taken}", taken)
        if len(self.actions) + len(parsed) > MAX_DEFINITIONS:
            raise CommandRejected(FailureCode.DEFINITIONS_FULL, f"at most {MAX_DEFINITIONS} definitions")

        def apply() -> None:
            self.actions.update({a.action_id: a for a in parsed})
            self._changed(f"{len(parsed)} added")

        return apply

    def _delete(self, tc: PusTc) -> Any:
        ids = self._ids(tc)
        enabled = [i for i in ids if self.actions[i].enabled]
        if enabled:
            raise CommandRejected(FailureCode.DEFINITION_ENABLED, f"disable first: {enabled}", enabled)

        def apply() -> None:
            for action_id in ids:
                self.actions.pop(action_id, None)
            self._changed(f"{len(ids)} deleted")

        return apply

    def _delete_all(self, tc: PusTc) -> Any:
        _no_data(tc)

        def apply() -> None:
            self.actions.clear()
            self._changed("all deleted")

        return apply

    def _set_enabled(self, tc: PusTc, enabled: bool) -> Any:
        ids = self._ids(tc)

        def apply() -> None:
            for action_id in ids:
                self.actions[action_id].enabled = enabled
            self._changed(f"{len(ids)} {'enabled' if enabled else 'disabled'}")

        return apply

    def _enable(self, tc: PusTc) -> Any:
        return self._set_enabled(tc, True)

    def _disable(self, tc: PusTc) -> Any:
        return self._set_enabled(tc, False)

    def _set_function(self, tc: PusTc, enabled: bool) -> Any:
        _no_data(tc)

        def apply() -> None:
            self.enabled = enabled
            self._changed(f"function {'enabled' if enabled else 'disabled'}")

        return apply

    def _enable_function(self, tc: PusTc) -> Any:
        return self._set_function(tc, True)

    def _disable_function(self, tc: PusTc) -> Any:
        return self._set_function(tc, False)

    def _report_status(self, tc: PusTc) -> Any:
        _no_data(tc)

        def send() -> None:
            status = [[a.action_id, a.event_id, a.enabled, a.triggers] for a in self.actions.values()]
            step = 128  # ~16 octets each
            for start in range(0, max(len(status), 1), step):
                self.ctx.telemetry.send(19, 7, status[start:start + step])

        return send

    def _report_definitions(self, tc: PusTc) -> Any:
        ids = self._ids(tc, allow_empty=True) or list(self.actions)

        def send() -> None:
            limit = self.ctx.telemetry.max_packet_size - LISTING_OVERHEAD
            chunk: list[list[Any]] = []
            size = 0
            for action_id in ids:
                action = self.actions.get(action_id)
                if action is None:
                    continue
                item = [*action.to_cbor(), action.enabled]
                item_size = len(appdata.encode(item))
                if chunk and size + item_size > limit:
                    self.ctx.telemetry.send(19, 11, chunk)
                    chunk, size = [], 0
                chunk.append(item)
                size += item_size
            self.ctx.telemetry.send(19, 11, chunk)

        return send


def _no_data(tc: PusTc) -> None:
    if tc.app_data:
        raise CommandRejected(FailureCode.BAD_ARGUMENT, f"{tc.service},{tc.subtype} takes no application data")
