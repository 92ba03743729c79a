"""GroundClient.send_reliably against a stand-in vehicle on the master side of a real pty: it
re-sends the very same octets while no final verdict comes, and stops once one does."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
from collections.abc import AsyncIterator, Callable

from fsw.protocol.framing import Deframer, frame
from fsw.protocol.packet import PusTc, PusTm
from fsw.protocol.verification import Subtype, VerificationReport
from ground.client import GroundClient

RTT_S = 0.005


class StandInVehicle:
    """Reads TCs from the pty master; ``answer(count)`` says whether the count-th copy is answered."""

    def __init__(self, master: int, answer: Callable[[int], bool]) -> None:
        self.master = master
        self.answer = answer
        self.received: list[bytes] = []
        self.deframer = Deframer()
        self.seq = 0
        asyncio.get_running_loop().add_reader(master, self._readable)

    def _readable(self) -> None:
        for raw, _ in self.deframer.feed(os.read(self.master, 4096)):
            self.received.append(raw)
            if self.answer(len(self.received)):
                request_id = PusTc.unpack(raw).request_id
                for subtype in (Subtype.ACCEPTANCE_OK, Subtype.COMPLETION_OK):
                    report = VerificationReport(subtype, request_id).pack()
                    os.write(self.master, frame(PusTm(100, 1, int(subtype), report, seq_count=self.seq).pack()))
                    self.seq += 1

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)


@contextlib.asynccontextmanager
async def client_and_vehicle(answer: Callable[[int], bool]) -> AsyncIterator[tuple[GroundClient, StandInVehicle]]:
    master, slave = pty.openpty()
    client = GroundClient(os.ttyname(slave))
    await client.open()
    vehicle = StandInVehicle(master, answer)
    try:
        yield client, vehicle
    finally:
        vehicle.close()
        await client.close()
        os.close(slave)
        os.close(master)


async def test_a_lost_command_is_resent_byte_identical_until_its_verdict_comes() -> None:
    async with client_and_vehicle(lambda copy: copy == 3) as (client, vehicle):
        record = await client.send_reliably(8, 1, [0x0002], rtt_s=RTT_S)
    assert record.completed
    assert record.transmissions == 3
    assert client.retransmissions == 2
    assert vehicle.received == [record.raw] * 3


async def test_an_answered_command_is_not_resent() -> None:
    async with client_and_vehicle(lambda copy: True) as (client, vehicle):
        record = await client.send_reliably(8, 1, [0x0002], rtt_s=1.0)
        await asyncio.sleep(0.05)
    assert record.completed and record.transmissions == 1
    assert vehicle.received == [record.raw]


async def test_attempts_bound_the_transmissions_of_an_unanswered_command() -> None:
    async with client_and_vehicle(lambda copy: False) as (client, vehicle):
        record = await client.send_reliably(8, 1, [0x0002], rtt_s=0.001, attempts=4)
        await asyncio.sleep(0.05)
    assert not record.done.is_set()
    assert record.transmissions == 4
    assert vehicle.received == [record.raw] * 4
