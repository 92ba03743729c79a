"""A step request sent at the end of a cycle (``DeviceBusClient.dispatch``): the plant flies to the next
cycle while the flight software finishes this one, and the next exchange collects the reply. The
readings are those of lock-step; a command made after the dispatch reaches the plant at the next
cycle; a cycle that comes late gets a request of its own; a reply that never comes puts the request's
commands back in the queue."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fsw.clock import Clock, run
from fsw.devices.bus import DeviceBusClient, DeviceBusDead
from fsw.link import SerialLink
from hil.devicebus import DeviceBusServer, LocalDeviceBus, serve
from hil.link.bridge import PtyPair
from hil.rigs.closed_loop import build_descent
from tests.fsw.devices.test_bus_faults import LossyLink

CYCLE_S = 0.02


def _burning_plant() -> tuple[Any, DeviceBusServer]:
    plant, devices, _ = build_descent(3)
    devices.main_engine.set_thrust(7500.0)
    devices.main_engine.set_on(True)
    return plant, DeviceBusServer({"imu": devices.imu, "engine": devices.main_engine}, plant.step)


def _fly(dispatching: bool, cycles: int = 12) -> tuple[list[Any], Any, DeviceBusServer, LocalDeviceBus]:
    """``cycles`` cycles of a bus that exchanges at each cycle's start and, when ``dispatching``, sends the
    next request at each cycle's end; the engine is cut at cycle 5, before the cycle ends."""
    plant, server = _burning_plant()
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    imu, engine = bus.device("imu"), bus.device("engine")
    seen: list[Any] = []

    async def fly() -> None:
        for n in range(cycles):
            await bus.exchange(0, CYCLE_S)
            seen.append(imu.read())
            if n == 5:
                engine.set_on(False)
            if dispatching:
                assert bus.dispatch(CYCLE_S)
            await clock.sleep(CYCLE_S)

    run(fly(), clock)
    return seen, plant, server, bus


def test_dispatched_requests_read_as_in_lock_step() -> None:
    lock_step, plant_a, _, _ = _fly(dispatching=False)
    dispatched, plant_b, server, bus_b = _fly(dispatching=True)
    assert [r.t for r in dispatched] == pytest.approx([r.t for r in lock_step], abs=1e-9)
    for a, b in zip(lock_step, dispatched, strict=True):
        assert a.specific_force_body == pytest.approx(b.specific_force_body, abs=1e-6)
        assert a.angular_rate_body == pytest.approx(b.angular_rate_body, abs=1e-9)
    # The plant flew one cycle beyond the last one collected: the request sent at its end.
    assert server.exchanges == bus_b.round_trips + 1 and plant_b.t == pytest.approx(plant_a.t + CYCLE_S)
    assert not plant_b.engine_on


def test_a_command_made_after_the_dispatch_reaches_the_plant_at_the_next_cycle() -> None:
    _, server = _burning_plant()
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    engine = bus.device("engine")

    async def fly() -> None:
        for n in range(4):
            await bus.exchange(0, CYCLE_S)
            bus.dispatch(CYCLE_S)
            if n == 1:
                engine.set_on(False)  # after this cycle's request went: it goes with the next one
            await clock.sleep(CYCLE_S)

    run(fly(), clock)
    # Request 0 is the first cycle's own; 1 and 2 were dispatched at the end of cycles 0 and 1.
    assert [(exchange, method) for exchange, _, method, _ in server.applied] == [(3, "set_on")]


def test_a_command_queued_after_a_dispatch_is_delivered_only_when_its_own_request_is_answered() -> None:
    _, server = _burning_plant()
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    engine = bus.device("engine")

    async def fly() -> list[bool]:
        await bus.exchange(0, CYCLE_S)
        bus.dispatch(CYCLE_S)
        engine.set_on(False)  # a ground command's call, after this cycle's request went
        carrier = bus.requests_made + 1
        seen = [bus.delivered(carrier)]
        for _ in range(2):
            await clock.sleep(CYCLE_S)
            await bus.exchange(0, CYCLE_S)  # the first collects the request dispatched before the call
            seen.append(bus.delivered(carrier))
        return seen

    assert run(fly(), clock) == [False, False, True]
    assert [method for _, _, method, _ in server.applied] == ["set_on"]


