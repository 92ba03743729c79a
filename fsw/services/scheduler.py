"""PUS 11 time-based schedule: TCs released at an on-board time, durable and at most once.

Requests (application data in CBOR):

- 11,4 insert ``[[release_onboard_time, tc_bytes], ...]``: each ``tc_bytes`` is a whole packed
  PusTc. All entries are checked before any is inserted (all or nothing): the TC must parse,
  the time must be in the future (else TIME_PASSED) and the schedule must have room (SCHEDULE_FULL,
  at most ``MAX_ENTRIES``).
- 11,5 delete ``[[apid, seq_count], ...]``: the embedded TCs to delete, named by the APID and
  sequence count of their packet (what the ground knows of each TC it sent). An unknown pair
  rejects the whole request with UNKNOWN_SCHEDULE_ID; a pair matching several entries deletes all.
- 11,3 reset: delete every entry. 11,1 / 11,2: enable / disable release.
- 11,16 detail report -> TM 11,10 ``[[release_onboard_time, tc_bytes], ...]`` (same form as 11,4),
  split over several packets when long. 11,17 summary report -> TM 11,13
  ``[[release_onboard_time, apid, seq_count], ...]``.

A released TC goes through the dispatcher like any other, so its verification reports go to the
ground. The schedule is written to the store (durably) on every change, and an entry leaves the store
before its TC is submitted: after a crash a TC may be lost, never run twice. At boot, and when
release is enabled again, an entry whose time has passed is reported (SCHEDULE_MISSED) and deleted,
never run late. A correlation step forward releases what it jumps over (nothing is skipped); a step
back cannot release an entry twice (released entries are gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Severity, TelemetryDef
from fsw.core.errors import CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import PusTc
from fsw.services.timeman import CORRELATION_TOPIC

STORE_KEY = "schedule"
MAX_ENTRIES = 256
# Octets kept free in a listing packet for the headers, CRC and CBOR framing.
LISTING_OVERHEAD = 64


@dataclass
class Entry:
    entry_id: int  # insertion order: breaks ties between equal release times
    release: float  # on-board time, TAI seconds since 1958
    tc_bytes: bytes

    @property
    def tc(self) -> PusTc:
        return PusTc.unpack(self.tc_bytes)

    def key(self) -> tuple[float, int]:
        return (self.release, self.entry_id)


class Scheduler(Component):
    name = "scheduler"
    hk_structure = 11
    hk_quiet_in_flight = True
    telemetry = (
        TelemetryDef("sched_entries", "u16", "", "time-tagged TCs waiting"),
        TelemetryDef("sched_enabled", "bool", "", "release function enabled"),
        TelemetryDef("sched_released", "u32", "", "TCs released since boot"),
        TelemetryDef("sched_missed", "u32", "", "entries dropped because their time passed (boot, disabled)"),
        TelemetryDef("sched_next_release", "f64", "s", "on-board time of the next release (0: none)"),
    )
    events = (
        EventDef(0x0B01, "SCHEDULE_RELEASED", Severity.INFO, "time-tagged TC apid {apid} seq {seq} released"),
        EventDef(0x0B02, "SCHEDULE_MISSED", Severity.MEDIUM,
                 "time-tagged TC apid {apid} seq {seq} due at {release} not run ({reason}); deleted"),
        EventDef(0x0B03, "SCHEDULE_CHANGED", Severity.INFO, "schedule {change}: {count} entries now"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.entries: list[Entry] = []
        self.enabled = True
        self.next_id = 1
        self.released = 0
        self.missed = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- persistence -------------------------------------------------------------------------
    def _load(self) -> None:
        stored = self.ctx.store.get(STORE_KEY) or {}
        if not isinstance(stored, dict):
            return
        self.enabled = bool(stored.get("enabled", True))
        self.next_id = int(stored.get("next_id", 1))
        for item in stored.get("entries", []):
            try:
                entry_id, release, tc_bytes = item
                PusTc.unpack(tc_bytes)
                self.entries.append(Entry(int(entry_id), float(release), bytes(tc_bytes)))
            except (TypeError, ValueError):  # PacketError is a ValueError; the row CRC makes this unlikely
                self.missed += 1
        self.entries.sort(key=Entry.key)

    def _persist(self) -> None:
        self.ctx.store.put(STORE_KEY, {
            "enabled": self.enabled,
            "next_id": self.next_id,
            "entries": [[e.entry_id, e.release, e.tc_bytes] for e in self.entries],
        })

    def _changed(self, change: str) -> None:
        self._persist()
        self.emit("SCHEDULE_CHANGED", change=change, count=len(self.entries))
        self._wake.set()

    def _drop_passed(self, reason: str) -> None:
        """Delete (and report) entries whose release time has passed: never run late."""
        now = self.clock.onboard_time()
        passed = [entry for entry in self.entries if entry.release <= now]
        if not passed:
            return
        self.entries = [entry for entry in self.entries if entry.release > now]
        self._persist()
        for entry in passed:
            self.missed += 1
            tc = entry.tc
            self.emit("SCHEDULE_MISSED", apid=tc.apid, seq=tc.seq_count, release=entry.release, reason=reason)

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._load()
        subscription = self.ctx.bus.subscribe(CORRELATION_TOPIC, depth=8)
        tasks = self.ctx.tasks
        self._tasks = [
            tasks.spawn("scheduler", self._release_loop),
            tasks.spawn("scheduler_correlation", lambda: self._follow_correlation(subscription)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    def housekeeping(self) -> dict[str, Any]:
        return {
            "sched_entries": len(self.entries),
            "sched_enabled": self.enabled,
            "sched_released": self.released,
            "sched_missed": self.missed,
            "sched_next_release": self.entries[0].release if self.entries else 0.0,
        }

    async def _follow_correlation(self, subscription: Any) -> None:
        while True:
            await subscription.get()
            self._wake.set()  # the next release moved in monotonic time: recompute the wait

    async def _release_loop(self) -> None:
        clock = self.clock
        # Here rather than in start(): every component (the ground link too) is up to hear the events.
        self._drop_passed("time passed while the software was down")
        while True:
            self._wake.clear()
            if self.enabled and self.entries:
                if self.entries[0].release <= clock.onboard_time():
                    self._release_due()
                    continue
                deadline = clock.to_monotonic(self.entries[0].release)
                timeout: float | None = deadline - clock.monotonic()
            else:
                timeout = None
            woken = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
                woken = True
            if not woken and self.entries and self.enabled:
                # The selector may wake up to a millisecond early or late: finish the wait on the clock.
                await clock.sleep_until(clock.to_monotonic(self.entries[0].release), precise=True)

    def _release_due(self) -> None:
        now = self.clock.onboard_time()
        due = [entry for entry in self.entries if entry.release <= now]
        self.entries = self.entries[len(due):]
        # Out of the store before submission: at most once across a crash.
        self._persist()
        for entry in due:
            tc = entry.tc
            self.released += 1
            self.emit("SCHEDULE_RELEASED", apid=tc.apid, seq=tc.seq_count)
            self.ctx.commands.submit(tc, origin="schedule")

    # --- PUS 11 requests ---------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {
            (11, 1): self._enable, (11, 2): self._disable, (11, 3): self._reset, (11, 4): self._insert,
            (11, 5): self._delete, (11, 16): self._detail_report, (11, 17): self._summary_report,
        }

    def _enable(self, tc: PusTc) -> Any:
        _no_data(tc)

        def apply() -> None:
            if not self.enabled:
                self.enabled = True
                self._drop_passed("release was disabled at its time")
                self._changed("release enabled")

        return apply

    def _disable(self, tc: PusTc) -> Any:
        _no_data(tc)

        def apply() -> None:
            self.enabled = False
            self._changed("release disabled")

        return apply

    def _reset(self, tc: PusTc) -> Any:
        _no_data(tc)

        def apply() -> None:
            self.entries.clear()
            self._changed("reset")

        return apply

    def _insert(self, tc: PusTc) -> Any:
        request = appdata.decode(tc.app_data)
        if not isinstance(request, list) or not request or not all(
            isinstance(item, list) and len(item) == 2 for item in request
        ):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "11,4 takes a CBOR list of [release time, TC octets]")
        if len(self.entries) + len(request) > MAX_ENTRIES:
            raise CommandRejected(FailureCode.SCHEDULE_FULL,
                                  f"{len(self.entries)} entries + {len(request)} exceeds {MAX_ENTRIES}")
        now = self.clock.onboard_time()
        checked: list[tuple[float, bytes]] = []
        for index, (release, tc_bytes) in enumerate(request):
            if isinstance(release, bool) or not isinstance(release, int | float) or not math.isfinite(release):
                raise CommandRejected(FailureCode.BAD_ARGUMENT, f"entry {index}: release time must be a number")
            if release <= now:
                raise CommandRejected(FailureCode.TIME_PASSED, f"entry {index}: {release} is not after {now:.6f}")
            if not isinstance(tc_bytes, bytes):
                raise CommandRejected(FailureCode.BAD_ARGUMENT, f"entry {index}: TC must be a CBOR byte string")
            try:
                PusTc.unpack(tc_bytes)
            except PacketError as error:
                raise CommandRejected(error.code, f"entry {index}: {error.message}") from error
            checked.append((float(release), tc_bytes))

        def apply() -> None:
            for release, tc_bytes in checked:
                self.entries.append(Entry(self.next_id, release, tc_bytes))
                self.next_id += 1
            self.entries.sort(key=Entry.key)
            self._changed(f"{len(checked)} inserted")

        return apply

    def _delete(self, tc: PusTc) -> Any:
        pairs = appdata.decode(tc.app_data)
        if not isinstance(pairs, list) or not pairs or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                for v in pair)
            for pair in pairs
        ):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "11,5 takes a CBOR list of [apid, seq count]")
        wanted = {(apid, seq) for apid, seq in pairs}
        present = {(entry.tc.apid, entry.tc.seq_count) for entry in self.entries}
        unknown = sorted(wanted - present)
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_SCHEDULE_ID, f"not in the schedule: {unknown}",
                                  [list(pair) for pair in unknown])

        def apply() -> None:
            self.entries = [e for e in self.entries if (e.tc.apid, e.tc.seq_count) not in wanted]
            self._changed("deleted")

        return apply

    def _detail_report(self, tc: PusTc) -> Any:
        _no_data(tc)

        def send() -> None:
            limit = self.ctx.telemetry.max_packet_size - LISTING_OVERHEAD
            chunk: list[list[Any]] = []
            size = 0
            for entry in self.entries:
                item = [entry.release, entry.tc_bytes]
                item_size = len(appdata.encode(item))
                if chunk and size + item_size > limit:
                    self.ctx.telemetry.send(11, 10, chunk)
                    chunk, size = [], 0
                chunk.append(item)
                size += item_size
            self.ctx.telemetry.send(11, 10, chunk)

        return send

    def _summary_report(self, tc: PusTc) -> Any:
        _no_data(tc)

        def send() -> None:
            # 256 entries of at most ~20 octets each always fit one packet.
            summary = [[e.release, e.tc.apid, e.tc.seq_count] for e in self.entries]
            self.ctx.telemetry.send(11, 13, summary)

        return send


def _no_data(tc: PusTc) -> None:
    if tc.app_data:
        raise CommandRejected(FailureCode.BAD_ARGUMENT, f"{tc.service},{tc.subtype} takes no application data")
