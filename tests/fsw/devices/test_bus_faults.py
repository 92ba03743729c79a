"""Device bus faults on the flight side: a silent plant times out on wall time even on the afap clock,
a lost reply (or a lost cycle flown ahead) is retried without the plant stepping twice, a lost link is
told apart from a timeout."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from fsw.clock import WALL_TIMEOUT, Clock, run, wait_wall
from fsw.devices.bus import (
    FLIGHT_APID,
    LINK_LOST,
    NO_LINK,
    SERVICE,
    STEP_REQUEST,
    TIMEOUT,
    DeviceBusClient,
    DeviceBusDead,
    encode,
)
from fsw.link import LinkCounters, SerialLink
from fsw.protocol.errors import PacketError
from fsw.protocol.packet import ACK_ALL, PusTc
from hil.devicebus import DeviceBusServer


@pytest.fixture
def silent_plant() -> Iterator[str]:
    """A pty whose plant end is held open and never answers."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        yield path
    finally:
        os.close(slave)
        os.close(master)


def test_a_silent_plant_times_out_on_wall_time_while_the_afap_clock_is_held(silent_plant: str) -> None:
    clock = Clock("afap")

    async def exchange() -> tuple[DeviceBusDead, float, float, DeviceBusClient]:
        link = SerialLink(silent_plant)
        bus = DeviceBusClient(link, clock, reply_timeout_s=0.3, retries=2)
        await bus.open()
        bus.device("imu")
        started, flight_started = time.monotonic(), clock.monotonic()
        with pytest.raises(DeviceBusDead) as raised:
            await bus.exchange()
        elapsed, flight_elapsed = time.monotonic() - started, clock.monotonic() - flight_started
        await bus.close()
        return raised.value, elapsed, flight_elapsed, bus

    error, elapsed, flight_elapsed, bus = run(exchange(), clock)
    assert error.reason == TIMEOUT
    assert 0.85 <= elapsed < 3.0  # three attempts of 0.3 s of wall time: bounded
    assert flight_elapsed == 0.0  # the flight clock stood still all the while (the hold)
    assert bus.timeouts == 3 and bus.retries_sent == 2


def test_negative_control_the_loop_clock_timeout_never_fires_under_a_hold(silent_plant: str) -> None:
    """What the bus did before: ``asyncio.wait_for`` on the afap clock under a hold waits for ever
    (only the wall-time guard around it ends the wait)."""
    clock = Clock("afap")

    async def wait() -> Any:
        link = SerialLink(silent_plant)
        await link.open()
        with clock.hold():
            outcome = await wait_wall(asyncio.wait_for(link.receive(), 0.3), 1.5)
        await link.close()
        return outcome

    assert run(wait(), clock) is WALL_TIMEOUT


class LossyLink:
    """A link straight to a device bus server that loses the first ``lose`` reply packets, and those
    numbered (from 0, in the order sent) in ``lose_packets``."""

    def __init__(self, server: DeviceBusServer, lose: int = 0, lose_packets: Iterable[int] = ()) -> None:
        self.server = server
        self.lose = lose
        self.lose_packets = set(lose_packets)
        self.packets = 0
        self.port = "lossy"
        self.connected = True
        self.counters = LinkCounters()
        self.queue: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.closed = False

    def send(self, packet: bytes, *, now: bool = False) -> None:
        for reply in self.server.replies(PusTc.unpack(packet, 0xFFFF + 7)):
            self.packets += 1
            if self.lose > 0 or self.packets - 1 in self.lose_packets:
                self.lose = max(0, self.lose - 1)
                continue
            self.queue.put_nowait((reply.pack(0xFFFF + 7), None))

    async def receive(self) -> tuple[bytes, Any]:
        return await self.queue.get()

    def receive_nowait(self) -> tuple[bytes, Any] | None:
        return None if self.queue.empty() else self.queue.get_nowait()

    def arrival(self) -> asyncio.Future[None]:
        """Done when a reply waits; a lost one never comes (the bus's own timeout ends the wait)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self.queue.empty():
            waiter.set_result(None)
        return waiter

    def discard_output(self) -> None:
        pass


def test_a_lost_reply_is_retried_and_the_plant_steps_once() -> None:
    clock = Clock("afap")
    advanced: list[float] = []
    server = DeviceBusServer({}, advanced.append)
    link = LossyLink(server, lose=1)
    bus = DeviceBusClient(link, clock, reply_timeout_s=0.2, retries=2)  # type: ignore[arg-type]

    async def exchanges() -> None:
        await bus.exchange()
        await clock.sleep(0.02)
        await bus.exchange()

    run(exchanges(), clock)
    assert bus.retries_sent == 1 and bus.timeouts == 1 and bus.round_trips == 2
    assert server.repeats == 1 and server.exchanges == 2  # the repeat answered from the last reply
    assert advanced == [pytest.approx(0.02)]


class _Timer:
    """A plant whose one device reads the plant's time."""

    def __init__(self) -> None:
        self.t = 0.0

    def advance(self, dt: float) -> None:
        self.t += dt

    def read(self) -> float:
        return round(self.t, 9)


