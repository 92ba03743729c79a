"""An outside ground station (spacepackets, cobs, pyserial: the ICD only) pings the rover through the
lander's relay: four processes (rover plant with its radio, rover flight software, lander flight
software, the ground link) over ptys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from spacepackets.ecss import PusTc

from tests.fsw.test_independent_ground import IndependentGround
from tests.hil.relayed_rover import relayed_rover

ROVER_APID, LANDER_APID = 120, 100


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentGround]:
    tmp: Path = tmp_path_factory.mktemp("relay")
    with relayed_rover(tmp):
        ground = IndependentGround(str(tmp / "ground.tty"))
        # Up when the rover's own telemetry has come down through the lander.
        ground.collect(30.0, lambda tms: any(tm.apid == ROVER_APID for tm in tms))
        yield ground
        ground.serial.close()


def ping(station: IndependentGround, apid: int) -> tuple[list[tuple[int, int | None]], bool]:
    tc = PusTc(service=17, message_subtype=1, apid=apid, seq_count=station.seq)
    station.seq += 1
    station.send_raw(tc.pack())
    tms = station.collect(15.0, lambda tms: len(station.verification(tms, tc)) >= 3)
    answered = any((tm.apid, tm.service, tm.message_subtype) == (apid, 17, 2) for tm in tms)
    return station.verification(tms, tc), answered


def test_the_rover_answers_a_ping_through_the_lander_relay(station: IndependentGround) -> None:
    assert any(raw for raw in station.received)
    reports, answered = ping(station, ROVER_APID)
    assert reports == [(1, None), (3, None), (7, None)] and answered


def test_both_vehicles_answer_by_their_apid_and_an_unknown_one_is_refused(station: IndependentGround) -> None:
    reports, answered = ping(station, LANDER_APID)
    assert reports == [(1, None), (3, None), (7, None)] and answered
    tc = PusTc(service=17, message_subtype=1, apid=ROVER_APID + 1, seq_count=station.seq)
    station.send_raw(tc.pack())
    tms = station.collect(5.0, lambda tms: bool(station.verification(tms, tc)))
    assert station.verification(tms, tc) == [(2, 22)]  # UNKNOWN_APID, from the lander
