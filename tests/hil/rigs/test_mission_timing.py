"""The rig's stopwatch: phases from the ground's archive, CPU seconds per process between them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hil.rigs.mission_timing import MissionClock, cpu_floor_s, cpu_seconds, format_report, idle_driver, report


def archive_with(path: Path, transitions: list[tuple[float, float, str]]) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE packets (id INTEGER PRIMARY KEY, rx_time REAL, onboard_time REAL, kind TEXT, "
               "decoded TEXT)")
    for rx, onboard, dest in transitions:
        decoded = {"name": "MISSION_TRANSITION", "args": {"machine": "mission", "dest": dest}}
        db.execute("INSERT INTO packets (rx_time, onboard_time, kind, decoded) VALUES (?, ?, 'event', ?)",
                   (rx, onboard, json.dumps(decoded)))
    db.commit()
    db.close()
    return path


def test_each_phase_gets_its_wall_flight_and_cpu_seconds(tmp_path: Path) -> None:
    clock = MissionClock()
    clock.started = 100.0
    clock.processes = {"fsw": subprocess.Popen([sys.executable, "-c", "pass"])}
    clock.processes["fsw"].wait()
    clock.timeline = [(100.0, {"fsw": 0.0}), (110.0, {"fsw": 4.0}), (130.0, {"fsw": 10.0})]
    clock.marks = {"summary": 130.0, "end": 131.0}
    archive = archive_with(tmp_path / "archive.sqlite", [(105.0, 10.0, "awaiting_descent_go"),
                                                         (110.0, 10.0, "powered_descent"),
                                                         (120.0, 923.0, "surface_operations")])
    timing = report(clock, archive)
    rows = {row["phase"]: row for row in timing["phases"]}
    assert list(rows) == ["start: plants", "powered_descent", "surface_operations", "summary"]
    assert rows["powered_descent"]["wall_s"] == 10.0 and rows["powered_descent"]["flight_s"] == 913.0
    assert rows["powered_descent"]["cpu_s"]["fsw"] == 3.0  # 4 s at 110, 7 s at 120 (between the samples)
    assert rows["start: plants"]["cpu_s"]["fsw"] == 4.0
    assert timing["wall_s"] == 31.0
    assert "powered_descent" in format_report(timing)
    # One process's CPU alone: each stretch's floor is that process's CPU, the run's their sum.
    assert rows["powered_descent"]["floor_s"] == 3.0
    assert timing["floor_s"] == sum(row["floor_s"] for row in timing["phases"]) == 10.0
    assert "floor s" in format_report(timing)
    assert timing["idle_driver"] == idle_driver()
    assert f"host: {timing['processors']} processors, cpuidle driver" in format_report(timing)


def test_the_floor_is_the_busiest_process_or_all_of_them_over_the_processors() -> None:
    # Lock-step partners: the flight software's own CPU is the floor, whatever the plant adds.
    assert cpu_floor_s({"fsw": 20.0, "plant": 12.0, "ground": 2.0}, processors=2) == 20.0
    # Many busy processes: they cannot share two processors in less than half their CPU.
    assert cpu_floor_s({"fsw": 8.0, "plant": 4.4, "rover": 3.4, "rover-plant": 2.1, "ground": 1.6},
                       processors=2) == 9.75
    assert cpu_floor_s({"fsw": 8.0, "plant": 4.4}, processors=1) == 12.4
    assert cpu_floor_s({}, processors=2) == 0.0


def test_cpu_seconds_of_this_process_and_of_none() -> None:
    mine = cpu_seconds(os.getpid())
    assert mine is None or mine >= 0.0  # None where there is no /proc
    assert cpu_seconds(2**22 + 12345) is None


def hardware_file(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    """The surface hardware's state file as the lander keeps it (SQLite in WAL mode), the rover not
    released yet: its path and a connection to write it."""
    from hil.platforms import surface_state_path_for

    path = surface_state_path_for(tmp_path / "fsw-store.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE hardware (name TEXT PRIMARY KEY, state TEXT, rng TEXT)")
    db.execute("INSERT INTO hardware VALUES ('world', '{}', NULL), ('rover_deploy', '{\"released_at\": null}', NULL)")
    return path, db


def test_the_rig_sees_the_rover_released_and_reads_an_unchanged_file_once(tmp_path: Path) -> None:
    from hil.rigs.mission_run import rover_released

    _, db = hardware_file(tmp_path)
    seen: dict[str, object] = {}
    assert not rover_released(tmp_path, seen, now=100.0) and "signature" in seen
    assert not rover_released(tmp_path, seen, now=100.2)  # unchanged: not read again
    db.execute("UPDATE hardware SET state = '{\"released_at\": 12.5}' WHERE name = 'rover_deploy'")
    assert rover_released(tmp_path, seen, now=100.4)
    assert rover_released(tmp_path)  # without a memory of the last look: read every time
    db.close()


def test_a_release_written_without_changing_the_files_signature_is_seen_within_a_second(tmp_path: Path) -> None:
    """A write in the same clock tick as the last look, to a WAL of the same size: the file's times
    and sizes say nothing changed. The rig reads it again a second later."""
    from hil.rigs.mission_run import rover_released

    path, db = hardware_file(tmp_path)
    seen: dict[str, object] = {}
    assert not rover_released(tmp_path, seen, now=100.0)
    db.execute("UPDATE hardware SET state = '{\"released_at\": 12.5}' WHERE name = 'rover_deploy'")
    seen["signature"] = [(f.stat().st_mtime_ns, f.stat().st_size)  # as if the write had left them as they were
                         for f in (path, path.with_name(path.name + "-wal")) if f.exists()]
    assert not rover_released(tmp_path, seen, now=100.5)  # control: within the second, not read
    assert rover_released(tmp_path, seen, now=101.1)
    db.close()


def test_the_idle_driver_is_read_from_the_kernel_or_none(tmp_path: Path) -> None:
    driver = tmp_path / "current_driver"
    driver.write_text("haltpoll\n")
    assert idle_driver(driver) == "haltpoll"
    driver.write_text("none\n")
    assert idle_driver(driver) is None  # cpuidle without a driver: an idle processor halts
    assert idle_driver(tmp_path / "absent") is None  # no cpuidle in the kernel (or not Linux)
