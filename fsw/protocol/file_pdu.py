"""File delivery PDUs (CFDP class 2 semantics) shared by the vehicle and the ground, sans-IO.

PDUs are CBOR lists carried in service 128: TM 128,2 from the vehicle (metadata, file data, EOF, ACK
of FINISHED) and TC 128,1 from the ground (ACK of EOF, NAK, FINISHED). :class:`RangeSet` keeps
the received (or acknowledged) octet ranges of a file. The transactions themselves live in
``fsw.services.filetransfer`` (vehicle) and ``ground.filetransfer`` (ground).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.errors import PacketError

FILE_PDU_SERVICE = 128
PDU_TC_SUBTYPE = 1  # ground -> vehicle
PDU_TM_SUBTYPE = 2  # vehicle -> ground
MAX_NAK_SEGMENTS = 32  # keeps one NAK small on a 125 bit/s uplink; later rounds ask for the rest
# A product (file) name: a plain name, never a path, so neither side can be made to write elsewhere.
PRODUCT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --- PDUs --------------------------------------------------------------------------------------
class PduType(IntEnum):
    METADATA = 1
    FILE_DATA = 2
    EOF = 3
    ACK = 4
    NAK = 5
    FINISHED = 6


class Condition(IntEnum):
    NO_ERROR = 0
    CHECKSUM_FAILURE = 1
    FILE_GONE = 2
    CANCELLED = 3


class PduError(ValueError):
    pass


@dataclass(frozen=True)
class Metadata:
    txn: int
    name: str
    size: int
    sha256: bytes
    chunk_size: int

    def to_list(self) -> list[Any]:
        return [PduType.METADATA, self.txn, self.name, self.size, self.sha256, self.chunk_size]


@dataclass(frozen=True)
class FileData:
    txn: int
    offset: int
    data: bytes
    crc32: int

    @classmethod
    def of(cls, txn: int, offset: int, data: bytes) -> FileData:
        return cls(txn, offset, data, zlib.crc32(data))

    @property
    def intact(self) -> bool:
        return zlib.crc32(self.data) == self.crc32

    def to_list(self) -> list[Any]:
        return [PduType.FILE_DATA, self.txn, self.offset, self.data, self.crc32]


@dataclass(frozen=True)
class Eof:
    txn: int
    condition: Condition
    size: int
    sha256: bytes

    def to_list(self) -> list[Any]:
        return [PduType.EOF, self.txn, self.condition, self.size, self.sha256]


@dataclass(frozen=True)
class Ack:
    txn: int
    directive: PduType  # EOF or FINISHED
    condition: Condition = Condition.NO_ERROR

    def to_list(self) -> list[Any]:
        return [PduType.ACK, self.txn, self.directive, self.condition]


@dataclass(frozen=True)
class Nak:
    txn: int
    metadata: bool
    segments: tuple[tuple[int, int], ...]  # [start, end) octet ranges

    def to_list(self) -> list[Any]:
        return [PduType.NAK, self.txn, self.metadata, [list(segment) for segment in self.segments]]


@dataclass(frozen=True)
class Finished:
    txn: int
    condition: Condition

    def to_list(self) -> list[Any]:
        return [PduType.FINISHED, self.txn, self.condition]


Pdu = Metadata | FileData | Eof | Ack | Nak | Finished


def encode_pdu(pdu: Pdu) -> bytes:
    return appdata.encode(pdu.to_list())


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PduError(f"{what}: expected unsigned integer, got {value!r}")
    return value


def _digest(value: Any) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise PduError("sha256: expected 32 octets")
    return value


def _condition(value: Any) -> Condition:
    try:
        return Condition(_uint(value, "condition"))
    except ValueError as error:
        raise PduError(f"unknown condition {value!r}") from error


def decode_pdu(raw: bytes) -> Pdu:
    """Decode and check one PDU; anything malformed raises PduError."""
    try:
        items = appdata.decode(raw)
    except PacketError as error:
        raise PduError(str(error)) from error
    if not isinstance(items, list) or len(items) < 2:
        raise PduError("a PDU is a CBOR list [type, transaction, ...]")
    kind, txn, *rest = items
    txn = _uint(txn, "transaction")
    arity = {PduType.METADATA: 4, PduType.FILE_DATA: 3, PduType.EOF: 3, PduType.ACK: 2, PduType.NAK: 2,
             PduType.FINISHED: 1}
    try:
        kind = PduType(_uint(kind, "type"))
    except ValueError as error:
        raise PduError(f"unknown PDU type {kind!r}") from error
    if len(rest) != arity[kind]:
        raise PduError(f"{kind.name} takes {arity[kind]} fields, got {len(rest)}")
    if kind == PduType.METADATA:
        name, size, digest, chunk = rest
        if not isinstance(name, str) or not PRODUCT_NAME.match(name):
            raise PduError(f"bad product name {name!r}: 1-64 of A-Z a-z 0-9 _ . - (no path)")
        return Metadata(txn, name, _uint(size, "size"), _digest(digest), _uint(chunk, "chunk size"))
    if kind == PduType.FILE_DATA:
        offset, data, crc = rest
        if not isinstance(data, bytes):
            raise PduError("file data: expected octets")
        return FileData(txn, _uint(offset, "offset"), data, _uint(crc, "crc32"))
    if kind == PduType.EOF:
        condition, size, digest = rest
        return Eof(txn, _condition(condition), _uint(size, "size"), _digest(digest))
    if kind == PduType.ACK:
        directive, condition = rest
        if directive not in (PduType.EOF, PduType.FINISHED):
            raise PduError(f"ACK of {directive!r}: only EOF and FINISHED are acknowledged")
        return Ack(txn, PduType(directive), _condition(condition))
    if kind == PduType.NAK:
        metadata, segments = rest
        if not isinstance(metadata, bool) or not isinstance(segments, list):
            raise PduError("NAK: expected [metadata flag, [[start, end], ...]]")
        ranges = []
        for segment in segments:
            if not isinstance(segment, list) or len(segment) != 2:
                raise PduError("NAK segment: expected [start, end]")
            start, end = _uint(segment[0], "start"), _uint(segment[1], "end")
            if end <= start:
                raise PduError(f"NAK segment [{start}, {end}) is empty")
            ranges.append((start, end))
        return Nak(txn, metadata, tuple(ranges))
    (condition,) = rest
    return Finished(txn, _condition(condition))


# --- octet ranges ------------------------------------------------------------------------------
class RangeSet:
    """Disjoint, sorted, merged [start, end) ranges."""

    def __init__(self, ranges: Any = ()) -> None:
        self.ranges: list[list[int]] = []
        for start, end in ranges:
            self.add(int(start), int(end))

    def add(self, start: int, end: int) -> bool:
        """Add a range; True if it covered anything new."""
        if end <= start:
            return False
        before = self.covered()
        merged: list[list[int]] = []
        placed = False
        for low, high in self.ranges:
            if high < start:
                merged.append([low, high])
            elif low > end:
                if not placed:
                    merged.append([start, end])
                    placed = True
                merged.append([low, high])
            else:
                start, end = min(start, low), max(end, high)
        if not placed:
            merged.append([start, end])
        merged.sort()
        self.ranges = merged
        return self.covered() != before

    def remove(self, start: int, end: int) -> None:
        kept: list[list[int]] = []
        for low, high in self.ranges:
            if high <= start or low >= end:
                kept.append([low, high])
                continue
            if low < start:
                kept.append([low, start])
            if high > end:
                kept.append([end, high])
        self.ranges = kept

    def pop_front(self, limit: int) -> tuple[int, int] | None:
        if not self.ranges:
            return None
        start, end = self.ranges[0]
        end = min(end, start + limit)
        self.remove(start, end)
        return start, end

    def covered(self) -> int:
        return sum(high - low for low, high in self.ranges)

    def gaps(self, size: int) -> list[tuple[int, int]]:
        found, position = [], 0
        for low, high in self.ranges:
            if low > position:
                found.append((position, min(low, size)))
            position = max(position, high)
            if position >= size:
                break
        if position < size:
            found.append((position, size))
        return [(low, high) for low, high in found if high > low]

    def complete(self, size: int) -> bool:
        return not self.gaps(size)

    def to_list(self) -> list[list[int]]:
        return [list(r) for r in self.ranges]

    def __bool__(self) -> bool:
        return bool(self.ranges)
