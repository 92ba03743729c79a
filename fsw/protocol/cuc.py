"""CCSDS Unsegmented time Code (CCSDS 301.0-B-4), 4 coarse + 2 fine octets on the TAI 1958 epoch.

The TM time field is 7 octets: the explicit P-field 0x1E, then 4 octets of seconds and 2 octets
of binary fraction of a second.
"""

from __future__ import annotations

import struct

from .errors import FieldRangeError, TooShortError

P_FIELD = 0x1E  # no extension, time code id 001 (TAI 1958), 4 coarse, 2 fine octets
TIME_FIELD_LEN = 7
_CUC = struct.Struct(">BIH")

# Seconds from 1958-01-01 TAI to 1970-01-01 UTC, plus the 37 s TAI-UTC offset in force since 2017.
UNIX_TO_TAI_1958 = 378_691_200 + 37


def to_cuc(seconds: float) -> tuple[int, int]:
    """Split TAI seconds since 1958 into (coarse, fine) with fine in units of 2^-16 s."""
    if seconds < 0:
        raise FieldRangeError(f"CUC time {seconds} is before the epoch")
    coarse = int(seconds)
    fine = int((seconds - coarse) * 65536.0)
    if coarse > 0xFFFFFFFF:
        raise FieldRangeError(f"CUC time {seconds} overflows 4 coarse octets")
    return coarse, fine


def from_cuc(coarse: int, fine: int) -> float:
    return coarse + fine / 65536.0


def pack_cuc(seconds: float) -> bytes:
    coarse, fine = to_cuc(seconds)
    return _CUC.pack(P_FIELD, coarse, fine)


def unpack_cuc(data: bytes) -> float:
    if len(data) < TIME_FIELD_LEN:
        raise TooShortError(f"CUC field needs {TIME_FIELD_LEN} octets, got {len(data)}")
    p_field, coarse, fine = _CUC.unpack_from(data)
    if p_field != P_FIELD:
        raise FieldRangeError(f"CUC P-field 0x{p_field:02X}, expected 0x{P_FIELD:02X}")
    return from_cuc(coarse, fine)
