"""Crash anywhere: SIGKILL the flight software at seeded points of the emulated mission, restart it on
the same store, and check that the mission still completes, that no irreversible act fired twice and no
engine was lit twice (the plant's truth), that the time-tagged command ran at most once, and that the
ground archive lost nothing.

One mission as ``make run`` flies it (link, plant, flight software, ground procedure as processes over
ptys, authenticated, afap clock). The plant and the ground keep running across the restarts; the plant
lets a reset outage of flight time pass, engines as last commanded, when the restarted flight computer
first talks to it. Kill points are the k-th mission state transition seen in the flight log, and a
guidance phase of the lander's descent and of the ascender's ascent, each plus a seeded delay, so the
points land in the same phases on a fast or a slow machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cbor2
import pytest

from hil.link.process import running_link
from hil.rigs.mission_run import (
    BOOT_LINE,
    PROCEDURE,
    SEPARATIONS,
    ensure_keys,
    ground_environment,
    hardware_record,
    start_fsw,
    start_plant,
    stop,
    truth_problems,
    wait_for_line,
)

pytestmark = pytest.mark.slow

SEED = 7
TRANSITION_KILLS = 3
MISSION_TIMEOUT_S = 600.0  # wall seconds: a shared, loaded machine needs more than the ~150 s of an idle one
# On-board seconds from insertion to release of the time-tagged ping: in the final coast, after the
# kill points, so that the entry waits in the schedule across the restarts.
TIME_TAGGED_PING_S = 1_000_000
# Powered flight, where a reset is most dangerous: one kill in a seeded guidance phase of each vehicle
# (as the flight log reports them), besides the kills at seeded mission transitions.
DESCENT_KILL_PHASES = ("main_braking", "rapid_adjustment", "approach", "hover", "slow_descent")
ASCENT_KILL_PHASES = ("vertical_rise", "pitch_over", "orbit_insertion")
GNC_PHASE = re.compile(r"GNC_PHASE: (\w+) guidance phase \w+ -> (\w+)")
TRANSITION = re.compile(r"_TRANSITION: (\w+): (\w+) -> (\w+) on (\w+)")
# The events that accompany each irreversible act, once per act (the descent latch has no event of its own).
ACT_EVENTS = ("ASCENT_IGNITION", "ASCENDER_RELEASED", "RETURNER_SEPARATED")


def transitions(log: Path) -> list[tuple[str, str, str]]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [(m[1], m[2], m[3]) for m in TRANSITION.finditer(text)]


def machine_states(seen: list[tuple[str, str, str]]) -> dict[str, str]:
    return {machine: dest for machine, _, dest in seen}


def guidance_phases(log: Path) -> list[tuple[str, str]]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [(m[1], m[2]) for m in GNC_PHASE.finditer(text)]


def archive_snapshot(path: Path) -> tuple[int, str]:
    """(rows, digest of every row's id and raw octets) as the ground has stored them so far."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        digest = hashlib.sha256()
        rows = 0
        for row_id, raw in db.execute("SELECT id, raw FROM packets ORDER BY id"):
            digest.update(row_id.to_bytes(8, "big") + bytes(raw))
            rows += 1
        return rows, digest.hexdigest()
    finally:
        db.close()


def archive_digest_upto(path: Path, rows: int) -> str:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        digest = hashlib.sha256()
        for row_id, raw in db.execute("SELECT id, raw FROM packets ORDER BY id LIMIT ?", (rows,)):
            digest.update(row_id.to_bytes(8, "big") + bytes(raw))
        return digest.hexdigest()
    finally:
        db.close()


def archived_events(path: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [json.loads(decoded) for (decoded,) in db.execute(
            "SELECT decoded FROM packets WHERE kind = 'event' ORDER BY id")]
    finally:
        db.close()


def store_value(path: Path, key: str) -> Any:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else cbor2.loads(row[0])
    finally:
        db.close()


def test_mission_survives_seeded_sigkills_of_the_flight_software(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    keys = ensure_keys(tmp_path / "keys.toml")
    archive, log_path = run_dir / "archive.sqlite", run_dir / "fsw.log"
    ground_json = run_dir / "mission-ground.json"
    rng = random.Random(SEED)
    # Kill points: the k-th transition of any machine (the nominal mission makes 46, the last into
    # "complete"), and a guidance phase of each vehicle in powered flight; each then a short wait.
    points: list[tuple[str, Any]] = [("transition", k) for k in sorted(rng.sample(range(1, 45), TRANSITION_KILLS))]
    points += [("phase", ("lander", rng.choice(DESCENT_KILL_PHASES))),
               ("phase", ("ascender", rng.choice(ASCENT_KILL_PHASES)))]
    delays = [rng.uniform(0.0, 0.5) for _ in points]
    pending = list(range(len(points)))
    kills: list[dict[str, Any]] = []
    python = sys.executable
    with running_link(run_dir / "fsw.tty", run_dir / "ground.tty"):
        plant = start_plant(run_dir, SEED)
        fsw_log = log_path.open("w")
        fsw: subprocess.Popen[Any] | None = None
        ground: subprocess.Popen[Any] | None = None
        try:
            assert wait_for_line(plant, "plant ready", 15.0), "the plant did not start"
            fsw = start_fsw(run_dir, SEED, keys, fsw_log)
            ground = subprocess.Popen(
                [python, "-m", "ground.cli", "--port", str(run_dir / "ground.tty"), "--archive", str(archive),
                 "--sequence-file", str(run_dir / "ground-sequence"), "--keys", str(keys),
                 "run", str(PROCEDURE)],
                stdout=(run_dir / "ground.log").open("w"), stderr=subprocess.STDOUT,
                env={**ground_environment(run_dir, MISSION_TIMEOUT_S),
                     "ILRS_MISSION_TIME_TAGGED_PING_S": str(TIME_TAGGED_PING_S)},
            )
            deadline = time.monotonic() + MISSION_TIMEOUT_S + 30
            while ground.poll() is None and time.monotonic() < deadline:
                seen = transitions(log_path)
                phases = guidance_phases(log_path)
                due = [i for i in pending if (points[i][0] == "transition" and len(seen) >= points[i][1])
                       or (points[i][0] == "phase" and points[i][1] in phases)]
                if due:
                    index = due[0]
                    pending.remove(index)
                    time.sleep(delays[index])
                    seen = transitions(log_path)
                    rows, digest = archive_snapshot(archive)
                    schedule = store_value(run_dir / "fsw-store.sqlite", "schedule") or {}
                    os.kill(fsw.pid, signal.SIGKILL)
                    fsw.wait()
                    phases = guidance_phases(log_path)
                    kills.append({"point": points[index], "after_transition": len(seen),
                                  "last": seen[-1] if seen else None,
                                  "states": machine_states(seen), "guidance": phases[-1] if phases else None,
                                  "archive_rows": rows, "archive_digest": digest,
                                  "scheduled": len(schedule.get("entries", []))})
                    fsw = start_fsw(run_dir, SEED, keys, fsw_log, boots=len(kills) + 1)
                time.sleep(0.02)
            assert ground.poll() is not None, "the ground procedure did not end"
        finally:
            if ground is not None and ground.poll() is None:
                stop(ground)
            if fsw is not None:
                stop(fsw)
            fsw_log.close()
            stop(plant)

    report = json.loads(ground_json.read_text())
    print(json.dumps({"kills": [{k: v for k, v in kill.items() if k != "archive_digest"} for kill in kills],
                      "ground": report}, indent=1))
    assert len(kills) == len(points), f"only {len(kills)} of {len(points)} kills happened: {kills}"
    assert report["outcome"] == "success", report
    # The hardware outlived the flight computer: the samples collected before a kill are still aboard.
    assert 1_500.0 <= report["sample_mass_g"] <= 2_000.0, report
    # The kills in powered flight did land there: guidance resumed mid-flight, on each vehicle.
    powered = [kill for kill in kills if kill["point"][0] == "phase"]
    assert {kill["guidance"][0] for kill in powered} == {"lander", "ascender"}, powered
    assert all(kill["guidance"][1] not in ("landed", "orbit") for kill in powered), powered

    # Restarts counted: one BOOT per start, and the store's boot count agrees.
    store = run_dir / "fsw-store.sqlite"
    assert log_path.read_text(errors="replace").count(BOOT_LINE) == len(kills) + 1
    assert store_value(store, "boot_count") == len(kills) + 1

    # The archive only grew, and every row stored before a kill is still there, unchanged.
    final_rows, _ = archive_snapshot(archive)
    for kill in kills:
        assert final_rows >= kill["archive_rows"]
        assert archive_digest_upto(archive, kill["archive_rows"]) == kill["archive_digest"]

    events = archived_events(archive)
    names = [event.get("name") for event in events]
    assert names.count("MISSION_RESUMED") == len(kills)  # the mission machine resumed after each restart
    resumed_guidance = [event["args"] for event in events if event.get("name") == "GNC_RESUMED"]
    assert {args["vehicle"] for args in resumed_guidance} >= {"lander", "ascender"}, resumed_guidance
    assert "GNC_CHECKPOINT_LOST" not in names

    # The truth: each engine lit once, the restarts seen by the plant, a safe touchdown.
    plant_report = json.loads((run_dir / "plant-report.json").read_text())
    assert plant_report["ignitions"] == {"main_engine": 1, "ascent_engine": 1}, plant_report["ignitions"]
    # (A flight computer restarted in a quiet phase never talks to the plant again.)
    assert len(powered) <= plant_report["flight_restarts"] <= len(kills)
    assert truth_problems(plant_report["touchdown"], plant_report["ascent"]) == []  # landed safely, ascender in orbit

    # No irreversible act twice, by the hardware's own record (the hardware-state file the emulated
    # mechanisms keep, which outlived every kill): each separation device fired exactly once, the
    # docking claws latched exactly once. The flight software's events and latches must agree.
    hardware = hardware_record(run_dir)
    assert hardware["separations"] == dict.fromkeys(SEPARATIONS, 1), hardware
    assert hardware["claws_latched"] == 1, hardware
    assert report["docked"] is True  # the ground's view (latched claws) agrees with the claws
    for act in ACT_EVENTS:
        assert names.count(act) <= 1, f"{act} reported {names.count(act)} times"
    assert names.count("DOCKED") <= 1
    latches = store_value(store, "latches") or {}
    assert {"descent_ignition", "ascent_ignition", "ascender_release", "returner_separation"} <= set(latches), latches
    assert names.count("ASCENT_IGNITION") == 1
    transitions_into = [(m, d) for m, _, d in transitions(log_path)]
    assert transitions_into.count(("mission", "powered_descent")) <= 1

    # The time-tagged ping ran at most once (released), or was reported missed, never both, never twice.
    seq = report["time_tagged_seq"]
    assert seq is not None
    released = [e for e in events if e.get("name") == "SCHEDULE_RELEASED" and e["args"].get("seq") == seq]
    missed = [e for e in events if e.get("name") == "SCHEDULE_MISSED" and e["args"].get("seq") == seq]
    assert len(released) + len(missed) <= 1, (released, missed)
    assert any(kill["scheduled"] for kill in kills), "no kill found the ping waiting in the schedule"
    if report["outcome"] == "success":
        assert len(released) == 1  # it waited through every restart and ran once
