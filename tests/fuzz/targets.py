"""Fuzz targets: every byte from a link is untrusted. Each target must only ever raise the typed
errors it documents; anything else (or a hang) is a finding."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from fsw.clock import Clock
from fsw.core.store import Store
from fsw.protocol import appdata
from fsw.protocol.errors import PacketError
from fsw.protocol.framing import Deframer
from fsw.protocol.packet import PusTc, PusTm, unpack_packet
from fsw.protocol.verification import VerificationReport
from fsw.vehicle import core_vehicle


def deframe(data: bytes) -> int:
    """Feed a stream to a TC deframer in two chunks; returns the good frames found."""
    deframer = Deframer(PusTc.unpack)
    middle = len(data) // 2
    good = len(deframer.feed(data[:middle])) + len(deframer.feed(data[middle:]))
    accounted = deframer.good_frames + deframer.empty_frames + deframer.rejected_total
    assert accounted >= good
    return good


def decode_packet(data: bytes) -> None:
    for decoder in (unpack_packet, PusTc.unpack, PusTm.unpack):
        with contextlib.suppress(PacketError):
            decoder(data)
    if data:
        with contextlib.suppress(PacketError):
            VerificationReport.unpack(data[0] % 10, data[1:])


class CommandDecoder:
    """An executive on the virtual clock taking arbitrary TCs: each must get exactly one
    acceptance verdict, and nothing may escape the dispatcher."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="ilrs-fuzz-")
        self.clock = Clock("afap")
        self.loop = self.clock.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.vehicle = core_vehicle(self.clock, Store(Path(self.directory) / "store.sqlite"))
        self.verdicts = 0
        self.vehicle.ctx.telemetry.add_sink(self._count)
        self.loop.run_until_complete(self.vehicle.start())
        self.sequence = 0

    def _count(self, packet: bytes) -> None:
        if packet[7] == 1 and packet[8] in (1, 2):  # service 1, subtype 1 or 2
            self.verdicts += 1

    def __call__(self, data: bytes) -> None:
        if len(data) < 2:
            return
        service, subtype, body = data[0], data[1], data[2:]
        if data[0] & 1:
            # Half the inputs are well-formed CBOR, so the checks after decoding get exercised too.
            try:
                body = appdata.encode(appdata.decode(body)) if body else body
            except PacketError:
                body = appdata.encode([int.from_bytes(body[:2] or b"\0", "big"), *body[2:6]])
        tc = PusTc(100, service if service % 3 else 8, subtype if subtype % 3 else 1, body,
                   seq_count=self.sequence)
        self.sequence = (self.sequence + 1) & 0x3FFF
        before = self.verdicts
        self.loop.run_until_complete(self._submit(tc))
        assert self.verdicts == before + 1, f"{tc!r} got {self.verdicts - before} acceptance verdicts"

    async def _submit(self, tc: PusTc) -> None:
        self.vehicle.dispatcher.submit(tc)
        await asyncio.sleep(0.01)

    def close(self) -> None:
        self.loop.run_until_complete(self.vehicle.stop("fuzz over"))
        self.loop.close()
        asyncio.set_event_loop(None)
