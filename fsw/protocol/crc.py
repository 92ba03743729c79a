"""Packet error control: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)."""

from __future__ import annotations

from collections.abc import Callable

import crcmod.predefined

CRC_INIT = 0xFFFF
CRC_CHECK_VALUE = 0x29B1  # crc16(b"123456789"), from the CRC catalogue

# crcmod's predefined 'crc-ccitt-false' (its C extension; 'xmodem', 'kermit' and 'x-25' are other
# CRCs). Called as crc16(data) or crc16(data, previous) to continue a running CRC.
crc16: Callable[..., int] = crcmod.predefined.mkCrcFun("crc-ccitt-false")
