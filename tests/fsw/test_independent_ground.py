"""An independent ground station, written only with spacepackets, cobs and pyserial, talks to
``ilrs-fsw run`` over real ttys through ``ilrs-hil link``: the ICD is enough, no project code."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import serial
from cobs import cobs
from spacepackets.ecss import PusTc, PusTm
from spacepackets.ecss.pus_1_verification import ManagedParamsVerification, Service1Tm
from spacepackets.ecss.req_id import RequestId

from hil.link.process import running_link

pytestmark = pytest.mark.slow
APID = 100


class IndependentGround:
    def __init__(self, port: str) -> None:
        self.serial = serial.Serial(port, 115200, timeout=0.05)
        self.buffer = b""
        self.received: list[bytes] = []
        self.seq = 0

    def send_raw(self, packet: bytes) -> None:
        self.serial.write(b"\x00" + cobs.encode(packet) + b"\x00")

    def tc(self, service: int, subtype: int, app_data: bytes = b"") -> PusTc:
        tc = PusTc(service=service, message_subtype=subtype, apid=APID, seq_count=self.seq, app_data=app_data)
        self.seq += 1
        return tc

    def collect(self, seconds: float, done: Callable[[list[PusTm]], bool] | None = None) -> list[PusTm]:
        deadline = time.monotonic() + seconds
        found: list[PusTm] = []
        while time.monotonic() < deadline:
            self.buffer += self.serial.read(4096)
            *frames, self.buffer = self.buffer.split(b"\x00")
            for encoded in frames:
                if encoded:
                    raw = cobs.decode(encoded)
                    self.received.append(raw)
                    found.append(PusTm.unpack(raw, timestamp_len=7))  # CRC checked by spacepackets
            if done is not None and done(found):
                break
        return found

    def verification(self, tms: list[PusTm], tc: PusTc) -> list[tuple[int, int | None]]:
        out = []
        for tm in tms:
            if tm.service == 1:
                report = Service1Tm.from_tm(tm, ManagedParamsVerification(bytes_err_code=2))
                if report.tc_req_id.as_u32() == RequestId.from_pus_tc(tc).as_u32():
                    code = report.error_code.val if report.error_code is not None else None
                    out.append((tm.message_subtype, code))
        return out


@pytest.fixture(scope="module")
def ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentGround]:
    tmp = tmp_path_factory.mktemp("indep")
    fsw_port, ground_port = tmp / "fsw", tmp / "ground"
    with running_link(fsw_port, ground_port):
        fsw = subprocess.Popen(
            [sys.executable, "-m", "fsw.cli", "run", "--port", str(fsw_port), "--store", str(tmp / "store.sqlite")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        station = IndependentGround(str(ground_port))
        station.collect(20.0, lambda tms: len(tms) > 0)  # the first telemetry: the software is up
        try:
            yield station
        finally:
            fsw.terminate()
            fsw.wait(10)
            station.serial.close()
        assert fsw.returncode == 0


def test_ping_round_trips_with_verification_tied_to_request_ids(ground: IndependentGround) -> None:
    for _ in range(3):
        tc = ground.tc(17, 1)
        ground.send_raw(tc.pack())
        tms = ground.collect(5.0, lambda tms, tc=tc: len(ground.verification(tms, tc)) == 3)
        assert ground.verification(tms, tc) == [(1, None), (3, None), (7, None)]
        assert any((tm.service, tm.message_subtype) == (17, 2) for tm in tms)


def test_unknown_service_gets_1_2_with_a_failure_code(ground: IndependentGround) -> None:
    tc = ground.tc(99, 1)
    ground.send_raw(tc.pack())
    tms = ground.collect(5.0, lambda tms: bool(ground.verification(tms, tc)))
    assert ground.verification(tms, tc) == [(2, 20)]  # UNKNOWN_SERVICE


def test_bad_crc_is_never_executed_and_garbage_is_survived(ground: IndependentGround) -> None:
    bad = bytearray(ground.tc(17, 1).pack())
    bad[-1] ^= 0xFF
    ground.send_raw(bytes(bad))
    ground.serial.write(b"\x13\x37garbage\xff\xfe" * 20)
    ground.serial.write(b"\x00\x05\x01\x02")  # a frame cut short, then a good one after garbage
    good = ground.tc(17, 1)
    ground.send_raw(good.pack())
    tms = ground.collect(5.0, lambda tms: len(ground.verification(tms, good)) == 3)
    tms += ground.collect(0.3)
    pings_answered = [tm for tm in tms if (tm.service, tm.message_subtype) == (17, 2)]
    assert len(pings_answered) == 1  # only the good one
    assert ground.verification(tms, good) == [(1, None), (3, None), (7, None)]


def test_every_tm_parses_and_sequence_counts_are_contiguous(ground: IndependentGround) -> None:
    ground.collect(1.5)
    counts = [PusTm.unpack(raw, timestamp_len=7).seq_count for raw in ground.received]
    assert len(counts) > 10
    assert all((b - a) % 16384 == 1 for a, b in itertools.pairwise(counts))
