"""Random well-formed but meaningless TCs: each gets exactly one acceptance verdict, and the executive
stays up. In-process on the afap clock (1000 TCs), then through the real process on ptys (100 TCs)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fsw.protocol import appdata
from fsw.protocol.packet import ACK_ALL, PusTc
from fsw.protocol.verification import VerificationReport
from tests.fsw.flight_process import flight_and_ground
from tests.fsw.harness import Harness

KNOWN = [(3, 5), (3, 6), (3, 27), (3, 31), (5, 5), (5, 6), (5, 7), (8, 1), (9, 1), (11, 1), (11, 2), (11, 3),
         (11, 4), (11, 5), (11, 16), (11, 17), (17, 1), (20, 1), (20, 3), (150, 1), (150, 2), (150, 4)]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "neg", "float", "str", "bytes", "bool", "none"] + (["list", "map"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, 1, 2, rng.randrange(256), rng.randrange(1 << 16), rng.randrange(1 << 64)])
    if kind == "neg":
        return -rng.randrange(1 << 40)
    if kind == "float":
        return rng.choice([0.0, -1.5, 1e300, float("inf"), float("nan"), rng.uniform(-1e9, 1e9)])
    if kind == "str":
        return "".join(rng.choice("aZ é\x00NOMINALSAFE") for _ in range(rng.randrange(12)))
    if kind == "bytes":
        return rng.randbytes(rng.randrange(40))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {random_value(rng, 3): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_app_data(rng: random.Random, service: int, subtype: int, opcodes: list[int]) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        return b""
    if roll < 0.25:
        return rng.randbytes(rng.randrange(1, 60))  # mostly not CBOR at all
    if (service, subtype) == (8, 1) and roll < 0.75:
        opcode = rng.choice(opcodes) if rng.random() < 0.8 else rng.randrange(1 << 16)
        return appdata.encode([opcode, *[random_value(rng) for _ in range(rng.randrange(3))]])
    return appdata.encode(random_value(rng))


def random_tcs(count: int, seed: int, apid: int, opcodes: list[int], vary_apid: bool) -> list[PusTc]:
    rng = random.Random(seed)
    tcs = []
    for seq in range(count):
        if rng.random() < 0.7:
            service, subtype = rng.choice(KNOWN)
        else:
            service, subtype = rng.randrange(256), rng.randrange(256)
        this_apid = rng.randrange(2048) if vary_apid and rng.random() < 0.05 else apid
        tcs.append(PusTc(this_apid, service, subtype, random_app_data(rng, service, subtype, opcodes), seq, ACK_ALL))
    return tcs


def acceptance_verdicts(reports: list[tuple[int, bytes]]) -> Counter[int]:
    verdicts: Counter[int] = Counter()
    for subtype, data in reports:
        if subtype in (1, 2):
            verdicts[VerificationReport.unpack(subtype, data).request_id] += 1
    return verdicts


def test_1000_random_tcs_each_get_one_verdict_in_process(tmp_path: Path) -> None:
    h = Harness(tmp_path / "s.db")
    opcodes = sorted(h.vehicle.dispatcher.commands)
    tcs = random_tcs(1000, seed=20261121, apid=h.vehicle.apid, opcodes=opcodes, vary_apid=True)

    async def scenario(h: Harness) -> None:
        for tc in tcs:
            h.vehicle.dispatcher.submit(tc)
            await h.clock.sleep(0.005)
        await h.clock.sleep(5.0)
        verdicts = acceptance_verdicts([(tm.subtype, tm.source_data) for tm in h.tm if tm.service == 1])
        assert {tc.request_id: verdicts[tc.request_id] for tc in tcs} == {tc.request_id: 1 for tc in tcs}
        accepted = sum(1 for tm in h.tm if (tm.service, tm.subtype) == (1, 1))
        assert 0 < accepted < len(tcs)  # the mix exercises both verdicts
        ping = PusTc(h.vehicle.apid, 17, 1, seq_count=5000)  # a request id none of the random ones used
        assert await h.submit(ping) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]

    h.run(scenario)


@pytest.mark.slow
async def test_100_random_tcs_over_the_link_each_get_one_verdict(tmp_path: Path) -> None:
    async with flight_and_ground(tmp_path) as (flight, ground):
        await ground.until(lambda: ground.hk(1), 15.0)
        client = ground.client
        tcs = random_tcs(100, seed=7, apid=client.apid, opcodes=[0x0001, 0x0002, 0x0101, 0x0201, 0x0202, 0x0A01],
                         vary_apid=False)
        records = [client.send(tc.service, tc.subtype, raw_data=tc.app_data) for tc in tcs]
        await asyncio.wait_for(asyncio.gather(*(record.accepted.wait() for record in records)), 30.0)
        await asyncio.sleep(0.5)  # any duplicate verdict would have arrived by now
        verdicts = acceptance_verdicts([(tm.subtype, tm.source_data) for tm in ground.tm if tm.service == 1])
        assert all(verdicts[record.request_id] == 1 for record in records)
        record, rtt = await client.ping(5.0)
        assert record.completed and rtt is not None
        assert flight.process is not None and flight.process.poll() is None
