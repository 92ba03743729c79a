"""File downlink with CFDP class 2 semantics, in process on the afap clock, through a seeded lossy
channel in both directions: byte-identical delivery, NAK/retransmit, outage and restart resume."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.payloads.products import ProductStore, products_directory
from fsw.protocol import appdata
from fsw.protocol.file_pdu import (
    FILE_PDU_SERVICE,
    PDU_TC_SUBTYPE,
    Ack,
    Condition,
    Eof,
    FileData,
    Finished,
    Metadata,
    Nak,
    PduError,
    PduType,
    RangeSet,
    decode_pdu,
    encode_pdu,
)
from fsw.protocol.packet import PusTm
from fsw.services.filetransfer import (
    FileTransferService,
)
from ground.filetransfer import FileReceiver, ReceiverSession
from tests.fsw.harness import Harness

ONE_WAY_S = 0.05
RTT_S = 0.2
OK = ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]


def product_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


class LossyChannel:
    """Both directions of a link with a one-way delay and seeded loss; ``outage`` drops everything."""

    def __init__(self, harness: Harness, receiver: FileReceiver, loss: float, seed: int) -> None:
        self.harness = harness
        self.receiver = receiver
        self.loss = loss
        self.rng = random.Random(seed)
        self.outage = False
        self.dropped = {"down": 0, "up": 0}
        self.passed = {"down": 0, "up": 0}
        self.session: ReceiverSession | None = None
        harness.vehicle.ctx.telemetry.add_sink(self._down)
        receiver.send = self._up

    def _lost(self, direction: str) -> bool:
        lost = self.outage or self.rng.random() < self.loss
        (self.dropped if lost else self.passed)[direction] += 1
        return lost

    def _down(self, raw: bytes) -> None:
        tm = PusTm.unpack(raw)
        if tm.service == FILE_PDU_SERVICE and not self._lost("down") and self.session is not None:
            asyncio.get_running_loop().call_later(ONE_WAY_S, self.session.on_tm, tm)

    def _up(self, raw: bytes) -> None:
        if self._lost("up"):
            return
        tc = self.harness.tc(FILE_PDU_SERVICE, PDU_TC_SUBTYPE, raw=raw, ack=0)
        asyncio.get_running_loop().call_later(ONE_WAY_S, self.harness.vehicle.dispatcher.submit, tc)

    def open(self) -> ReceiverSession:
        self.session = ReceiverSession(self.receiver, asyncio.get_running_loop())
        return self.session


def setup(tmp_path: Path, products: dict[str, bytes], loss: float, seed: int,
          store_name: str = "store.sqlite") -> tuple[Harness, FileTransferService, FileReceiver, LossyChannel]:
    harness = Harness(tmp_path / store_name)
    service = FileTransferService(harness.vehicle.ctx)
    harness.vehicle.add(service)
    store = ProductStore(products_directory(harness.store.path))
    for name, data in products.items():
        if not store.exists(name):
            store.write(name, data)
    receiver = FileReceiver(tmp_path / "ground", rtt_s=RTT_S)
    channel = LossyChannel(harness, receiver, loss, seed)
    return harness, service, receiver, channel


async def until(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return predicate()
        await asyncio.sleep(step)
    return predicate()


def states(service: FileTransferService) -> list[str]:
    return [transaction.state for transaction in service.transactions.values()]


@pytest.mark.parametrize(("loss", "seed"), [(0.10, 1), (0.20, 2), (0.20, 3)])
def test_lossy_both_ways_delivers_byte_identical(tmp_path: Path, loss: float, seed: int) -> None:
    products = {"a.bin": product_bytes(seed, 20_000), "b.csv": product_bytes(seed + 10, 7_777),
                "one.bin": b"x", "empty.bin": b""}
    harness, service, receiver, channel = setup(tmp_path, products, loss, seed)

    async def scenario(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rtt_s", RTT_S)
        session = channel.open()
        for name in products:
            assert await h.submit(h.command("FILE_DOWNLINK", name)) == OK
        for name in products:
            await receiver.wait_for(name, timeout=120.0)
        assert await until(lambda: set(states(service)) == {"completed"}, 60.0)
        await asyncio.sleep(1.5)  # one more housekeeping report
        await session.close()

    harness.run(scenario)
    for name, data in products.items():
        assert (tmp_path / "ground" / name).read_bytes() == data
    assert channel.dropped["down"] > 0 and channel.dropped["up"] >= 0
    assert service.retransmitted > 0 and service.naks_received > 0
    assert receiver.statistics()["naks_sent"] > 0
    completed = [args for name, args in harness.events() if name == "FT_COMPLETED"]
    assert sorted(args["name"] for args in completed) == sorted(products)
    assert harness.hk(23)[-1]["ft_completed"] == len(products)


def test_link_outage_suspends_then_the_ground_nak_resumes(tmp_path: Path) -> None:
    data = product_bytes(5, 30_000)
    harness, service, receiver, channel = setup(tmp_path, {"big.bin": data}, 0.1, 5)

    async def scenario(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rtt_s", RTT_S)
        h.vehicle.parameters.set("ft_rate_bps", 100_000.0)
        session = channel.open()
        assert await h.submit(h.command("FILE_DOWNLINK", "big.bin")) == OK
        await asyncio.sleep(1.0)  # part of the first pass is through
        channel.outage = True
        assert await until(lambda: states(service) == ["suspended"], 60.0)
        await asyncio.sleep(5.0)
        channel.outage = False
        await receiver.wait_for("big.bin", timeout=60.0)
        assert await until(lambda: states(service) == ["completed"], 30.0)
        await session.close()

    harness.run(scenario)
    assert (tmp_path / "ground" / "big.bin").read_bytes() == data
    names = [name for name, _ in harness.events()]
    assert names.index("FT_SUSPENDED") < names.index("FT_RESUMED") < names.index("FT_COMPLETED")


def test_restart_of_both_ends_resumes_without_resending_everything(tmp_path: Path) -> None:
    data = product_bytes(9, 40_000)
    harness, service, receiver, channel = setup(tmp_path, {"big.bin": data}, 0.1, 9)

    async def first(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rtt_s", RTT_S)
        h.vehicle.parameters.set("ft_rate_bps", 100_000.0)
        session = channel.open()
        assert await h.submit(h.command("FILE_DOWNLINK", "big.bin")) == OK
        await asyncio.sleep(2.0)  # about half of the first pass
        await session.close()

    harness.run(first)
    harness.store.close()
    partial = receiver.transactions[1].received.covered()
    assert 0 < partial < len(data) and not (tmp_path / "ground" / "big.bin").exists()

    # Both ends come back from disk: the sender from its store, the receiver from .partial/.
    harness, service, receiver, channel = setup(tmp_path, {}, 0.1, 10)
    assert receiver.transactions[1].received.covered() == partial
    assert service.transactions == {}  # not restored until start

    async def second(h: Harness) -> None:
        session = channel.open()
        await receiver.wait_for("big.bin", timeout=60.0)
        assert await until(lambda: states(service) == ["completed"], 30.0)
        await session.close()

    harness.run(second)
    assert (tmp_path / "ground" / "big.bin").read_bytes() == data
    assert ("FT_RESUMED", {"txn": 1, "reason": "restart"}) in harness.events()
    assert service.bytes_sent < len(data)  # the second boot sent only what was still missing


def test_listing_attributes_delete_and_refusals(tmp_path: Path) -> None:
    data = product_bytes(1, 3000)
    harness, service, _, _ = setup(tmp_path, {"p1.bin": data, "p2.bin": b"abc"}, 0.0, 1)

    async def scenario(h: Harness) -> None:
        assert await h.submit(h.tc(23, 12)) == OK
        assert await h.submit(h.tc(23, 3, "p1.bin")) == OK
        assert await h.submit(h.tc(23, 3, "../etc/passwd")) == ["ACCEPTANCE_FAILED"]
        assert await h.submit(h.command("FILE_DOWNLINK", "missing.bin")) == ["ACCEPTANCE_OK", "START_OK",
                                                                               "COMPLETION_FAILED"]
        assert await h.submit(h.tc(FILE_PDU_SERVICE, PDU_TC_SUBTYPE, [99, 1])) == ["ACCEPTANCE_FAILED"]
        assert await h.submit(h.command("FILE_DELETE", "p2.bin")) == OK

    harness.run(scenario)
    listing = [appdata.decode(tm.source_data) for tm in harness.tm if (tm.service, tm.subtype) == (23, 13)]
    assert listing == [[["p1.bin", 3000], ["p2.bin", 3]]]
    attributes = [appdata.decode(tm.source_data) for tm in harness.tm if (tm.service, tm.subtype) == (23, 4)]
    assert attributes == [["p1.bin", 3000, hashlib.sha256(data).digest()]]
    assert not service.products.exists("p2.bin")
    assert "FT_PDU_REJECTED" in [name for name, _ in harness.events()]


def test_cancel_tells_the_receiver(tmp_path: Path) -> None:
    harness, service, receiver, channel = setup(tmp_path, {"c.bin": product_bytes(2, 50_000)}, 0.0, 1)

    async def scenario(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rate_bps", 50_000.0)
        session = channel.open()
        assert await h.submit(h.command("FILE_DOWNLINK", "c.bin")) == OK
        await asyncio.sleep(1.0)
        assert await h.submit(h.command("FILE_CANCEL", 1)) == OK
        await asyncio.sleep(1.0)
        await session.close()

    harness.run(scenario)
    assert states(service) == ["cancelled"]
    assert receiver.failed == {1: Condition.CANCELLED} and not (tmp_path / "ground" / "c.bin").exists()


PDUS = [
    Metadata(7, "cam_0001.pgm", 12345, bytes(range(32)), 1024),
    FileData.of(7, 2048, b"\x00\x01payload"),
    Eof(7, Condition.NO_ERROR, 12345, bytes(32)),
    Ack(7, PduType.EOF),
    Nak(7, True, ((0, 1024), (4096, 5000))),
    Finished(7, Condition.CHECKSUM_FAILURE),
]


@pytest.mark.parametrize("pdu", PDUS, ids=lambda pdu: type(pdu).__name__)
def test_pdus_round_trip(pdu: Any) -> None:
    assert decode_pdu(encode_pdu(pdu)) == pdu


@pytest.mark.parametrize("value", [[], [1], [2, 1, 0, "text", 0], [5, 1, True, [[5, 5]]], [4, 1, 2, 0],
                                   [1, 1, "../x", 1, bytes(32), 1], [3, 1, 9, 1, bytes(32)], [77, 1], "no"])
def test_malformed_pdus_are_refused(value: Any) -> None:
    with pytest.raises(PduError):
        decode_pdu(appdata.encode(value))


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)), max_size=30), st.integers(0, 300))
def test_ranges_and_gaps_partition_the_file(segments: list[tuple[int, int]], size: int) -> None:
    ranges = RangeSet()
    covered = set()
    for start, length in segments:
        ranges.add(start, start + length)
        covered |= set(range(start, start + length))
    gaps = ranges.gaps(size)
    assert {i for low, high in gaps for i in range(low, high)} == set(range(size)) - covered
    assert ranges.covered() == len(covered)
    assert all(high < low2 for (_, high), (low2, _) in zip(ranges.ranges, ranges.ranges[1:], strict=False))


def test_outage_from_the_start_suspends_and_a_commanded_resume_delivers(tmp_path: Path) -> None:
    data = product_bytes(6, 9_000)
    harness, service, receiver, channel = setup(tmp_path, {"q.bin": data}, 0.0, 6)

    async def scenario(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rtt_s", RTT_S)
        session = channel.open()
        channel.outage = True  # the receiver never hears of the transaction
        assert await h.submit(h.command("FILE_DOWNLINK", "q.bin")) == OK
        assert await until(lambda: states(service) == ["suspended"], 60.0)
        await asyncio.sleep(10.0)
        assert receiver.transactions == {} and states(service) == ["suspended"]  # nobody wakes it by itself
        channel.outage = False
        assert await h.submit(h.command("FILE_RESUME", 1)) == OK
        await receiver.wait_for("q.bin", timeout=30.0)
        assert await until(lambda: states(service) == ["completed"], 30.0)
        await session.close()

    harness.run(scenario)
    assert (tmp_path / "ground" / "q.bin").read_bytes() == data
    assert ("FT_RESUMED", {"txn": 1, "reason": "commanded"}) in harness.events()


def test_a_product_changed_across_a_restart_cancels_its_downlink(tmp_path: Path) -> None:
    harness, service, receiver, channel = setup(tmp_path, {"m.bin": product_bytes(4, 40_000)}, 0.0, 4)

    async def first(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rate_bps", 50_000.0)
        session = channel.open()
        assert await h.submit(h.command("FILE_DOWNLINK", "m.bin")) == OK
        await asyncio.sleep(1.0)
        await session.close()

    harness.run(first)
    harness.store.close()
    (products_directory(tmp_path / "store.sqlite") / "m.bin").write_bytes(b"overwritten")
    harness, service, receiver, channel = setup(tmp_path, {}, 0.0, 4)

    async def second(h: Harness) -> None:
        session = channel.open()
        await asyncio.sleep(1.0)
        await session.close()

    harness.run(second)
    assert states(service) == ["cancelled"]
    assert receiver.failed == {1: Condition.FILE_GONE} and not (tmp_path / "ground" / "m.bin").exists()


def test_a_product_deleted_under_a_downlink_cancels_it(tmp_path: Path) -> None:
    harness, service, receiver, channel = setup(tmp_path, {"d.bin": product_bytes(8, 30_000)}, 0.0, 8)

    async def scenario(h: Harness) -> None:
        h.vehicle.parameters.set("ft_rate_bps", 50_000.0)
        session = channel.open()
        assert await h.submit(h.command("FILE_DOWNLINK", "d.bin")) == OK
        await asyncio.sleep(1.0)
        service.products.path("d.bin").unlink()  # behind the service's back
        await asyncio.sleep(1.0)
        await session.close()

    harness.run(scenario)
    assert states(service) == ["cancelled"] and receiver.failed == {1: Condition.FILE_GONE}
