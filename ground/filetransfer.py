"""Ground receiver for product downlinks (CFDP class 2 semantics, see docs/payloads.md).

:class:`FileReceiver` is sans-IO: feed it PDUs with :meth:`FileReceiver.handle` and the time with
:meth:`FileReceiver.tick`; it calls ``send(pdu_octets)`` for what goes up (ACK of EOF, NAK,
FINISHED). It keeps every transaction on disk so that a restart of the ground resumes: under
``<directory>/.partial/`` a ``<txn>.part`` file holds the octets received so far (at their offsets)
and ``<txn>.json`` the metadata, the received ranges and the state. A verified file is moved to
``<directory>/<name>``.

With a :class:`ground.client.GroundClient`::

    receiver = FileReceiver(Path("products"), rtt_s=3.0)
    session = attach(client, receiver)          # listener + timer task
    await request_downlink(client, "cam_0001.pgm")
    path = await receiver.wait_for("cam_0001.pgm", timeout=60)
    await session.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transitions import Machine

from fsw.protocol import appdata
from fsw.protocol.file_pdu import (
    FILE_PDU_SERVICE,
    MAX_NAK_SEGMENTS,
    PDU_TC_SUBTYPE,
    PDU_TM_SUBTYPE,
    Ack,
    Condition,
    Eof,
    FileData,
    Finished,
    Metadata,
    Nak,
    Pdu,
    PduError,
    PduType,
    RangeSet,
    decode_pdu,
    encode_pdu,
)
from fsw.protocol.packet import PusTm
from ground.client import RETRANSMIT_FIRST_WAIT_RTT

FILE_DOWNLINK_OPCODE = 0x1701
NAK_TIMEOUT_RTT = 2.0
FINISHED_TIMEOUT_RTT = 2.0
NAK_LIMIT = 20  # NAK rounds without any new octet before the transaction suspends
# A suspended transaction, or one silent before its EOF, keeps asking, rarely: after a link outage
# this NAK is what wakes the sender (which stays silent while suspended, to spare the downlink).
SUSPENDED_NAK_INTERVAL_RTT = 10.0
FINISHED_LIMIT = 10
MAX_FILE_OCTETS = 1 << 32  # bound on offsets before the size is known

RECEIVER_STATES = ["receiving", "gathering", "suspended", "finishing", "closed"]
RECEIVER_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "eof_received", "source": "receiving", "dest": "gathering"},
    {"trigger": "complete", "source": ["receiving", "gathering", "suspended"], "dest": "finishing"},
    {"trigger": "suspend", "source": "gathering", "dest": "suspended"},
    {"trigger": "resume", "source": "suspended", "dest": "gathering"},
    {"trigger": "close", "source": ["receiving", "gathering", "suspended", "finishing"], "dest": "closed"},
]


@dataclass(eq=False)
class ReceiverTransaction:
    txn: int
    name: str | None = None
    size: int | None = None
    sha256: bytes | None = None
    eof: bool = False
    received: RangeSet = field(default_factory=RangeSet)
    condition: Condition = Condition.NO_ERROR
    state: str = "receiving"
    nak_deadline: float = 0.0
    silence_deadline: float = 0.0
    naks_without_progress: int = 0
    finished_deadline: float = 0.0
    finished_sent: int = 0
    naks_sent: int = 0
    data_pdus: int = 0
    duplicate_pdus: int = 0

    if TYPE_CHECKING:  # the triggers ``transitions`` adds at run time (RECEIVER_TRANSITIONS)
        def eof_received(self) -> bool: ...
        def complete(self) -> bool: ...
        def suspend(self) -> bool: ...
        def resume(self) -> bool: ...
        def close(self) -> bool: ...

    def attach_machine(self) -> None:
        Machine(model=self, states=RECEIVER_STATES, transitions=RECEIVER_TRANSITIONS, initial=self.state,
                auto_transitions=False, ignore_invalid_triggers=True)

    @property
    def complete_data(self) -> bool:
        return self.size is not None and self.received.complete(self.size)

    def to_record(self) -> dict[str, Any]:
        return {"txn": self.txn, "name": self.name, "size": self.size,
                "sha256": self.sha256.hex() if self.sha256 else None, "eof": self.eof,
                "received": self.received.to_list(), "condition": int(self.condition), "state": self.state,
                "naks_sent": self.naks_sent}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReceiverTransaction:
        return cls(int(record["txn"]), record["name"], record["size"],
                   bytes.fromhex(record["sha256"]) if record["sha256"] else None, bool(record["eof"]),
                   RangeSet(record["received"]), Condition(record["condition"]), record["state"],
                   naks_sent=int(record.get("naks_sent", 0)))


class FileReceiver:
    def __init__(self, directory: str | os.PathLike[str], send: Callable[[bytes], None] | None = None, *,
                 rtt_s: float = 3.0, on_file: Callable[[str, Path], None] | None = None) -> None:
        self.directory = Path(directory)
        self.partial = self.directory / ".partial"
        self.partial.mkdir(parents=True, exist_ok=True)
        self.send = send or (lambda raw: None)
        self.rtt_s = rtt_s
        self.on_file = on_file
        self.transactions: dict[int, ReceiverTransaction] = {}
        self.delivered: dict[str, Path] = {}
        self.failed: dict[int, Condition] = {}
        self.pdus_received = self.pdus_rejected = self.crc_errors = 0
        self._changed: asyncio.Event | None = None
        self._restored: list[int] = []
        self._restore()

    # --- persistence ---------------------------------------------------------------------------
    def _record_path(self, txn: int) -> Path:
        return self.partial / f"{txn}.json"

    def _data_path(self, txn: int) -> Path:
        return self.partial / f"{txn}.part"

    def _save(self, transaction: ReceiverTransaction, durable: bool = False) -> None:
        path = self._record_path(transaction.txn)
        temporary = path.with_suffix(".json.tmp")
        with open(temporary, "w") as handle:
            json.dump(transaction.to_record(), handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)

    def _restore(self) -> None:
        for path in sorted(self.partial.glob("*.json")):
            try:
                transaction = ReceiverTransaction.from_record(json.loads(path.read_text()))
            except (ValueError, KeyError, TypeError):
                continue  # a record cut short: the sender's prompts rebuild it
            transaction.attach_machine()
            self.transactions[transaction.txn] = transaction
            self._restored.append(transaction.txn)
            if transaction.state == "closed" and transaction.condition == Condition.NO_ERROR and transaction.name:
                self.delivered[transaction.name] = self.directory / transaction.name

    # --- input ---------------------------------------------------------------------------------
    def on_tm(self, tm: PusTm, now: float) -> None:
        """Listener body: take the file PDUs out of the telemetry stream."""
        if (tm.service, tm.subtype) == (FILE_PDU_SERVICE, PDU_TM_SUBTYPE):
            self.handle(tm.source_data, now)

    def handle(self, raw: bytes, now: float) -> None:
        try:
            pdu = decode_pdu(raw)
        except PduError:
            self.pdus_rejected += 1
            return
        self.pdus_received += 1
        transaction = self.transactions.get(pdu.txn)
        if transaction is None:
            if isinstance(pdu, Ack):
                return
            transaction = ReceiverTransaction(pdu.txn)
            transaction.attach_machine()
            self.transactions[pdu.txn] = transaction
        transaction.silence_deadline = now + SUSPENDED_NAK_INTERVAL_RTT * self.rtt_s
        if isinstance(pdu, Metadata):
            self._on_metadata(transaction, pdu, now)
        elif isinstance(pdu, FileData):
            self._on_data(transaction, pdu, now)
        elif isinstance(pdu, Eof):
            self._on_eof(transaction, pdu, now)
        elif isinstance(pdu, Ack) and pdu.directive == PduType.FINISHED and transaction.state == "finishing":
            transaction.close()
            self._save(transaction, durable=True)
        self._notify()

    def _on_metadata(self, transaction: ReceiverTransaction, pdu: Metadata, now: float) -> None:
        if transaction.state in ("finishing", "closed"):
            return
        transaction.name, transaction.size, transaction.sha256 = pdu.name, pdu.size, pdu.sha256
        self._save(transaction, durable=True)
        self._resume_if_suspended(transaction, now)
        self._check_complete(transaction, now)

    def _on_data(self, transaction: ReceiverTransaction, pdu: FileData, now: float) -> None:
        if not pdu.intact:
            self.crc_errors += 1
            return
        limit = transaction.size if transaction.size is not None else MAX_FILE_OCTETS
        if pdu.offset + len(pdu.data) > limit:  # never write past the announced end
            self.pdus_rejected += 1
            return
        if transaction.state in ("finishing", "closed"):
            transaction.duplicate_pdus += 1
            return
        transaction.data_pdus += 1
        path = self._data_path(transaction.txn)
        with open(path, "r+b" if path.exists() else "wb") as handle:
            handle.seek(pdu.offset)
            handle.write(pdu.data)
        if transaction.received.add(pdu.offset, pdu.offset + len(pdu.data)):
            transaction.naks_without_progress = 0
        else:
            transaction.duplicate_pdus += 1
        self._save(transaction)
        self._resume_if_suspended(transaction, now)
        # More data is flowing: ask again only once it has stopped for a while.
        transaction.nak_deadline = now + NAK_TIMEOUT_RTT * self.rtt_s
        self._check_complete(transaction, now)

    def _on_eof(self, transaction: ReceiverTransaction, pdu: Eof, now: float) -> None:
        self.send(encode_pdu(Ack(pdu.txn, PduType.EOF, pdu.condition)))
        if pdu.condition != Condition.NO_ERROR:
            if transaction.state != "closed":
                transaction.condition = pdu.condition
                transaction.close()
                self.failed[transaction.txn] = pdu.condition
                self._data_path(transaction.txn).unlink(missing_ok=True)
                self._save(transaction, durable=True)
            return
        if transaction.state in ("finishing", "closed"):
            if transaction.eof:
                # A repeated EOF: our FINISHED did not reach the sender, or its ACK did not reach us.
                self.send(encode_pdu(Finished(transaction.txn, transaction.condition)))
            else:  # every octet came before the EOF: FINISHED is already on its way
                transaction.eof = True
                self._save(transaction)
            return
        transaction.eof = True
        if transaction.size is None:
            transaction.size = pdu.size
        if transaction.sha256 is None:
            transaction.sha256 = pdu.sha256
        transaction.eof_received()
        self._resume_if_suspended(transaction, now)
        self._save(transaction, durable=True)
        if not self._check_complete(transaction, now):
            self._nak(transaction, now)

    def _resume_if_suspended(self, transaction: ReceiverTransaction, now: float) -> None:
        if transaction.state == "suspended":
            transaction.resume()
            transaction.naks_without_progress = 0
            transaction.nak_deadline = now + NAK_TIMEOUT_RTT * self.rtt_s

    def _check_complete(self, transaction: ReceiverTransaction, now: float) -> bool:
        if not transaction.complete_data or transaction.name is None or transaction.sha256 is None:
            return False
        path = self._data_path(transaction.txn)
        if transaction.size == 0:
            path.touch()
        digest = hashlib.sha256(path.read_bytes()[: transaction.size]).digest()
        if digest == transaction.sha256:
            with open(path, "r+b") as handle:
                handle.truncate(transaction.size)
                handle.flush()
                os.fsync(handle.fileno())
            final = self.directory / transaction.name
            os.replace(path, final)
            transaction.condition = Condition.NO_ERROR
            self.delivered[transaction.name] = final
            if self.on_file is not None:
                self.on_file(transaction.name, final)
        else:
            transaction.condition = Condition.CHECKSUM_FAILURE
            self.failed[transaction.txn] = Condition.CHECKSUM_FAILURE
        transaction.complete()
        self._save(transaction, durable=True)
        self._send_finished(transaction, now)
        return True

    # --- output --------------------------------------------------------------------------------
    def _nak(self, transaction: ReceiverTransaction, now: float) -> None:
        segments = transaction.received.gaps(transaction.size or 0)[:MAX_NAK_SEGMENTS]
        need_metadata = transaction.name is None
        transaction.nak_deadline = now + NAK_TIMEOUT_RTT * self.rtt_s
        if not segments and not need_metadata:
            return
        transaction.naks_sent += 1
        transaction.naks_without_progress += 1
        self.send(encode_pdu(Nak(transaction.txn, need_metadata, tuple(segments))))

    def _send_finished(self, transaction: ReceiverTransaction, now: float) -> None:
        transaction.finished_sent += 1
        transaction.finished_deadline = now + FINISHED_TIMEOUT_RTT * self.rtt_s
        self.send(encode_pdu(Finished(transaction.txn, transaction.condition)))

    def tick(self, now: float) -> float | None:
        """Run the timers; return the next deadline (None: nothing is waiting on time)."""
        if self._restored:
            # After a restart, transactions that had their EOF ask at once for what they lack.
            for transaction in (self.transactions[txn] for txn in self._restored):
                if transaction.state == "gathering":
                    transaction.nak_deadline = now
                elif transaction.state == "finishing":
                    transaction.finished_deadline = now
            self._restored = []
        deadlines = []
        for transaction in list(self.transactions.values()):
            if transaction.state == "gathering":
                if now >= transaction.nak_deadline:
                    if transaction.naks_without_progress >= NAK_LIMIT:
                        transaction.suspend()
                        transaction.nak_deadline = now + SUSPENDED_NAK_INTERVAL_RTT * self.rtt_s
                        self._save(transaction, durable=True)
                        deadlines.append(transaction.nak_deadline)
                        continue
                    self._nak(transaction, now)
                deadlines.append(transaction.nak_deadline)
            elif transaction.state == "receiving" and transaction.size is not None:
                # No EOF yet and silence: the sender may have suspended in an outage; ask for the rest.
                if now >= transaction.silence_deadline:
                    self._nak(transaction, now)
                    transaction.silence_deadline = now + SUSPENDED_NAK_INTERVAL_RTT * self.rtt_s
                deadlines.append(transaction.silence_deadline)
            elif transaction.state == "suspended":
                if now >= transaction.nak_deadline:
                    self._nak(transaction, now)
                    transaction.nak_deadline = now + SUSPENDED_NAK_INTERVAL_RTT * self.rtt_s
                deadlines.append(transaction.nak_deadline)
            elif transaction.state == "finishing":
                if now >= transaction.finished_deadline:
                    if transaction.finished_sent >= FINISHED_LIMIT:
                        transaction.close()
                        self._save(transaction, durable=True)
                        continue
                    self._send_finished(transaction, now)
                deadlines.append(transaction.finished_deadline)
        return min(deadlines) if deadlines else None

    # --- waiting -------------------------------------------------------------------------------
    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def wait_for(self, name: str, timeout: float) -> Path:
        """Wait until ``name`` is delivered and verified; raises TimeoutError."""
        if self._changed is None:
            self._changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while name not in self.delivered:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{name} not delivered within {timeout} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.delivered[name]

    def statistics(self) -> dict[str, int]:
        return {
            "pdus_received": self.pdus_received, "pdus_rejected": self.pdus_rejected, "crc_errors": self.crc_errors,
            "naks_sent": sum(t.naks_sent for t in self.transactions.values()),
            "duplicate_pdus": sum(t.duplicate_pdus for t in self.transactions.values()),
            "delivered": len(self.delivered),
        }


class ReceiverSession:
    """A receiver bound to a telemetry source and an uplink, with its timer task."""

    def __init__(self, receiver: FileReceiver, loop: asyncio.AbstractEventLoop) -> None:
        self.receiver = receiver
        self.loop = loop
        self._wake = asyncio.Event()
        self._closed = False
        receiver._changed = receiver._changed or asyncio.Event()
        self.task = loop.create_task(self._run(), name="file-receiver")
        self.detach: Callable[[], None] = lambda: None

    def on_tm(self, tm: PusTm) -> None:
        self.receiver.on_tm(tm, self.loop.time())
        self._wake.set()

    async def _run(self) -> None:
        # A flag as well as the cancel: wait_for in Python 3.11 can swallow a cancellation that
        # races with the event it waits on.
        while not self._closed:
            deadline = self.receiver.tick(self.loop.time())
            self._wake.clear()
            timeout = None if deadline is None else max(0.0, deadline - self.loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def close(self) -> None:
        self.detach()
        self._closed = True
        self._wake.set()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def uplink_for(client: Any) -> Callable[[bytes], None]:
    """PDUs go up as TC 128,1 without verification reports (acknowledgement flags 0); they are
    not tracked as pending commands (the protocol's own timers cover their loss)."""

    def send(raw: bytes) -> None:
        record = client.send(FILE_PDU_SERVICE, PDU_TC_SUBTYPE, raw_data=raw, ack_flags=0)
        client.pending.pop(record.request_id, None)

    return send


def attach(client: Any, receiver: FileReceiver) -> ReceiverSession:
    """Listen to a GroundClient's telemetry and uplink the receiver's PDUs through it."""
    receiver.send = uplink_for(client)
    session = ReceiverSession(receiver, asyncio.get_running_loop())
    client.listeners.append(session.on_tm)
    session.detach = lambda: client.listeners.remove(session.on_tm)
    return session


async def send_reliably(client: Any, service: int, subtype: int, data: Any = None, *, attempts: int = 5,
                        timeout_each: float = 2.0) -> Any:
    """Send a TC and wait for its completion or failure, re-sending the same octets on silence:
    :meth:`ground.client.GroundClient.send_reliably` with a first wait of ``timeout_each``.
    Returns the CommandRecord (``record.done`` unset if every attempt went unanswered)."""
    return await client.send_reliably(service, subtype, data, rtt_s=timeout_each / RETRANSMIT_FIRST_WAIT_RTT,
                                      attempts=attempts)


async def request_downlink(client: Any, name: str, *, attempts: int = 5, timeout_each: float = 2.0) -> Any:
    """Send FILE_DOWNLINK (8,1) and wait for its verification; returns the CommandRecord."""
    return await send_reliably(client, 8, 1, [FILE_DOWNLINK_OPCODE, name], attempts=attempts,
                               timeout_each=timeout_each)


async def request_listing(client: Any, *, attempts: int = 5, timeout_each: float = 2.0) -> list[tuple[str, int]]:
    """TC 23,12 -> TM 23,13: the products on board as (name, size); raises TimeoutError."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[tuple[str, int]]] = loop.create_future()

    def on_tm(tm: PusTm) -> None:
        if (tm.service, tm.subtype) == (23, 13) and not answer.done():
            answer.set_result([(name, size) for name, size in appdata.decode(tm.source_data)])

    client.listeners.append(on_tm)
    try:
        for _ in range(attempts):
            # A fresh TC each time (listing is harmless to repeat): a retransmission of the same
            # octets would only get its verification reports again, not the listing.
            client.send(23, 12)
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(answer), timeout_each)
        raise TimeoutError("no product listing (23,13)")
    finally:
        client.listeners.remove(on_tm)


__all__ = ["FileReceiver", "Pdu", "ReceiverSession", "attach", "request_downlink", "request_listing", "send_reliably",
           "uplink_for"]
