"""``make run``: the whole emulated mission, flight + plant + ground as separate processes over ptys.

Starts ``ilrs-hil link`` (flight <-> ground, two ptys bridged like a null-modem cable),
``ilrs-hil plant`` (the lander/ascender truth model on its own pty: the device bus),
``ilrs-fsw run`` on the afap clock, authenticated with a key file made on first use, and the
ground's mission procedure (``ilrs-ground run``), which archives every packet, uplinks the descent
state vector, target and terrain map from the orbit-determination product the plant writes at its
start (``od-product.json``: the truth with seeded errors), and gives the go at each ground decision
point. On the surface the ground deploys the rover: ``ilrs-hil rover-plant``
(the rover's terrain and truth, and the proximity radio to the lander) runs from the start, and the
rover's own flight software (``ilrs-fsw run --vehicle rover``) is started when the lander's deploy
mechanism lets the rover go; the ground drives it through the lander's relay.
Prints a progress line per phase, then a summary, and leaves a run
folder with ``summary.json``, the telemetry archive (SQLite) and PNG plots.
Exit 0 only on mission success.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from hil.link.process import running_link
from hil.platforms import ascender_record_path_for
from hil.rigs.keep_awake import KeepAwake
from hil.rigs.mission_plots import PlotsInBackground
from hil.rigs.mission_timing import MissionClock, format_report
from hil.rigs.mission_timing import report as timing_report
from hil.rigs.mission_timing import write as write_timing
from hil.rigs.rover_summary import rover_summary

REPO = Path(__file__).resolve().parents[2]
PROCEDURE = REPO / "ground" / "procedures" / "mission.py"
DEFAULT_KEYS = REPO / "build" / "keys.toml"
BOOT_LINE = "BOOT: flight software boot"  # the BOOT event as --verbose logs it


def ensure_keys(path: Path) -> Path:
    from fsw.protocol.security import KeyRing

    if not path.exists():
        KeyRing.generate(path, (1,))
        print(f"made a new key file {path} (never committed)")
    return path


def wait_for_line(process: subprocess.Popen[str], prefix: str, timeout: float) -> bool:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return True
    return False


def wait_for_text(path: Path, text: str, process: subprocess.Popen[Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def stop(process: subprocess.Popen[Any], timeout: float = 15.0) -> int:
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def stop_together(processes: list[subprocess.Popen[Any] | None], timeout: float = 15.0) -> None:
    """Ask all of them to stop at once, then wait for each: they shut down side by side."""
    running = [process for process in processes if process is not None]
    for process in running:
        if process.poll() is None:
            process.terminate()
    for process in running:
        stop(process, timeout)


def fsw_command(run_dir: Path, seed: int, keys: Path | None) -> list[str]:
    """``ilrs-fsw run`` as ``make run`` starts it; the same command restarts it on the same store."""
    command = [sys.executable, "-m", "fsw.cli", "run", "--port", str(run_dir / "fsw.tty"),
               "--plant-port", str(run_dir / "plant.tty"), "--clock", "afap",
               "--rover-port", str(run_dir / "lander-radio.tty"),
               "--store", str(run_dir / "fsw-store.sqlite"), "--seed", str(seed), "--verbose",
               # From the first instant, flight time waits for the ground at go/no-go points, however
               # late the ground connects: a seeded run is then the same run every time.
               "--param", "ground_hold=true"]
    if keys is not None:
        command += ["--keys", str(keys)]
    return command


def start_fsw(run_dir: Path, seed: int, keys: Path | None, log: IO[str], boots: int = 1,
              timeout: float = 30.0) -> subprocess.Popen[Any]:
    """Start the flight software (logging to ``log``, which is ``run_dir/fsw.log``) and return once
    its log shows ``boots`` BOOT events in all: after a restart the log holds the earlier ones too."""
    fsw = subprocess.Popen(fsw_command(run_dir, seed, keys), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    log_path = run_dir / "fsw.log"
    while time.monotonic() < deadline and fsw.poll() is None:
        if log_path.exists() and log_path.read_text(errors="replace").count(BOOT_LINE) >= boots:
            return fsw
        time.sleep(0.05)
    stop(fsw)
    raise RuntimeError("the flight software did not boot")


def fly(run_dir: Path, seed: int, keys: Path | None, timeout_s: float,
        clock: MissionClock | None = None, plots: PlotsInBackground | None = None) -> dict[str, Any]:
    """Fly the mission; ``clock`` (when given) notes each process's CPU time and the rig's marks;
    ``plots`` (when given) is told as the archive grows."""
    clock = clock or MissionClock()
    plant_report, ground_json = run_dir / "plant-report.json", run_dir / "mission-ground.json"
    started = time.monotonic()
    # The plants first: they need no link, and they start while the link does.
    plant, rover_plant = start_plant(run_dir, seed), start_rover_plant(run_dir, seed)
    clock.watch("plant", plant)
    clock.watch("rover-plant", rover_plant)
    try:
        with running_link(run_dir / "fsw.tty", run_dir / "ground.tty") as link:
            clock.watch("link", link)
            ground_code = fly_with_plants(run_dir, seed, keys, timeout_s, clock, plant, rover_plant, plots)
    finally:
        stop_together([plant, rover_plant])
    truth = json.loads(plant_report.read_text()) if plant_report.exists() else {}
    ground_view = json.loads(ground_json.read_text()) if ground_json.exists() else {}
    rover_report = run_dir / "rover-plant-report.json"
    rover_truth = json.loads(rover_report.read_text()) if rover_report.exists() else {}
    clock.mark("summary")
    return summarise(seed, truth, ground_view, ground_code, time.monotonic() - started, hardware_record(run_dir),
                     rover_truth)


def fly_with_plants(run_dir: Path, seed: int, keys: Path | None, timeout_s: float, clock: MissionClock,
                    plant: subprocess.Popen[str], rover_plant: subprocess.Popen[str],
                    plots: PlotsInBackground | None = None) -> int:
    """Once the plants are up: the flight software, then the ground's procedure until it ends, with the
    rover's flight software powered when the lander lets it go. Returns the procedure's exit code."""
    python = sys.executable
    rover_dictionary = write_rover_dictionary(run_dir)
    fsw_log = (run_dir / "fsw.log").open("w")
    rover_log = (run_dir / "rover.log").open("w")
    fsw: subprocess.Popen[Any] | None = None
    rover: subprocess.Popen[Any] | None = None
    try:
        if not wait_for_line(plant, "plant ready", 15.0) or not wait_for_line(rover_plant, "rover plant ready", 15.0):
            raise RuntimeError("the plant did not start")
        clock.mark("plants ready")
        fsw = start_fsw(run_dir, seed, keys, fsw_log)
        clock.watch("fsw", fsw)
        clock.mark("fsw booted")
        ground_command = [python, "-m", "ground.cli", "--port", str(run_dir / "ground.tty"), "--archive",
                          str(run_dir / "archive.sqlite"), "--sequence-file", str(run_dir / "ground-sequence")]
        if keys is not None:
            ground_command += ["--keys", str(keys)]
        ground = subprocess.Popen(
            [*ground_command, "run", str(PROCEDURE)],
            env={**ground_environment(run_dir, timeout_s), "ILRS_MISSION_ROVER_DICTIONARY": str(rover_dictionary),
                 "ILRS_MISSION_ROVER_WAYPOINTS": json.dumps(ROVER_WAYPOINTS)},
        )
        clock.watch("ground", ground)
        hardware_seen: dict[str, Any] = {}
        while ground.poll() is None:
            # The rover is powered when the lander's deploy mechanism lets it go: its own record.
            if rover is None and rover_released(run_dir, hardware_seen):
                rover = subprocess.Popen(rover_command(run_dir, seed, keys), stdout=rover_log,
                                         stderr=subprocess.STDOUT)
                clock.watch("rover", rover)
            if plots is not None:
                plots.poll()
            clock.sample()
            with contextlib.suppress(subprocess.TimeoutExpired):
                ground.wait(0.2)  # (returns as soon as the procedure ends)
        return ground.returncode
    finally:
        clock.sample()
        stop_together([rover, fsw])  # the flight software first: the plants then write their reports
        fsw_log.close()
        rover_log.close()


def ground_environment(run_dir: Path, timeout_s: float) -> dict[str, str]:
    """The mission procedure's environment: where it writes its figures, the orbit-determination
    product it uplinks before the go (the plant's, ``start_plant``), how long it waits for the end."""
    return {**os.environ, "ILRS_MISSION_GROUND_JSON": str(run_dir / "mission-ground.json"),
            "ILRS_MISSION_OD_PRODUCT": str(run_dir / "od-product.json"), "ILRS_MISSION_TIMEOUT_S": str(timeout_s)}


def start_plant(run_dir: Path, seed: int) -> subprocess.Popen[str]:
    """The lander/ascender plant on its own pty, writing the orbit-determination product at its start."""
    return subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "plant", "--pty", str(run_dir / "plant.tty"), "--seed", str(seed),
         "--report", str(run_dir / "plant-report.json"), "--od-product", str(run_dir / "od-product.json"),
         "--ascender-record", str(ascender_record_path_for(run_dir / "fsw-store.sqlite"))],
        stdout=subprocess.PIPE, text=True)


