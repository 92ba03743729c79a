"""``ilrs-ground serve`` against a live flight software (real ptys, real processes): one server owns
the port; several clients attached at once all see every packet and every command's verification;
a second direct opener is refused by name."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ground.dictionary import Dictionary
from ground.remote import RemoteSession, ServerError
from ground.telemetry import Received
from ground.wire import PROTOCOL_VERSION
from tests.ground.conftest import REPOSITORY, LiveVehicle


@dataclass
class Served:
    vehicle: LiveVehicle
    socket: Path
    archive: Path
    process: subprocess.Popen[str]

    def tool(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """A tool attached to the server (no --port)."""
        command = [sys.executable, "-m", "ground.cli", "--server", str(self.socket),
                   "--dictionary", str(self.vehicle.dictionary_path), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPOSITORY,
                              stdin=subprocess.DEVNULL)


def start_server(vehicle: LiveVehicle, directory: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ground.cli", "--port", vehicle.port, "--dictionary", str(vehicle.dictionary_path),
         "--sequence-file", str(directory / "sequence.json"), "--archive", str(directory / "archive.sqlite"),
         "serve", "--listen", str(directory / "ground.sock")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPOSITORY, start_new_session=True)
    assert process.stdout is not None
    ready = process.stdout.readline()
    if "ready" not in ready:
        process.kill()
        raise RuntimeError(f"the server did not start: {ready}{process.communicate()[1]}")
    return process


@pytest.fixture(scope="module")
def served(vehicle: LiveVehicle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("served")
    process = start_server(vehicle, directory)
    try:
        yield Served(vehicle, directory / "ground.sock", directory / "archive.sqlite", process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def gaps(packets: list[Received]) -> int:
    """Packets missing between consecutive ones of an APID (their 14-bit sequence counts)."""
    last: dict[int | None, int] = {}
    missing = 0
    for packet in packets:
        assert packet.seq is not None
        if packet.apid in last:
            missing += (packet.seq - last[packet.apid] - 1) % 0x4000
        last[packet.apid] = packet.seq
    return missing


async def test_two_clients_see_every_packet_and_a_sends_verification(served: Served, dictionary: Dictionary) -> None:
    first = RemoteSession(str(served.socket), dictionary, client_name="first")
    second = RemoteSession(str(served.socket), dictionary, client_name="second")
    seen: dict[str, list[Received]] = {"first": [], "second": []}
    for name, session in (("first", first), ("second", second)):
        session.add_listener(seen[name].append)
        await session.open()
    try:
        # A third client, in its own process: its command goes through the server's one uplink.
        sender = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ground.cli", "--server", str(served.socket), "--dictionary",
            str(served.vehicle.dictionary_path), "send", "NOOP", cwd=REPOSITORY, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await asyncio.wait_for(sender.communicate(), 60)
        assert sender.returncode == 0, out.decode() + err.decode()
        assert out.decode().splitlines()[-4:] == ["NOOP: accepted", "NOOP: started", "NOOP: completed",
                                                   "NOOP: => completed"]
        # The sender's verification reached both other clients, with who sent it.
        for session in (first, second):
            entry = next(e for e in session.history if e.label == "NOOP" and e.origin == f"send pid {sender.pid}")
            await asyncio.wait_for(entry.finished.wait(), 10)
            assert entry.ok and entry.stages == ["accepted", "started", "completed"]
        await asyncio.sleep(1.5)  # more housekeeping, while both listen
    finally:
        await first.close()
        await second.close()
    # Every packet, to both: the same packets in the same order once both were attached, none missing.
    live = {name: [p for p in packets if p.kind != "undecodable"] for name, packets in seen.items()}
    start = live["first"].index(next(p for p in live["first"] if p.raw == live["second"][0].raw))
    both = min(len(live["first"]) - start, len(live["second"]))
    assert both > 10
    assert [p.raw for p in live["first"][start:start + both]] == [p.raw for p in live["second"][:both]]
    assert gaps(live["first"]) == 0 and gaps(live["second"]) == 0
    kinds = {p.kind for p in live["second"]}
    assert {"hk", "verification"} <= kinds


def test_the_port_is_refused_to_a_second_opener_while_served(served: Served) -> None:
    standalone = served.vehicle.ground("ping", "--count", "1")
    assert standalone.returncode == 2
    assert (f"port {served.vehicle.port} in use by PID {served.process.pid} (ilrs-ground serve); "
            f"attach to it with --server {served.socket}") in standalone.stderr
    second_server = served.vehicle.ground("serve", "--listen", str(served.socket.with_name("other.sock")))
    assert second_server.returncode == 2
    assert f"in use by PID {served.process.pid} (ilrs-ground serve)" in second_server.stderr
    # Attached, the same tool works, and the server's sequence counts are the only ones used.
    attached = served.tool("ping", "--count", "2", "--interval", "0.05")
    assert attached.returncode == 0, attached.stderr
    assert "2/2 pings completed" in attached.stdout


def test_tools_attached_to_the_server(served: Served) -> None:
    tlm = served.tool("tlm", "mode", "uptime_s")
    assert tlm.returncode == 0, tlm.stderr
    assert tlm.stdout.splitlines()[0].split(" = ")[0].endswith("mode")
    params = served.tool("params", "arm_window_s")
    assert params.returncode == 0, params.stderr
    assert params.stdout.splitlines()[-1] == "arm_window_s = 10.0 s"
    unknown = served.tool("send", "NOOPP")
    assert unknown.returncode == 2 and "did you mean NOOP?" in unknown.stderr
    # The server archived everything, the tools' commands included.
    import sqlite3

    with sqlite3.connect(served.archive) as db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM packets GROUP BY kind").fetchall())
    assert kinds["hk"] > 0 and kinds["verification"] >= 6


async def test_protocol_refusals(served: Served) -> None:
    reader, writer = await asyncio.open_unix_connection(str(served.socket))
    try:
        writer.write(b'{"type": "subscribe"}\n')
        answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert answer["type"] == "error" and answer["error"] == "say hello first"
    finally:
        writer.close()
    reader, writer = await asyncio.open_unix_connection(str(served.socket))
    try:
        writer.write(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION + 1}).encode() + b"\n")
        answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
        assert answer == {"type": "error", "fatal": True, "error": (
            f"protocol {PROTOCOL_VERSION + 1} not served: this server speaks protocol {PROTOCOL_VERSION}")}
        assert await asyncio.wait_for(reader.readline(), 10) == b""  # and it hung up
    finally:
        writer.close()
    reader, writer = await asyncio.open_unix_connection(str(served.socket), limit=2**24)
    try:
        for message in ({"type": "hello", "protocol": PROTOCOL_VERSION, "client": "raw", "pid": os.getpid()},
                        {"type": "frobnicate", "tag": 1},
                        {"type": "command", "tag": 2, "name": "MODE_SET", "args": {"mode": "LANDED"}},
                        {"type": "command", "tag": 3, "name": "NOOP", "timeout": -1}):
            writer.write(json.dumps(message).encode() + b"\n")
        answers: dict[int, dict[str, object]] = {}
        while len(answers) < 3:
            answer = json.loads(await asyncio.wait_for(reader.readline(), 10))
            if answer["type"] == "error":
                answers[int(answer["tag"])] = answer
        assert answers[1]["error"] == "unknown message type 'frobnicate'"
        assert answers[2]["error"] == "mode: 'LANDED' is not one of SAFE, NOMINAL"
        assert answers[3]["error"] == "timeout must be a number greater than 0, not -1"
    finally:
        writer.close()
    with pytest.raises(ServerError, match="no vehicle 'rover'"):
        await RemoteSession(str(served.socket), vehicle="rover").open()


async def run_tool(served: Served, *args: str) -> tuple[int, str, str, int]:
    """A tool attached to the server, without blocking this test's event loop: (code, out, err, pid)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ground.cli", "--server", str(served.socket), "--dictionary",
        str(served.vehicle.dictionary_path), *args, cwd=REPOSITORY, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode(), process.pid


