"""Where ``make run``'s wall time goes: per mission phase, its wall seconds, the flight seconds it
covered and the CPU seconds each process spent in it.

The rig samples every process's CPU time (``/proc/<pid>/stat``, Linux; elsewhere none) as it waits
for the ground, and notes a few marks of its own (processes up, the flight software booted, flight
over, summary, plots). The phases come from the ground's archive afterwards: each
``MISSION_TRANSITION`` event with the wall time it reached the ground and its on-board time.

Each stretch also gets the floor its CPU sets on its wall time: no stretch can take less than its
busiest process's CPU seconds, nor less than all the processes' CPU seconds shared over the host's
processors. What the wall time has above the floor is waiting (a process for another's answer, or for
a processor); the floor itself moves only when the processes do less work.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from hil.rigs.keep_awake import processors

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROCESSORS = len(processors()) or os.cpu_count() or 1
# What an idle processor does (Linux): a guest whose driver halts it wakes a process late, one whose
# driver polls first (haltpoll) or a physical machine wakes it at once; the same run takes about
# twice as long on the first (docs/hil-bench.md).
IDLE_DRIVER = Path("/sys/devices/system/cpu/cpuidle/current_driver")


def idle_driver(path: Path = IDLE_DRIVER) -> str | None:
    """The kernel's cpuidle driver (``haltpoll``, ``intel_idle``, ...), or None where it has none (the
    kernel then writes ``none``, or has no such file)."""
    try:
        driver = path.read_text().strip()
    except OSError:
        return None
    return driver if driver and driver != "none" else None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (None: gone, or no /proc here)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (name) ": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class MissionClock:
    """The rig's stopwatch: processes by name, CPU samples over time and named marks (wall, epoch s)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.processes: dict[str, subprocess.Popen[Any]] = {}
        self.timeline: list[tuple[float, dict[str, float]]] = []
        self.marks: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def watch(self, name: str, process: subprocess.Popen[Any]) -> None:
        self.processes[name] = process
        self.sample()

    def mark(self, name: str) -> None:
        self.sample()
        self.marks[name] = time.time()

    def sample(self) -> None:
        for name, process in self.processes.items():
            seconds = cpu_seconds(process.pid) if process.returncode is None else None
            if seconds is not None:
                self._last[name] = seconds
        self._last["rig"] = time.process_time()  # this process: the summary and the plots
        self.timeline.append((time.time(), dict(self._last)))

    def cpu_at(self, when: float) -> dict[str, float]:
        """Each process's CPU seconds at epoch ``when``, interpolated between the samples around it."""
        before: tuple[float, dict[str, float]] = (self.started, {})
        for sample in self.timeline:
            if sample[0] >= when:
                span = sample[0] - before[0]
                share = (when - before[0]) / span if span > 0 else 1.0
                return {name: before[1].get(name, 0.0) + share * (value - before[1].get(name, 0.0))
                        for name, value in sample[1].items()}
            before = sample
        return dict(before[1])


def mission_transitions(archive: Path, after_id: int = 0) -> list[tuple[int, float, float, str]]:
    """``(archive row id, rx wall time, on-board time, new state)`` of each mission-level transition the
    ground archived, after row ``after_id`` (a caller watching the archive grow asks only for the new)."""
    if not archive.exists():
        return []
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT id, rx_time, onboard_time, json_extract(decoded, '$.args.dest') FROM packets WHERE id > ? "
            "AND kind = 'event' AND json_extract(decoded, '$.name') = 'MISSION_TRANSITION' "
            "AND json_extract(decoded, '$.args.machine') = 'mission' ORDER BY rx_time, id", (after_id,)).fetchall()
    finally:
        db.close()
    return [(int(row_id), float(rx), float(onboard or 0.0), str(dest)) for row_id, rx, onboard, dest in rows]