# The rover's traverse in ``make run`` (metres from the lander; science: a panoramic image there), and a
# field of large rocks the plant puts on the first leg: a hazard that is surely there to go round.
ROVER_WAYPOINTS = [[20.0, 0.0, False], [26.0, 16.0, True], [6.0, 24.0, False]]
ROVER_ROCK_FIELD = (12.0, 0.0)


def write_rover_dictionary(run_dir: Path) -> Path:
    """The rover's dictionary for the ground (as ``ilrs-fsw dictionary --vehicle rover`` exports it)."""
    from fsw.rover.topology import rover_dictionary_vehicle

    vehicle = rover_dictionary_vehicle()
    path = run_dir / "dictionary-rover.json"
    path.write_text(vehicle.dictionary.to_json(vehicle.apid))
    return path


def start_rover_plant(run_dir: Path, seed: int) -> subprocess.Popen[str]:
    east, north = ROVER_ROCK_FIELD
    return subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "rover-plant", "--devices", str(run_dir / "rover-dev.tty"),
         "--rover-link", str(run_dir / "rover-radio.tty"), "--lander-link", str(run_dir / "lander-radio.tty"),
         "--seed", str(seed), "--rock-field", f"{east},{north}", "--report", str(run_dir / "rover-plant-report.json")],
        stdout=subprocess.PIPE, text=True)


