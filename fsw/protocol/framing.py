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
    encoded: bytes = cobs.encode(packet)
    return b"\x00" + encoded + b"\x00"


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
        # Split once in C: every piece but the last ends at a delimiter; the first continues the
        # frame already buffered and the last is the start of the next one.
        pieces = bytes(data).split(DELIMITER)
        buffer = self._buffer
        if len(pieces) > 1:
            if self._discarding:
                self._discarding = False
                del pieces[0]
            elif buffer:
                buffer += pieces[0]
                pieces[0] = bytes(buffer)
            buffer.clear()
            self._take(pieces, out)
        if not self._discarding:
            buffer += pieces[-1]
            if len(buffer) > self._max_frame:
                # Too long to be a frame: drop all of it until the next delimiter.
                self.rejected["OVERSIZE"] += 1
                buffer.clear()
                self._discarding = True
        return out

    def _take(self, pieces: list[bytes], out: list[tuple[bytes, object]]) -> None:
        """Decode and validate every complete frame: all pieces but the last."""
        validate, max_frame, rejected = self._validate, self._max_frame, self.rejected
        decode, decode_error = cobs.decode, cobs.DecodeError
        empty = good = 0
        for index in range(len(pieces) - 1):
            encoded = pieces[index]
            if not encoded:
                empty += 1
                continue
            if len(encoded) > max_frame:
                rejected["OVERSIZE"] += 1
                continue
            try:
                packet = decode(encoded)
            except decode_error:
                rejected["BAD_COBS"] += 1
                continue
            value: object = packet
            if validate is not None:
                try:
                    value = validate(packet)
                except PacketError as error:
                    rejected[error.code.name] += 1
                    continue
            good += 1
            out.append((packet, value))
        self.empty_frames += empty
        self.good_frames += good

    def counters(self) -> dict[str, int]:
        return {"good_frames": self.good_frames, "empty_frames": self.empty_frames, **self.rejected}
