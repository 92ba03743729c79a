"""A ground station's connection to a vehicle: sends TCs, tracks their verification, receives TM.

Uses only ``fsw.protocol`` (the codec) and ``fsw.link`` (the transport); it could talk to another
vehicle that speaks the same ICD.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.errors import PacketError
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm, SequenceCounters
from fsw.protocol.security import KeyFileError, KeyRing, sign
from fsw.protocol.verification import Subtype, VerificationReport

from .portlock import PortLock
from .vehicles import UnknownVehicleError, unknown_vehicle

DEFAULT_APID = 100
GROUND_SOURCE_ID = 0x0A  # this console's PUS source id
# Retransmission back-off for send_reliably, in link round trips: the first re-send after two round
# trips (a verdict has had time to come back), then each wait 1.5 times longer, up to this cap.
RETRANSMIT_FIRST_WAIT_RTT = 2.0
RETRANSMIT_BACKOFF = 1.5
RETRANSMIT_MAX_WAIT_RTT = 10.0


@dataclass
class CommandRecord:
    """One TC's verification history, as reports arrive."""

    tc: PusTc
    sent_at: float
    stages: list[VerificationReport] = field(default_factory=list)
    raw: bytes = b""  # the octets sent: a retransmission repeats them exactly
    transmissions: int = 1  # how many times ``raw`` went up
    done: asyncio.Event = field(default_factory=asyncio.Event)
    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    # Every report as it arrives, for printing stages live.
    updates: asyncio.Queue[VerificationReport] = field(default_factory=asyncio.Queue)

    @property
    def request_id(self) -> int:
        return self.tc.request_id

    @property
    def failure(self) -> VerificationReport | None:
        return next((stage for stage in self.stages if not stage.ok), None)

    @property
    def completed(self) -> bool:
        return any(stage.subtype == Subtype.COMPLETION_OK for stage in self.stages)

    def stage_names(self) -> list[str]:
        return [stage.subtype.name for stage in self.stages]

    def add_stage(self, report: VerificationReport) -> None:
        """Record a verification report as it arrives; acceptance and the end are signalled."""
        self.stages.append(report)
        self.updates.put_nowait(report)
        if report.subtype in (Subtype.ACCEPTANCE_OK, Subtype.ACCEPTANCE_FAILED):
            self.accepted.set()
        if not report.ok or report.subtype == Subtype.COMPLETION_OK:
            self.done.set()

    async def stages_until_done(self, timeout: float) -> AsyncIterator[VerificationReport]:
        """Yield each verification report as it arrives until completion, failure or ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = self.sent_at + timeout
        while True:
            if self.done.is_set() and self.updates.empty():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                yield await asyncio.wait_for(self.updates.get(), remaining)
            except TimeoutError:
                return


class Signer:
    """Signs TCs as the ICD's authenticated commanding says, with a per-SPI sequence number kept
    in a file beside the key file so that it keeps rising across ground sessions."""

    def __init__(self, keys_path: Path, spi: int | None = None) -> None:
        self.keys = KeyRing.load(keys_path)
        self.spi = spi if spi is not None else min(self.keys.keys)
        if self.spi not in self.keys.keys:
            raise KeyFileError(f"{keys_path} has no key for SPI {self.spi}")
        self.counter_path = Path(f"{keys_path}.ground-sequence")

    def next_sequence(self) -> int:
        counters: dict[str, int] = {}
        if self.counter_path.exists():
            with contextlib.suppress(ValueError):
                counters = json.loads(self.counter_path.read_text())
        sequence = int(counters.get(str(self.spi), 0)) + 1
        counters[str(self.spi)] = sequence
        temporary = self.counter_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(counters))
        temporary.replace(self.counter_path)
        return sequence

    def sign(self, tc: PusTc) -> bytes:
        return sign(tc, self.spi, self.next_sequence(), self.keys.keys[self.spi])


class GroundClient:
    def __init__(self, port: str, baud: int = 115200, *, apid: int = DEFAULT_APID,
                 source_id: int = GROUND_SOURCE_ID, signer: Signer | None = None,
                 lock_role: str = "ilrs-ground", lock_server: str | None = None,
                 vehicles: dict[str, int] | None = None) -> None:
        # Whoever opens the port owns it until closing: a second opener is refused by name.
        self.lock = PortLock(port, lock_role, server=lock_server)
        self.link_state = "closed"  # connected | disconnected | reconnected | waiting | closed
        self.link_state_detail = ""
        # Called with (state, detail) when the link is lost or comes back.
        self.link_state_listeners: list[Callable[[str, str], None]] = []
        self.link = SerialLink(port, baud, on_state=self._on_link_state)
        self.signer = signer
        self.apid = apid
        # Vehicles addressed by name (``send(..., apid="rover")``): name -> APID.
        self.vehicles: dict[str, int] = dict(vehicles or {})
        self.source_id = source_id
        # A random first sequence count: verification reports still queued in the link from an
        # earlier session must not match this session's request ids.
        self.sequence = SequenceCounters({apid: random.randrange(0x4000)})
        self.pending: dict[int, CommandRecord] = {}
        self.listeners: list[Callable[[PusTm], None]] = []
        # Called with (raw octets, the TM or None when it did not decode, reception time in Unix seconds).
        self.packet_listeners: list[Callable[[bytes, PusTm | None, float], None]] = []
        # Called when every packet received so far has been handed on, before waiting for more.
        self.caught_up_listeners: list[Callable[[], None]] = []
        self.tm_received = 0
        self.tm_rejected = 0
        self._reader: asyncio.Task[None] | None = None
        self._last_seq: dict[int, int] = {}
        self.sequence_gaps = 0
        self.retransmissions = 0  # re-sends of a TC's octets by send_reliably

    def _on_link_state(self, state: str, detail: str) -> None:
        self.link_state, self.link_state_detail = state, detail
        for listener in list(self.link_state_listeners):
            listener(state, detail)

    async def open(self) -> None:
        self.lock.acquire()
        try:
            await self.link.open()
        except BaseException:
            self.lock.release()
            raise
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.link.drain()
        await self.link.close()
        self.lock.release()
        self._on_link_state("closed", self.link.port)

    async def _read(self) -> None:
        while True:
            item = self.link.receive_nowait()
            if item is None:
                for caught_up in list(self.caught_up_listeners):
                    caught_up()
                item = await self.link.receive()
            raw, _ = item
            received_at = time.time()
            try:
                tm = PusTm.unpack(raw)
            except PacketError:
                self.tm_rejected += 1
                for packet_listener in list(self.packet_listeners):
                    packet_listener(raw, None, received_at)
                continue
            for packet_listener in list(self.packet_listeners):
                packet_listener(raw, tm, received_at)
            self.tm_received += 1
            last = self._last_seq.get(tm.apid)
            if last is not None and tm.seq_count != (last + 1) & 0x3FFF:
                self.sequence_gaps += 1
            self._last_seq[tm.apid] = tm.seq_count
            if tm.service == 1:
                self._on_verification(tm)
            for listener in list(self.listeners):
                listener(tm)

    def _on_verification(self, tm: PusTm) -> None:
        try:
            report = VerificationReport.unpack(tm.subtype, tm.source_data)
        except PacketError:
            self.tm_rejected += 1
            return
        record = self.pending.get(report.request_id)
        if record is None:
            return
        record.add_stage(report)
        if record.done.is_set():
            # Finished: the caller holds the record; a long console session must not grow forever.
            self.pending.pop(report.request_id, None)

    def send(self, service: int, subtype: int, data: Any = None, *, raw_data: bytes | None = None,
             ack_flags: int = ACK_ALL, apid: int | str | None = None) -> CommandRecord:
        """Send a TC to the session's vehicle, or to another one (relayed on board) by its APID or
        its name (``UnknownVehicleError`` for a name not in ``vehicles``)."""
        app_data = raw_data if raw_data is not None else (b"" if data is None else appdata.encode(data))
        apid = self.resolve(apid)
        tc = PusTc(apid, service, subtype, app_data, self.sequence.next(apid), ack_flags, self.source_id)
        record = CommandRecord(tc, asyncio.get_running_loop().time())
        self.pending[tc.request_id] = record
        record.raw = self.signer.sign(tc) if self.signer is not None else tc.pack()
        self.link.send(record.raw)
        return record

    def resolve(self, target: int | str | None) -> int:
        """The APID of a vehicle given by name or APID (None: the session's vehicle)."""
        if target is None:
            return self.apid
        if isinstance(target, int):
            return target
        if target.isdigit():
            return int(target)
        apid = self.vehicles.get(target, self.vehicles.get(target.lower()))
        if apid is None:
            raise UnknownVehicleError(unknown_vehicle(target, self.vehicles))
        return apid

    async def send_reliably(self, service: int, subtype: int, data: Any = None, *, rtt_s: float,
                            attempts: int = 20, raw_data: bytes | None = None) -> CommandRecord:
        """Send a TC and re-send the same octets until its completion or failure is reported.

        The flight software recognises a byte-identical retransmission (within its duplicate
        window): it re-sends the verification reports it has for that packet and does not execute
        it again, so a command whose verdict was lost on the way down still runs exactly once.
        The waits start at two round trips (``rtt_s``) and grow 1.5 times each, capped; after
        ``attempts`` transmissions the record is returned as it stands (``record.done`` unset if
        no final verdict came).
        """
        record = self.send(service, subtype, data, raw_data=raw_data)
        wait_s = RETRANSMIT_FIRST_WAIT_RTT * rtt_s
        for transmission in range(attempts):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(record.done.wait(), wait_s)
            if record.done.is_set() or transmission == attempts - 1:
                break
            self.link.send(record.raw)
            record.transmissions += 1
            self.retransmissions += 1
            wait_s = min(wait_s * RETRANSMIT_BACKOFF, RETRANSMIT_MAX_WAIT_RTT * rtt_s)
        return record

    async def wait(self, record: CommandRecord, timeout: float) -> CommandRecord:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(record.done.wait(), timeout)
        return record

    async def ping(self, timeout: float, apid: int | str | None = None) -> tuple[CommandRecord, float | None]:
        """17,1 -> 17,2: returns the record and the round-trip time to the 17,2 (None if none came).
        ``apid``: another vehicle's (by APID or name), relayed on board."""
        target = self.resolve(apid)
        loop = asyncio.get_running_loop()
        answered = asyncio.Event()
        arrival: list[float] = []

        def on_tm(tm: PusTm) -> None:
            if tm.service == 17 and tm.subtype == 2 and tm.apid == target and not arrival and not record.done.is_set():
                arrival.append(loop.time())
                answered.set()

        self.listeners.append(on_tm)
        record = self.send(17, 1, apid=target)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(answered.wait(), record.done.wait()), timeout)
        finally:
            self.listeners.remove(on_tm)
        return record, (arrival[0] - record.sent_at) if arrival else None
