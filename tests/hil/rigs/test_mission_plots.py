"""``make run``'s plots: drawn on a thread once the archive shows the powered flights over, else at the end."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hil.rigs.mission_plots import AFTER_POWERED_FLIGHTS, PlotsInBackground


def add_rows(archive: Path, rows: list[tuple[str, dict[str, object]]]) -> None:
    db = sqlite3.connect(archive)
    db.execute("CREATE TABLE IF NOT EXISTS packets (id INTEGER PRIMARY KEY, rx_time REAL, onboard_time REAL, "
               "kind TEXT, decoded TEXT)")
    for kind, decoded in rows:
        db.execute("INSERT INTO packets (rx_time, onboard_time, kind, decoded) VALUES (0, ?, ?, ?)",
                   (len(rows), kind, json.dumps(decoded)))
    db.commit()
    db.close()


def descent_samples() -> list[tuple[str, dict[str, object]]]:
    return [("hk", {"values": {"gnc_vehicle": "lander", "gnc_time_s": float(t), "gnc_altitude_m": 100.0 - t,
                               "gnc_vertical_speed_m_s": -1.0, "gnc_horizontal_speed_m_s": 0.0,
                               "gnc_thrust_n": 3000.0}}) for t in range(10)]


def transition(dest: str) -> tuple[str, dict[str, object]]:
    return "event", {"name": "MISSION_TRANSITION", "args": {"machine": "mission", "dest": dest}}


def test_the_plots_start_once_the_powered_flights_are_over(tmp_path: Path) -> None:
    archive = tmp_path / "archive.sqlite"
    plots = PlotsInBackground(tmp_path)
    plots.poll()  # no archive yet
    add_rows(archive, [*descent_samples(), transition("surface_operations"), transition("ascent")])
    plots.poll()
    assert not (tmp_path / "descent.png").exists()
    add_rows(archive, [transition(AFTER_POWERED_FLIGHTS)])
    plots.poll()
    assert plots.result() == [tmp_path / "descent.png"]
    assert (tmp_path / "descent.png").stat().st_size > 0


def test_a_mission_that_never_gets_there_is_plotted_at_the_end(tmp_path: Path) -> None:
    add_rows(tmp_path / "archive.sqlite", [*descent_samples(), transition("safe")])
    plots = PlotsInBackground(tmp_path)
    plots.poll()
    assert plots.result() == [tmp_path / "descent.png"]
    assert PlotsInBackground(tmp_path / "nowhere").result() == []