def test_a_cycle_that_comes_late_gets_a_request_of_its_own() -> None:
    plant, server = _burning_plant()
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    imu = bus.device("imu")

    async def fly() -> float:
        await bus.exchange(0, CYCLE_S)
        bus.dispatch(CYCLE_S)
        await clock.sleep(1.0)  # the flight paused: not the cycle the request was for
        await bus.exchange(0, CYCLE_S)
        return float(imu.read().t)

    assert run(fly(), clock) == pytest.approx(1.0, abs=1e-9)  # the reading of now, not of 0.02
    assert server.exchanges == 3 and plant.t == pytest.approx(1.0)


def test_no_second_dispatch_while_one_is_out_or_cycles_flown_ahead_wait() -> None:
    _, server = _burning_plant()
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    bus.device("imu")

    async def fly() -> tuple[bool, bool, bool]:
        await bus.exchange(3, CYCLE_S)  # three cycles flown ahead
        ahead_waiting = bus.dispatch(CYCLE_S)
        for _ in range(3):
            await clock.sleep(CYCLE_S)
            await bus.exchange(0, CYCLE_S)
        first = bus.dispatch(CYCLE_S)
        return ahead_waiting, first, bus.dispatch(CYCLE_S)

    assert run(fly(), clock) == (False, True, False)
    assert server.exchanges == 2


def test_a_dispatched_request_that_gets_no_answer_puts_its_commands_back() -> None:
    clock = Clock("afap")
    server = DeviceBusServer({"engine": _Engine()}, lambda dt: None)
    link = LossyLink(server, lose=10)  # every reply lost from now on
    bus = DeviceBusClient(link, clock, reply_timeout_s=0.05, retries=1)  # type: ignore[arg-type]
    engine = bus.device("engine", ())

    async def fly() -> int:
        engine.set_on(False)
        assert bus.dispatch(CYCLE_S)
        with pytest.raises(DeviceBusDead):
            await bus.exchange(0, CYCLE_S)
        return len(bus._calls)

    assert run(fly(), clock) == 1  # the command waits for the next request that is answered
    assert not bus.dispatched and bus.dead == "timeout"


def test_over_a_pty_the_plant_steps_before_the_flight_side_asks_for_the_reply() -> None:
    """The point of the dispatch: the request is on the wire at the end of the cycle, so the plant
    process answers while the flight side does the rest of its work."""
    clock = Clock("afap")
    _, plant_server = _burning_plant()

    async def fly() -> tuple[int, int]:
        pair = PtyPair()
        plant_link = SerialLink("plant", max_packet_size=0xFFFF + 7)
        await plant_link.open_fd(pair.master_fd)
        serving = asyncio.create_task(serve(plant_link, plant_server))
        flight_link = SerialLink(pair.slave_name, max_packet_size=0xFFFF + 7)
        bus = DeviceBusClient(flight_link, clock)
        bus.device("imu")
        await bus.open()
        await bus.exchange(0, CYCLE_S)
        bus.dispatch(CYCLE_S)
        for _ in range(50):  # the flight side's other work: passes of the loop, no exchange
            await asyncio.sleep(0.001)
            if plant_server.exchanges == 2:
                break
        stepped_before_asked = plant_server.exchanges
        await clock.sleep(CYCLE_S)
        await bus.exchange(0, CYCLE_S)
        serving.cancel()
        await bus.close()
        await plant_link.close()
        return stepped_before_asked, bus.round_trips

    assert run(fly(), clock) == (2, 2)


class _Engine:
    def set_on(self, on: bool) -> None:
        self.on = on
