"""File management (PUS 23) and reliable file downlink with CFDP class 2 semantics.

Products (see :mod:`fsw.payloads.products`) are listed with TC 23,12 -> TM 23,13 and their
attributes read with 23,3 -> 23,4. A downlink is a transaction started by the FILE_DOWNLINK
function command. Its PDUs are CBOR lists carried in service 128: TM 128,2 from the vehicle
(metadata, file data, EOF, ACK of FINISHED) and TC 128,1 from the ground (ACK of EOF, NAK,
FINISHED), sent without verification reports (acknowledgement flags 0) to spare the uplink.

The sender sends metadata, every chunk once, then EOF; the receiver ACKs the EOF, NAKs what it
misses (possibly several rounds), and sends FINISHED once the reassembled file matches the
SHA-256; the sender ACKs FINISHED. Timers scale with the ``ft_rtt_s`` parameter. Transactions
are persisted in the store and resume after a reset; see docs/payloads.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from transitions import Machine

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import Arg, EventDef, ParameterDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed, CommandRejected
from fsw.payloads.products import ProductError, ProductStore, check_name, products_directory
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.file_pdu import (
    FILE_PDU_SERVICE,
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
from fsw.protocol.packet import PusTc

PACKET_OVERHEAD = 26  # primary + PUS TM secondary header, CRC, COBS framing: for pacing
EOF_ACK_TIMEOUT_RTT = 2.0
FINISHED_TIMEOUT_RTT = 4.0
# First-pass progress is saved (without fsync) every 16 chunks or 0.5 s, whichever comes first:
# a reset then costs at most that much sent again.
PROGRESS_PERSIST_CHUNKS = 16
PROGRESS_PERSIST_S = 0.5
KEPT_TERMINAL_TRANSACTIONS = 32
STORE_PREFIX = "ft.txn."
NEXT_ID_KEY = "ft.next_txn"


# --- sender transactions -----------------------------------------------------------------------
ACTIVE_SENDER_STATES = ["sending", "awaiting_eof_ack", "awaiting_finished"]
SENDER_STATES = [*ACTIVE_SENDER_STATES, "suspended", "completed", "cancelled"]
SENDER_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "data_sent", "source": "sending", "dest": "awaiting_eof_ack"},
    {"trigger": "eof_acked", "source": "awaiting_eof_ack", "dest": "awaiting_finished"},
    {"trigger": "finish", "source": [*ACTIVE_SENDER_STATES, "suspended"], "dest": "completed"},
    {"trigger": "cancel", "source": [*ACTIVE_SENDER_STATES, "suspended"], "dest": "cancelled"},
    {"trigger": "suspend", "source": ACTIVE_SENDER_STATES, "dest": "suspended"},
    {"trigger": "resume", "source": "suspended", "dest": "sending", "unless": "pass_done"},
    {"trigger": "resume", "source": "suspended", "dest": "awaiting_eof_ack", "conditions": "pass_done"},
]


@dataclass(eq=False)
class SenderTransaction:
    txn: int
    name: str
    size: int
    sha256: bytes
    chunk_size: int
    next_offset: int = 0
    pass_done: bool = False
    pending: RangeSet = field(default_factory=RangeSet)
    metadata_pending: bool = True
    eof_pending: bool = False
    condition: Condition = Condition.NO_ERROR
    prompt_deadline: float = 0.0
    prompts: int = 0
    retransmitted: int = 0
    chunks_since_persist: int = 0
    persisted_at: float = 0.0
    state: str = "sending"

    if TYPE_CHECKING:  # the triggers ``transitions`` adds at run time (SENDER_TRANSITIONS)
        def data_sent(self) -> bool: ...
        def eof_acked(self) -> bool: ...
        def finish(self) -> bool: ...
        def cancel(self) -> bool: ...
        def suspend(self) -> bool: ...
        def resume(self) -> bool: ...

    def attach_machine(self) -> None:
        Machine(model=self, states=SENDER_STATES, transitions=SENDER_TRANSITIONS, initial=self.state,
                auto_transitions=False, ignore_invalid_triggers=True)

    @property
    def terminal(self) -> bool:
        return self.state in ("completed", "cancelled")

    def to_record(self) -> dict[str, Any]:
        return {"txn": self.txn, "name": self.name, "size": self.size, "sha256": self.sha256,
                "chunk_size": self.chunk_size, "next_offset": self.next_offset, "pass_done": self.pass_done,
                "pending": self.pending.to_list(), "state": self.state, "condition": int(self.condition),
                "retransmitted": self.retransmitted}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SenderTransaction:
        return cls(int(record["txn"]), record["name"], int(record["size"]), bytes(record["sha256"]),
                   int(record["chunk_size"]), int(record["next_offset"]), bool(record["pass_done"]),
                   RangeSet(record.get("pending", ())), condition=Condition(record.get("condition", 0)),
                   retransmitted=int(record.get("retransmitted", 0)), state=record["state"])


class FileTransferService(Component):
    """Product listing (PUS 23) and downlink transactions (service 128 PDUs)."""

    name = "filetransfer"
    hk_structure = 23
    hk_quiet_in_flight = True
    telemetry = (
        TelemetryDef("ft_active", "u16", "", "downlink transactions in progress"),
        TelemetryDef("ft_suspended", "u16", "", "downlink transactions suspended"),
        TelemetryDef("ft_completed", "u32", "", "downlinks confirmed by the ground since boot"),
        TelemetryDef("ft_pdus_sent", "u32", "", "file PDUs sent since boot"),
        TelemetryDef("ft_bytes_sent", "u32", "B", "file data octets sent since boot, retransmissions included"),
        TelemetryDef("ft_retransmitted", "u32", "", "file data chunks sent again after a NAK since boot"),
        TelemetryDef("ft_naks_received", "u32", "", "NAK PDUs received since boot"),
        TelemetryDef("ft_products", "u16", "", "science products on board"),
        TelemetryDef("ft_products_bytes", "u32", "B", "octets of science products on board"),
    )
    events = (
        EventDef(0x1701, "FT_STARTED", Severity.INFO, "downlink {txn} of {name} ({size} octets) started"),
        EventDef(0x1702, "FT_COMPLETED", Severity.INFO,
                 "downlink {txn} of {name} confirmed by the ground ({retransmitted} chunks resent)"),
        EventDef(0x1703, "FT_SUSPENDED", Severity.MEDIUM, "downlink {txn} suspended: {reason}"),
        EventDef(0x1704, "FT_RESUMED", Severity.INFO, "downlink {txn} resumed: {reason}"),
        EventDef(0x1705, "FT_CANCELLED", Severity.MEDIUM, "downlink {txn} cancelled: {reason}"),
        EventDef(0x1706, "FT_PDU_REJECTED", Severity.LOW, "file PDU rejected: {reason}"),
    )
    parameters = (
        ParameterDef(0x1701, "ft_rate_bps", "f64", 555_000.0, "downlink rate the sender paces file PDUs to",
                     1_000.0, 100e6, unit="bit/s"),
        ParameterDef(0x1702, "ft_rtt_s", "f64", 3.0, "link round trip the transfer timers scale with", 0.01, 600.0,
                     unit="s"),
        ParameterDef(0x1703, "ft_chunk_size", "u16", 1024, "file data octets per PDU", 64, 3072, unit="B"),
        ParameterDef(0x1704, "ft_prompt_limit", "u16", 10, "unanswered EOF prompts before a downlink suspends",
                     1, 1000),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.products = ProductStore(products_directory(ctx.store.path))
        self.transactions: dict[int, SenderTransaction] = {}
        self.completed = self.pdus_sent = self.bytes_sent = self.retransmitted = self.naks_received = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._restore()
        self._task = self.ctx.tasks.spawn("filetransfer", self._run)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for transaction in self.transactions.values():
            if not transaction.terminal:
                self._persist(transaction, durable=False)

    def _restore(self) -> None:
        store = self.ctx.store
        keys = store.keys()  # a list, not a view: the store has no iterator
        for key in keys:
            if not key.startswith(STORE_PREFIX):
                continue
            transaction = SenderTransaction.from_record(store.get(key))
            transaction.attach_machine()
            self.transactions[transaction.txn] = transaction
            if transaction.terminal or transaction.state == "suspended":
                continue
            try:
                intact = self.products.info(transaction.name).sha256 == transaction.sha256
            except ProductError:
                intact = False
            if not intact:
                self._cancel(transaction, Condition.FILE_GONE, "product changed or missing after restart")
                continue
            # Metadata again, the rest of the first pass, then EOF: the receiver NAKs what it lacks.
            transaction.metadata_pending = True
            transaction.eof_pending = transaction.pass_done
            self.emit("FT_RESUMED", txn=transaction.txn, reason="restart")

    # --- housekeeping --------------------------------------------------------------------------
    def housekeeping(self) -> dict[str, Any]:
        listing = self.products.listing()
        return {
            "ft_active": sum(t.state in ACTIVE_SENDER_STATES for t in self.transactions.values()),
            "ft_suspended": sum(t.state == "suspended" for t in self.transactions.values()),
            "ft_completed": self.completed, "ft_pdus_sent": self.pdus_sent,
            "ft_bytes_sent": self.bytes_sent & 0xFFFFFFFF, "ft_retransmitted": self.retransmitted,
            "ft_naks_received": self.naks_received, "ft_products": len(listing),
            "ft_products_bytes": sum(size for _, size in listing) & 0xFFFFFFFF,
        }

    # --- commands ------------------------------------------------------------------------------
    @command(0x1701, Arg("name", "str", "product file name", max_length=64))
    def cmd_file_downlink(self, name: str) -> None:
        """Start a reliable downlink of one product (completes when the transaction is opened)."""
        self.start_downlink(name)

    @command(0x1702, Arg("txn", "u32", "transaction number"))
    def cmd_file_cancel(self, txn: int) -> None:
        """Cancel a downlink: the receiver is told by an EOF with condition CANCELLED."""
        transaction = self._active(txn)
        self._cancel(transaction, Condition.CANCELLED, "commanded")

    @command(0x1703, Arg("txn", "u32", "transaction number"))
    def cmd_file_resume(self, txn: int) -> None:
        """Resume a suspended downlink."""
        transaction = self._active(txn)
        if transaction.state != "suspended":
            raise CommandFailed(FailureCode.EXECUTION_FAILED, f"transaction {txn} is {transaction.state}")
        self._resume(transaction, "commanded")

    @command(0x1704, Arg("name", "str", "product file name", max_length=64))
    def cmd_file_delete(self, name: str) -> None:
        """Delete a product on board (refused while a downlink of it is active)."""
        if any(t.name == name and not t.terminal for t in self.transactions.values()):
            raise CommandFailed(FailureCode.BUSY, f"{name} is being downlinked")
        try:
            self.products.delete(name)
        except ProductError as error:
            raise CommandFailed(FailureCode.EXECUTION_FAILED, str(error)) from error

    def _active(self, txn: int) -> SenderTransaction:
        transaction = self.transactions.get(txn)
        if transaction is None or transaction.terminal:
            raise CommandFailed(FailureCode.BAD_ARGUMENT, f"no open transaction {txn}")
        return transaction

    def start_downlink(self, name: str) -> SenderTransaction:
        try:
            info = self.products.info(name)
        except ProductError as error:
            raise CommandFailed(FailureCode.EXECUTION_FAILED, str(error)) from error
        store = self.ctx.store
        txn = int(store.get(NEXT_ID_KEY, 1))
        store.put(NEXT_ID_KEY, (txn + 1) & 0xFFFFFFFF or 1)
        transaction = SenderTransaction(txn, name, info.size, info.sha256, int(self.param("ft_chunk_size")))
        transaction.attach_machine()
        self.transactions[txn] = transaction
        self._persist(transaction)
        self._prune()
        self.emit("FT_STARTED", txn=txn, name=name, size=info.size)
        self._wake.set()
        return transaction

    # --- PUS 23 and service 128 routes ---------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {(23, 12): self._list, (23, 3): self._attributes, (FILE_PDU_SERVICE, PDU_TC_SUBTYPE): self._on_tc_pdu}

    def _list(self, tc: PusTc) -> Any:
        return lambda: self.ctx.telemetry.send(23, 13, [[name, size] for name, size in self.products.listing()])

    def _attributes(self, tc: PusTc) -> Any:
        name = appdata.decode(tc.app_data)
        try:
            info = self.products.info(check_name(name))
        except ProductError as error:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, str(error)) from error
        return lambda: self.ctx.telemetry.send(23, 4, [info.name, info.size, info.sha256])

    def _on_tc_pdu(self, tc: PusTc) -> Any:
        try:
            pdu = decode_pdu(tc.app_data)
        except PduError as error:
            self.emit("FT_PDU_REJECTED", reason=str(error))
            raise CommandRejected(FailureCode.BAD_ARGUMENT, str(error)) from error
        return lambda: self.handle_pdu(pdu)

    def handle_pdu(self, pdu: Pdu) -> None:
        transaction = self.transactions.get(pdu.txn)
        if transaction is None:
            if isinstance(pdu, Finished):  # forgotten long ago: let the receiver close
                self._send(Ack(pdu.txn, PduType.FINISHED, pdu.condition))
            return
        now = self.clock.monotonic()
        if isinstance(pdu, Finished):
            self._send(Ack(pdu.txn, PduType.FINISHED, pdu.condition))
            if transaction.terminal:
                return
            if pdu.condition == Condition.NO_ERROR:
                transaction.finish()
                self.completed += 1
                self._persist(transaction)
                self.emit("FT_COMPLETED", txn=transaction.txn, name=transaction.name,
                          retransmitted=transaction.retransmitted)
            else:
                self._cancel(transaction, pdu.condition, f"receiver reports {pdu.condition.name}", notify=False)
            return
        if transaction.terminal:
            if transaction.state == "cancelled":  # the receiver missed the cancelling EOF: repeat it
                self._send(Eof(transaction.txn, transaction.condition, transaction.size, transaction.sha256))
            return
        transaction.prompts = 0
        transaction.prompt_deadline = now + self._prompt_timeout(transaction)
        if transaction.state == "suspended":
            self._resume(transaction, f"{type(pdu).__name__} from the ground")
        if isinstance(pdu, Ack) and pdu.directive == PduType.EOF:
            transaction.eof_acked()
            self._persist(transaction)
        elif isinstance(pdu, Nak):
            self.naks_received += 1
            transaction.metadata_pending |= pdu.metadata
            for start, end in pdu.segments:
                transaction.pending.add(min(start, transaction.size), min(end, transaction.size))
            self._persist(transaction, durable=False)
        self._wake.set()

    # --- sending -------------------------------------------------------------------------------
    def _send(self, pdu: Pdu) -> int:
        raw = encode_pdu(pdu)
        self.ctx.telemetry.send_raw(FILE_PDU_SERVICE, PDU_TM_SUBTYPE, raw)
        self.pdus_sent += 1
        return len(raw) + PACKET_OVERHEAD

    def _prompt_timeout(self, transaction: SenderTransaction) -> float:
        factor = EOF_ACK_TIMEOUT_RTT if transaction.state in ("sending", "awaiting_eof_ack") else FINISHED_TIMEOUT_RTT
        return factor * float(self.param("ft_rtt_s"))

    def _step(self, transaction: SenderTransaction) -> int:
        """Send the transaction's next PDU, if it has one now; return the octets sent (0: nothing)."""
        if transaction.metadata_pending:
            transaction.metadata_pending = False
            return self._send(Metadata(transaction.txn, transaction.name, transaction.size, transaction.sha256,
                                       transaction.chunk_size))
        if transaction.pending:
            segment = transaction.pending.pop_front(transaction.chunk_size)
            assert segment is not None
            transaction.retransmitted += 1
            self.retransmitted += 1
            return self._send_chunk(transaction, *segment)
        if transaction.state == "sending" and not transaction.pass_done:
            start = transaction.next_offset
            end = min(transaction.size, start + transaction.chunk_size)
            transaction.next_offset = end
            if end >= transaction.size:
                transaction.pass_done = True
                transaction.eof_pending = True
            if end > start:  # an empty file goes straight to its EOF
                sent = self._send_chunk(transaction, start, end)
                transaction.chunks_since_persist += 1
                now = self.clock.monotonic()
                if (transaction.chunks_since_persist >= PROGRESS_PERSIST_CHUNKS
                        or now - transaction.persisted_at >= PROGRESS_PERSIST_S):
                    self._persist(transaction, durable=False)
                return sent
        if transaction.eof_pending:
            transaction.eof_pending = False
            sent = self._send(Eof(transaction.txn, Condition.NO_ERROR, transaction.size, transaction.sha256))
            if transaction.state == "sending":
                transaction.data_sent()
                self._persist(transaction)
            return sent
        return 0

    def _send_chunk(self, transaction: SenderTransaction, start: int, end: int) -> int:
        try:
            with open(self.products.path(transaction.name), "rb") as handle:
                handle.seek(start)
                data = handle.read(end - start)
        except OSError as error:
            self._cancel(transaction, Condition.FILE_GONE, f"product unreadable: {error}")
            return 0
        if len(data) != end - start:
            self._cancel(transaction, Condition.FILE_GONE, "product shorter than announced")
            return 0
        self.bytes_sent += len(data)
        return self._send(FileData.of(transaction.txn, start, data))

    def _check_timers(self, now: float) -> float | None:
        """Prompt silent receivers with EOF; suspend after the limit. Returns the next deadline."""
        deadlines = []
        for transaction in self.transactions.values():
            if transaction.state not in ("awaiting_eof_ack", "awaiting_finished"):
                continue
            if transaction.pending or transaction.metadata_pending or transaction.eof_pending:
                continue
            if now >= transaction.prompt_deadline:
                transaction.prompts += 1
                if transaction.prompts > int(self.param("ft_prompt_limit")):
                    transaction.suspend()
                    self._persist(transaction)
                    self.emit("FT_SUSPENDED", txn=transaction.txn,
                              reason=f"no answer to {transaction.prompts - 1} EOF prompts")
                    continue
                transaction.eof_pending = True
                self._wake.set()
            else:
                deadlines.append(transaction.prompt_deadline)
        return min(deadlines) if deadlines else None

    async def _run(self) -> None:
        # A flag as well as the cancel: wait_for in Python 3.11 can swallow a cancellation that
        # races with the event it waits on.
        while not self._stopping:
            sent = 0
            for transaction in sorted(self.transactions.values(), key=lambda t: t.txn):
                if transaction.state in ACTIVE_SENDER_STATES:
                    sent = self._step(transaction)
                    if sent:
                        transaction.prompt_deadline = self.clock.monotonic() + self._prompt_timeout(transaction)
                        break
            if sent:
                await self.clock.sleep(sent * 8 / float(self.param("ft_rate_bps")))
                continue
            next_deadline = self._check_timers(self.clock.monotonic())
            if self._wake.is_set():
                self._wake.clear()
                continue
            timeout = None if next_deadline is None else max(0.0, next_deadline - self.clock.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    # --- state changes -------------------------------------------------------------------------
    def _resume(self, transaction: SenderTransaction, reason: str) -> None:
        transaction.resume()
        transaction.prompts = 0
        transaction.metadata_pending = True
        transaction.eof_pending = transaction.pass_done
        self._persist(transaction)
        self.emit("FT_RESUMED", txn=transaction.txn, reason=reason)
        self._wake.set()

    def _cancel(self, transaction: SenderTransaction, condition: Condition, reason: str, notify: bool = True) -> None:
        transaction.cancel()
        transaction.condition = condition
        transaction.pending = RangeSet()
        self._persist(transaction)
        if notify:
            self._send(Eof(transaction.txn, condition, transaction.size, transaction.sha256))
        self.emit("FT_CANCELLED", txn=transaction.txn, reason=reason)

    def _persist(self, transaction: SenderTransaction, durable: bool = True) -> None:
        transaction.chunks_since_persist = 0
        transaction.persisted_at = self.clock.monotonic()
        self.ctx.store.put(f"{STORE_PREFIX}{transaction.txn}", transaction.to_record(), durable)

    def _prune(self) -> None:
        terminal = sorted(t.txn for t in self.transactions.values() if t.terminal)
        for txn in terminal[:-KEPT_TERMINAL_TRANSACTIONS] if len(terminal) > KEPT_TERMINAL_TRANSACTIONS else []:
            del self.transactions[txn]
            self.ctx.store.delete(f"{STORE_PREFIX}{txn}")
