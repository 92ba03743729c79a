"""COBS framing with 0x00 delimiters: one packet per frame.

The deframer is sans-IO: feed it any chunks of bytes, take out whole packets. Empty frames are
ignored (tmtccmd sends ``0x00 | COBS(packet) | 0x00``); garbage is dropped up to the next 0x00,
which is where the stream resynchronises; every rejection is counted by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cobs import cobs  # C extension: ~40x a pure-Python loop

from .errors import PacketError
from .packet import DEFAULT_MAX_PACKET_SIZE

DELIMITER = b"\x00"


def frame(packet: bytes) -> bytes:
    """Encode one packet as a frame, with a leading and trailing delimiter."""
    return b"\x00" + cobs.encode(packet) + b"\x00"


class Deframer:
    """Splits a byte stream into COBS-decoded payloads.

    ``validate`` (for instance ``PusTc.unpack``) is applied to each decoded payload; a
    ``PacketError`` it raises is counted under the error's code name and the payload dropped.
    """

    def __init__(
        self,
        validate: Callable[[bytes], object] | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        self._buffer = bytearray()
        self._validate = validate
        self.max_packet_size = max_packet_size
        # A COBS frame is at most one octet per 254 longer than its payload.
        self._max_frame = max_packet_size + max_packet_size // 254 + 2
        self.good_frames = 0
        self.empty_frames = 0
        self.rejected: Counter[str] = Counter()
        self._discarding = False

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def feed(self, data: bytes) -> list[tuple[bytes, object]]:
        """Feed octets; return (raw packet, validated value) for each good frame completed."""
        out: list[tuple[bytes, object]] = []
        buffer = self._buffer
        start = 0
        while True:
            end = data.find(0, start)
            if end < 0:
                chunk = data[start:]
                if not self._discarding:
                    buffer += chunk
                    if len(buffer) > self._max_frame:
                        # Too long to be a frame: drop all of it until the next delimiter.
                        self.rejected["OVERSIZE"] += 1
                        buffer.clear()
                        self._discarding = True
                return out
            if self._discarding:
                self._discarding = False
                buffer.clear()
            else:
                buffer += data[start:end]
                self._take(bytes(buffer), out)
                buffer.clear()
            start = end + 1

    def _take(self, encoded: bytes, out: list[tuple[bytes, object]]) -> None:
        if not encoded:
            self.empty_frames += 1
            return
        if len(encoded) > self._max_frame:
            self.rejected["OVERSIZE"] += 1
            return
        try:
            packet = cobs.decode(encoded)
        except cobs.DecodeError:
            self.rejected["BAD_COBS"] += 1
            return
        value: object = packet
        if self._validate is not None:
            try:
                value = self._validate(packet)
            except PacketError as error:
                self.rejected[error.code.name] += 1
                return
        self.good_frames += 1
        out.append((packet, value))

    def counters(self) -> dict[str, int]:
        return {"good_frames": self.good_frames, "empty_frames": self.empty_frames, **self.rejected}
