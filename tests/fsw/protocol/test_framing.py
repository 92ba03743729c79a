"""COBS framing: round trips, empty frames, and recovery from a damaged byte stream."""

from __future__ import annotations

from dataclasses import dataclass

from cobs import cobs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fsw.protocol import Deframer, PacketError, PusTc, frame

# Packet contents that stress COBS: zeros, long runs without zeros (254+ forces an extra code octet).
stuffing_data = st.one_of(
    st.binary(max_size=600),
    st.integers(0, 600).map(bytes),
    st.integers(250, 600).map(lambda n: b"\x01" * n),
    st.lists(st.sampled_from([b"\x00", b"\xff" * 254, b"\x11" * 253, b"\x00\x00"]), max_size=6).map(b"".join),
)


def feed_in_chunks(deframer: Deframer, stream: bytes, sizes: list[int]) -> list[tuple[bytes, object]]:
    out: list[tuple[bytes, object]] = []
    position, index = 0, 0
    while position < len(stream):
        size = sizes[index % len(sizes)]
        out += deframer.feed(stream[position : position + size])
        position += size
        index += 1
    return out


@given(packet=stuffing_data)
def test_frame_layout(packet: bytes) -> None:
    framed = frame(packet)
    assert framed[0] == 0 and framed[-1] == 0
    assert 0 not in framed[1:-1]
    # COBS costs one octet, plus one per 254 octets, plus the two delimiters.
    assert len(framed) <= len(packet) + 1 + len(packet) // 254 + 2
    assert cobs.decode(framed[1:-1]) == packet


@given(packets=st.lists(stuffing_data, max_size=8), sizes=st.lists(st.integers(1, 97), min_size=1, max_size=8))
def test_frame_deframe_round_trip(packets: list[bytes], sizes: list[int]) -> None:
    deframer = Deframer()
    out = feed_in_chunks(deframer, b"".join(frame(packet) for packet in packets), sizes)
    assert [raw for raw, _ in out] == packets
    assert [value for _, value in out] == packets
    assert deframer.good_frames == len(packets)
    assert deframer.rejected_total == 0


def test_empty_frames_are_ignored_and_counted() -> None:
    deframer = Deframer()
    packet = PusTc(100, 17, 1).pack()
    # Every delimiter ends a frame: the 4 before the first packet, the one between the two frames
    # and the trailing one each end an empty frame.
    out = deframer.feed(b"\x00\x00\x00" + frame(packet) + frame(packet) + b"\x00")
    assert [raw for raw, _ in out] == [packet, packet]
    assert deframer.empty_frames == 6
    assert deframer.rejected_total == 0
    assert deframer.counters() == {"good_frames": 2, "empty_frames": 6}


def test_oversize_frame_is_dropped_and_the_stream_resynchronises() -> None:
    deframer = Deframer(validate=PusTc.unpack, max_packet_size=128)
    good = PusTc(100, 17, 1, b"ok").pack()
    too_big = PusTc(100, 17, 1, bytes(range(1, 200))).pack(max_size=4096)
    endless = b"\x55" * 1000  # a long run with no delimiter, fed across many chunks
    stream = frame(good) + frame(too_big) + b"\x00" + endless + frame(good)
    out = feed_in_chunks(deframer, stream, [7, 100, 1, 33])
    assert [raw for raw, _ in out] == [good, good]
    assert deframer.rejected == {"OVERSIZE": 2}
    assert deframer.good_frames == 2


def test_validation_errors_are_counted_by_code_name() -> None:
    deframer = Deframer(validate=PusTc.unpack)
    damaged = bytearray(PusTc(100, 17, 1, b"abc").pack())
    damaged[-3] ^= 0x04
    out = deframer.feed(
        frame(bytes(damaged)) + frame(b"\x18\x64") + b"\x00\x05\x01\x00" + frame(PusTc(1, 17, 1).pack())
    )
    assert len(out) == 1
    assert isinstance(out[0][1], PusTc)
    assert deframer.rejected == {"BAD_CRC": 1, "TOO_SHORT": 1, "BAD_COBS": 1}


