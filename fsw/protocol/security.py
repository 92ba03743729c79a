"""SDLS-style authentication inside the telecommand packet (sans-IO).

A signed TC's application data starts with a security header, SPI (2 octets, big-endian) and
sequence number (4 octets, big-endian), and ends, right before the packet error control, with a
16-octet MAC: HMAC-SHA256 truncated to its first 16 octets, over every octet of the packet from
the primary header up to the end of the CBOR application data (the security header included).
The CRC covers everything before it, MAC included.

Key files are TOML: ``[[key]]`` tables with ``spi = <int>`` and ``hex = "<64 hex digits>"``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .crc import crc16
from .errors import FailureCode, PacketError
from .packet import CRC_LEN, DEFAULT_MAX_PACKET_SIZE, TC_HEADER_LEN, PusTc

SECURITY_HEADER = struct.Struct(">HI")
SECURITY_HEADER_LEN = SECURITY_HEADER.size  # 6
MAC_LEN = 16
KEY_LEN = 32
MAX_SEQUENCE = 0xFFFFFFFF


class KeyFileError(ValueError):
    """A key file that cannot be used; the message names the problem."""


class SecurityError(PacketError):
    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def mac_of(key: bytes, covered: bytes) -> bytes:
    return hmac.new(key, covered, hashlib.sha256).digest()[:MAC_LEN]


@dataclass(frozen=True)
class KeyRing:
    keys: dict[int, bytes]

    @classmethod
    def load(cls, path: str | Path) -> KeyRing:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError as error:
            raise KeyFileError(f"key file {path} does not exist") from error
        except tomllib.TOMLDecodeError as error:
            raise KeyFileError(f"key file {path} is not valid TOML: {error}") from error
        entries = data.get("key")
        if not isinstance(entries, list) or not entries:
            raise KeyFileError(f"key file {path} has no [[key]] tables")
        keys: dict[int, bytes] = {}
        for index, entry in enumerate(entries):
            spi, text = entry.get("spi"), entry.get("hex")
            if not isinstance(spi, int) or not 0 <= spi <= 0xFFFF:
                raise KeyFileError(f"key {index}: spi must be an integer 0..65535, got {spi!r}")
            if not isinstance(text, str) or len(text) != 2 * KEY_LEN:
                raise KeyFileError(f"key {index} (spi {spi}): hex must be {2 * KEY_LEN} hex digits")
            try:
                key = bytes.fromhex(text)
            except ValueError as error:
                raise KeyFileError(f"key {index} (spi {spi}): hex is not hexadecimal") from error
            if spi in keys:
                raise KeyFileError(f"spi {spi} appears twice")
            keys[spi] = key
        return cls(keys)

    @staticmethod
    def generate(path: str | Path, spis: tuple[int, ...] = (1,)) -> Path:
        """Write a new key file with random keys, readable by its owner only."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(f'[[key]]\nspi = {spi}\nhex = "{secrets.token_hex(KEY_LEN)}"\n\n' for spi in spis)
        target.touch(mode=0o600, exist_ok=True)
        target.write_text(text)
        return target


def sign(tc: PusTc, spi: int, sequence: int, key: bytes, max_size: int = DEFAULT_MAX_PACKET_SIZE) -> bytes:
    """Pack ``tc`` (whose app_data is the plain CBOR) as a signed packet."""
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise SecurityError(FailureCode.FIELD_RANGE, f"sequence number {sequence} outside 0..{MAX_SEQUENCE}")
    inner = tc.app_data
    tc.app_data = SECURITY_HEADER.pack(spi, sequence) + inner + bytes(MAC_LEN)
    try:
        placeholder = tc.pack(max_size)
    finally:
        tc.app_data = inner
    covered = placeholder[: -(MAC_LEN + CRC_LEN)]
    signed = covered + mac_of(key, covered)
    return signed + crc16(signed).to_bytes(2, "big")


@dataclass(frozen=True)
class Verified:
    spi: int
    sequence: int
    app_data: bytes  # the CBOR application data, security header and MAC removed


def verify(raw: bytes, keys: KeyRing) -> Verified:
    """Check the security header and MAC of a packet whose CRC is already good.

    Sequence numbers are checked by the caller, after the MAC, so that a forged packet cannot
    move the anti-replay window.
    """
    data_end = len(raw) - CRC_LEN
    if data_end - TC_HEADER_LEN < SECURITY_HEADER_LEN + MAC_LEN:
        raise SecurityError(FailureCode.MISSING_SECURITY_HEADER, "TC too short to carry a security header and MAC")
    spi, sequence = SECURITY_HEADER.unpack_from(raw, TC_HEADER_LEN)
    key = keys.keys.get(spi)
    if key is None:
        raise SecurityError(FailureCode.UNKNOWN_SPI, f"no key for SPI {spi}")
    covered = raw[: data_end - MAC_LEN]
    if not hmac.compare_digest(mac_of(key, covered), raw[data_end - MAC_LEN:data_end]):
        raise SecurityError(FailureCode.BAD_MAC, f"MAC check failed (SPI {spi})")
    return Verified(spi, sequence, bytes(raw[TC_HEADER_LEN + SECURITY_HEADER_LEN: data_end - MAC_LEN]))
