"""The dispatcher's duplicate-recognition window, kept in the store so that it outlives a reset.

A retransmitted TC is byte-identical to the one taken first, so it is known by a hash of its octets.
For each of the last ``size`` TCs taken from the link the window keeps the verification reports
sent for it; a retransmission gets them again and is not executed again. The window is written to
the store (one key per TC, the oldest deleted as a new one comes in, in the same transaction), so a
retransmission that arrives after a reset, possibly one the anti-replay check would refuse, still
gets its original verdict.

When a TC is written:

- a TC refused by the dispatcher (1,2): once, with its verdict;
- an accepted TC: right before its handler runs, marked *open*, with its reports so far (1,1, 1,3),
  then again with its final report (1,7, 1,4 or 1,8). An entry still open at boot belonged to a TC
  cut short by the reset: it is closed with a 1,8 ``INTERRUPTED_BY_RESET`` (see the dispatcher).
- link-layer refusals (authentication) are not written: after a reset the same octets meet the
  same checks and get the same verdict again.

The writes are not durable (``Store.put(durable=False)``: WAL, synchronous=NORMAL, about a quarter
of a millisecond instead of several for an fsync). A commit is in the WAL at once and survives the
death of the process; a power loss can lose only the latest commits, and only together with
everything committed after them, since SQLite replays a WAL up to its first incomplete frame. Any
later durable write (a parameter, the anti-replay counter, a latch) carries the window entries
written before it to the disk: a TC whose effect was made durable has its entry on disk too.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fsw.core.store import Store

KEY_PREFIX = "tc_window."


@dataclass
class WindowEntry:
    """One TC taken from the link: what identifies it and the verification reports it got."""

    key: bytes  # the hash of its octets
    ordinal: int  # order of arrival, across resets: the oldest is dropped first
    request_id: int
    service: int
    subtype: int
    seq: int
    reports: list[tuple[int, bytes]] = field(default_factory=list)  # (PUS 1 subtype, source data)
    open: bool = False  # its handler is running: no final report yet
    stored: bool = False  # a row exists in the store

    def to_cbor(self) -> list[Any]:
        return [self.ordinal, self.request_id, self.service, self.subtype, self.seq, self.open,
                [[subtype, payload] for subtype, payload in self.reports]]

    @classmethod
    def from_cbor(cls, key: bytes, value: Any) -> WindowEntry:
        ordinal, request_id, service, subtype, seq, is_open, reports = value
        return cls(key, int(ordinal), int(request_id), int(service), int(subtype), int(seq),
                   [(int(kind), bytes(payload)) for kind, payload in reports], bool(is_open), stored=True)


def packet_key(raw: bytes) -> bytes:
    """Same source, same sequence, same content: a retransmission is byte-identical."""
    return hashlib.blake2b(raw, digest_size=16).digest()


class DuplicateWindow:
    def __init__(self, store: Store, size: int) -> None:
        self.store = store
        self.size = size
        self.entries: OrderedDict[bytes, WindowEntry] = OrderedDict()
        self._next_ordinal = 0
        self._pending_deletions: set[str] = set()  # rows of evicted entries, dropped with the next write

    @staticmethod
    def _row(key: bytes) -> str:
        return KEY_PREFIX + key.hex()

    def load(self) -> list[WindowEntry]:
        """Take back the window written before the reset; returns the entries still open."""
        rows: list[WindowEntry] = []
        unreadable: list[str] = []
        for name in self.store:
            if not name.startswith(KEY_PREFIX):
                continue
            try:
                rows.append(WindowEntry.from_cbor(bytes.fromhex(name[len(KEY_PREFIX):]), self.store.get(name)))
            except (TypeError, ValueError):  # the row CRC makes this unlikely: forget the entry
                unreadable.append(name)
        rows.sort(key=lambda entry: entry.ordinal)
        excess = rows[:-self.size] if len(rows) > self.size else []
        for entry in rows[len(excess):]:
            self.entries[entry.key] = entry
        self._next_ordinal = rows[-1].ordinal + 1 if rows else 0
        stale = [self._row(entry.key) for entry in excess] + unreadable
        if stale:
            self.store.put_many({}, durable=False, delete=stale)
        return [entry for entry in self.entries.values() if entry.open]

    def find(self, raw: bytes) -> WindowEntry | None:
        return self.entries.get(packet_key(raw))

    def remember(self, raw: bytes, request_id: int, service: int, subtype: int, seq: int) -> WindowEntry:
        """A new TC from the link (RAM only until :meth:`save`); the oldest beyond the size is dropped."""
        key = packet_key(raw)
        entry = WindowEntry(key, self._next_ordinal, request_id, service, subtype, seq)
        self._next_ordinal += 1
        self.entries.pop(key, None)
        self.entries[key] = entry
        while len(self.entries) > self.size:
            _, old = self.entries.popitem(last=False)
            if old.stored:
                self._pending_deletions.add(self._row(old.key))
        return entry

    def save(self, *entries: WindowEntry) -> None:
        """Write entries (still in the window) and drop the rows of the ones evicted, in one transaction."""
        values = {}
        for entry in entries:
            if self.entries.get(entry.key) is entry:  # an entry evicted meanwhile stays out
                values[self._row(entry.key)] = entry.to_cbor()
                entry.stored = True
        deletions, self._pending_deletions = self._pending_deletions, set()
        if values or deletions:
            self.store.put_many(values, durable=False, delete=sorted(deletions - values.keys()))
