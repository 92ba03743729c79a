"""With ``--keys``, an independent ground station that signs as the ICD says gets its commands
executed; its unsigned, forged and replayed commands each get 1,2 with the right code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from fsw.protocol.security import KeyRing
from hil.link.process import running_link
from tests.fsw.protocol.test_security import independent_sign
from tests.fsw.test_independent_ground import IndependentGround

pytestmark = pytest.mark.slow
KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
NOOP = b"\x81\x02"  # CBOR [2]: opcode 0x0002


@pytest.fixture(scope="module")
def signed_ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentGround]:
    tmp = tmp_path_factory.mktemp("signed")
    keys = tmp / "keys.toml"
    keys.write_text(f'[[key]]\nspi = 3\nhex = "{KEY.hex()}"\n')
    assert KeyRing.load(keys).keys == {3: KEY}
    with running_link(tmp / "fsw", tmp / "ground"):
        fsw = subprocess.Popen([sys.executable, "-m", "fsw.cli", "run", "--port", str(tmp / "fsw"), "--store",
                                str(tmp / "store.sqlite"), "--keys", str(keys)], stderr=subprocess.PIPE)
        station = IndependentGround(str(tmp / "ground"))
        station.collect(20.0, lambda tms: len(tms) > 0)  # the first telemetry: the software is up
        try:
            yield station
        finally:
            fsw.terminate()
            fsw.wait(10)
            station.serial.close()


def exchange(station: IndependentGround, raw: bytes, stages: int) -> list[tuple[int, int | None]]:
    from spacepackets.ecss import PusTc

    tc = PusTc.unpack(raw)
    tms = station.collect(5.0, lambda tms: len(station.verification(tms, tc)) >= stages)
    return station.verification(tms, tc)


def test_signed_unsigned_forged_and_replayed(signed_ground: IndependentGround) -> None:
    station = signed_ground
    good = independent_sign(8, 1, NOOP, 1, 3, 1000, KEY)
    station.send_raw(good)
    assert exchange(station, good, 3) == [(1, None), (3, None), (7, None)]
    unsigned = station.tc(8, 1, NOOP).pack()
    station.send_raw(unsigned)
    assert exchange(station, unsigned, 1) == [(2, 43)]  # MISSING_SECURITY_HEADER
    unknown_spi = independent_sign(8, 1, NOOP, 2, 4, 1001, KEY)
    station.send_raw(unknown_spi)
    assert exchange(station, unknown_spi, 1) == [(2, 40)]  # UNKNOWN_SPI
    forged = independent_sign(8, 1, NOOP, 3, 3, 1002, bytes(32))
    station.send_raw(forged)
    assert exchange(station, forged, 1) == [(2, 41)]  # BAD_MAC
    replayed = independent_sign(8, 1, NOOP, 4, 3, 1000, KEY)  # a new packet with an old number
    station.send_raw(replayed)
    assert exchange(station, replayed, 1) == [(2, 42)]  # REPLAYED_SEQUENCE
    after = independent_sign(17, 1, b"", 5, 3, 1003, KEY)
    station.send_raw(after)
    assert exchange(station, after, 3) == [(1, None), (3, None), (7, None)]


