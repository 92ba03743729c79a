"""Ground receiver: sans-IO behaviour (CRC, checksum, restart, names), and the whole chain as
real processes: ``ilrs-fsw run`` and ``ilrs-hil link --loss 0.1`` over ptys, every product of the
three partner payloads downlinked byte-identical."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from fsw.payloads.products import products_directory
from fsw.protocol import appdata
from fsw.protocol.file_pdu import (
    Ack,
    Condition,
    Eof,
    FileData,
    Finished,
    Metadata,
    Nak,
    PduType,
    decode_pdu,
    encode_pdu,
)
from ground.client import GroundClient
from ground.filetransfer import FileReceiver, attach, request_downlink, request_listing, send_reliably
from hil.link import parse_counters, start_link_process, stop_link_process
from tests.fsw.flight_process import FlightProcess
from tests.ground.conftest import until

DATA = bytes(range(256)) * 20  # 5120 octets
DIGEST = hashlib.sha256(DATA).digest()


def receiver_with_outbox(directory: Path) -> tuple[FileReceiver, list[object]]:
    outbox: list[object] = []
    return FileReceiver(directory, lambda raw: outbox.append(decode_pdu(raw)), rtt_s=1.0), outbox


def feed(receiver: FileReceiver, pdu: object, now: float = 0.0) -> None:
    receiver.handle(encode_pdu(pdu), now)  # type: ignore[arg-type]


def test_in_order_transfer_is_acked_verified_and_finished(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(1, "x.bin", len(DATA), DIGEST, 1024))
    for offset in range(0, len(DATA), 1024):
        feed(receiver, FileData.of(1, offset, DATA[offset:offset + 1024]))
    feed(receiver, Eof(1, Condition.NO_ERROR, len(DATA), DIGEST))
    assert outbox == [Finished(1, Condition.NO_ERROR), Ack(1, PduType.EOF)]
    assert (tmp_path / "x.bin").read_bytes() == DATA
    feed(receiver, Ack(1, PduType.FINISHED))
    assert receiver.transactions[1].state == "closed"


def test_corrupted_chunk_is_dropped_and_nakked_after_eof(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(1, "x.bin", len(DATA), DIGEST, 1024))
    for offset in range(0, len(DATA), 1024):
        chunk = FileData.of(1, offset, DATA[offset:offset + 1024])
        if offset == 2048:
            chunk = FileData(1, offset, b"\xff" + chunk.data[1:], chunk.crc32)  # CRC no longer matches
        feed(receiver, chunk)
    feed(receiver, Eof(1, Condition.NO_ERROR, len(DATA), DIGEST))
    assert receiver.crc_errors == 1
    assert outbox == [Ack(1, PduType.EOF), Nak(1, False, ((2048, 3072),))]
    outbox.clear()
    receiver.tick(1.0)  # before the NAK timer (2 RTT): quiet
    assert outbox == []
    receiver.tick(2.5)
    assert outbox == [Nak(1, False, ((2048, 3072),))]
    feed(receiver, FileData.of(1, 2048, DATA[2048:3072]), 3.0)
    assert (tmp_path / "x.bin").read_bytes() == DATA


def test_lost_metadata_is_asked_for_and_the_name_comes_from_it(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    feed(receiver, FileData.of(4, 0, DATA))
    feed(receiver, Eof(4, Condition.NO_ERROR, len(DATA), DIGEST))
    assert outbox == [Ack(4, PduType.EOF), Nak(4, True, ())]
    feed(receiver, Metadata(4, "late.bin", len(DATA), DIGEST, 8192))
    assert (tmp_path / "late.bin").read_bytes() == DATA


def test_checksum_mismatch_finishes_with_failure_and_delivers_nothing(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(2, "bad.bin", len(DATA), bytes(32), 8192))
    feed(receiver, FileData.of(2, 0, DATA))
    feed(receiver, Eof(2, Condition.NO_ERROR, len(DATA), bytes(32)))
    assert Finished(2, Condition.CHECKSUM_FAILURE) in outbox
    assert receiver.failed == {2: Condition.CHECKSUM_FAILURE} and not (tmp_path / "bad.bin").exists()


def test_restarted_receiver_resumes_from_disk_and_naks_at_once(tmp_path: Path) -> None:
    receiver, _ = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(3, "r.bin", len(DATA), DIGEST, 1024))
    feed(receiver, FileData.of(3, 0, DATA[:1024]))
    feed(receiver, Eof(3, Condition.NO_ERROR, len(DATA), DIGEST))
    restarted, outbox = receiver_with_outbox(tmp_path)
    assert restarted.transactions[3].received.to_list() == [[0, 1024]]
    restarted.tick(100.0)
    assert outbox == [Nak(3, False, ((1024, len(DATA)),))]
    feed(restarted, FileData.of(3, 1024, DATA[1024:]), 100.5)
    assert (tmp_path / "r.bin").read_bytes() == DATA


def test_finished_is_repeated_until_acknowledged_and_after_a_repeated_eof(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(5, "f.bin", 3, hashlib.sha256(b"abc").digest(), 1024))
    feed(receiver, FileData.of(5, 0, b"abc"))
    feed(receiver, Eof(5, Condition.NO_ERROR, 3, hashlib.sha256(b"abc").digest()))
    outbox.clear()
    receiver.tick(2.5)
    assert outbox == [Finished(5, Condition.NO_ERROR)]
    feed(receiver, Eof(5, Condition.NO_ERROR, 3, hashlib.sha256(b"abc").digest()), 3.0)
    assert outbox[-2:] == [Ack(5, PduType.EOF), Finished(5, Condition.NO_ERROR)]


def test_path_names_in_metadata_are_refused(tmp_path: Path) -> None:
    receiver, outbox = receiver_with_outbox(tmp_path)
    receiver.handle(appdata.encode([1, 9, "../../etc/x", 3, bytes(32), 1024]), 0.0)
    assert receiver.pdus_rejected == 1 and receiver.transactions == {} and outbox == []


# --- the whole chain, as processes over real ttys --------------------------------------------
LINK_SEED = 3
MODE_SET = 0x0101
RESUME_LINK_SEED = "12"  # a seeded loss pattern under which the metadata PDU arrives before the kill
ACQUISITIONS = [("CAM", [0x2001], [0x2003, 0.01]), ("NDOS", [0x2101], [0x2103, 200, 0.005]),
                ("GPR", [0x2201], [0x2203, 32])]


@pytest.mark.slow
async def test_every_payload_product_arrives_byte_identical_through_ten_percent_loss(tmp_path: Path) -> None:
    fsw_port, ground_port, store = tmp_path / "fsw", tmp_path / "ground", tmp_path / "store.sqlite"
    link = start_link_process(fsw_port, ground_port, "--loss", "0.1", "--seed", str(LINK_SEED))
    flight = FlightProcess(fsw_port, store, "--watchdog", "none", "--seed", "5")
    flight.start()
    client = GroundClient(str(ground_port))
    await client.open()
    receiver = FileReceiver(tmp_path / "received", rtt_s=0.3)
    session = attach(client, receiver)
    flight_hk: list[dict[str, object]] = []
    client.listeners.append(lambda tm: flight_hk.extend(
        values for sid, values in [appdata.decode(tm.source_data)] if sid == 23) if (tm.service, tm.subtype) == (3, 25)
        else None)
    try:
        # Timers scaled to this link's round trip (ms over ptys, not the 2.6 s of the Moon).
        assert (await send_reliably(client, 20, 3, [[0x1702, 0.3]])).completed
        # The vehicle boots in SAFE, which refuses payload power-on and acquisitions.
        assert (await send_reliably(client, 8, 1, [MODE_SET, "NOMINAL"])).completed
        for prefix, power_on, acquire in ACQUISITIONS:
            assert (await send_reliably(client, 8, 1, power_on)).completed, prefix
            assert (await send_reliably(client, 8, 1, acquire, timeout_each=5.0)).completed, prefix
        listing = dict(await request_listing(client))
        assert sorted(listing) == ["cam_0001.pgm", "gpr_0001.cbor", "ndos_0001.csv"]
        started = time.monotonic()
        for name in listing:
            assert (await request_downlink(client, name)).completed, name
        for name in listing:
            await receiver.wait_for(name, timeout=60.0)
        elapsed = time.monotonic() - started
        on_board = products_directory(store)
        for name, size in listing.items():
            original = (on_board / name).read_bytes()
            assert len(original) == size
            assert hashlib.sha256((tmp_path / "received" / name).read_bytes()).digest() == \
                hashlib.sha256(original).digest()
        # The sender's housekeeping after its last FINISHED.
        await until(lambda: flight_hk and flight_hk[-1]["ft_completed"] == len(listing), 30.0)
    finally:
        await session.close()
        await client.close()
        flight.stop()
        counters = parse_counters(stop_link_process(link))
    total = sum(listing.values())
    statistics = receiver.statistics()
    dropped = {direction: values.get("frames_dropped", 0) for direction, values in counters.items()}
    assert statistics["naks_sent"] > 0 and any(dropped.values())
    sender = flight_hk[-1]
    assert sender["ft_completed"] == len(listing) and sender["ft_active"] == 0
    print(f"\n{total} octets in {len(listing)} products through 10% loss in {elapsed:.2f} s; "
          f"chunks resent {sender['ft_retransmitted']}, NAKs received {sender['ft_naks_received']}, "
          f"PDUs sent {sender['ft_pdus_sent']}; receiver {statistics}; link frames dropped {dropped}")


@pytest.mark.slow
async def test_downlink_resumes_after_the_flight_process_is_killed_mid_transfer(tmp_path: Path) -> None:
    fsw_port, ground_port, store = tmp_path / "fsw", tmp_path / "ground", tmp_path / "store.sqlite"
    link = start_link_process(fsw_port, ground_port, "--loss", "0.05", "--seed", RESUME_LINK_SEED)
    flight = FlightProcess(fsw_port, store, "--watchdog", "none", "--seed", "5")
    flight.start()
    client = GroundClient(str(ground_port))
    await client.open()
    receiver = FileReceiver(tmp_path / "received", rtt_s=0.3)
    session = attach(client, receiver)
    flight_hk: list[dict[str, object]] = []
    client.listeners.append(lambda tm: flight_hk.extend(
        values for sid, values in [appdata.decode(tm.source_data)] if sid == 23) if (tm.service, tm.subtype) == (3, 25)
        else None)
    try:
        # Slow enough (40 kbit/s, ~4 s for the radargram) to be killed in the middle; parameters persist.
        assert (await send_reliably(client, 20, 3, [[0x1702, 0.3], [0x1701, 40_000.0]])).completed
        # The vehicle boots in SAFE, which refuses payload power-on and acquisitions.
        assert (await send_reliably(client, 8, 1, [MODE_SET, "NOMINAL"])).completed
        assert (await send_reliably(client, 8, 1, [0x2201])).completed
        assert (await send_reliably(client, 8, 1, [0x2203, 32], timeout_each=5.0)).completed
        assert (await request_downlink(client, "gpr_0001.cbor")).completed
        # Killed once half the file is down: on a loaded host the request's completion report can come
        # down when the transfer is nearly over. By then the sender has saved its progress (every 0.5 s
        # of sending), which the restarted sender goes on from.
        await until(lambda: 1 in receiver.transactions and receiver.transactions[1].received.covered() >= 8192,
                    30.0)
        flight.kill9()
        before = receiver.transactions[1].received.covered()
        size = receiver.transactions[1].size
        assert size is not None and 0 < before < size
        flight_hk.clear()
        flight.start()
        path = await receiver.wait_for("gpr_0001.cbor", timeout=60.0)
        original = (products_directory(store) / "gpr_0001.cbor").read_bytes()
        assert path.read_bytes() == original
        await until(lambda: flight_hk and flight_hk[-1]["ft_completed"] == 1, 30.0)
    finally:
        await session.close()
        await client.close()
        flight.stop()
        stop_link_process(link)
    after_restart = flight_hk[-1]
    assert after_restart["ft_completed"] == 1
    assert after_restart["ft_bytes_sent"] < size  # the restarted sender sent what was missing, not the whole file
    print(f"\n{size} octets: {before} received before the kill, {after_restart['ft_bytes_sent']} sent after the "
          f"restart; receiver {receiver.statistics()}")


def test_data_past_the_announced_size_is_refused(tmp_path: Path) -> None:
    receiver, _ = receiver_with_outbox(tmp_path)
    feed(receiver, Metadata(6, "s.bin", 10, DIGEST, 1024))
    feed(receiver, FileData.of(6, 8, b"abcd"))
    assert receiver.pdus_rejected == 1 and not receiver.transactions[6].received
