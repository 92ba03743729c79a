"""CCSDS space packets (CCSDS 133.0-B-2) with ECSS PUS-C secondary headers and a CRC-16 trailer.

Sans-IO: pure functions and small classes over bytes. Packing validates every field; unpacking
raises a typed :class:`~fsw.protocol.errors.PacketError` naming the first thing that is wrong.
"""

from __future__ import annotations

import struct
from binascii import crc_hqx
from typing import NamedTuple

from .crc import CRC_INIT
from .cuc import P_FIELD, TIME_FIELD_LEN, from_cuc, to_cuc
from .errors import (
    BadCrcError,
    BadVersionError,
    FieldRangeError,
    LengthMismatchError,
    NotTelecommandError,
    OversizeError,
    TooShortError,
    UnknownPusVersionError,
)

PRIMARY_HEADER_LEN = 6
CRC_LEN = 2
MAX_APID = 0x7FF
IDLE_APID = 0x7FF
SEQ_COUNT_MODULO = 1 << 14
DEFAULT_MAX_PACKET_SIZE = 4096
PUS_VERSION_C = 2

TYPE_TM = 0
TYPE_TC = 1

SEQ_CONTINUATION = 0b00
SEQ_FIRST = 0b01
SEQ_LAST = 0b10
SEQ_UNSEGMENTED = 0b11

# Acknowledgement flags of a PUS-C TC (bit 3 = acceptance ... bit 0 = completion).
ACK_ACCEPTANCE = 0b1000
ACK_START = 0b0100
ACK_PROGRESS = 0b0010
ACK_COMPLETION = 0b0001
ACK_ALL = 0b1111

_PRIMARY = struct.Struct(">HHH")
_CRC = struct.Struct(">H")
# Primary header + TC secondary header: pus version|ack, service, subtype, source id.
_TC_HEAD = struct.Struct(">HHHBBBH")
TC_HEADER_LEN = _TC_HEAD.size  # 11
TC_MIN_LEN = TC_HEADER_LEN + CRC_LEN
# Primary header + TM secondary header + CUC: pus version|time ref, service, subtype,
# message type counter, destination id, P-field, coarse, fine.
_TM_HEAD = struct.Struct(">HHHBBBHHBIH")
TM_HEADER_LEN = _TM_HEAD.size  # 6 + 7 + 7 = 20
TM_MIN_LEN = TM_HEADER_LEN + CRC_LEN
assert TM_HEADER_LEN == PRIMARY_HEADER_LEN + 7 + TIME_FIELD_LEN


class SpacePacketHeader(NamedTuple):
    """The 6-octet primary header, every field explicit."""

    packet_type: int
    apid: int
    seq_count: int
    data_length: int
    sec_header_flag: int = 1
    seq_flags: int = SEQ_UNSEGMENTED
    version: int = 0

    @property
    def packet_length(self) -> int:
        return self.data_length + 7

    def pack(self) -> bytes:
        _check_range("version", self.version, 0, 0)
        _check_range("packet type", self.packet_type, 0, 1)
        _check_range("secondary header flag", self.sec_header_flag, 0, 1)
        _check_range("APID", self.apid, 0, MAX_APID)
        _check_range("sequence flags", self.seq_flags, 0, 3)
        _check_range("sequence count", self.seq_count, 0, SEQ_COUNT_MODULO - 1)
        _check_range("data length", self.data_length, 0, 0xFFFF)
        return _PRIMARY.pack(
            (self.version << 13) | (self.packet_type << 12) | (self.sec_header_flag << 11) | self.apid,
            (self.seq_flags << 14) | self.seq_count,
            self.data_length,
        )

    @classmethod
    def unpack(cls, raw: bytes) -> SpacePacketHeader:
        if len(raw) < PRIMARY_HEADER_LEN:
            raise TooShortError(f"primary header needs 6 octets, got {len(raw)}")
        packet_id, seq_ctrl, data_length = _PRIMARY.unpack_from(raw)
        version = packet_id >> 13
        if version != 0:
            raise BadVersionError(f"packet version {version}, expected 0")
        return cls(
            packet_type=(packet_id >> 12) & 1,
            apid=packet_id & MAX_APID,
            seq_count=seq_ctrl & 0x3FFF,
            data_length=data_length,
            sec_header_flag=(packet_id >> 11) & 1,
            seq_flags=seq_ctrl >> 14,
            version=version,
        )


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
        raise FieldRangeError(f"{name} {value!r} outside {low}..{high}")


def _check_common(raw: bytes, min_len: int, max_size: int) -> tuple[int, int, int]:
    """Checks shared by TC and TM: length, version, size limit, CRC. Returns primary fields."""
    size = len(raw)
    if size < PRIMARY_HEADER_LEN:
        raise TooShortError(f"packet of {size} octets is shorter than a primary header")
    packet_id, seq_ctrl, data_length = _PRIMARY.unpack_from(raw)
    if packet_id >> 13:
        raise BadVersionError(f"packet version {packet_id >> 13}, expected 0")
    if size > max_size:
        raise OversizeError(f"packet of {size} octets exceeds the {max_size}-octet limit")
    if data_length + 7 != size:
        raise LengthMismatchError(f"data length field says {data_length + 7} octets, got {size}")
    if size < min_len:
        raise TooShortError(f"packet of {size} octets is shorter than the minimum {min_len}")
    if crc_hqx(raw, CRC_INIT):
        raise BadCrcError("CRC-16 check failed")
    if not packet_id & 0x0800:
        raise FieldRangeError("secondary header flag is 0; a PUS packet needs one")
    return packet_id, seq_ctrl, data_length


