"""The device bus: a plant in its own process, stepped by the flight side over a real pty."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsw.clock import Clock, run
from fsw.devices.bus import (
    FLIGHT_APID,
    LINK_LOST,
    MAX_PACKET_SIZE,
    SERVICE,
    STEP_LATER,
    STEP_REPLY,
    STEP_REQUEST,
    DeviceBusClient,
    DeviceBusDead,
    decode,
    encode,
)
from fsw.devices.descent import ElevationImageReading, ImuReading, pack_heights
from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.rigs.closed_loop import build_descent
from tests.hil.bus_doubles import PullableBus


def test_readings_round_trip_positionally() -> None:
    reading = ImuReading(1.5, (0.1, 0.2, 9.0), (0.0, 0.0, 0.01), -1.2, 0.0, 1, True, True)
    assert decode(encode(reading)) == reading
    image = ElevationImageReading(2.0, 2, 2, 0.8, -0.4, -0.4, 0.01, pack_heights([-99.5, None, -99.3, -100.0], 0.01),
                                  True)
    assert decode(encode(image)) == image
    assert decode(encode(image)).heights() == pytest.approx([-99.5, None, -99.3, -100.0])
    with pytest.raises(Exception, match="unknown reading type"):
        decode({"NoSuchReading": [1]})


def test_server_applies_calls_then_advances_then_reads() -> None:
    plant, devices, _ = build_descent(3)
    server = DeviceBusServer({"imu": devices.imu, "engine": devices.main_engine}, plant.step)
    reply = server.step({"dt": 0.02, "calls": [["imu", "set_power", [False]], ["engine", "bogus", []]],
                         "poll": [["imu", "read"]], "requests": []})
    (imu,) = [decode(value) for value in reply["readings"]]
    assert imu.valid is False and imu.t == pytest.approx(0.02)
    assert reply["errors"] and "bogus" in reply["errors"][0]
    again = server.step({"dt": 0.02, "calls": [["imu", "set_power", [True]]], "requests": []})
    assert decode(again["readings"][0]).t == pytest.approx(0.04)  # the poll list is remembered



def test_an_exchange_at_the_same_instant_draws_no_new_noise() -> None:
    """A second exchange before the plant has moved (a ground command's, a cycle on resuming) gives
    the readings of that instant again, fresh only for a device it commands: the sensors' noise
    then follows plant time, and the readings after are the same however many such exchanges fell."""
    def readings_after(extra_exchanges: int) -> list[Any]:
        plant, devices, _ = build_descent(3)
        server = DeviceBusServer({"imu": devices.imu, "engine": devices.main_engine}, plant.step)
        poll = [["imu", "read"], ["engine", "read"]]
        first = server.step({"dt": 0.02, "calls": [], "requests": [], "poll": poll})["readings"]
        for _ in range(extra_exchanges):
            assert server.step({"dt": 0.0, "calls": [], "requests": []})["readings"] == first
        commanded = server.step({"dt": 0.0, "calls": [["engine", "set_on", [True]]], "requests": []})["readings"]
        assert commanded[0] == first[0] and decode(commanded[1]).on is True  # the engine read afresh
        return [decode(value) for value in server.step({"dt": 0.02, "calls": [], "requests": []})["readings"]]

    assert readings_after(0) == readings_after(3)


def test_cycles_flown_ahead_read_as_in_lock_step() -> None:
    def server() -> DeviceBusServer:
        plant, devices, _ = build_descent(3)
        devices.main_engine.set_thrust(7500.0)
        devices.main_engine.set_on(True)
        return DeviceBusServer({"imu": devices.imu, "engine": devices.main_engine}, plant.step)

    poll = [["imu", "read"], ["engine", "read"]]
    lock_step, batched = server(), server()
    one_by_one = [lock_step.step({"dt": 0.02, "calls": [], "requests": [], "poll": poll})["readings"]
                  for _ in range(10)]
    flown = []
    for _ in range(2):
        reply = batched.step({"dt": 0.02, "ahead": 4, "step_dt": 0.02, "calls": [], "requests": [], "poll": poll})
        flown += [reply["readings"], *reply["later"]]
    assert [[decode(v) for v in cycle] for cycle in flown] == [[decode(v) for v in cycle] for cycle in one_by_one]
    assert batched.exchanges == 2 and decode(flown[-1][0]).t == pytest.approx(0.2)


def test_each_cycle_flown_ahead_is_a_packet_of_its_own_made_as_it_is_flown() -> None:
    plant, devices, _ = build_descent(3)
    advanced: list[float] = []

    def advance(dt: float) -> None:
        advanced.append(dt)
        plant.step(dt)

    server = DeviceBusServer({"imu": devices.imu}, advance)
    body = {"n": 0, "dt": 0.02, "ahead": 2, "step_dt": 0.02, "calls": [], "requests": [], "poll": [["imu", "read"]]}
    replies = server.replies(PusTc(FLIGHT_APID, SERVICE, STEP_REQUEST, appdata.encode(body), 7, ACK_ALL))
    flown = []
    for count, subtype in ((1, STEP_REPLY), (2, STEP_LATER), (3, STEP_LATER)):
        tm = next(replies)
        assert len(advanced) == count and (tm.subtype, tm.msg_counter) == (subtype, 7)
        flown.append(appdata.decode(tm.source_data))
    assert next(replies, None) is None
    assert flown[0]["ahead"] == 2 and [cycle["i"] for cycle in flown[1:]] == [1, 2]
    assert [decode(cycle["readings"][0]).t for cycle in flown] == pytest.approx([0.02, 0.04, 0.06])


def test_the_client_serves_cycles_flown_ahead_one_per_cycle_and_sends_commands_after_them() -> None:
    plant, devices, _ = build_descent(3)
    server = DeviceBusServer({"imu": devices.imu, "engine": devices.main_engine}, plant.step)
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    imu = bus.device("imu")
    engine = bus.device("engine")
    seen: list[float] = []

    async def cycles() -> None:
        for n in range(10):
            await bus.exchange(4 - n % 5, 0.02)
            seen.append(imu.read().t)
            if n == 2:
                engine.set_on(True)  # waits for the round trip after the cycles already flown
            await clock.sleep(0.02)

    run(cycles(), clock)
    assert seen == pytest.approx([0.0] + [0.02 * k for k in range(1, 10)], abs=1e-9)
    assert server.exchanges == 2 and bus.round_trips == 2 and bus.exchanges == 10
    assert plant.engine_on  # sent with the second round trip


class _RecordedEngine:
    """The emulated engine, noting the plant time at which each ``set_on`` reaches it."""

    def __init__(self, engine: Any, plant: Any) -> None:
        self.engine, self.plant = engine, plant
        self.switched_at: list[float] = []

    def set_on(self, on: bool) -> None:
        self.switched_at.append(self.plant.t)
        self.engine.set_on(on)

    def read(self) -> Any:
        return self.engine.read()


def _fly_ten_cycles(pipeline: bool, pause_after: int | None = None) -> tuple[list[float], list[float], Any]:
    plant, devices, _ = build_descent(3)
    engine = _RecordedEngine(devices.main_engine, plant)
    server = DeviceBusServer({"imu": devices.imu, "engine": engine}, plant.step)
    clock = Clock("afap")
    bus = LocalDeviceBus(server, clock)
    imu, remote_engine = bus.device("imu"), bus.device("engine")
    seen: list[float] = []

    async def cycles() -> None:
        for n in range(10):
            await bus.exchange(0, 0.02, pipeline=pipeline)
            seen.append(imu.read().t)
            if n == 2:
                remote_engine.set_on(True)
            await clock.sleep(1.0 if n == pause_after else 0.02)

    run(cycles(), clock)
    return seen, engine.switched_at, bus


def test_pipelined_cycles_read_the_plant_at_their_own_time_and_command_it_a_cycle_later() -> None:
    lock_step_times, lock_step_switch, _ = _fly_ten_cycles(pipeline=False)
    pipelined_times, pipelined_switch, bus = _fly_ten_cycles(pipeline=True)
    assert pipelined_times == pytest.approx(lock_step_times, abs=1e-9)
    assert pipelined_times == pytest.approx([0.02 * k for k in range(10)], abs=1e-9)
    # The command made in the cycle at 0.04 s: in lock-step the plant flies from 0.04 s with it, pipelined
    # it goes with the request sent at the start of the next cycle (the plant's own record).
    assert lock_step_switch == pytest.approx([0.04]) and pipelined_switch == pytest.approx([0.06])
    assert bus.requests_made == 11 and bus.requests_answered == 10  # one request always on its way


def test_a_late_pipelined_cycle_brings_the_plant_up_to_the_flight_clock() -> None:
    times, _, _ = _fly_ten_cycles(pipeline=True, pause_after=4)
    assert times[:5] == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08], abs=1e-9)
    assert times[5:] == pytest.approx([1.08 + 0.02 * k for k in range(5)], abs=1e-9)


def test_a_pipelined_request_that_cannot_go_keeps_its_commands_for_the_bus_s_return() -> None:
    plant, devices, _ = build_descent(3)
    engine = _RecordedEngine(devices.main_engine, plant)
    server = DeviceBusServer({"imu": devices.imu, "engine": engine}, plant.step)
    clock = Clock("afap")
    bus = PullableBus(server, clock)
    bus.device("imu")
    remote_engine = bus.device("engine")
    failures: list[str] = []

    async def cycles() -> None:
        for n in range(8):
            bus.down = 2 <= n <= 4
            try:
                await bus.exchange(0, 0.02, pipeline=True)
            except DeviceBusDead as error:
                failures.append(error.reason)
            if n == 1:
                remote_engine.set_on(True)  # queued for the request sent at n = 2, which cannot go
            await clock.sleep(0.02)

    run(cycles(), clock)
    assert failures == [LINK_LOST, LINK_LOST]  # n = 3, 4: the request ahead of n = 2 never went
    # Carried once, by the first request once the bus is back (n = 5), as the plant's record shows.
    assert [(name, method) for _, name, method, _ in server.applied] == [("engine", "set_on")]
    assert len(engine.switched_at) == 1 and plant.engine_on


def test_a_restarted_flight_computer_finds_the_plant_moved_on_by_the_reset_outage() -> None:
    advanced: list[float] = []
    server = DeviceBusServer({}, advanced.append, reset_outage_s=1.5)
    for n in (0, 1, 2):
        server.step({"n": n, "dt": 0.02, "calls": [], "requests": []})
    assert advanced == [0.02, 0.02, 0.02] and server.flight_restarts == 0  # the first boot is no restart
    server.step({"n": 0, "dt": 0.0, "calls": [], "requests": []})
    assert advanced[3:] == [1.5] and server.flight_restarts == 1

@pytest.mark.slow
def test_flight_side_steps_a_plant_process_over_a_pty(tmp_path: Path) -> None:
    port, report, product = tmp_path / "plant.tty", tmp_path / "report.json", tmp_path / "od.json"
    plant = subprocess.Popen([sys.executable, "-m", "hil.cli", "plant", "--pty", str(port), "--seed", "5",
                              "--report", str(report), "--od-product", str(product)], stdout=subprocess.PIPE, text=True)
    assert plant.stdout is not None
    assert plant.stdout.readline().startswith("plant ready")
    clock = Clock("afap")

    async def fly() -> tuple[list[float], float | None, float]:
        link = SerialLink(str(port), max_packet_size=MAX_PACKET_SIZE)
        await link.open()
        bus = DeviceBusClient(link, clock)
        imu = bus.device("imu")
        scanner = bus.device("hazard_imager", (), ("scan",))
        times = []
        for _ in range(300):
            await bus.exchange()
            times.append(imu.read().t)
            await clock.sleep(0.02)
        imu.set_power(False)
        await bus.exchange()
        assert scanner.scan() is None  # asked now, answered on the next exchange
        await bus.exchange()
        scan = scanner.scan()
        await link.close()
        return times, imu.read().valid, scan.t if scan is not None else -1.0

    times, valid_after_off, scan_time = run(fly(), clock)  # type: ignore[misc]
    plant.terminate()
    assert plant.wait(10) == 0
    # The ground's orbit-determination product, written at the start (the bus carries device traffic only).
    od = json.loads(product.read_text())
    assert od["frame"] == "MCDF" and od["epoch_s"] == 0.0
    assert math.dist((0.0, 0.0, 0.0), od["position_m"]) - 1_737_400.0 == pytest.approx(15_000, abs=200)
    assert times[0] == 0.0 and times[-1] == pytest.approx(299 * 0.02)
    assert valid_after_off is False
    assert scan_time == pytest.approx(300 * 0.02)
    truth = json.loads(report.read_text())
    assert truth["exchanges"] == 302 and truth["t"] == pytest.approx(300 * 0.02)


def test_the_plant_reports_the_ascent_orbit_of_the_cutoff_not_of_its_exit() -> None:
    # The flight software flies on until it is stopped (a wall-time moment): the truth report must
    # not depend on how long the ascender coasted after its engine cut off.
    from hil.plant_process import LanderWorld

    def report_after(coast_s: float) -> dict[str, Any]:
        world = LanderWorld(1)
        world.plant.landed = True
        ascender = world.ascender  # near the end of its insertion burn, horizontal
        ascender.on_pad, ascender.h, ascender.vd = False, 15e3, 1690.0
        ascender.set_attitude(1.5707963, 0.0)
        ascender.engine_on = True
        for _ in range(10):
            world.advance(0.5)
        ascender.engine_on = False
        world.advance(0.02)
        for _ in range(int(coast_s / 0.5)):
            world.advance(0.5)
        ascent: dict[str, Any] = world.report()["ascent"]
        return ascent

    short, long = report_after(10.0), report_after(300.0)
    assert short["lifted_off"] and 10.0 < short["periapsis_km"] < short["apoapsis_km"] < 250.0
    assert (short["periapsis_km"], short["apoapsis_km"]) == (long["periapsis_km"], long["apoapsis_km"])
