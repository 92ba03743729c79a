import asyncio
import threading
import time
from pathlib import Path

import pytest

from fsw.clock import WALL_TIMEOUT, Clock, ClockError, ClockMode, ring_after_wall, run, wait_wall
from fsw.core.bus import SoftwareBus
from fsw.core.store import Store


def test_bus_delivers_by_id_and_counts_drops_when_full() -> None:
    bus = SoftwareBus()
    small = bus.subscribe("tm", depth=2)
    other = bus.subscribe("tc")
    for n in range(5):
        bus.publish("tm", n)
    assert [small.get_nowait(), small.get_nowait(), small.get_nowait()] == [0, 1, None]
    assert small.dropped == 3 and bus.dropped == 3
    assert len(other) == 0
    assert bus.publish("nobody", 1) == 0 and bus.unrouted == 1


def test_store_round_trip_and_row_checksum(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(path)
    store.put("latches", {"ignition": 12.5})
    store.put("counters", {"100": 7}, durable=False)
    store.close()
    store = Store(path)
    assert store.get("latches") == {"ignition": 12.5}
    assert store.corruption is None
    store._db.execute("UPDATE kv SET value = ? WHERE key = 'latches'", (b"\xa1\x61x\x01",))
    store.close()
    damaged = Store(path)
    assert damaged.corruption is not None and "latches" in damaged.corruption
    assert damaged.get("latches") is None
    assert Path(f"{path}.corrupt").exists()


def test_afap_clock_jumps_over_idle_time_exactly() -> None:
    clock = Clock("afap")

    async def main() -> tuple[float, float]:
        start = clock.monotonic()
        await asyncio.sleep(3600.0)
        middle = clock.monotonic()
        await clock.sleep_until(middle + 0.25)
        return middle - start, clock.monotonic() - middle

    assert run(main(), clock) == (3600.0, 0.25)


def test_afap_clock_stands_still_while_held() -> None:
    clock = Clock("afap")

    async def main() -> float:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[float] = loop.create_future()
        # An answer from "another process" arrives on a thread after some wall time.
        loop.call_soon(lambda: loop.run_in_executor(None, lambda: __import__("time").sleep(0.05))
                       .add_done_callback(lambda _: reply.set_result(clock.monotonic())))
        with clock.hold():
            timer = asyncio.ensure_future(asyncio.sleep(100.0))
            answered_at = await reply
        timer.cancel()
        return answered_at

    assert run(main(), clock) == 0.0


def test_onboard_time_correlation() -> None:
    clock = Clock("afap", start_tai=1000.0)
    assert clock.onboard_time() == 1000.0
    assert clock.set_onboard_time(1500.0) == 500.0
    clock.adjust_onboard_time(-0.5)
    assert clock.onboard_time() == 1499.5
    assert clock.to_monotonic(1499.5) == clock.monotonic()


def test_clock_mode_parsing() -> None:
    assert ClockMode.parse("scaled:10").factor == 10.0
    assert str(ClockMode.parse("afap")) == "afap"
    for bad in ("fast", "scaled:x", "scaled:-1"):
        with pytest.raises(ClockError):
            ClockMode.parse(bad)


@pytest.mark.parametrize("mode", ["afap", "scaled:100", "realtime"])
def test_a_wall_time_wait_ends_in_wall_time_on_every_clock_without_a_thread(mode: str) -> None:
    clock = Clock(mode)

    async def waits() -> tuple[object, object, float, int]:
        threads = threading.active_count()
        never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        with clock.hold():  # on the afap clock: flight time stands still, only wall time can end it
            timed_out = await wait_wall(never, 0.2)
        elapsed = time.monotonic() - started
        answered = await wait_wall(asyncio.sleep(0.01, result=7), 5.0)  # the answer first
        return timed_out, answered, elapsed, threading.active_count() - threads

    timed_out, answered, elapsed, new_threads = run(waits(), clock)
    assert timed_out is WALL_TIMEOUT and answered == 7
    assert 0.19 <= elapsed < 2.0
    assert new_threads == 0


@pytest.mark.parametrize("mode", ["afap", "realtime"])
def test_a_future_of_ones_own_is_set_after_wall_seconds_unless_set_before(mode: str) -> None:
    clock = Clock(mode)

    async def waits() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[None] = loop.create_future()
        started = time.monotonic()
        with clock.hold():  # on the afap clock: flight time stands still, only wall time can end it
            ring_after_wall(mine, 0.2)
            await mine
        elapsed = time.monotonic() - started
        answered: asyncio.Future[None] = loop.create_future()
        ring_after_wall(answered, 5.0)
        loop.call_soon(answered.set_result, None)  # set before its time: the alarm leaves it be
        await answered
        return answered.result() is None, elapsed

    done, elapsed = run(waits(), clock)
    assert done and 0.19 <= elapsed < 2.0


def test_sequence_counters_are_written_when_they_changed_and_not_for_a_quiet_flush(tmp_path: Path) -> None:
    from fsw.core.executive import SEQUENCE_KEY
    from fsw.vehicle import core_vehicle

    store = Store(tmp_path / "store.sqlite")
    vehicle = core_vehicle(Clock("afap"), store)
    executive = vehicle.executive
    executive.telemetry.send(17, 2, None)
    executive.flush_sequence_counters()
    written = store.writes
    assert store.get(SEQUENCE_KEY) == executive.telemetry.sequence.snapshot()
    executive.flush_sequence_counters()  # nothing sent since: the store has them already
    assert store.writes == written
    executive.telemetry.send(17, 2, None)
    executive.flush_sequence_counters()
    assert store.writes == written + 1 and store.get(SEQUENCE_KEY) == executive.telemetry.sequence.snapshot()
    store.close()