# --- Fuzzed streams: valid packets among garbage and damaged frames -------------------------------

MAX_PACKET = 512


@dataclass(frozen=True)
class Segment:
    """A piece of the stream and how many good and damaged frames it holds."""

    octets: bytes
    good: tuple[bytes, ...] = ()
    damaged: int = 0


valid_tcs = st.builds(
    lambda apid, seq, service, subtype, data: PusTc(apid, service, subtype, data, seq_count=seq).pack(),
    st.integers(0, 2047), st.integers(0, 16383), st.integers(0, 255), st.integers(0, 255),
    st.one_of(st.binary(max_size=200), st.integers(0, 300).map(bytes), st.just(b"\x07" * 260)),
)
nonzero_bytes = st.binary(min_size=1, max_size=80).map(lambda data: bytes(octet or 0xA5 for octet in data))


def decodes_to_valid_tc(encoded: bytes) -> bool:
    try:
        PusTc.unpack(cobs.decode(encoded), max_size=MAX_PACKET)
    except (cobs.DecodeError, PacketError):
        return False
    return True


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    kind = draw(st.sampled_from(["valid", "garbage", "bit_flip", "truncated", "concatenated", "oversize"]))
    if kind == "valid":
        packet = draw(valid_tcs)
        return Segment(frame(packet), good=(packet,))
    if kind == "garbage":
        # Pieces of noise separated by delimiters: each piece is one damaged frame.
        pieces = draw(st.lists(nonzero_bytes, min_size=1, max_size=3))
        assume(not any(decodes_to_valid_tc(piece) for piece in pieces))
        return Segment(b"\x00" + b"\x00".join(pieces) + b"\x00", damaged=len(pieces))
    if kind == "oversize":
        run = draw(st.integers(MAX_PACKET + 10, 3 * MAX_PACKET))
        return Segment(b"\x00" + b"\xc3" * run + b"\x00", damaged=1)
    encoded = cobs.encode(draw(valid_tcs))
    if kind == "bit_flip":
        position = draw(st.integers(0, len(encoded) - 1))
        mask = 1 << draw(st.integers(0, 7))
        if encoded[position] ^ mask == 0:
            mask ^= 0xFF  # a flip to 0x00 would be a delimiter: flip the other bits instead
        damaged = encoded[:position] + bytes([encoded[position] ^ mask]) + encoded[position + 1 :]
        return Segment(b"\x00" + damaged + b"\x00", damaged=1)
    if kind == "truncated":
        # The frame is cut off; the next segment's leading delimiter ends it.
        cut = draw(st.integers(1, len(encoded) - 1))
        return Segment(b"\x00" + encoded[:cut], damaged=1)
    # Two frames run together without the delimiter between them.
    second = cobs.encode(draw(valid_tcs))
    return Segment(b"\x00" + encoded + second + b"\x00", damaged=1)


@settings(max_examples=150, deadline=None)
@given(
    stream_segments=st.lists(segments(), min_size=1, max_size=12),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=10),
)
def test_fuzzed_stream_recovers_every_untouched_packet(stream_segments: list[Segment], sizes: list[int]) -> None:
    stream = b"".join(segment.octets for segment in stream_segments) + b"\x00"
    deframer = Deframer(validate=PusTc.unpack, max_packet_size=MAX_PACKET)
    out = feed_in_chunks(deframer, stream, sizes)
    expected = [packet for segment in stream_segments for packet in segment.good]
    assert [raw for raw, _ in out] == expected
    assert [value for _, value in out] == [PusTc.unpack(packet) for packet in expected]
    assert deframer.good_frames == len(expected)
    # Every damaged frame is counted once, under some reason.
    assert deframer.rejected_total == sum(segment.damaged for segment in stream_segments)
    assert set(deframer.rejected) <= {
        "BAD_COBS", "OVERSIZE", "TOO_SHORT", "LENGTH_MISMATCH", "BAD_VERSION", "BAD_CRC",
        "UNKNOWN_PUS_VERSION", "FIELD_RANGE", "NOT_TELECOMMAND",
    }
