"""Round trips over every header field's range, range checks on packing, and sequence counters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.protocol import (
    DEFAULT_MAX_PACKET_SIZE,
    PusTc,
    PusTm,
    SequenceCounters,
    SpacePacketHeader,
    crc16,
    unpack_packet,
)
from fsw.protocol.errors import FailureCode, FieldRangeError
from fsw.protocol.packet import TC_MIN_LEN, TM_MIN_LEN

apids = st.integers(0, 2047)
seq_counts = st.integers(0, 16383)
seq_flags = st.integers(0, 3)
octets = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
nibbles = st.integers(0, 15)
cuc_coarse = st.integers(0, 0xFFFFFFFF)
cuc_fine = st.integers(0, 0xFFFF)


def data_up_to(limit: int) -> st.SearchStrategy[bytes]:
    # Mostly short data, sometimes right at the size limit.
    return st.one_of(st.binary(max_size=128), st.binary(min_size=limit - 64, max_size=limit))


@given(
    apid=apids, seq=seq_counts, flags=seq_flags, service=octets, subtype=octets, ack=nibbles,
    source=u16, app_data=data_up_to(DEFAULT_MAX_PACKET_SIZE - TC_MIN_LEN),
)
def test_tc_round_trip_over_every_field(
    apid: int, seq: int, flags: int, service: int, subtype: int, ack: int, source: int, app_data: bytes
) -> None:
    tc = PusTc(apid, service, subtype, app_data, seq_count=seq, ack_flags=ack, source_id=source, seq_flags=flags)
    raw = tc.pack()
    assert len(raw) == TC_MIN_LEN + len(app_data)
    assert crc16(raw) == 0
    back = PusTc.unpack(raw)
    assert back == tc
    assert (back.apid, back.seq_count, back.seq_flags) == (apid, seq, flags)
    assert (back.service, back.subtype) == (service, subtype)
    assert (back.ack_flags, back.source_id, back.app_data) == (ack, source, app_data)
    assert back.request_id == int.from_bytes(raw[:4], "big")
    assert unpack_packet(raw) == tc


@given(
    apid=apids, seq=seq_counts, flags=seq_flags, service=octets, subtype=octets, counter=u16, dest=u16,
    time_ref=nibbles, coarse=cuc_coarse, fine=cuc_fine, source_data=data_up_to(DEFAULT_MAX_PACKET_SIZE - TM_MIN_LEN),
)
def test_tm_round_trip_over_every_field(
    apid: int, seq: int, flags: int, service: int, subtype: int, counter: int, dest: int, time_ref: int,
    coarse: int, fine: int, source_data: bytes,
) -> None:
    # coarse + fine / 2^16 needs 48 significant bits: exact in a float.
    tm = PusTm(
        apid, service, subtype, source_data, seq_count=seq, time=coarse + fine / 65536, msg_counter=counter,
        dest_id=dest, time_ref_status=time_ref, seq_flags=flags,
    )
    assert (tm.time_coarse, tm.time_fine) == (coarse, fine)
    raw = tm.pack()
    assert len(raw) == TM_MIN_LEN + len(source_data)
    assert crc16(raw) == 0
    back = PusTm.unpack(raw)
    assert back == tm
    assert (back.apid, back.seq_count, back.seq_flags) == (apid, seq, flags)
    assert (back.service, back.subtype) == (service, subtype)
    assert (back.msg_counter, back.dest_id, back.time_ref_status) == (counter, dest, time_ref)
    assert (back.time_coarse, back.time_fine, back.source_data) == (coarse, fine, source_data)
    assert back.time == coarse + fine / 65536
    assert unpack_packet(raw) == tm


@given(packet_type=st.integers(0, 1), apid=apids, seq=seq_counts, length=u16, sec=st.integers(0, 1), flags=seq_flags)
def test_primary_header_round_trip(packet_type: int, apid: int, seq: int, length: int, sec: int, flags: int) -> None:
    header = SpacePacketHeader(packet_type, apid, seq, length, sec_header_flag=sec, seq_flags=flags)
    raw = header.pack()
    assert len(raw) == 6
    assert SpacePacketHeader.unpack(raw) == header
    assert header.packet_length == length + 7
    # Bit layout per CCSDS 133.0-B-2: version(3) type(1) sec(1) apid(11) | flags(2) count(14) | length(16).
    word = int.from_bytes(raw, "big")
    assert word >> 45 == 0
    assert (word >> 44) & 1 == packet_type
    assert (word >> 43) & 1 == sec
    assert (word >> 32) & 0x7FF == apid
    assert (word >> 30) & 3 == flags
    assert (word >> 16) & 0x3FFF == seq
    assert word & 0xFFFF == length


@pytest.mark.parametrize(
    "field, value",
    [
        ("version", 1), ("packet_type", 2), ("apid", 2048), ("apid", -1), ("seq_count", 16384),
        ("data_length", 0x10000), ("sec_header_flag", 2), ("seq_flags", 4),
    ],
)
def test_primary_header_field_out_of_range(field: str, value: int) -> None:
    fields = {"packet_type": 1, "apid": 100, "seq_count": 0, "data_length": 0, field: value}
    with pytest.raises(FieldRangeError) as caught:
        SpacePacketHeader(**fields).pack()
    assert caught.value.code is FailureCode.FIELD_RANGE


TC_BAD_FIELDS = [
    ("apid", 2048), ("apid", -1), ("apid", 5.0), ("seq_count", 16384), ("seq_count", -1), ("seq_flags", 4),
    ("ack_flags", 16), ("ack_flags", -1), ("service", 256), ("service", -1), ("subtype", 256),
    ("source_id", 0x10000), ("source_id", -1),
]


@pytest.mark.parametrize("field, value", TC_BAD_FIELDS)
def test_tc_pack_field_out_of_range(field: str, value: object) -> None:
    tc = PusTc(100, 17, 1)
    setattr(tc, field, value)
    with pytest.raises(FieldRangeError) as caught:
        tc.pack()
    assert caught.value.code is FailureCode.FIELD_RANGE
    # The message names the field that is wrong.
    assert str(value) in str(caught.value)


TM_BAD_FIELDS = [
    ("apid", 2048), ("apid", -1), ("seq_count", 16384), ("seq_flags", 4), ("service", 256), ("subtype", -1),
    ("msg_counter", 0x10000), ("dest_id", 0x10000), ("dest_id", -1), ("time_ref_status", 16),
    ("time_coarse", 1 << 32), ("time_fine", 0x10000),
]


@pytest.mark.parametrize("field, value", TM_BAD_FIELDS)
def test_tm_pack_field_out_of_range(field: str, value: int) -> None:
    tm = PusTm(100, 17, 2, time=1e9)
    setattr(tm, field, value)
    with pytest.raises(FieldRangeError) as caught:
        tm.pack()
    assert str(value) in str(caught.value)


@pytest.mark.parametrize("seconds", [-0.5, float(1 << 32)])
def test_tm_time_outside_cuc_range(seconds: float) -> None:
    with pytest.raises(FieldRangeError):
        PusTm(100, 17, 2, time=seconds)


def test_sequence_counters_wrap_at_16384_per_apid() -> None:
    counters = SequenceCounters()
    first = [counters.next(100) for _ in range(16384 + 3)]
    assert first[:3] == [0, 1, 2]
    assert first[16383] == 16383
    assert first[16384:] == [0, 1, 2]
    # Other APIDs count on their own.
    assert counters.next(101) == 0
    assert counters.next(101) == 1
    assert counters.next(100) == 3
    assert counters.snapshot() == {100: 4, 101: 2}
    resumed = SequenceCounters({7: 16383})
    assert [resumed.next(7), resumed.next(7)] == [16383, 0]
