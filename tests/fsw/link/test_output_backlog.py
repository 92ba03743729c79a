"""SerialLink's output backlog: bounded when the far end does not read or the device is gone, the
oldest whole frames given up first, never half a frame."""

from __future__ import annotations

import asyncio

import pytest

from fsw.link import SerialLink
from fsw.protocol.framing import Deframer, frame
from fsw.protocol.packet import PusTc
from hil.link.bridge import PtyPair
from tests.fsw.link.pty_support import read_waiting

LIMIT = 16 * 1024


def packet(seq: int, size: int) -> bytes:
    return PusTc(100, 17, 1, bytes(size), seq_count=seq).pack()


async def fill(limit: int, size: int, count: int) -> tuple[SerialLink, list[int], int]:
    """``count`` packets into a link on a pty whose far end reads nothing until they are all sent: the
    link, the sequence counts the far end then finds, and the largest backlog seen."""
    pair = PtyPair()
    try:
        link = SerialLink(pair.slave_name, max_backlog_octets=limit)
        await link.open()
        largest = 0
        for seq in range(count):
            link.send(packet(seq, size))
            largest = max(largest, link.backlog_octets)
            if seq % 50 == 0:
                await asyncio.sleep(0)  # the loop's passes write what the pty takes
        written = bytearray()
        for _ in range(1000):  # the far end reads now, and the backlog flows
            written += read_waiting(pair.master_fd)
            if not link.backlog_octets:
                break
            await asyncio.sleep(0.005)
        written += read_waiting(pair.master_fd)
        deframer = Deframer(PusTc.unpack)
        seqs = [tc.seq_count for _, tc in deframer.feed(bytes(written))]
        assert deframer.rejected_total == 0  # never half a frame glued to another
        await link.close()
        return link, seqs, largest
    finally:
        pair.close()


@pytest.mark.parametrize("size", [90, 117, 200, 333])
async def test_a_far_end_that_does_not_read_holds_the_backlog_to_its_limit_and_gets_the_newest(size: int) -> None:
    count = 3000
    link, seqs, largest = await fill(LIMIT, size, count)
    assert largest <= LIMIT and link.counters.output_dropped > 0
    # Each packet once, in order: either the far end has it or it was counted as given up.
    assert seqs == sorted(set(seqs)) and len(seqs) + link.counters.output_dropped == count
    # The oldest gave way: the newest that the backlog holds (beside the rest of a frame the pty had
    # begun to take) all came through.
    newest = LIMIT // len(frame(packet(0, size))) - 2
    assert seqs[-newest:] == list(range(count - newest, count))


async def test_without_the_bound_the_backlog_grows_with_every_packet() -> None:
    """The control: a limit out of reach keeps every packet, and the memory grows with them."""
    pair = PtyPair()
    try:
        link = SerialLink(pair.slave_name, max_backlog_octets=1 << 40)
        await link.open()
        for seq in range(3000):
            link.send(packet(seq, 200))
            if seq % 50 == 0:
                await asyncio.sleep(0)
        assert link.backlog_octets > 20 * LIMIT and link.counters.output_dropped == 0
        await link.close()
    finally:
        pair.close()


async def test_a_device_that_is_gone_keeps_no_more_than_the_limit() -> None:
    link = SerialLink("/dev/no-such-ground-link", max_backlog_octets=LIMIT, reconnect_interval=60.0)
    await link.open_with_retry()
    assert not link.connected
    for seq in range(1000):
        link.send(packet(seq, 200))
    framed = len(frame(packet(0, 200)))
    assert LIMIT - framed < link.backlog_octets <= LIMIT
    assert link.counters.output_dropped == 1000 - link.backlog_octets // framed
    await link.close()


def test_a_limit_below_two_packets_is_refused() -> None:
    with pytest.raises(ValueError, match="less than two packets"):
        SerialLink("loop://", max_backlog_octets=1000)


@pytest.mark.parametrize("head", ["rest of a frame", "closing delimiter", "frame boundary"])
def test_what_the_device_has_begun_to_take_is_finished_before_whole_frames_give_way(head: str) -> None:
    """The backlog's head as a partial write leaves it: the far end still reads whole frames only."""
    link = SerialLink("/dev/no-such-ground-link", max_backlog_octets=LIMIT)
    first = frame(packet(0, 200))
    taken = {"rest of a frame": 40, "closing delimiter": len(first) - 1, "frame boundary": len(first)}[head]
    link._pending_out += first[taken:]  # what a partial write of frame 0 left
    for seq in range(1, 200):
        link.send(packet(seq, 200))
    deframer = Deframer(PusTc.unpack)
    seqs = [tc.seq_count for _, tc in deframer.feed(first[:taken] + bytes(link._pending_out))]
    assert deframer.rejected_total == 0 and seqs[0] == 0 and seqs[1:] == list(range(200 - len(seqs) + 1, 200))
    assert link.counters.output_dropped == 199 - (len(seqs) - 1)