def cpu_floor_s(cpu_s: dict[str, float], processors: int = PROCESSORS) -> float:
    """The least wall time in which these CPU seconds fit: the busiest process's alone, or all of them
    spread evenly over the processors, whichever is longer."""
    if not cpu_s:
        return 0.0
    return round(max(max(cpu_s.values()), sum(cpu_s.values()) / max(1, processors)), 2)


def phase_table(clock: MissionClock, archive: Path) -> list[dict[str, Any]]:
    """One row per stretch of the run: its name, wall and flight seconds, and CPU seconds per process.
    The stretches: the rig's start to powered descent (start-up), each mission phase from the ground's
    archive, then the rig's own marks after the flight."""
    transitions = mission_transitions(archive)
    bounds: list[tuple[str, float, float | None]] = []  # (name of the stretch that begins, wall, on-board)
    bounds.append(("start: plants", clock.started, None))
    if "plants ready" in clock.marks:
        bounds.append(("start: flight boot", clock.marks["plants ready"], None))
    if "fsw booted" in clock.marks:
        bounds.append(("start: uplink, go", clock.marks["fsw booted"], None))
    started_descent = False
    for _, rx, onboard, dest in transitions:
        if dest == "powered_descent":
            started_descent = True
        if started_descent:
            bounds.append((dest, rx, onboard))
    for name in ("summary", "plots", "end"):
        if name in clock.marks:
            bounds.append((name, clock.marks[name], None))
    rows = []
    for (name, start, onboard_start), (_, end, onboard_end) in itertools.pairwise(bounds):
        at_start, at_end = clock.cpu_at(start), clock.cpu_at(end)
        cpu_s = {process: round(at_end.get(process, 0.0) - at_start.get(process, 0.0), 2)
                 for process in (*clock.processes, "rig")}
        rows.append({
            "phase": name, "wall_s": round(end - start, 2),
            "flight_s": (round(onboard_end - onboard_start, 1)
                         if onboard_start is not None and onboard_end is not None else None),
            "floor_s": cpu_floor_s(cpu_s), "cpu_s": cpu_s,
        })
    return rows


def report(clock: MissionClock, archive: Path) -> dict[str, Any]:
    rows = phase_table(clock, archive)
    end = clock.marks.get("end", time.time())
    totals = clock.cpu_at(end)
    # The whole run's floor is its stretches' floors added: the CPU of one stretch cannot fill another's.
    return {"wall_s": round(end - clock.started, 2), "phases": rows,
            "floor_s": round(sum(row["floor_s"] for row in rows), 2), "processors": PROCESSORS,
            "idle_driver": idle_driver(),
            "cpu_s": {name: round(totals.get(name, 0.0), 2) for name in (*clock.processes, "rig")}}


def format_report(timing: dict[str, Any]) -> str:
    names = list(timing["cpu_s"])
    lines = [f"  {'stretch':24}{'wall s':>8}{'floor s':>9}{'flight s':>11}  CPU s: "
             + " ".join(f"{n:>11}" for n in names)]
    for row in timing["phases"]:
        flight = f"{row['flight_s']:.0f}" if row["flight_s"] is not None else "-"
        lines.append(f"  {row['phase']:24}{row['wall_s']:8.1f}{row.get('floor_s', 0.0):9.1f}{flight:>11}         "
                     + " ".join(f"{row['cpu_s'].get(n, 0.0):11.1f}" for n in names))
    lines.append(f"  {'whole run':24}{timing['wall_s']:8.1f}{timing.get('floor_s', 0.0):9.1f}{'':>11}         "
                 + " ".join(f"{timing['cpu_s'][n]:11.1f}" for n in names))
    if "processors" in timing:
        lines.append(f"  host: {timing['processors']} processors, cpuidle driver "
                     f"{timing.get('idle_driver') or 'none (an idle processor halts)'}")
    return "\n".join(lines)


def write(path: Path, timing: dict[str, Any]) -> None:
    path.write_text(json.dumps(timing, indent=2) + "\n")
