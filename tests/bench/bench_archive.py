"""The ground archive's intake: packets a second into SQLite (WAL, ``synchronous=NORMAL``), committed
as a live session commits them (the packets that came together, here 16) beside a transaction a packet."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from fsw.protocol import PusTm, encode_cbor
from ground.archive import Archive
from ground.dictionary import Dictionary
from ground.telemetry import Received, decode_packet

from .rows import Budget, Row, rate

BURST = 16
STRUCTURE = 1  # the executive's housekeeping, a typical report


def _packets(dictionary: Dictionary, count: int) -> list[Received]:
    values = {"uptime_s": 12.5, "mode": "NOMINAL", "fast_jitter_p99_ms": 0.75, "fast_cycles": 123_456}
    return [decode_packet(PusTm(dictionary.apid, 3, 25, encode_cbor([STRUCTURE, values]), seq, 1.0e9 + seq).pack(),
                          dictionary, 1.8e9 + seq) for seq in range(count)]


def run(budget: Budget) -> list[Row]:
    packets = _packets(Dictionary.load(), BURST)
    with tempfile.TemporaryDirectory() as directory:
        by_burst, each = Archive(Path(directory) / "burst.sqlite"), Archive(Path(directory) / "each.sqlite")
        try:
            bursts = itertools.cycle([packets])

            def burst_in_one() -> None:
                for packet in next(bursts):
                    by_burst.add(packet)
                by_burst.commit()

            def burst_one_by_one() -> None:
                for packet in packets:
                    each.write(packet)

            value = rate(burst_in_one, budget) * BURST
            peer = rate(burst_one_by_one, budget) * BURST
        finally:
            by_burst.close()
            each.close()
    return [Row(f"ground archive intake, {BURST} packets a transaction", value, "packets/s",
                "a transaction a packet", peer)]
