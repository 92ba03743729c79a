"""An outside ground station (spacepackets, cobs, pyserial: the ICD only) pings the rover through the
lander's relay: four processes (rover plant with its radio, rover flight software, lander flight
software, the ground link) over ptys."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from spacepackets.ecss import PusTc

from hil.link.process import running_link
from hil.rigs.mission_run import stop, wait_for_line
from tests.fsw.test_independent_ground import IndependentGround

ROVER_APID, LANDER_APID = 120, 100


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndependentGround]:
    tmp: Path = tmp_path_factory.mktemp("relay")
    python, env = sys.executable, {**os.environ, "PYTHONUNBUFFERED": "1"}
    plant = subprocess.Popen([python, "-m", "hil.cli", "rover-plant", "--devices", str(tmp / "rover-dev.tty"),
                              "--rover-link", str(tmp / "rover-radio.tty"),
                              "--lander-link", str(tmp / "lander-radio.tty"),
                              "--report", str(tmp / "rover-plant.json")], stdout=subprocess.PIPE, text=True, env=env)
    processes: list[subprocess.Popen[str]] = [plant]
    try:
        assert wait_for_line(plant, "rover plant ready", 20.0)
        with running_link(tmp / "fsw.tty", tmp / "ground.tty"):
            for command in (
                ["--port", str(tmp / "fsw.tty"), "--store", str(tmp / "lander.sqlite"), "--no-mission",
                 "--rover-port", str(tmp / "lander-radio.tty"), "--watchdog", "none"],
                ["--vehicle", "rover", "--port", str(tmp / "rover-radio.tty"), "--plant-port",
                 str(tmp / "rover-dev.tty"), "--store", str(tmp / "rover.sqlite"), "--watchdog", "none"],
            ):
                processes.append(subprocess.Popen([python, "-m", "fsw.cli", "run", *command], text=True, env=env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            ground = IndependentGround(str(tmp / "ground.tty"))
            # Up when the rover's own telemetry has come down through the lander.
            ground.collect(30.0, lambda tms: any(tm.apid == ROVER_APID for tm in tms))
            yield ground
            ground.serial.close()
    finally:
        for process in reversed(processes):
            stop(process)


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
