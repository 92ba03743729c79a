"""PUS 5 event reporting: severities info/low/medium/high, an on-board ring buffer the ground can
dump, and enable/disable per event id.

Every occurrence, reported or not, is also published on the software bus topic ``event`` as
``(event id, name, args)``: on-board consumers (PUS 19 event-action) react to what happened,
whatever the ground chose to have reported.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Arg, EventDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc, PusTm

log = logging.getLogger("fsw.events")

EVENT_TOPIC = "event"  # software bus: (event id, name, args) for every occurrence
RING_DEPTH = 512
SUBTYPE_ENABLE = 5
SUBTYPE_DISABLE = 6
SUBTYPE_REPORT_DISABLED = 7
SUBTYPE_DISABLED_LIST = 8
SUBTYPE_LOG_DUMP = 130  # mission-specific: a chunk of the on-board event log
DUMP_CHUNK = 32


class EventService(Component):
    name = "events"
    reported_in = 1
    telemetry = (
        TelemetryDef("events_emitted", "u32", "", "events emitted since boot"),
        TelemetryDef("events_suppressed", "u32", "", "events not reported because their id is disabled"),
        TelemetryDef("events_in_log", "u16", "", "entries in the on-board event log"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.by_name: dict[str, EventDef] = {}
        self.by_id: dict[int, EventDef] = {}
        self.disabled: set[int] = set()
        self.ring: deque[tuple[float, int, dict[str, Any]]] = deque(maxlen=RING_DEPTH)
        self.emitted = 0
        self.suppressed = 0

    def register_component(self, component: Component) -> None:
        self.register(component.event_defs())

    def register(self, definitions: list[EventDef]) -> None:
        for definition in definitions:
            if definition.id in self.by_id or definition.name in self.by_name:
                raise ValueError(f"event {definition.name} ({definition.id}) declared twice")
            self.by_id[definition.id] = definition
            self.by_name[definition.name] = definition

    def emit(self, event: str, /, **args: Any) -> None:
        definition = self.by_name[event]
        now = self.clock.onboard_time()
        self.ring.append((now, definition.id, args))
        self.emitted += 1
        log.log(
            logging.WARNING if definition.severity >= Severity.MEDIUM else logging.INFO,
            "%s %s: %s", definition.severity.name, definition.name, definition.format(args),
        )
        self.ctx.bus.publish(EVENT_TOPIC, (definition.id, definition.name, args))
        if definition.id in self.disabled:
            self.suppressed += 1
            return
        self.ctx.telemetry.send(5, int(definition.severity), [definition.id, args])

    def decode_report(self, raw: bytes) -> tuple[str, dict[str, Any]] | None:
        """``(name, args)`` of an event report this service sent (TM 5,1-4); None for other packets."""
        tm = PusTm.unpack(raw)
        if tm.service != 5 or not 1 <= tm.subtype <= 4:
            return None
        event_id, args = appdata.decode(tm.source_data)
        return self.by_id[event_id].name, args

    def housekeeping(self) -> dict[str, Any]:
        return {"events_emitted": self.emitted, "events_suppressed": self.suppressed, "events_in_log": len(self.ring)}

    # --- PUS 5 requests ----------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {
            (5, SUBTYPE_ENABLE): self._enable,
            (5, SUBTYPE_DISABLE): self._disable,
            (5, SUBTYPE_REPORT_DISABLED): self._report_disabled,
        }

    def _ids(self, tc: PusTc) -> list[int]:
        ids = appdata.decode(tc.app_data)
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "expected a CBOR list of event ids")
        unknown = [i for i in ids if i not in self.by_id]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_EVENT, f"unknown event ids {unknown}", unknown)
        return ids

    def _enable(self, tc: PusTc) -> Any:
        ids = self._ids(tc)
        return lambda: self.disabled.difference_update(ids)

    def _disable(self, tc: PusTc) -> Any:
        ids = self._ids(tc)
        return lambda: self.disabled.update(ids)

    def _report_disabled(self, tc: PusTc) -> Any:
        return lambda: self.ctx.telemetry.send(5, SUBTYPE_DISABLED_LIST, sorted(self.disabled))

    @command(0x0201, Arg("last", "u16", "how many of the newest entries (0: all)", max=RING_DEPTH))
    def cmd_event_log_dump(self, last: int) -> None:
        """Downlink the on-board event log (TM 5,130 chunks of [time, id, args])."""
        entries = list(self.ring)[-last:] if last else list(self.ring)
        for start in range(0, len(entries), DUMP_CHUNK):
            chunk = [[t, event_id, args] for t, event_id, args in entries[start:start + DUMP_CHUNK]]
            self.ctx.telemetry.send(5, SUBTYPE_LOG_DUMP, chunk)

    @command(0x0202)
    def cmd_event_log_clear(self) -> None:
        """Empty the on-board event log."""
        self.ring.clear()

