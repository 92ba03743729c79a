"""The ground server in-process, on a real pty with a stand-in vehicle on its master side: clients
over TCP share alarms and each other's commands; the sender alone gets its tag back; the server's
uplink queue keeps an arm and its fire together."""

from __future__ import annotations

import asyncio
import os
import pty
import time
from collections.abc import AsyncIterator

import pytest

from fsw.protocol import UNIX_TO_TAI_1958
from ground.dictionary import Dictionary
from ground.remote import RemoteSession
from ground.server import GroundServer
from ground.session import GroundSession
from ground.telemetry import Received
from ground.wire import Address
from tests.ground.test_console_status import StandIn


@pytest.fixture
async def server(dictionary: Dictionary) -> AsyncIterator[tuple[GroundServer, GroundSession, StandIn, str]]:
    master, slave = pty.openpty()
    session = GroundSession(os.ttyname(slave), dictionary)
    server = GroundServer(dictionary, [session], [Address(host="127.0.0.1", port=0)])
    await server.start()
    vehicle = StandIn(master, dictionary, slow={dictionary.command("ARM").opcode: 0.3})
    port = server._servers[0].sockets[0].getsockname()[1]
    try:
        yield server, session, vehicle, f"tcp://127.0.0.1:{port}"
    finally:
        vehicle.close()
        await server.close()
        os.close(master)
        os.close(slave)


async def test_clients_share_commands_alarms_and_one_uplink(
        server: tuple[GroundServer, GroundSession, StandIn, str], dictionary: Dictionary) -> None:
    _, session, vehicle, address = server
    first = RemoteSession(address, dictionary, client_name="first")
    second = RemoteSession(address, dictionary, client_name="second")
    await first.open()
    await second.open()
    try:
        # A command from the first: both see it, stage by stage; only the first is told it is its own.
        stages: list[str] = []
        entry = await first.command("NOOP", [], on_stage=lambda e, phase, report: stages.append(report.subtype.name))
        assert entry.ok and stages == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        mirrored = next(e for e in second.history if e.number == entry.number)
        await asyncio.wait_for(mirrored.finished.wait(), 5)
        assert mirrored.stages == ["accepted", "started", "completed"] and mirrored.origin == f"first pid {os.getpid()}"
        # A refusal carries its failure code to everyone.
        refused = await second.command("MODE_SET", {"mode": "SAFE"})
        assert refused.failure_code == "WRONG_MODE"
        other = next(e for e in first.history if e.number == refused.number)
        await asyncio.wait_for(other.finished.wait(), 5)
        assert other.status == "failed at start: WRONG_MODE (MODE_SET not allowed in BOOT)"
        # A critical command and a plain one asked at once: the plain one waits until the fire is out.
        critical = asyncio.ensure_future(first.command("GO_DESCENT", []))
        while not any(e.spec.name == "GO_DESCENT" for e in session.history):  # asked first, arm on its way
            await asyncio.sleep(0.01)
        plain = asyncio.ensure_future(second.command("NOOP", []))  # asked while the arm awaits its verdict
        await asyncio.wait_for(asyncio.gather(critical, plain), 10)
        arm_opcode, go_opcode = dictionary.command("ARM").opcode, dictionary.command("GO_DESCENT").opcode
        order = vehicle.opcodes[-3:]
        assert order == [arm_opcode, go_opcode, dictionary.command("NOOP").opcode]
        # Sequence counts are the server's: never one twice.
        assert len(set(vehicle.sequence_counts)) == len(vehicle.sequence_counts)
        # The server judges limits; an acknowledgement by one is seen by the other.
        now = time.time()
        session.state.take(Received(now, b"", "hk", 100, 3, 25, 0, now + UNIX_TO_TAI_1958,
                                    {"sid": 1, "values": {"fast_jitter_p99_ms": 12.0}}))
        server[0]._publish_alarms(server[0].vehicles["vehicle"])
        deadline = time.monotonic() + 5
        while "fast_jitter_p99_ms" not in second.state.alarms:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert first.state.acknowledge("fast_jitter_p99_ms") == ["fast_jitter_p99_ms"]
        while not second.state.alarms["fast_jitter_p99_ms"].acknowledged:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert session.state.unacknowledged() == []
        # A count reserved for a TC carried inside another is not used by the server after.
        reserved = await first.reserve_sequence()
        await second.command("NOOP", [])
        assert reserved not in vehicle.sequence_counts
    finally:
        await first.close()
        await second.close()
