"""Exactly-once commanding over a lossy link: 1000 NOOPs sent with ``GroundClient.send_reliably``
through ``ilrs-hil link --loss 0.1 --ber 1e-5`` to ``ilrs-fsw run`` raise the flight's completed
command counter by exactly 1000, although frames are lost both ways and many TCs go up twice."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from fsw.protocol import appdata
from fsw.protocol.packet import PusTm
from ground.client import GroundClient
from hil.link.process import parse_counters, start_link_process, stop_link_process
from tests.fsw.flight_process import FlightProcess

pytestmark = pytest.mark.slow

NOOP = [0x0002]
COMMANDS = 1000
IN_FLIGHT = 16  # well under the flight's duplicate window (1024) and its 32 running commands
DISPATCHER_STRUCTURE = 1
HK_TIMEOUT_S = 15.0
# With 16 commands in flight each waits behind the others in the flight's intake: the unloaded ping
# (about 1 ms over ptys) underestimates their round trip, more so as each TC costs the flight two
# store writes (its duplicate window, kept across resets). A re-send that comes too early is only a
# recognised duplicate, but a wasted one.
LOADED_ROUND_TRIP_FLOOR_S = 0.03


async def next_dispatcher_housekeeping(client: GroundClient) -> dict[str, Any]:
    """The next periodic HK (3,25) of the dispatcher's structure to arrive from now on."""
    loop = asyncio.get_running_loop()
    report: asyncio.Future[dict[str, Any]] = loop.create_future()

    def on_tm(tm: PusTm) -> None:
        if (tm.service, tm.subtype) == (3, 25) and not report.done():
            structure, values = appdata.decode(tm.source_data)
            if structure == DISPATCHER_STRUCTURE:
                report.set_result(values)

    client.listeners.append(on_tm)
    try:
        return await asyncio.wait_for(report, HK_TIMEOUT_S)
    finally:
        client.listeners.remove(on_tm)


async def measure_round_trip(client: GroundClient) -> float:
    for _ in range(10):
        _, round_trip = await client.ping(2.0)
        if round_trip is not None:
            return round_trip
    raise AssertionError("no ping answered through the lossy link")


async def test_a_thousand_noops_over_a_lossy_link_execute_exactly_a_thousand_times(tmp_path: Path) -> None:
    fsw_port, ground_port = tmp_path / "fsw", tmp_path / "ground"
    link = start_link_process(fsw_port, ground_port, "--loss", "0.1", "--ber", "1e-5", "--seed", "11")
    flight = FlightProcess(fsw_port, tmp_path / "store.sqlite", "--watchdog", "none", "--no-mission")
    client = GroundClient(str(ground_port))
    try:
        flight.start()
        await client.open()
        rtt_s = max(await measure_round_trip(client), LOADED_ROUND_TRIP_FLOOR_S)
        # Nothing is in flight now: the next report holds the counter as it stands.
        before = await next_dispatcher_housekeeping(client)

        sequence = itertools.count()
        records = []

        async def commander() -> None:
            while next(sequence) < COMMANDS:
                records.append(await client.send_reliably(8, 1, NOOP, rtt_s=rtt_s))

        await asyncio.gather(*(commander() for _ in range(IN_FLIGHT)))
        # Every completion (1,7) arrived before this report was generated: the link keeps order.
        after = await next_dispatcher_housekeeping(client)
    finally:
        await client.close()
        flight.stop()
        link_counters = parse_counters(stop_link_process(link))

    assert len(records) == COMMANDS
    assert len({record.raw for record in records}) == COMMANDS  # each TC its own sequence count
    assert all(record.completed for record in records), [r.stage_names() for r in records if not r.completed][:5]
    assert after["cmds_completed"] - before["cmds_completed"] == COMMANDS
    assert after["cmds_failed"] == before["cmds_failed"]
    # The loss was real and retransmissions were recognised as such rather than executed.
    assert client.retransmissions > 0
    assert after["cmds_duplicate"] - before["cmds_duplicate"] > 0
    assert after["cmds_duplicate"] - before["cmds_duplicate"] <= client.retransmissions
    print(f"rtt {rtt_s * 1000:.1f} ms, retransmissions {client.retransmissions}, duplicates recognised "
          f"{after['cmds_duplicate'] - before['cmds_duplicate']}, cmds_completed "
          f"{before['cmds_completed']} -> {after['cmds_completed']}, link {link_counters}")
