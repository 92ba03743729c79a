"""The sans-IO impairment core: delay, pacing, frame loss, bit errors, outages, determinism."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.protocol.framing import Deframer, frame
from hil.link import ImpairmentConfig, LinkImpairment, direction_rng


def impair(config: ImpairmentConfig, seed: int = 1, start_time: float = 0.0) -> LinkImpairment:
    return LinkImpairment(config, random.Random(seed), start_time=start_time)


def joined(deliveries: list[tuple[float, bytes]]) -> bytes:
    return b"".join(chunk for _, chunk in deliveries)


def test_perfect_link_passes_everything_at_once() -> None:
    link = impair(ImpairmentConfig())
    assert link.feed(2.5, b"abc\x00def") == [(2.5, b"abc\x00def")]
    assert link.counters.bytes_in == 7
    assert link.counters.frames_in == 1  # "abc" ended by 0x00; "def" not ended yet


def test_delay_shifts_every_byte_by_the_same_time() -> None:
    link = impair(ImpairmentConfig(delay=1.28))
    assert link.feed(0.0, b"a") == [(1.28, b"a")]
    assert link.feed(0.5, b"bc") == [(1.78, b"bc")]


@given(st.lists(st.tuples(st.floats(0, 10), st.binary(min_size=1, max_size=50)), min_size=1, max_size=30))
def test_delay_and_pacing_preserve_order(arrivals: list[tuple[float, bytes]]) -> None:
    link = impair(ImpairmentConfig(delay=0.3, baud=9600))
    arrivals.sort(key=lambda item: item[0])
    deliveries: list[tuple[float, bytes]] = []
    for now, data in arrivals:
        out = link.feed(now, data)
        assert all(time >= now + 0.3 for time, _ in out)
        deliveries += out
    times = [time for time, _ in deliveries]
    assert times == sorted(times)
    assert joined(deliveries) == b"".join(data for _, data in arrivals)


def test_time_must_not_go_backwards() -> None:
    link = impair(ImpairmentConfig())
    link.feed(1.0, b"x")
    with pytest.raises(ValueError, match="backwards"):
        link.feed(0.5, b"y")


def test_baud_paces_ten_bit_times_per_octet() -> None:
    link = impair(ImpairmentConfig(baud=9600))
    data = bytes(range(1, 256)) * 4  # 1020 octets, 10.625 octets per 10 ms quantum... about 1.06 s
    out = link.feed(0.0, data)
    assert joined(out) == data
    octet_time = 10 / 9600
    delivered = 0
    for time, chunk in out:
        delivered += len(chunk)
        # A chunk comes out exactly when its last octet's stop bit has left the wire.
        assert time == pytest.approx(delivered * octet_time)
    assert out[-1][0] == pytest.approx(len(data) * 10 / 9600)
    assert all(len(chunk) <= int(0.005 / octet_time) for _, chunk in out)


def test_baud_queues_behind_earlier_octets_and_delay_adds_on_top() -> None:
    link = impair(ImpairmentConfig(baud=125, delay=1.28))  # relay uplink: 12.5 octets/s
    first = link.feed(0.0, b"ab")
    second = link.feed(0.1, b"c")  # wire still busy until 0.16 s
    assert first == [(pytest.approx(0.08 + 1.28), b"a"), (pytest.approx(0.16 + 1.28), b"b")]
    assert second == [(pytest.approx(0.24 + 1.28), b"c")]
    later = link.feed(10.0, b"d")  # idle wire: starts at once
    assert later == [(pytest.approx(10.08 + 1.28), b"d")]


def test_bulk_rate_at_115200_baud_is_11520_octets_per_second() -> None:
    link = impair(ImpairmentConfig(baud=115200))
    out = link.feed(0.0, bytes(11520))
    assert out[-1][0] == pytest.approx(1.0)


def frames_stream(count: int, seed: int = 7) -> tuple[list[bytes], bytes]:
    rng = random.Random(seed)
    packets = [rng.randbytes(rng.randint(1, 80)) for _ in range(count)]
    return packets, b"".join(frame(packet) for packet in packets)


def test_frame_loss_rate_is_within_binomial_bounds_and_survivors_are_intact() -> None:
    packets, stream = frames_stream(10_000)
    link = impair(ImpairmentConfig(loss=0.1), seed=42)
    out = link.feed(0.0, stream)
    deframer = Deframer()
    received = [raw for raw, _ in deframer.feed(joined(out))]
    counters = link.counters
    assert counters.frames_in == 10_000
    sigma = math.sqrt(10_000 * 0.1 * 0.9)
    assert abs(counters.frames_dropped - 1000) < 5 * sigma
    assert len(received) == 10_000 - counters.frames_dropped
    assert deframer.rejected_total == 0  # dropping whole frames never leaves garbage
    # Survivors are the original packets, in order, each one whole.
    iterator = iter(packets)
    assert all(any(packet == candidate for candidate in iterator) for packet in received)


def test_frame_loss_is_decided_per_frame_when_frames_arrive_in_pieces() -> None:
    packets, stream = frames_stream(500, seed=3)
    link = impair(ImpairmentConfig(loss=0.5), seed=9)
    out: list[tuple[float, bytes]] = []
    rng = random.Random(5)
    position = 0
    while position < len(stream):
        step = rng.randint(1, 40)
        out += link.feed(0.0, stream[position : position + step])
        position += step
    deframer = Deframer()
    received = [raw for raw, _ in deframer.feed(joined(out))]
    assert deframer.rejected_total == 0
    assert len(received) == 500 - link.counters.frames_dropped
    assert 150 < len(received) < 350
    assert set(received) <= set(packets)


def test_total_loss_delivers_nothing_and_no_loss_everything() -> None:
    _, stream = frames_stream(200)
    lost = impair(ImpairmentConfig(loss=1.0))
    assert lost.feed(0.0, stream) == []
    assert lost.counters.frames_dropped == 200
    assert lost.counters.bytes_lost_in_frames == len(stream)
    kept = impair(ImpairmentConfig(loss=0.0))
    assert joined(kept.feed(0.0, stream)) == stream


def hamming(a: bytes, b: bytes) -> int:
    return sum((x ^ y).bit_count() for x, y in zip(a, b, strict=True))


def test_bit_error_count_is_about_ber_times_bits_and_matches_the_counter() -> None:
    data = random.Random(1).randbytes(125_000)  # 1e6 bits
    link = impair(ImpairmentConfig(ber=1e-3), seed=11)
    out = joined(link.feed(0.0, data))
    flips = hamming(data, out)
    assert flips == link.counters.bits_flipped
    assert abs(flips - 1000) < 5 * math.sqrt(1000)


def test_bit_errors_do_not_depend_on_how_the_stream_is_chunked() -> None:
    data = random.Random(2).randbytes(20_000)
    whole = joined(impair(ImpairmentConfig(ber=1e-2), seed=4).feed(0.0, data))
    chunked_link = impair(ImpairmentConfig(ber=1e-2), seed=4)
    chunked = b"".join(joined(chunked_link.feed(0.0, data[i : i + 7])) for i in range(0, len(data), 7))
    assert chunked == whole != data


def test_ber_one_inverts_every_bit() -> None:
    link = impair(ImpairmentConfig(ber=1.0))
    assert joined(link.feed(0.0, b"\x00\x0f\xff")) == b"\xff\xf0\x00"
    assert link.counters.bits_flipped == 24


def test_same_seed_same_run_other_seed_other_run() -> None:
    _, stream = frames_stream(300)
    config = ImpairmentConfig(loss=0.2, ber=1e-3, baud=115200, delay=0.1)

    def run(seed: int) -> list[tuple[float, bytes]]:
        link = LinkImpairment(config, direction_rng(seed, "A->B"))
        return [item for i in range(0, len(stream), 100) for item in link.feed(i * 1e-3, stream[i : i + 100])]

    assert run(5) == run(5)
    assert run(5) != run(6)
    assert direction_rng(5, "A->B").random() != direction_rng(5, "B->A").random()


def test_outages_drop_everything_in_their_windows() -> None:
    # Up for 1 s, then down 0.25 s of every second.
    link = impair(ImpairmentConfig(outage_every=1.0, outage_length=0.25), start_time=100.0)
    sent = {100.1: b"a", 100.9: b"b", 101.1: b"c", 101.3: b"d", 102.2: b"e", 102.26: b"f"}
    received = b"".join(joined(link.feed(time, data)) for time, data in sent.items())
    assert received == b"abdf"
    assert link.counters.bytes_lost_in_outages == 2
    assert link.outages_started(102.5) == 2
    assert link.counters_dict()["outages"] == 2


def test_outage_cuts_a_paced_burst_at_the_right_octets() -> None:
    link = impair(ImpairmentConfig(baud=1000, outage_every=1.0, outage_length=0.25))  # 10 ms per octet
    data = bytes(range(1, 201))
    out = joined(link.feed(0.9, data))
    # Octet i starts on the wire at 0.9 + 0.01 i; those starting in [1.0, 1.25) or [2.0, 2.25) are lost.
    assert out == data[:10] + data[35:110] + data[135:]
    assert link.counters.bytes_lost_in_outages == 50


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delay": -1.0},
        {"baud": 0},
        {"loss": 1.5},
        {"ber": -0.1},
        {"outage_every": 1.0, "outage_length": 1.0},
        {"outage_every": 1.0, "outage_length": 0.0},
        {"outage_every": -1.0, "outage_length": 0.5},
    ],
)
def test_invalid_configuration_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ImpairmentConfig(**kwargs)
