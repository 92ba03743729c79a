"""SerialLink: packets over a real pty, a device that disappears and comes back, and URL ports."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import serial

from fsw.link import SerialLink
from fsw.protocol.framing import Deframer, frame
from fsw.protocol.packet import PusTc
from hil.link.bridge import PtyPair
from hil.link.process import start_link_process, stop_link_process


async def test_loop_url_port_carries_packets() -> None:
    link = SerialLink("loop://", validate=PusTc.unpack)
    await link.open()
    packet = PusTc(100, 17, 1, seq_count=3).pack()
    link.send(packet)
    raw, tc = await asyncio.wait_for(link.receive(), 5)
    assert raw == packet and tc.seq_count == 3
    await link.close()


async def test_a_packet_sent_now_is_written_before_the_loop_turns_and_its_arrival_is_a_future() -> None:
    pair = PtyPair()
    try:
        link = SerialLink(pair.slave_name, validate=PusTc.unpack)
        await link.open()
        link.send(PusTc(100, 17, 1, seq_count=1).pack())  # queued to the end of this pass of the loop
        link.send(PusTc(100, 17, 1, seq_count=2).pack(), now=True)  # both leave at once, in order
        written = os.read(pair.master_fd, 4096)
        assert [PusTc.unpack(raw).seq_count for raw, _ in Deframer().feed(written)] == [1, 2]
        # The arrival of the next packet: not done while nothing waits, done once one does.
        arrival = link.arrival()
        await asyncio.sleep(0.05)
        assert not arrival.done() and link.receive_nowait() is None
        os.write(pair.master_fd, frame(PusTc(100, 17, 1, seq_count=3).pack()))
        await asyncio.wait_for(arrival, 5)
        assert link.arrival().done()  # one waits: the next arrival is now
        raw, _ = link.receive_nowait() or (b"", None)
        assert PusTc.unpack(raw).seq_count == 3
        # A handler takes each packet as it is read, none queued; without one they queue again.
        handled: list[int] = []
        link.handle_packets(lambda raw, _: handled.append(PusTc.unpack(raw).seq_count))
        os.write(pair.master_fd, frame(PusTc(100, 17, 1, seq_count=4).pack()))
        for _ in range(100):
            if handled:
                break
            await asyncio.sleep(0.01)
        assert handled == [4] and link.receive_nowait() is None
        link.handle_packets(None)
        # A closed link ends every wait for an arrival.
        pending = link.arrival()
        await link.close()
        assert pending.done() and link.closed and link.arrival().done()
    finally:
        os.close(pair.master_fd)
        os.close(pair.slave_fd)


@pytest.mark.slow
async def test_device_that_disappears_and_comes_back_is_reopened(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    states: list[str] = []
    bridge = start_link_process(a, b)
    link = SerialLink(str(a), reconnect_interval=0.1, on_state=lambda state, detail: states.append(state))
    await link.open()
    other = serial.Serial(str(b), timeout=1)
    try:
        other.write(frame(PusTc(100, 17, 1, seq_count=1).pack()))
        raw, _ = await asyncio.wait_for(link.receive(), 5)
        assert PusTc.unpack(raw).seq_count == 1
        # Unplug: the bridge and its ptys go away.
        other.close()
        stop_link_process(bridge)
        for _ in range(100):
            if "disconnected" in states:
                break
            await asyncio.sleep(0.05)
        assert "disconnected" in states and not link.connected
        # Plug back in at the same path.
        bridge = start_link_process(a, b)
        for _ in range(100):
            if link.connected:
                break
            await asyncio.sleep(0.05)
        assert states[-1] == "reconnected" and link.counters.reconnects == 1
        other = serial.Serial(str(b), timeout=1)
        other.write(frame(PusTc(100, 17, 1, seq_count=2).pack()))
        raw, _ = await asyncio.wait_for(link.receive(), 5)
        assert PusTc.unpack(raw).seq_count == 2
        link.send(PusTc(100, 17, 2, seq_count=9).pack())
        await link.drain()
        echoed = b""
        for _ in range(50):
            echoed += other.read(other.in_waiting or 1)
            if echoed.count(b"\x00") >= 2:
                break
        assert frame(PusTc(100, 17, 2, seq_count=9).pack()) in echoed
    finally:
        other.close()
        await link.close()
        stop_link_process(bridge)