def rover_command(run_dir: Path, seed: int, keys: Path | None) -> list[str]:
    """``ilrs-fsw run --vehicle rover``: its own store, clock and keys, on the proximity radio. Its time
    waits for the ground while it waits idle for the traverse's go (``rover_ground_hold``): the ground
    drives it at wall-clock moments, and a seeded run must fly the same traverse twice."""
    command = [sys.executable, "-m", "fsw.cli", "run", "--vehicle", "rover", "--port", str(run_dir / "rover-radio.tty"),
               "--plant-port", str(run_dir / "rover-dev.tty"), "--clock", "afap", "--watchdog", "none",
               "--store", str(run_dir / "rover-store.sqlite"), "--seed", str(seed), "--verbose",
               "--param", "rover_ground_hold=true"]
    if keys is not None:
        command += ["--keys", str(keys)]
    return command


REREAD_UNCHANGED_S = 1.0


def rover_released(run_dir: Path, seen: dict[str, Any] | None = None, now: float | None = None) -> bool:
    """The lander's deploy mechanism has let the rover go (its own record). With ``seen`` (kept by the
    caller between calls), a hardware-state file unchanged since the last look is read again only once
    ``REREAD_UNCHANGED_S`` has passed: a file's times are as coarse as the kernel's clock tick, and
    SQLite writes a WAL it has checkpointed over again at the same size, so a write can leave both as
    they were."""
    from hil.emulator.surface.hardware import SurfaceHardwareFile
    from hil.platforms import surface_state_path_for

    path = surface_state_path_for(run_dir / "fsw-store.sqlite")
    if not path.exists():
        return False
    signature = None
    if seen is not None:
        try:  # SQLite in WAL mode: a write may touch only the -wal file
            signature = [(f.stat().st_mtime_ns, f.stat().st_size)
                         for f in (path, path.with_name(path.name + "-wal")) if f.exists()]
        except OSError:
            signature = None
        now = time.monotonic() if now is None else now
        if signature is not None and signature == seen.get("signature") \
                and now - seen.get("read_at", now) < REREAD_UNCHANGED_S:
            return False
    try:
        state = SurfaceHardwareFile(path).load() or {}
    except Exception:  # the lander is writing it: look again next time
        return False
    if seen is not None:
        seen["signature"], seen["read_at"] = signature, now
    return state.get("devices", {}).get("rover_deploy", {}).get("released_at") is not None


