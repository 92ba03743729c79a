"""Sans-IO link impairment: one direction of a serial link, fed (time, bytes), giving (deliver_time, bytes).

The model, in the order a byte meets it:

1. Frame loss. Frames are COBS-encoded and end with a 0x00 delimiter. The stream is cut into
   units, each a run of non-zero octets plus the 0x00 that ends it (a lone 0x00 is a unit too),
   and each unit is dropped whole with probability ``loss``. Because every kept unit ends with a
   delimiter, the receiver always resynchronises on the next frame. The decision is drawn when a
   unit starts, so frames stream through without waiting for their end.
2. UART pacing. At ``baud`` bit/s with 8N1 framing an octet takes 10 bit times on the wire; octets
   queue behind each other and a lost frame still occupied the wire (the sender sent it).
3. Outages. From ``start_time``, every ``outage_every`` seconds the link is down for
   ``outage_length`` seconds: octets whose wire time falls in a window are lost.
4. Bit errors. Each data bit of a surviving octet is flipped with probability ``ber``; the gaps
   between errors are drawn from a geometric distribution, so the cost is per error, not per bit.
5. Delay. Every octet comes out ``delay`` seconds after its last bit left the wire, order kept.

All randomness comes from one ``random.Random`` per direction, so a seed replays a run exactly
given the same input timing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

BITS_PER_OCTET_8N1 = 10  # start bit, 8 data bits, stop bit
EARTH_MOON_LIGHT_TIME_S = 1.28  # one way, 1.19-1.36 s over the orbit
RELAY_UPLINK_BAUD = 125  # Queqiao relay to lander, bit/s


@dataclass(frozen=True)
class ImpairmentConfig:
    """Impairment of one direction. The defaults are a perfect, infinitely fast cable."""

    delay: float = 0.0
    baud: int | None = None
    loss: float = 0.0
    ber: float = 0.0
    outage_every: float | None = None
    outage_length: float = 0.0
    # Paced octets are released in groups spanning at most this long, to bound the event rate.
    delivery_quantum: float = 0.005

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0 s, got {self.delay}")
        if self.baud is not None and self.baud <= 0:
            raise ValueError(f"baud must be > 0, got {self.baud}")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError(f"loss must be a probability in [0, 1], got {self.loss}")
        if not 0.0 <= self.ber <= 1.0:
            raise ValueError(f"ber must be a probability in [0, 1], got {self.ber}")
        if self.outage_every is not None:
            if self.outage_every <= 0:
                raise ValueError(f"outage_every must be > 0 s, got {self.outage_every}")
            if not 0.0 < self.outage_length < self.outage_every:
                raise ValueError(
                    f"outage_length must be in (0, outage_every={self.outage_every}) s, got {self.outage_length}"
                )
        if self.delivery_quantum <= 0:
            raise ValueError(f"delivery_quantum must be > 0 s, got {self.delivery_quantum}")

    @property
    def octet_time(self) -> float:
        """Seconds one octet occupies the wire (0 when unpaced)."""
        return 0.0 if self.baud is None else BITS_PER_OCTET_8N1 / self.baud


@dataclass
class ImpairmentCounters:
    bytes_in: int = 0
    bytes_kept: int = 0
    frames_in: int = 0
    frames_dropped: int = 0
    delimiters_dropped: int = 0
    bytes_lost_in_frames: int = 0
    bytes_lost_in_outages: int = 0
    bits_flipped: int = 0


Ranges = list[tuple[int, int]]


def _subtract(keep: Ranges, remove: Ranges) -> Ranges:
    """Half-open index ranges in ``keep`` not covered by ``remove``; both sorted and disjoint."""
    out: Ranges = []
    j = 0
    for start, stop in keep:
        cursor = start
        while j < len(remove) and remove[j][1] <= cursor:
            j += 1
        k = j
        while k < len(remove) and remove[k][0] < stop:
            r_start, r_stop = remove[k]
            if r_start > cursor:
                out.append((cursor, r_start))
            cursor = max(cursor, r_stop)
            k += 1
        if cursor < stop:
            out.append((cursor, stop))
    return out


class LinkImpairment:
    """One direction of an impaired link. Feed it octets as they arrive; it says when each comes out.

    ``feed(now, data)`` returns a list of ``(deliver_time, octets)`` in non-decreasing time order,
    and later calls never return an earlier time than earlier calls (order is preserved).
    ``now`` must not go backwards.
    """

    def __init__(self, config: ImpairmentConfig, rng: random.Random, start_time: float = 0.0) -> None:
        self.config = config
        self._rng = rng
        self.start_time = start_time
        self.counters = ImpairmentCounters()
        self._wire_free_at = start_time
        self._last_time = start_time
        # Frame-loss state: inside a unit (run of non-zero octets) and whether it is being dropped.
        self._unit_open = False
        self._unit_has_content = False
        self._unit_dropped = False
        self._bits_to_next_error = self._error_gap() if config.ber > 0 else 0

    # -- public -------------------------------------------------------------------------------

    def feed(self, now: float, data: bytes) -> list[tuple[float, bytes]]:
        if now < self._last_time:
            raise ValueError(f"time went backwards: {now} < {self._last_time}")
        self._last_time = now
        if not data:
            return []
        config = self.config
        self.counters.bytes_in += len(data)
        kept = self._frame_loss(data)
        octet_time = config.octet_time
        wire_start = max(now, self._wire_free_at)
        self._wire_free_at = wire_start + len(data) * octet_time
        if config.outage_every is not None:
            before = sum(stop - start for start, stop in kept)
            kept = _subtract(kept, self._outage_ranges(wire_start, octet_time, len(data)))
            self.counters.bytes_lost_in_outages += before - sum(stop - start for start, stop in kept)
        return self._release(data, kept, wire_start, octet_time)

    def outages_started(self, now: float) -> int:
        """How many outage windows have begun by ``now``."""
        every = self.config.outage_every
        if every is None or now < self.start_time + every:
            return 0
        return int((now - self.start_time) // every)

    def counters_dict(self, now: float | None = None) -> dict[str, int]:
        c = self.counters
        return {
            "bytes_in": c.bytes_in,
            "bytes_kept": c.bytes_kept,
            "frames_in": c.frames_in,
            "frames_dropped": c.frames_dropped,
            "bytes_lost_in_frames": c.bytes_lost_in_frames,
            "bytes_lost_in_outages": c.bytes_lost_in_outages,
            "outages": self.outages_started(self._last_time if now is None else now),
            "bits_flipped": c.bits_flipped,
        }

    # -- stages -------------------------------------------------------------------------------

    def _frame_loss(self, data: bytes) -> Ranges:
        """Index ranges of ``data`` that survive frame loss; updates frame counters."""
        loss = self.config.loss
        counters = self.counters
        kept: Ranges = []
        start = 0
        size = len(data)
        while start < size:
            if not self._unit_open:
                self._unit_open = True
                self._unit_has_content = False
                self._unit_dropped = loss > 0.0 and self._rng.random() < loss
            zero = data.find(0, start)
            stop = size if zero < 0 else zero + 1
            if zero != start:
                self._unit_has_content = True
            if self._unit_dropped:
                counters.bytes_lost_in_frames += stop - start
            elif kept and kept[-1][1] == start:
                kept[-1] = (kept[-1][0], stop)
            else:
                kept.append((start, stop))
            if zero >= 0:
                if self._unit_has_content:
                    counters.frames_in += 1
                    if self._unit_dropped:
                        counters.frames_dropped += 1
                elif self._unit_dropped:
                    counters.delimiters_dropped += 1
                self._unit_open = False
            start = stop
        return kept

    def _outage_ranges(self, wire_start: float, octet_time: float, count: int) -> Ranges:
        """Index ranges of octets whose wire start time lies in an outage window."""
        every = self.config.outage_every
        length = self.config.outage_length
        assert every is not None
        origin = self.start_time

        def in_outage(t: float) -> bool:
            return t >= origin + every and (t - origin) % every < length

        if octet_time == 0.0:
            return [(0, count)] if in_outage(wire_start) else []
        out: Ranges = []
        end_time = wire_start + count * octet_time
        window = max(1, int((wire_start - origin) // every))
        while True:
            w_start = origin + window * every
            if w_start >= end_time:
                return out
            w_stop = w_start + length
            first = max(0, math.ceil((w_start - wire_start) / octet_time))
            last = min(count, math.ceil((w_stop - wire_start) / octet_time))
            if first < last:
                out.append((first, last))
            window += 1

    def _release(self, data: bytes, kept: Ranges, wire_start: float, octet_time: float) -> list[tuple[float, bytes]]:
        """Group surviving octets into deliveries, flip bits, stamp delivery times."""
        if not kept:
            return []
        delay = self.config.delay
        out: list[tuple[float, bytes]] = []
        if octet_time == 0.0:
            chunk = bytearray()
            for start, stop in kept:
                chunk += data[start:stop]
            out.append((wire_start + delay, self._flip_bits(chunk)))
        else:
            block = max(1, int(self.config.delivery_quantum / octet_time))
            for start, stop in kept:
                # Blocks are aligned on the input index so a delivery never spans more than one quantum.
                cursor = start
                while cursor < stop:
                    block_end = min(stop, (cursor // block + 1) * block)
                    done_at = wire_start + block_end * octet_time
                    piece = self._flip_bits(bytearray(data[cursor:block_end]))
                    if out and out[-1][0] == done_at + delay:
                        out[-1] = (out[-1][0], out[-1][1] + piece)
                    else:
                        out.append((done_at + delay, piece))
                    cursor = block_end
        self.counters.bytes_kept += sum(len(piece) for _, piece in out)
        return out

    def _flip_bits(self, buffer: bytearray) -> bytes:
        if self.config.ber <= 0.0:
            return bytes(buffer)
        bits = len(buffer) * 8
        position = self._bits_to_next_error
        flips = 0
        while position < bits:
            buffer[position >> 3] ^= 1 << (position & 7)
            flips += 1
            position += 1 + self._error_gap()
        self._bits_to_next_error = position - bits
        self.counters.bits_flipped += flips
        return bytes(buffer)

    def _error_gap(self) -> int:
        """Error-free bits before the next error: geometric with success probability ``ber``."""
        ber = self.config.ber
        if ber >= 1.0:
            return 0
        # 1 - random() lies in (0, 1], so the logarithm is finite.
        return int(math.log(1.0 - self._rng.random()) / math.log1p(-ber))


def direction_rng(seed: int | None, direction: str) -> random.Random:
    """Independent, reproducible generator per direction (str seeds hash deterministically)."""
    return random.Random(None if seed is None else f"{seed}:{direction}")
