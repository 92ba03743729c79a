"""Every typed packet error, the first thing wrong named, with its stable failure code."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.protocol import DEFAULT_MAX_PACKET_SIZE, PacketError, PusTc, PusTm, crc16, decode_cbor, unpack_packet
from fsw.protocol.errors import (
    BadCborError,
    BadCrcError,
    BadVersionError,
    FailureCode,
    FieldRangeError,
    LengthMismatchError,
    NotTelecommandError,
    OversizeError,
    TooShortError,
    UnknownPusVersionError,
)
from fsw.protocol.packet import TC_MIN_LEN, TM_MIN_LEN


def with_crc(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


def recrc(raw: bytes) -> bytes:
    """Recompute the CRC after a deliberate edit, so that only the edit is wrong."""
    return with_crc(raw[:-2])


TC = PusTc(100, 17, 1, b"\xa0", seq_count=3).pack()
TM = PusTm(100, 17, 2, b"\xa0", seq_count=3, time=2e9).pack()


@pytest.mark.parametrize(
    "error, code",
    [
        (TooShortError, 1), (LengthMismatchError, 2), (BadVersionError, 3), (BadCrcError, 4),
        (UnknownPusVersionError, 5), (OversizeError, 6), (BadCborError, 7), (FieldRangeError, 8),
        (NotTelecommandError, 9),
    ],
)
def test_codes_are_stable(error: type[PacketError], code: int) -> None:
    assert error.code == code
    assert issubclass(error, PacketError)
    assert issubclass(error, ValueError)
    assert error("x").code is FailureCode(code)


@pytest.mark.parametrize("unpack", [PusTc.unpack, PusTm.unpack, unpack_packet])
@pytest.mark.parametrize("size", [0, 1, 5])
def test_shorter_than_primary_header(unpack: object, size: int) -> None:
    with pytest.raises(TooShortError) as caught:
        unpack(TC[:size])  # type: ignore[operator]
    assert caught.value.code == FailureCode.TOO_SHORT


def test_length_field_consistent_but_below_secondary_header() -> None:
    # A 12-octet TC whose length field agrees: shorter than the 13-octet minimum.
    short_tc = with_crc(bytes([0x18, 0x64, 0xC0, 0x00, 0x00, 0x05]) + bytes([0x2F, 17, 1, 0]))
    with pytest.raises(TooShortError):
        PusTc.unpack(short_tc)
    short_tm = with_crc(bytes([0x08, 0x64, 0xC0, 0x00, 0x00, TM_MIN_LEN - 8]) + bytes(TM_MIN_LEN - 9))
    assert len(short_tm) == TM_MIN_LEN - 1
    with pytest.raises(TooShortError):
        PusTm.unpack(short_tm)


@given(extra=st.binary(min_size=1, max_size=8), cut=st.integers(1, 8))
def test_length_mismatch(extra: bytes, cut: int) -> None:
    with pytest.raises(LengthMismatchError) as caught:
        PusTc.unpack(TC + extra)
    assert caught.value.code == FailureCode.LENGTH_MISMATCH
    with pytest.raises(LengthMismatchError):
        PusTm.unpack(TM[:-cut])


@pytest.mark.parametrize("version", range(1, 8))
def test_bad_version(version: int) -> None:
    raw = recrc(bytes([TC[0] | version << 5]) + TC[1:])
    with pytest.raises(BadVersionError) as caught:
        PusTc.unpack(raw)
    assert caught.value.code == FailureCode.BAD_VERSION


@given(bit=st.integers(0, len(TC) * 8 - 1))
def test_any_single_bit_flip_is_rejected(bit: int) -> None:
    damaged = bytearray(TC)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(PacketError):
        PusTc.unpack(bytes(damaged))


@given(bit=st.integers(6 * 8, (len(TM) - 2) * 8 - 1))
def test_bit_flip_after_the_primary_header_is_a_bad_crc(bit: int) -> None:
    damaged = bytearray(TM)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(BadCrcError) as caught:
        PusTm.unpack(bytes(damaged))
    assert caught.value.code == FailureCode.BAD_CRC


@pytest.mark.parametrize("pus_version", [0, 1, 3, 15])
def test_unknown_pus_version(pus_version: int) -> None:
    for good, unpack in ((TC, PusTc.unpack), (TM, PusTm.unpack)):
        raw = recrc(good[:6] + bytes([pus_version << 4 | good[6] & 0x0F]) + good[7:])
        with pytest.raises(UnknownPusVersionError) as caught:
            unpack(raw)
        assert caught.value.code == FailureCode.UNKNOWN_PUS_VERSION


def test_oversize_default_limit_on_pack_and_unpack() -> None:
    assert DEFAULT_MAX_PACKET_SIZE == 4096
    largest_tc = PusTc(100, 17, 1, bytes(4096 - TC_MIN_LEN))
    assert len(largest_tc.pack()) == 4096
    largest_tm = PusTm(100, 17, 2, bytes(4096 - TM_MIN_LEN))
    assert len(largest_tm.pack()) == 4096
    with pytest.raises(OversizeError) as caught:
        PusTc(100, 17, 1, bytes(4097 - TC_MIN_LEN)).pack()
    assert caught.value.code == FailureCode.OVERSIZE
    with pytest.raises(OversizeError):
        PusTm(100, 17, 2, bytes(4097 - TM_MIN_LEN)).pack()
    # A well-formed packet over the limit is refused by the receiver too.
    big_tc = PusTc(100, 17, 1, bytes(5000)).pack(max_size=8192)
    with pytest.raises(OversizeError):
        PusTc.unpack(big_tc)
    assert PusTc.unpack(big_tc, max_size=8192).app_data == bytes(5000)
    big_tm = PusTm(100, 17, 2, bytes(5000)).pack(max_size=8192)
    with pytest.raises(OversizeError):
        unpack_packet(big_tm)


def test_oversize_configurable_limit() -> None:
    tc = PusTc(100, 17, 1, bytes(64))
    raw = tc.pack()
    with pytest.raises(OversizeError):
        tc.pack(max_size=len(raw) - 1)
    assert tc.pack(max_size=len(raw)) == raw
    with pytest.raises(OversizeError):
        PusTc.unpack(raw, max_size=len(raw) - 1)
    with pytest.raises(OversizeError):
        PusTm.unpack(PusTm(1, 3, 25, bytes(64)).pack(), max_size=64)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff", b"\x18", b"\x9f", b"\x62a", b"\x01\x02", b"\xa1\x01", b"\x7f\x61a", b"\xc2\x63abc\xff"],
)
def test_undecodable_cbor(data: bytes) -> None:
    with pytest.raises(BadCborError) as caught:
        decode_cbor(data)
    assert caught.value.code == FailureCode.BAD_CBOR


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(max_size=8) | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
))
def test_cbor_round_trip(value: object) -> None:
    from fsw.protocol import encode_cbor

    assert decode_cbor(encode_cbor(value)) == value


@pytest.mark.parametrize("p_field", [0x00, 0x1D, 0x1F, 0x2E, 0x9E])
def test_tm_p_field_wrong(p_field: int) -> None:
    raw = recrc(TM[:13] + bytes([p_field]) + TM[14:])
    with pytest.raises(FieldRangeError) as caught:
        PusTm.unpack(raw)
    assert caught.value.code == FailureCode.FIELD_RANGE
    assert f"0x{p_field:02X}" in str(caught.value)


def test_wrong_packet_type() -> None:
    with pytest.raises(NotTelecommandError) as caught:
        PusTc.unpack(TM)
    assert caught.value.code == FailureCode.NOT_TELECOMMAND
    with pytest.raises(FieldRangeError) as range_error:
        PusTm.unpack(PusTc(100, 17, 1, bytes(16)).pack())
    assert "telecommand" in str(range_error.value)


def test_missing_secondary_header_flag() -> None:
    raw = recrc(bytes([TC[0] & ~0x08]) + TC[1:])
    with pytest.raises(FieldRangeError):
        PusTc.unpack(raw)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_packet_errors(data: bytes) -> None:
    for unpack in (PusTc.unpack, PusTm.unpack, unpack_packet):
        with contextlib.suppress(PacketError):
            unpack(data)