@pytest.mark.slow
async def test_two_consoles_and_a_send_attached_to_one_server(served: Served, dictionary: Dictionary) -> None:
    """The operators' view: two full consoles and a `send`, all attached; both consoles show the same
    telemetry, a live status bar, and the `send`'s verification stage by stage."""
    from textual.widgets import DataTable, Static

    from ground.console import GroundConsole
    from tests.ground.conftest import until_shown

    sent: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    seen: dict[str, list[bytes]] = {}
    rows: dict[str, list[str]] = {}
    bars: dict[str, str] = {}

    async def console(name: str) -> None:
        session = RemoteSession(str(served.socket), dictionary, client_name=name, snapshot=True)
        seen[name] = []
        session.add_listener(lambda received: seen[name].append(received.raw))
        await session.open()
        try:
            app = GroundConsole(session)
            async with app.run_test(size=(160, 48)) as pilot:
                def bar() -> str:
                    return str(app.query_one("#status", Static).render())

                await until_shown(lambda: "● vehicle 0." in bar() and "mode " in bar(), pilot, 20)
                pid = await sent
                history = app.query_one("#history", DataTable)

                def row() -> list[str]:
                    for key in history.rows:
                        cells = [str(cell) for cell in history.get_row(key)]
                        if cells[1] == "NOOP" and cells[6] == f"send pid {pid}":
                            return cells
                    return []

                await until_shown(lambda: row()[2:3] == ["completed"], pilot, 20)
                rows[name], bars[name] = row(), bar()
                # Attached long enough for a stretch of packets both consoles saw (the window below),
                # however soon the command completed.
                await until_shown(lambda: len(seen[name]) >= 60, pilot, 40)
        finally:
            await session.close()

    consoles = [asyncio.ensure_future(console(name)) for name in ("left", "right")]
    while len(seen) < 2 or not all(seen.values()):
        await asyncio.sleep(0.1)
    code, out, err, pid = await run_tool(served, "send", "NOOP")
    assert code == 0, out + err
    sent.set_result(pid)
    await asyncio.wait_for(asyncio.gather(*consoles), 60)
    for name in ("left", "right"):
        assert rows[name][4] == "accepted, started, completed"
        assert "● vehicle" in bars[name] and "mode" in bars[name]
    # The same packets reached both consoles, in the same order (a stretch both were attached for).
    left, right = seen["left"], seen["right"]
    window = right[-40:-20]
    assert len(window) == 20 and window[0] in left
    start = left.index(window[0])
    assert left[start:start + len(window)] == window


