"""The bridge over real ptys: in-process with asyncio, and ``ilrs-hil link`` as a child process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import time
from pathlib import Path

import pytest
import serial

from fsw.protocol.framing import frame
from hil.cli import build_parser
from hil.link import (
    ImpairmentConfig,
    LinkStartError,
    NullModemBridge,
    PtyPair,
    parse_counters,
    running_link,
    start_link_process,
    stop_link_process,
)
from hil.link.command import configs_from_args


def port(path: Path) -> serial.Serial:
    return serial.Serial(str(path), timeout=5.0)


# -- in-process --------------------------------------------------------------------------------


async def read_exactly(fd: int, count: int, timeout: float = 5.0) -> bytes:
    loop = asyncio.get_running_loop()
    received = bytearray()
    deadline = loop.time() + timeout
    while len(received) < count and loop.time() < deadline:
        try:
            received += os.read(fd, count - len(received))
        except BlockingIOError:
            await asyncio.sleep(0.005)
    return bytes(received)


async def test_in_process_bridge_crosses_raw_bytes_both_ways(tmp_path: Path) -> None:
    with PtyPair() as a, PtyPair() as b:
        a.publish(tmp_path / "a")
        assert os.readlink(tmp_path / "a") == a.slave_name
        async with NullModemBridge(a, b, b_to_a=ImpairmentConfig(delay=0.05)) as bridge:
            a_client = os.open(tmp_path / "a", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            b_client = os.open(b.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                # Raw mode: CR, LF, ^C, ^D and NUL pass untouched and nothing is echoed back.
                payload = b"\r\n\x03\x04\x00\x11\x13\xff" * 8
                os.write(a_client, payload)
                assert await read_exactly(b_client, len(payload)) == payload
                os.write(b_client, b"reply")
                assert await read_exactly(a_client, 5) == b"reply"
                assert await read_exactly(a_client, 1, timeout=0.1) == b""  # no echo of what A sent
            finally:
                os.close(a_client)
                os.close(b_client)
            counters = bridge.counters()
        assert counters["A->B"]["bytes_out"] == len(payload)
        assert counters["B->A"]["bytes_out"] == 5
    assert not os.path.lexists(tmp_path / "a")


def test_per_direction_arguments() -> None:
    args: argparse.Namespace = build_parser().parse_args(
        ["link", "--a", "x", "--b", "y", "--delay", "1.28,0", "--baud", "125,115200", "--loss", "0.1",
         "--outage-every", "60", "--outage-length", "5"]
    )
    a_to_b, b_to_a = configs_from_args(args)
    assert (a_to_b.delay, a_to_b.baud, a_to_b.loss, a_to_b.outage_every) == (1.28, 125, 0.1, 60.0)
    assert (b_to_a.delay, b_to_a.baud, b_to_a.loss, b_to_a.outage_length) == (0.0, 115200, 0.1, 5.0)


# -- ilrs-hil link as a process ------------------------------------------------------------------


@pytest.mark.slow
def test_bytes_cross_unchanged_and_counters_printed_and_symlinks_removed(tmp_path: Path) -> None:
    a_path, b_path = tmp_path / "a", tmp_path / "b"
    process = start_link_process(a_path, b_path)
    assert os.readlink(a_path).startswith("/dev/pts/")
    to_b = random.Random(1).randbytes(3000)
    to_a = b"".join(frame(bytes([n]) * n) for n in range(1, 30))
    with port(a_path) as a, port(b_path) as b:
        a.write(to_b)
        b.write(to_a)
        assert b.read(len(to_b)) == to_b
        assert a.read(len(to_a)) == to_a
    output = stop_link_process(process)
    assert process.returncode == 0
    counters = parse_counters(output)
    assert counters["A->B"]["bytes_in"] == counters["A->B"]["bytes_out"] == len(to_b)
    assert counters["B->A"]["bytes_out"] == len(to_a)
    assert counters["B->A"]["frames_in"] == 29
    assert counters["B->A"]["frames_dropped"] == counters["B->A"]["bits_flipped"] == 0
    assert not os.path.lexists(a_path) and not os.path.lexists(b_path)


@pytest.mark.slow
def test_client_can_close_and_reopen_its_end(tmp_path: Path) -> None:
    with running_link(tmp_path / "a", tmp_path / "b") as process, port(tmp_path / "b") as b:
        for attempt in range(3):
            with port(tmp_path / "a") as a:
                a.write(b"attempt %d" % attempt)
                assert b.read(9) == b"attempt %d" % attempt
        assert process.poll() is None


@pytest.mark.slow
def test_delay_holds_bytes_back(tmp_path: Path) -> None:
    with running_link(tmp_path / "a", tmp_path / "b", "--delay", "0.3"), port(tmp_path / "a") as a, \
            port(tmp_path / "b") as b:
        for message in (b"ping", b"pong"):
            sent_at = time.monotonic()
            a.write(message)
            assert b.read(4) == message
            assert time.monotonic() - sent_at >= 0.3


@pytest.mark.slow
def test_baud_paces_like_a_uart(tmp_path: Path) -> None:
    data = random.Random(2).randbytes(960)  # 9600 bit at 9600 baud 8N1: one second on the wire
    with running_link(tmp_path / "a", tmp_path / "b", "--baud", "9600"), port(tmp_path / "a") as a, \
            port(tmp_path / "b") as b:
        sent_at = time.monotonic()
        a.write(data)
        assert b.read(960) == data
        assert time.monotonic() - sent_at >= 1.0


@pytest.mark.slow
def test_total_frame_loss_delivers_nothing(tmp_path: Path) -> None:
    frames = b"".join(frame(b"telecommand %d" % n) for n in range(20))
    process = start_link_process(tmp_path / "a", tmp_path / "b", "--loss", "1.0", "--seed", "3")
    with port(tmp_path / "a") as a, port(tmp_path / "b") as b:
        a.write(frames)
        b.write(b"\x00reply\x00")
        b.timeout = a.timeout = 0.5
        assert b.read(len(frames)) == b""
        assert a.read(7) == b""
    counters = parse_counters(stop_link_process(process))
    assert counters["A->B"]["frames_in"] == counters["A->B"]["frames_dropped"] == 20
    assert counters["A->B"]["bytes_out"] == 0


@pytest.mark.slow
def test_sigint_also_cleans_up(tmp_path: Path) -> None:
    process = start_link_process(tmp_path / "a", tmp_path / "b")
    process.send_signal(signal.SIGINT)
    output = stop_link_process(process)
    assert process.returncode == 0
    assert set(parse_counters(output)) == {"A->B", "B->A"}
    assert not os.path.lexists(tmp_path / "a") and not os.path.lexists(tmp_path / "b")


@pytest.mark.slow
def test_refuses_to_replace_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("precious")
    with pytest.raises(LinkStartError, match="not a symlink"):
        start_link_process(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_text() == "precious"
    assert not os.path.lexists(tmp_path / "b")


async def test_flow_control_pauses_the_sender_instead_of_losing_octets(monkeypatch: pytest.MonkeyPatch) -> None:
    import hil.link.bridge

    monkeypatch.setattr(hil.link.bridge, "MAX_IN_FLIGHT", 4096)
    data = random.Random(4).randbytes(200_000)
    with PtyPair() as a, PtyPair() as b:
        async with NullModemBridge(a, b, a_to_b=ImpairmentConfig(delay=0.01)) as bridge:
            a_client = os.open(a.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            b_client = os.open(b.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                received = bytearray()
                sent = 0
                deadline = asyncio.get_running_loop().time() + 10
                while len(received) < len(data) and asyncio.get_running_loop().time() < deadline:
                    # BlockingIOError on write: the bridge stopped reading and the sender's buffer is full.
                    if sent < len(data):
                        with contextlib.suppress(BlockingIOError):
                            sent += os.write(a_client, data[sent : sent + 8192])
                    try:
                        received += os.read(b_client, 65536)
                    except BlockingIOError:
                        await asyncio.sleep(0.002)
            finally:
                os.close(a_client)
                os.close(b_client)
            counters = bridge.counters()["A->B"]
    assert bytes(received) == data
    assert counters["flow_control_pauses"] > 0
    assert counters["bytes_in_flight"] == 0


@pytest.mark.slow
def test_bit_errors_reach_the_receiver_and_are_counted(tmp_path: Path) -> None:
    data = bytes(4000)
    process = start_link_process(tmp_path / "a", tmp_path / "b", "--ber", "0.01", "--seed", "8")
    with port(tmp_path / "a") as a, port(tmp_path / "b") as b:
        a.write(data)
        received = b.read(len(data))
    counters = parse_counters(stop_link_process(process))
    flipped = sum(octet.bit_count() for octet in received)  # every 1 bit was a 0 on the way in
    assert len(received) == len(data)
    assert flipped == counters["A->B"]["bits_flipped"]
    assert 320 - 5 * 18 < flipped < 320 + 5 * 18  # 32000 bits at 1e-2, binomial sigma ~18


def test_publish_replaces_a_stale_symlink_and_removes_only_its_own(tmp_path: Path) -> None:
    link = tmp_path / "a"
    link.symlink_to("/dev/pts/does-not-exist")
    with PtyPair() as first:
        first.publish(link)
        assert os.readlink(link) == first.slave_name
        with PtyPair() as second:
            second.publish(link)  # another bridge took the name over
            first.unpublish()
            assert os.readlink(link) == second.slave_name
        assert not os.path.lexists(link)


def test_invalid_impairment_exits_with_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hil.cli import main

    assert main(["link", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--outage-every", "10"]) == 2
    assert "outage_length" in capsys.readouterr().err
    assert not os.path.lexists(tmp_path / "a")
