"""Packet error control: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)."""

from __future__ import annotations

from binascii import crc_hqx

CRC_INIT = 0xFFFF
CRC_CHECK_VALUE = 0x29B1  # crc16(b"123456789"), from the CRC catalogue


def crc16(data: bytes, crc: int = CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE of ``data``; pass a previous result as ``crc`` to continue it.

    The standard library's ``binascii.crc_hqx`` is this CRC (same polynomial, no reflection, no
    final xor) once seeded with 0xFFFF; it runs in C, faster than crcmod on packet-sized buffers.
    """
    return crc_hqx(data, crc)
