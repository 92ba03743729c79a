"""Packet layer against spacepackets: PUS-C TM and TC pack and unpack, and COBS framing."""

from __future__ import annotations

import warnings
from importlib.metadata import version

from cobs import cobs
from spacepackets.ecss import PusTc as SpTc
from spacepackets.ecss import PusTm as SpTm

from fsw.protocol import Deframer, PusTc, PusTm, encode_cbor, frame
from fsw.protocol.cuc import pack_cuc

from .rows import Budget, Row, compare, rate

APID = 100
TAI_TIME = 2_100_000_000.5
DATA_SIZE = 64
FRAMES_PER_BURST = 32


def cbor_of_size(size: int) -> bytes:
    """A housekeeping-like CBOR map padded with a text field to exactly ``size`` octets."""
    sample = {"mode": 2, "temps_mK": [293150, 294020, 288400], "bus_mV": 28012, "note": ""}
    padding = size - len(encode_cbor(sample))
    sample["note"] = "x" * padding
    data = encode_cbor(sample)
    while len(data) != size:  # the text header grows by an octet past 23 characters
        padding -= len(data) - size
        sample["note"] = "x" * padding
        data = encode_cbor(sample)
    return data


def run(budget: Budget) -> list[Row]:
    peer = f"spacepackets {version('spacepackets')}"
    data = cbor_of_size(DATA_SIZE)
    stamp = pack_cuc(TAI_TIME)

    tm = PusTm(APID, 3, 25, data, seq_count=5, time=TAI_TIME)
    tm_raw = tm.pack()
    their_tm = SpTm(service=3, message_subtype=25, timestamp=stamp, source_data=data, apid=APID, seq_count=5)
    tc = PusTc(APID, 17, 1, data, seq_count=5)
    tc_raw = tc.pack()
    their_tc = SpTc(service=17, message_subtype=1, apid=APID, seq_count=5, app_data=data)
    # Same octets on both sides, or the comparison means nothing.
    if bytes(their_tm.pack()) != tm_raw or bytes(their_tc.pack()) != tc_raw:
        raise AssertionError("spacepackets and fsw.protocol disagree on the benchmark packets")

    def tm_build_pack() -> bytes:
        return PusTm(APID, 3, 25, data, seq_count=5, time=TAI_TIME).pack()

    def their_tm_build_pack() -> bytearray:
        return SpTm(service=3, message_subtype=25, timestamp=stamp, source_data=data, apid=APID, seq_count=5).pack()

    def tc_build_pack() -> bytes:
        return PusTc(APID, 17, 1, data, seq_count=5).pack()

    def their_tc_build_pack() -> bytearray:
        return SpTc(service=17, message_subtype=1, apid=APID, seq_count=5, app_data=data).pack()

    deframer = Deframer()
    framed = frame(tc_raw)

    def frame_deframe() -> object:
        return deframer.feed(frame(tc_raw))

    def bare_cobs() -> bytes:
        return cobs.decode(cobs.encode(tc_raw))

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # keep the peer on its current API
        rows = [
            compare("TM pack (64 B CBOR)", tm.pack, peer, their_tm.pack, budget),
            compare("TM unpack, CRC checked", lambda: PusTm.unpack(tm_raw), peer,
                    lambda: SpTm.unpack(tm_raw, timestamp_len=7), budget),
            compare("TM build + pack", tm_build_pack, peer, their_tm_build_pack, budget),
            compare("TC pack (64 B CBOR)", tc.pack, peer, their_tc.pack, budget),
            compare("TC unpack, CRC checked", lambda: PusTc.unpack(tc_raw), peer, lambda: SpTc.unpack(tc_raw), budget),
            compare("TC build + pack", tc_build_pack, peer, their_tc_build_pack, budget),
        ]
    rows.append(
        compare(f"COBS frame + deframe ({len(tc_raw)} B), 1 per feed", frame_deframe, "cobs encode+decode", bare_cobs,
                budget, unit="frames/s")
    )
    # A UART read usually returns many frames at once; per-call overhead then spreads over them.
    burst = framed * FRAMES_PER_BURST
    burst_frames = [framed[1:-1]] * FRAMES_PER_BURST
    decode = cobs.decode
    bursts = compare(
        "", lambda: deframer.feed(burst), "", lambda: [decode(encoded) for encoded in burst_frames], budget
    )
    assert bursts.peer_value is not None
    rows.append(
        Row(f"COBS deframe, {FRAMES_PER_BURST} per feed", bursts.value * FRAMES_PER_BURST, "frames/s", "cobs decode",
            bursts.peer_value * FRAMES_PER_BURST)
    )
    validating = Deframer(validate=PusTc.unpack)
    rows.append(Row("COBS deframe + TC unpack, 1 per feed", rate(lambda: validating.feed(framed), budget), "frames/s"))
    if deframer.good_frames == 0 or validating.good_frames == 0 or validating.rejected_total or deframer.rejected_total:
        raise AssertionError("the framing benchmark did not deframe its packets")
    return rows