@pytest.mark.slow
async def test_a_ten_second_command_is_followed_through_the_server(served: Served, dictionary: Dictionary) -> None:
    for words in (["MODE_SET", "mode=NOMINAL"], ["NDOS_POWER_ON"]):
        code, out, err, _ = await run_tool(served, "send", *words)
        assert code == 0, out + err
    watcher = RemoteSession(str(served.socket), dictionary, client_name="watcher", subscribe=False)
    await watcher.open()
    statuses: list[str] = []
    try:
        async def watch() -> None:
            while True:
                statuses.extend(entry.status for entry in watcher.history if entry.spec.name == "NDOS_ACQUIRE")
                await asyncio.sleep(0.2)

        watching = asyncio.get_running_loop().create_task(watch())
        code, out, err, pid = await run_tool(served, "send", "NDOS_ACQUIRE", "samples=20", "interval_s=0.5")
        watching.cancel()
    finally:
        await watcher.close()
    assert code == 0, out + err
    assert "waiting up to 5.0 s + 11 s running on board" in out
    assert out.splitlines()[-1] == "NDOS_ACQUIRE samples=20 interval_s=0.5: => completed"
    entry = next(e for e in watcher.history if e.origin == f"send pid {pid}")
    assert entry.ok and entry.stages[-1] == "completed"
    assert "in flight" in statuses and not any("timed out" in s or "not seen" in s for s in statuses)