class PusTc:
    """A PUS-C telecommand. ``app_data`` is raw bytes (CBOR for this project's services)."""

    __slots__ = ("ack_flags", "apid", "app_data", "seq_count", "seq_flags", "service", "source_id", "subtype")

    def __init__(
        self,
        apid: int,
        service: int,
        subtype: int,
        app_data: bytes = b"",
        seq_count: int = 0,
        ack_flags: int = ACK_ALL,
        source_id: int = 0,
        seq_flags: int = SEQ_UNSEGMENTED,
    ) -> None:
        self.apid = apid
        self.service = service
        self.subtype = subtype
        self.app_data = app_data
        self.seq_count = seq_count
        self.ack_flags = ack_flags
        self.source_id = source_id
        self.seq_flags = seq_flags

    @property
    def packet_id(self) -> int:
        return 0x1800 | self.apid

    @property
    def seq_ctrl(self) -> int:
        return (self.seq_flags << 14) | self.seq_count

    @property
    def request_id(self) -> int:
        """The 32-bit PUS request id: packet id then packet sequence control."""
        return (self.packet_id << 16) | self.seq_ctrl

    def pack(self, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> bytes:
        app_data = self.app_data
        size = TC_MIN_LEN + len(app_data)
        apid, seq, ack, flags = self.apid, self.seq_count, self.ack_flags, self.seq_flags
        # Validation on the hot path is cheap: a right shift is non-zero for a negative value or
        # one too wide for its bit field, and struct rejects octet and 16-bit fields out of range
        # (service, subtype, source id). Any failure re-checks field by field to name the culprit.
        try:
            if apid >> 11 or seq >> 14 or ack >> 4 or flags >> 2:
                raise FieldRangeError("header field out of range")
            body = _TC_HEAD.pack(
                0x1800 | apid, (flags << 14) | seq, size - 7, 0x20 | ack, self.service, self.subtype, self.source_id
            )
        except (FieldRangeError, struct.error, TypeError):
            _raise_first_bad_tc_field(self)
            raise
        if size > max_size:
            raise OversizeError(f"packet of {size} octets exceeds the {max_size}-octet limit")
        body += app_data
        return body + _CRC.pack(crc_hqx(body, CRC_INIT))

    @classmethod
    def unpack(cls, raw: bytes, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> PusTc:
        packet_id, seq_ctrl, _ = _check_common(raw, TC_MIN_LEN, max_size)
        if not packet_id & 0x1000:
            raise NotTelecommandError("packet type bit says telemetry, expected a telecommand")
        pus_ack, service, subtype, source = _TC_HEAD.unpack_from(raw)[3:]
        if pus_ack >> 4 != PUS_VERSION_C:
            raise UnknownPusVersionError(f"PUS version {pus_ack >> 4}, expected {PUS_VERSION_C}")
        tc = cls.__new__(cls)
        tc.apid = packet_id & MAX_APID
        tc.seq_count = seq_ctrl & 0x3FFF
        tc.seq_flags = seq_ctrl >> 14
        tc.ack_flags = pus_ack & 0x0F
        tc.service = service
        tc.subtype = subtype
        tc.source_id = source
        tc.app_data = bytes(raw[TC_HEADER_LEN:-CRC_LEN])
        return tc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PusTc) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    def __repr__(self) -> str:
        return (
            f"PusTc(apid={self.apid}, service={self.service}, subtype={self.subtype}, "
            f"seq_count={self.seq_count}, ack=0b{self.ack_flags:04b}, source_id={self.source_id}, "
            f"app_data={self.app_data.hex()})"
        )


def _raise_first_bad_tc_field(tc: PusTc) -> None:
    _check_range("APID", tc.apid, 0, MAX_APID)
    _check_range("sequence count", tc.seq_count, 0, SEQ_COUNT_MODULO - 1)
    _check_range("sequence flags", tc.seq_flags, 0, 3)
    _check_range("acknowledgement flags", tc.ack_flags, 0, 15)
    _check_range("service", tc.service, 0, 255)
    _check_range("subtype", tc.subtype, 0, 255)
    _check_range("source id", tc.source_id, 0, 0xFFFF)


class PusTm:
    """A PUS-C telemetry packet with a 7-octet CUC time field."""

    __slots__ = (
        "apid",
        "dest_id",
        "msg_counter",
        "seq_count",
        "seq_flags",
        "service",
        "source_data",
        "subtype",
        "time_coarse",
        "time_fine",
        "time_ref_status",
    )

    def __init__(
        self,
        apid: int,
        service: int,
        subtype: int,
        source_data: bytes = b"",
        seq_count: int = 0,
        time: float = 0.0,
        msg_counter: int = 0,
        dest_id: int = 0,
        time_ref_status: int = 0,
        seq_flags: int = SEQ_UNSEGMENTED,
    ) -> None:
        self.apid = apid
        self.service = service
        self.subtype = subtype
        self.source_data = source_data
        self.seq_count = seq_count
        self.time_coarse, self.time_fine = to_cuc(time)
        self.msg_counter = msg_counter
        self.dest_id = dest_id
        self.time_ref_status = time_ref_status
        self.seq_flags = seq_flags

    @property
    def time(self) -> float:
        """TAI seconds since 1958-01-01, resolution 2^-16 s."""
        return from_cuc(self.time_coarse, self.time_fine)

    def pack(self, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> bytes:
        source_data = self.source_data
        size = TM_MIN_LEN + len(source_data)
        apid, seq, flags, time_ref = self.apid, self.seq_count, self.seq_flags, self.time_ref_status
        # Same cheap validation as PusTc.pack: shifts for the bit fields, struct for the rest.
        try:
            if apid >> 11 or seq >> 14 or flags >> 2 or time_ref >> 4:
                raise FieldRangeError("header field out of range")
            body = _TM_HEAD.pack(
                0x0800 | apid, (flags << 14) | seq, size - 7, 0x20 | time_ref, self.service, self.subtype,
                self.msg_counter, self.dest_id, P_FIELD, self.time_coarse, self.time_fine,
            )
        except (FieldRangeError, struct.error, TypeError):
            _raise_first_bad_tm_field(self)
            raise
        if size > max_size:
            raise OversizeError(f"packet of {size} octets exceeds the {max_size}-octet limit")
        body += source_data
        return body + _CRC.pack(crc_hqx(body, CRC_INIT))

    @classmethod
    def unpack(cls, raw: bytes, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> PusTm:
        packet_id, seq_ctrl, _ = _check_common(raw, TM_MIN_LEN, max_size)
        if packet_id & 0x1000:
            raise FieldRangeError("packet type bit says telecommand, expected telemetry")
        pus_ref, service, subtype, counter, dest, p_field, coarse, fine = _TM_HEAD.unpack_from(raw)[3:]
        if pus_ref >> 4 != PUS_VERSION_C:
            raise UnknownPusVersionError(f"PUS version {pus_ref >> 4}, expected {PUS_VERSION_C}")
        if p_field != P_FIELD:
            raise FieldRangeError(f"CUC P-field 0x{p_field:02X}, expected 0x{P_FIELD:02X}")
        tm = cls.__new__(cls)
        tm.apid = packet_id & MAX_APID
        tm.seq_count = seq_ctrl & 0x3FFF
        tm.seq_flags = seq_ctrl >> 14
        tm.time_ref_status = pus_ref & 0x0F
        tm.service = service
        tm.subtype = subtype
        tm.msg_counter = counter
        tm.dest_id = dest
        tm.time_coarse = coarse
        tm.time_fine = fine
        tm.source_data = bytes(raw[TM_HEADER_LEN:-CRC_LEN])
        return tm

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PusTm) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    def __repr__(self) -> str:
        return (
            f"PusTm(apid={self.apid}, service={self.service}, subtype={self.subtype}, "
            f"seq_count={self.seq_count}, time={self.time:.5f}, source_data={self.source_data.hex()})"
        )


def _raise_first_bad_tm_field(tm: PusTm) -> None:
    _check_range("APID", tm.apid, 0, MAX_APID)
    _check_range("sequence count", tm.seq_count, 0, SEQ_COUNT_MODULO - 1)
    _check_range("sequence flags", tm.seq_flags, 0, 3)
    _check_range("service", tm.service, 0, 255)
    _check_range("subtype", tm.subtype, 0, 255)
    _check_range("message type counter", tm.msg_counter, 0, 0xFFFF)
    _check_range("destination id", tm.dest_id, 0, 0xFFFF)
    _check_range("time reference status", tm.time_ref_status, 0, 15)
    _check_range("CUC coarse time", tm.time_coarse, 0, 0xFFFFFFFF)
    _check_range("CUC fine time", tm.time_fine, 0, 0xFFFF)


def unpack_packet(raw: bytes, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> PusTc | PusTm:
    """Unpack either kind, chosen by the packet type bit."""
    if len(raw) >= 1 and raw[0] & 0x10:
        return PusTc.unpack(raw, max_size)
    return PusTm.unpack(raw, max_size)


class SequenceCounters:
    """Per-APID 14-bit sequence counters that wrap at 16384."""

    __slots__ = ("_next",)

    def __init__(self, initial: dict[int, int] | None = None) -> None:
        self._next: dict[int, int] = dict(initial or {})

    def next(self, apid: int) -> int:
        count = self._next.get(apid, 0)
        self._next[apid] = (count + 1) & 0x3FFF
        return count

    def snapshot(self) -> dict[int, int]:
        return dict(self._next)
