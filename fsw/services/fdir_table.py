"""The on-board fault protection table: default PUS 12 monitoring definitions, stored sequences
(service 150) and PUS 19 event-actions that are part of the flight software's own configuration.

The table is loaded by the flight software itself, through the very requests the ground would send
(150,1; 12,5 then 12,1; 19,1 then 19,4), each verified by PUS 1 like any TC. So the defaults are
ordinary definitions: listed by 12,8 / 19,10 / 150,2, changed, disabled or deleted by the ground
with the same subtypes, and kept in the store by their services.

Each entry is loaded once, at the first boot that can load it, and remembered in the store (key
``fdir_table``): a definition the ground deleted stays deleted, and an entry a new build adds is
loaded at its first boot. An entry whose point, event or commands this vehicle lacks (no mission
hardware, say) is left for a boot that has them, and so is an action that starts one of the
table's sequences left so. A request that fails is reported
(FDIR_ENTRY_FAILED) and not repeated: a definition the ground made under the same id wins.

The TCs inside event-actions and sequence steps are packed with sequence counts from
``EMBEDDED_SEQ_BASE`` (one per TC, in table order) and the loader's own requests from
``LOADER_SEQ_BASE``: the top of the 14-bit range, away from a ground counter that starts at 0
(verification reports are matched by request id).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from fsw.core.bus import Subscription
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Severity, TelemetryDef
from fsw.protocol import appdata
from fsw.protocol.errors import PacketError
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm
from fsw.protocol.verification import FAILURE_SUBTYPES, Subtype, VerificationReport

STORE_KEY = "fdir_table"
EMBEDDED_SEQ_BASE = 0x3E00
LOADER_SEQ_BASE = 0x3F00
REQUEST_TIMEOUT_S = 10.0
TM_DEPTH = 1024


@dataclass(frozen=True)
class Command:
    """A command by name, as the ground writes it (packed for the vehicle when the table is loaded)."""

    name: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Monitor:
    """A PUS 12 definition: ``check`` is ``("limit", low, high)``, ``("expected", value, mask)`` or
    ``("delta", low, high)``."""

    pmon: int
    point: str
    interval_s: float
    repetition: int
    check: tuple[Any, Any, Any]
    enabled: bool = True


@dataclass(frozen=True)
class Step:
    delay_s: float
    command: Command
    condition: tuple[str, str, Any, float] | None = None  # (point, op, value, timeout_s)


@dataclass(frozen=True)
class StoredSequence:
    name: str
    steps: tuple[Step, ...]
    resumable: bool = False


@dataclass(frozen=True)
class EventAction:
    """A PUS 19 definition: on ``event`` (by name) whose arguments match ``qualifier``, run ``command``."""

    action_id: int
    event: str
    qualifier: tuple[tuple[str, Any], ...] | None
    command: Command
    enabled: bool = True


@dataclass(frozen=True)
class FaultProtectionTable:
    monitors: tuple[Monitor, ...] = ()
    sequences: tuple[StoredSequence, ...] = ()
    actions: tuple[EventAction, ...] = ()

    def __add__(self, other: FaultProtectionTable) -> FaultProtectionTable:
        """Both tables' entries, this one's first (the TCs' sequence counts follow table order, so
        appending a table leaves those of the entries before it as they were)."""
        return FaultProtectionTable(self.monitors + other.monitors, self.sequences + other.sequences,
                                    self.actions + other.actions)


class FaultProtectionLoader(Component):
    name = "fdir"
    reported_in = 14
    telemetry = (
        TelemetryDef("fdir_entries_loaded", "u16", "", "fault protection table entries loaded on board (ever)"),
    )
    events = (
        EventDef(0x1D01, "FDIR_TABLE_LOADED", Severity.INFO,
                 "fault protection table: {count} entries loaded: {entries}"),
        EventDef(0x1D02, "FDIR_ENTRY_FAILED", Severity.MEDIUM,
                 "fault protection entry {entry} not loaded: {reason} (code {code})"),
    )

    def __init__(self, ctx: Context, table: FaultProtectionTable) -> None:
        super().__init__(ctx)
        self.table = table
        self.commands: dict[str, int] = {}  # name -> opcode, of every component
        self.event_ids: dict[str, int] = {}
        self.points: set[str] = set()
        self.loaded: set[str] = set()
        self._pending: dict[int, asyncio.Future[VerificationReport]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: Subscription | None = None
        self._embedded = {id(tc_owner): EMBEDDED_SEQ_BASE + index for index, tc_owner in enumerate(self._owners())}
        self._loader_count = 0

    def _owners(self) -> list[Any]:
        """Every table item that carries a TC, in table order (their TCs' sequence counts)."""
        return [step for sequence in self.table.sequences for step in sequence.steps] + list(self.table.actions)

    def register_component(self, component: Component) -> None:
        self.commands.update({definition.name: definition.opcode for definition in component.command_defs()})
        self.event_ids.update({event.name: event.id for event in component.event_defs()})
        self.points.update(point.name for point in component.telemetry_defs())

    def housekeeping(self) -> dict[str, Any]:
        return {"fdir_entries_loaded": len(self.loaded)}

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        stored = self.ctx.store.get(STORE_KEY)
        if isinstance(stored, dict):
            self.loaded = {str(key) for key in stored.get("loaded", [])}
        if not self._loadable():
            return
        self._subscription = self.ctx.bus.subscribe("tm", depth=TM_DEPTH)
        loop = asyncio.get_running_loop()
        listener = loop.create_task(self._listen(self._subscription), name="fdir_verification")
        self._tasks = [listener, loop.create_task(self._load(listener), name="fdir_table")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        if self._subscription is not None:
            self.ctx.bus.unsubscribe(self._subscription)
            self._subscription = None

    def _loadable(self) -> list[tuple[str, Any]]:
        """(key, entry) of the entries not loaded yet whose point, event and commands this vehicle has."""
        entries: list[tuple[str, Any]] = []
        sequences = set()  # the table's sequences this vehicle holds, or will once loaded
        for sequence in self.table.sequences:
            if all(step.command.name in self.commands for step in sequence.steps):
                entries.append((f"sequence:{sequence.name}", sequence))
                sequences.add(sequence.name)
        table_sequences = {sequence.name for sequence in self.table.sequences}
        for monitor in self.table.monitors:
            if monitor.point in self.points:
                entries.append((f"pmon:0x{monitor.pmon:04X}", monitor))
        for action in self.table.actions:
            command = action.command
            # An action that starts one of the table's sequences waits for that sequence.
            starts = command.args[0] if command.name == "SEQ_START" and command.args else None
            if starts in table_sequences and starts not in sequences:
                continue
            if action.event in self.event_ids and command.name in self.commands:
                entries.append((f"action:0x{action.action_id:04X}", action))
        return [(key, entry) for key, entry in entries if key not in self.loaded]

    async def _load(self, listener: asyncio.Task[None]) -> None:
        await asyncio.sleep(0)  # every component has started: the services hold their stored definitions
        done = []
        try:
            for key, entry in self._loadable():
                if await self._load_entry(key, entry):
                    done.append(key)
                self.loaded.add(key)
                self.ctx.store.put(STORE_KEY, {"loaded": sorted(self.loaded)})
        finally:
            listener.cancel()
            self._unsubscribe()
        if done:
            self.emit("FDIR_TABLE_LOADED", count=len(done), entries=", ".join(done))

    async def _load_entry(self, key: str, entry: Any) -> bool:
        if isinstance(entry, StoredSequence):
            steps = [[step.delay_s, self._pack(step.command, step), *([list(step.condition)] if step.condition else [])]
                     for step in entry.steps]
            return await self._request(key, 150, 1, [entry.name, steps, entry.resumable])
        if isinstance(entry, Monitor):
            definition = [entry.pmon, entry.point, entry.interval_s, entry.repetition, list(entry.check)]
            return await self._request(key, 12, 5, [definition]) and (
                not entry.enabled or await self._request(key, 12, 1, [entry.pmon]))
        action: EventAction = entry
        qualifier = dict(action.qualifier) if action.qualifier is not None else None
        definition = [action.action_id, self.event_ids[action.event], qualifier, self._pack(action.command, action)]
        return await self._request(key, 19, 1, [definition]) and (
            not action.enabled or await self._request(key, 19, 4, [action.action_id]))

    def _pack(self, command: Command, owner: Any) -> bytes:
        data = appdata.encode([self.commands[command.name], *command.args])
        return PusTc(self.ctx.telemetry.apid, 8, 1, data, self._embedded[id(owner)], ACK_ALL).pack()

    # --- requests, verified like the ground's ----------------------------------------------------
    async def _request(self, key: str, service: int, subtype: int, data: Any) -> bool:
        seq = LOADER_SEQ_BASE + self._loader_count % 0x100
        self._loader_count += 1
        tc = PusTc(self.ctx.telemetry.apid, service, subtype, appdata.encode(data), seq, ACK_ALL)
        future: asyncio.Future[VerificationReport] = asyncio.get_running_loop().create_future()
        self._pending[tc.request_id] = future
        try:
            self.ctx.commands.submit(tc)
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                report = await future
        except TimeoutError:
            self.emit("FDIR_ENTRY_FAILED", entry=key, reason=f"{service},{subtype}: no completion report", code=0)
            return False
        finally:
            self._pending.pop(tc.request_id, None)
        if not report.ok:
            self.emit("FDIR_ENTRY_FAILED", entry=key, reason=f"{service},{subtype} {report.subtype.name} {report.data}",
                      code=report.code or 0)
        return report.ok

    async def _listen(self, subscription: Subscription) -> None:
        max_size = self.ctx.telemetry.max_packet_size
        while True:
            packet = await subscription.get()
            if not self._pending or len(packet) < 9 or packet[7] != 1:  # only verification reports (service 1)
                continue
            with contextlib.suppress(PacketError):
                tm = PusTm.unpack(packet, max_size)
                report = VerificationReport.unpack(tm.subtype, tm.source_data)
                future = self._pending.get(report.request_id)
                done = report.subtype in FAILURE_SUBTYPES or report.subtype == Subtype.COMPLETION_OK
                if future is not None and not future.done() and done:
                    future.set_result(report)