def _fly_ahead(lose_packets: Iterable[int] = (), stream_ahead: bool = True
               ) -> tuple[list[float], DeviceBusClient, DeviceBusServer, _Timer]:
    """Nine pipelined cycles, each request flying three cycles ahead, on a link losing those packets."""
    clock = Clock("afap")
    timer = _Timer()
    server = DeviceBusServer({"timer": timer}, timer.advance, stream_ahead=stream_ahead)
    link = LossyLink(server, lose_packets=lose_packets)
    bus = DeviceBusClient(link, clock, reply_timeout_s=0.2, retries=2)  # type: ignore[arg-type]
    port = bus.device("timer")
    seen: list[float] = []

    async def cycles() -> None:
        for _ in range(9):
            await bus.exchange(3, 0.02, pipeline=True)
            seen.append(port.read())
            await clock.sleep(0.02)

    run(cycles(), clock)
    return seen, bus, server, timer


def test_cycles_flown_ahead_come_one_packet_each_and_a_lost_one_is_asked_again() -> None:
    seen, bus, server, timer = _fly_ahead()
    assert seen == pytest.approx([0.02 * cycle for cycle in range(9)])
    # A reply and three cycles flown ahead a request: 9 cycles in 3 round trips (a 4th request is on its way).
    assert bus.round_trips == 3 and bus.exchanges == 9 and bus.retries_sent == 0
    # The same cycles from a plant that puts them all in its reply: the same readings.
    batched_seen, batched_bus, batched_server, _ = _fly_ahead(stream_ahead=False)
    assert batched_seen == seen and batched_bus.round_trips == 3 and batched_bus.stale_replies == 0
    assert batched_server.exchanges == server.exchanges
    # The second packet of the second request lost (its first cycle flown ahead): asked again, the
    # plant answers the repeat from what it sent, never flying those cycles twice.
    lossy_seen, lossy_bus, lossy_server, lossy_timer = _fly_ahead(lose_packets=[5])
    assert lossy_seen == seen and lossy_timer.t == pytest.approx(timer.t)
    assert lossy_bus.retries_sent == 1 and lossy_bus.timeouts == 1 and lossy_server.repeats == 1
    assert lossy_server.exchanges == server.exchanges
    # Dropped: the two cycles that came after the lost one, and the repeat's reply, already taken.
    assert lossy_bus.stale_replies == 3


def test_a_malformed_reading_fails_its_reader_alone() -> None:
    class GarblingPlant(DeviceBusServer):
        def _read_values(self, wanted: Iterable[list[str]], errors: list[str], convert: Any = encode) -> list[Any]:
            keys = list(wanted)
            values = super()._read_values(keys, errors, convert)
            return [{"NoSuchReading": [1]} if name == "bad" else value
                    for (name, _), value in zip(keys, values, strict=True)]

    clock = Clock("afap")
    timer = _Timer()
    bus = DeviceBusClient(LossyLink(GarblingPlant({"timer": timer, "bad": _Timer()}, timer.advance)), clock)  # type: ignore[arg-type]
    good, bad = bus.device("timer"), bus.device("bad")
    run(bus.exchange(), clock)  # the exchange itself goes through
    assert good.read() == 0.0
    with pytest.raises(PacketError, match="unknown reading type 'NoSuchReading'"):
        bad.read()


def test_an_undecodable_request_is_refused_each_time_it_comes_and_never_counted_as_answered() -> None:
    server = DeviceBusServer({}, lambda dt: None)
    garbage = PusTc(FLIGHT_APID, SERVICE, STEP_REQUEST, b"\xff\x00", 3, ACK_ALL)
    for _ in range(2):
        with pytest.raises(PacketError):
            list(server.replies(garbage))
    assert server.repeats == 0 and server.exchanges == 0


def test_a_lost_link_is_reported_as_such_and_the_commands_wait_for_the_next_exchange() -> None:
    clock = Clock("afap")
    server = DeviceBusServer({"engine": _Engine()}, lambda dt: None)
    link = LossyLink(server)
    bus = DeviceBusClient(link, clock)  # type: ignore[arg-type]
    engine = bus.device("engine", ())

    async def exchanges() -> str:
        link.connected = False
        engine.set_on(False)
        with pytest.raises(DeviceBusDead) as raised:
            await bus.exchange()
        link.connected = True
        await bus.exchange()
        return raised.value.reason

    assert run(exchanges(), clock) == NO_LINK  # never connected before: the port was not there
    assert [(name, method, args) for _, name, method, args in server.applied] == [("engine", "set_on", (False,))]
    link.counters.disconnects = 1
    link.connected = False

    async def again() -> str:
        with pytest.raises(DeviceBusDead) as raised:
            await bus.exchange()
        return raised.value.reason

    assert run(again(), clock) == LINK_LOST


class _Engine:
    def set_on(self, on: bool) -> None:
        self.on = on
