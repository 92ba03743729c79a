"""SDLS-style authentication: layout, key files, and the flight-side checks in order."""

from __future__ import annotations

import hashlib
import hmac
from binascii import crc_hqx
from pathlib import Path

import pytest
from spacepackets.ecss import PusTc as ReferenceTc

from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.protocol.security import KeyFileError, KeyRing, SecurityError, sign, verify

KEY = bytes(range(32))
EXAMPLE_KEYS = KeyRing({1: KEY})


def independent_sign(service: int, subtype: int, cbor: bytes, seq_count: int, spi: int, sequence: int,
                     key: bytes) -> bytes:
    """Built from the ICD text alone, with spacepackets, hmac and binascii."""
    header = spi.to_bytes(2, "big") + sequence.to_bytes(4, "big")
    placeholder = ReferenceTc(service=service, message_subtype=subtype, apid=100, seq_count=seq_count,
                              app_data=header + cbor + bytes(16)).pack()
    covered = placeholder[:-18]
    signed = covered + hmac.new(key, covered, hashlib.sha256).digest()[:16]
    return signed + crc_hqx(signed, 0xFFFF).to_bytes(2, "big")


def test_signing_matches_an_independent_implementation() -> None:
    cbor = appdata.encode([2])
    ours = sign(PusTc(100, 8, 1, cbor, seq_count=7), spi=1, sequence=42, key=KEY)
    assert ours == independent_sign(8, 1, cbor, 7, 1, 42, KEY)
    verified = verify(ours, EXAMPLE_KEYS)
    assert (verified.spi, verified.sequence, verified.app_data) == (1, 42, cbor)
    assert PusTc.unpack(ours).app_data[:6] == bytes.fromhex("00010000002a")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda raw: raw, None),
        (lambda raw: raw[:11] + b"\x00\x09" + raw[13:], FailureCode.UNKNOWN_SPI),
        (lambda raw: raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:], FailureCode.BAD_MAC),
        (lambda raw: raw[:14] + b"\x2b" + raw[15:], FailureCode.BAD_MAC),  # sequence edited, MAC kept
    ],
)
def test_each_forgery_has_its_code(mutate, code) -> None:  # type: ignore[no-untyped-def]
    raw = sign(PusTc(100, 17, 1), spi=1, sequence=42, key=KEY)
    body = mutate(raw)[:-2]
    tampered = body + crc_hqx(body, 0xFFFF).to_bytes(2, "big")
    if code is None:
        assert verify(tampered, EXAMPLE_KEYS).sequence == 42
    else:
        with pytest.raises(SecurityError) as caught:
            verify(tampered, EXAMPLE_KEYS)
        assert caught.value.code == code


def test_unsigned_tc_lacks_a_security_header() -> None:
    with pytest.raises(SecurityError) as caught:
        verify(PusTc(100, 17, 1).pack(), EXAMPLE_KEYS)
    assert caught.value.code == FailureCode.MISSING_SECURITY_HEADER


def test_key_files(tmp_path: Path) -> None:
    path = KeyRing.generate(tmp_path / "keys.toml", (1, 7))
    assert sorted(KeyRing.load(path).keys) == [1, 7]
    assert path.stat().st_mode & 0o077 == 0
    for text, problem in (
        ("", "no [[key]]"),
        ("[[key]]\nspi = 1\nhex = 'abc'\n", "64 hex digits"),
        ("[[key]]\nspi = 70000\nhex = '" + "00" * 32 + "'\n", "spi"),
        ("[[key]]\nspi = 1\nhex = '" + "zz" * 32 + "'\n", "not hexadecimal"),
        ("[[key]]\nspi = 1\nhex = '" + "00" * 32 + "'\n[[key]]\nspi = 1\nhex = '" + "11" * 32 + "'\n", "twice"),
        ("not toml [", "not valid TOML"),
    ):
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(KeyFileError, match=problem.replace("[", r"\[")):
            KeyRing.load(tmp_path / "bad.toml")
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyRing.load(tmp_path / "missing.toml")


def test_the_icd_worked_example_is_what_the_code_builds() -> None:
    icd = (Path(__file__).resolve().parents[3] / "docs" / "icd.md").read_text()
    raw = sign(PusTc(100, 8, 1, appdata.encode([2]), seq_count=7), spi=1, sequence=42, key=KEY)
    assert raw.hex(" ") in icd
    assert f"| `{raw[19:35].hex(' ')}` | MAC |" in icd
    assert f"| `{raw[35:].hex(' ')}` | CRC |" in icd
