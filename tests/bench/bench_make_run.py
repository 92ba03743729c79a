"""``make run``'s wall time: the whole mission once, as ``make run`` flies it, and where the time went.

Runs ``python -m hil.rigs.mission_run`` (link, plant, rover plant, flight software, rover and ground
as separate processes over ptys) in a temporary folder and reads its ``timing.json``: the whole run's
wall seconds, the wall seconds of the powered flights and of the coasts, the CPU seconds of each
process, and the floor that CPU sets on the wall time. A loaded machine stretches the wall rows (the
processes wait for each other over ptys) far more than the CPU rows. The same host's speed swings by up to two times
within an hour, so the rows include the wall time of a fixed Python loop timed just before and just
after the mission: read the mission's figures against them, not against another hour's. The mission
flies twice in turn: as ``make run`` flies it, with an idle-priority spinner keeping each processor
awake, and with the processors left to idle (``--leave-processors-idle``), the peer of the first row.

``python -m tests.bench.bench_make_run`` prints the rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.rows import Row

SEED = 1
COASTS = ("rendezvous_docking", "sample_transfer", "lunar_orbit_wait", "trans_earth_injection", "coast")


def host_loop_s(steps: int = 10_000_000) -> float:
    """Wall seconds of an empty Python loop: this host's speed at the moment (its share of a processor,
    its clock, what the hypervisor takes)."""
    started = time.perf_counter()
    for _ in range(steps):
        pass
    return time.perf_counter() - started


def fly(*options: str) -> dict[str, Any]:
    """``make run``'s mission once (with ``options``); its ``timing.json``."""
    folder = Path(tempfile.mkdtemp(prefix="ilrs-bench-run-"))
    run_dir = folder / "run"
    out = subprocess.run([sys.executable, "-m", "hil.rigs.mission_run", "--seed", str(SEED), "--run-dir",
                          str(run_dir), "--keys", str(folder / "keys.toml"), "--timeout", "1500", *options],
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        # Kept for the post-mortem: the processes' logs, the archive and the procedure's whole output.
        (folder / "mission_run.out").write_text(out.stdout + out.stderr)
        raise RuntimeError(f"make run failed (exit {out.returncode}); everything it left is in {folder}")
    timing: dict[str, Any] = json.loads((run_dir / "timing.json").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    return timing


def run(budget: object = None) -> list[Row]:
    loop_before = host_loop_s()
    timing = fly()
    # The same mission with no spinner keeping the processors awake (hil.rigs.keep_awake), just after.
    idle = fly("--leave-processors-idle")
    loop_after = host_loop_s()

    def wall(*names: str, of: dict[str, Any] = timing) -> float:
        return round(sum(row["wall_s"] for row in of["phases"] if row["phase"] in names), 1)

    return [
        Row("make run: whole mission, wall", timing["wall_s"], "s",
            "the same with the processors left to idle", idle["wall_s"]),
        Row("make run: powered descent, wall, processors left to idle",
            wall("powered_descent", of=idle), "s"),
        # The least wall time the run's CPU allows (each stretch: its busiest process, or all of them
        # over the processors); the whole wall above it is waiting. What an idle processor does (its
        # cpuidle driver) moves the wall above the floor most (docs/hil-bench.md), so the name says it.
        Row(f"make run: wall-time floor from its processes' CPU ({timing['processors']} processors, "
            f"cpuidle {timing.get('idle_driver') or 'none'})",
            timing["floor_s"], "s", "the whole mission's wall", timing["wall_s"]),
        Row("make run: start to powered descent, wall",
            wall("start: plants", "start: flight boot", "start: uplink, go"), "s"),
        Row("make run: powered descent, wall", wall("powered_descent"), "s"),
        Row("make run: ascent, wall", wall("ascent"), "s"),
        Row("make run: rendezvous to return (coasts), wall", wall(*COASTS), "s"),
        Row("make run: summary and plots, wall", wall("summary", "plots"), "s"),
        Row("make run: lander flight software, CPU", round(timing["cpu_s"].get("fsw", 0.0), 1), "s"),
        Row("make run: lander plant, CPU", round(timing["cpu_s"].get("plant", 0.0), 1), "s"),
        Row("make run: rover flight software, CPU", round(timing["cpu_s"].get("rover", 0.0), 1), "s"),
        Row("make run: rover plant, CPU", round(timing["cpu_s"].get("rover-plant", 0.0), 1), "s"),
        Row("make run: ground, CPU", round(timing["cpu_s"].get("ground", 0.0), 1), "s"),
        Row("make run: all processes, CPU", round(sum(timing["cpu_s"].values()), 1), "s"),
        Row("host speed: 10-million-step Python loop just before the run, wall", round(loop_before, 2), "s"),
        Row("host speed: 10-million-step Python loop just after the run, wall", round(loop_after, 2), "s"),
    ]


if __name__ == "__main__":
    for row in run():
        peer = f"   {row.peer}: {row.peer_value:.2f} {row.unit}" if row.peer is not None else ""
        print(f"{row.name:66} {row.value:10.2f} {row.unit}{peer}")
