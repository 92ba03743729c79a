"""The packet layer shared by flight and ground: sans-IO codec over bytes, no I/O, no asyncio."""

from .appdata import decode as decode_cbor
from .appdata import encode as encode_cbor
from .arguments import ArgumentSpec
from .crc import CRC_CHECK_VALUE, crc16
from .cuc import UNIX_TO_TAI_1958, pack_cuc, unpack_cuc
from .errors import ArgumentRangeError, BadArgumentError, FailureCode, PacketError
from .framing import Deframer, frame
from .packet import (
    ACK_ACCEPTANCE,
    ACK_ALL,
    ACK_COMPLETION,
    ACK_PROGRESS,
    ACK_START,
    DEFAULT_MAX_PACKET_SIZE,
    PusTc,
    PusTm,
    SequenceCounters,
    SpacePacketHeader,
    unpack_packet,
)
from .verification import Subtype as VerificationSubtype
from .verification import VerificationReport

__all__ = [
    "ACK_ACCEPTANCE",
    "ACK_ALL",
    "ACK_COMPLETION",
    "ACK_PROGRESS",
    "ACK_START",
    "CRC_CHECK_VALUE",
    "DEFAULT_MAX_PACKET_SIZE",
    "UNIX_TO_TAI_1958",
    "ArgumentRangeError",
    "ArgumentSpec",
    "BadArgumentError",
    "Deframer",
    "FailureCode",
    "PacketError",
    "PusTc",
    "PusTm",
    "SequenceCounters",
    "SpacePacketHeader",
    "VerificationReport",
    "VerificationSubtype",
    "crc16",
    "decode_cbor",
    "encode_cbor",
    "frame",
    "pack_cuc",
    "unpack_cuc",
    "unpack_packet",
]