SEPARATIONS = ("ascender_separation", "ascender_release", "returner_separation")


def hardware_record(run_dir: Path) -> dict[str, Any]:
    """The surface hardware's own record, read from the hardware-state file the emulated mechanisms
    keep next to the flight store: how often each separation device fired and the docking claws
    latched (the flight software's events are its claims; this is what happened)."""
    from hil.emulator.surface.hardware import SurfaceHardwareFile
    from hil.platforms import surface_state_path_for

    state = SurfaceHardwareFile(surface_state_path_for(run_dir / "fsw-store.sqlite")).load() or {}
    devices = state.get("devices", {})
    rendezvous = devices.get("rendezvous", {})
    attempts = rendezvous.get("capture_attempts") or []
    burns = devices.get("orbit_engines", {}).get("burns") or []
    return {"separations": {name: int(devices.get(name, {}).get("fire_count", 0)) for name in SEPARATIONS},
            "claws_latched": int(rendezvous.get("latch_count", 0)),
            # Each closing of the claws as the plant judged it: range, closing and lateral figures.
            "capture_attempts": [{"range_m": round(a[1], 3), "closing_m_s": round(a[2], 4),
                                  "lateral_m": round(a[3], 3), "lateral_m_s": round(a[4], 4), "verdict": a[5]}
                                 for a in attempts],
            # What the orbiter's engines really gave (their own count and the flight's are claims).
            "tei_delta_v_m_s": round(sum(float(b[2]) for b in burns if b[0] == "tei"), 2) if burns else None}


def summarise(seed: int, truth: dict[str, Any], ground: dict[str, Any], ground_code: int,
              wall: float, hardware: dict[str, Any] | None = None,
              rover_truth: dict[str, Any] | None = None) -> dict[str, Any]:
    touchdown = truth.get("touchdown") or {}
    ascent = truth.get("ascent") or {}
    ignition = truth.get("ignition_t")
    outcome = ground.get("outcome", "no ground report")
    if outcome == "success" and ground_code != 0:
        outcome = f"ground procedure failed ({ground_code})"
    problems = truth_problems(touchdown, ascent) if outcome == "success" else []
    if outcome == "success" and hardware is not None and hardware.get("claws_latched") == 0:
        problems.append("no capture in the plant: the docking claws never latched")
    rover = rover_summary(ground.get("rover"), rover_truth, ROVER_WAYPOINTS) if rover_truth else None
    if rover is not None and outcome == "success":
        problems += rover["problems"]
    if problems:  # the flight software's word is checked against the plant's truth
        outcome = problems[0]
    return {
        "outcome": outcome,
        "touchdown_vertical_speed_mps": touchdown.get("vertical_speed_m_s"),
        "touchdown_horizontal_speed_mps": touchdown.get("horizontal_speed_m_s"),
        "touchdown_tilt_deg": touchdown.get("tilt_deg"),
        "landing_error_m": touchdown.get("landing_error_m"),
        "touchdown_hazards": touchdown.get("hazards"),
        "propellant_used_kg": truth.get("propellant_used_kg"),
        "descent_duration_s": (touchdown["t"] - ignition) if touchdown and ignition is not None else None,
        "sample_mass_g": ground.get("sample_mass_g"),
        "ascent_orbit_km": [ascent.get("periapsis_km"), ascent.get("apoapsis_km")],
        "ascent_delta_v_mps": ascent.get("delivered_delta_v_m_s"),
        # The ascender's attitude by its thrusters (the plant's record): pulses, propellant, fastest turn.
        "ascent_rcs_pulses": (ascent.get("rcs") or {}).get("pulses"),
        "ascent_rcs_propellant_kg": (ascent.get("rcs") or {}).get("propellant_used_kg"),
        "ascent_max_rate_deg_s": ascent.get("max_rate_deg_s"),
        # Docked by the claws' own record when there is one; the ground's view otherwise.
        "docked": hardware["claws_latched"] > 0 if hardware else ground.get("docked", False),
        "capture": (hardware.get("capture_attempts") or [None])[-1] if hardware else None,
        "separations": hardware["separations"] if hardware else None,
        # The engines' true delta-v from the plant's record when there is one; the ground's view otherwise.
        "tei_delta_v_mps": (hardware.get("tei_delta_v_m_s") if hardware else None) or ground.get("tei_delta_v_mps"),
        "returned": ground.get("returned", False),
        "rover": rover,
        "seed": seed,
        "wall_time_s": round(wall, 1),
    }


MIN_ORBIT_PERIAPSIS_KM = 10.0  # the ascender's orbit must clear the highest lunar terrain


def truth_problems(touchdown: dict[str, Any], ascent: dict[str, Any]) -> list[str]:
    """What the plant saw that contradicts a successful mission."""
    problems = []
    if not touchdown:
        problems.append("no touchdown in the plant")
    elif not touchdown.get("safe", False):
        problems.append(f"unsafe touchdown: {touchdown.get('hazards') or 'speeds or tilt over the limits'}")
    periapsis = ascent.get("periapsis_km")
    if not ascent.get("lifted_off") or periapsis is None or periapsis < MIN_ORBIT_PERIAPSIS_KM:
        problems.append(f"ascender not in lunar orbit (periapsis {periapsis} km)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.rigs.mission_run", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run-dir", type=Path, help="run folder (default: runs/<time>-seed<S>)")
    parser.add_argument("--keys", type=Path, default=DEFAULT_KEYS, help="key file (made on first use)")
    parser.add_argument("--unauthenticated", action="store_true", help="fly without signed commands")
    parser.add_argument("--timeout", type=float, default=600.0, help="wall seconds the mission may take")
    parser.add_argument("--leave-processors-idle", action="store_true",
                        help="no idle-priority spinner keeping each processor awake (hil.rigs.keep_awake)")
    args = parser.parse_args(argv)
    run_dir = args.run_dir or REPO / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-seed{args.seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    keys = None if args.unauthenticated else ensure_keys(args.keys)
    print(f"run folder: {run_dir}")
    with KeepAwake(not args.leave_processors_idle) as awake:
        print(awake.describe())
        clock = MissionClock()
        background_plots = PlotsInBackground(run_dir)
        summary = fly(run_dir, args.seed, keys, args.timeout, clock, background_plots)
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print("\nmission summary")
        for key, value in summary.items():
            print(f"  {key:34} {value}")
        # The plots after the summary (drawn meanwhile once the powered flights were over, or now).
        clock.mark("plots")
        plots = background_plots.result()
        clock.mark("end")
    timing = timing_report(clock, run_dir / "archive.sqlite")
    write_timing(run_dir / "timing.json", timing)
    print("\nwhere the wall time went")
    print(format_report(timing))
    print(f"\nrun folder: {run_dir}")
    print(f"  summary.json, timing.json, archive.sqlite, {', '.join(p.name for p in plots) or 'no plots'}, fsw.log")
    return 0 if summary["outcome"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
