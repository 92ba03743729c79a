"""The cost of one powered descent flown by the real flight software, beside the bare loop.

The real software is :func:`hil.rigs.flight_descent.fly` (the executive, topology, GNC component
and device bus of ``make run``, on the afap clock, plant in the same process); the peer is
:func:`hil.rigs.closed_loop.fly_descent`, the descent controller stepped straight against the plant.
Each descent runs in a fresh child process (imports included, as a campaign worker's first run pays
them) and reports its own wall and CPU seconds; the median of ``ILRS_BENCH_DESCENT_RUNS`` runs
(default 1) is kept. A Monte Carlo campaign's cost per run is the CPU row. The real descent also
times each of the GNC component's 50 Hz cycles in wall time (the device bus exchange, with the
plant's step in this process, and the guidance, navigation and control step) and reports their 99th
percentile over the powered flight, and the CPU of the worst guidance, navigation and control step
(the descent controller's alone, without the bus: the hover image's judgement falls in it).

``python -m tests.bench.bench_flight_descent`` prints the rows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from tests.bench.rows import Row

SEED = 2
PEER = "bare loop (hil.rigs.closed_loop)"

_CHILD = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
cycle_p99_ms = gnc_step_max_ms = None
if sys.argv[1] == "real":
    from fsw.gnc.component import GncComponent
    from hil.rigs.flight_descent import FlightOptions, fly
    cycles = []
    untimed = GncComponent._cycle

    async def timed(self):
        start = time.perf_counter()
        await untimed(self)
        if self.descent is not None:
            cycles.append(time.perf_counter() - start)

    from fsw.gnc.controller import DescentController
    gnc_steps = []
    untimed_step = DescentController.step

    def timed_step(self, t, dt):
        start = time.process_time()
        untimed_step(self, t, dt)
        gnc_steps.append(time.process_time() - start)

    GncComponent._cycle = timed
    DescentController.step = timed_step
    landed = fly({seed}, {{}}, FlightOptions()).landed_safely
    cycles.sort()
    cycle_p99_ms = cycles[min(len(cycles) - 1, int(0.99 * len(cycles)))] * 1e3
    gnc_step_max_ms = max(gnc_steps) * 1e3
else:
    from hil.rigs.closed_loop import fly_descent
    landed = fly_descent({seed}).touchdown is not None
print(json.dumps({{"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "landed": landed,
                  "cycle_p99_ms": cycle_p99_ms, "gnc_step_max_ms": gnc_step_max_ms}}))
"""


def descent_cost(kind: str, seed: int = SEED) -> dict[str, float]:
    """Wall and CPU seconds of one descent in a child process (``kind``: ``real`` or ``bare``), and
    for the real software the 99th percentile of its GNC cycle's wall time (ms)."""
    done = subprocess.run([sys.executable, "-c", _CHILD.format(seed=seed), kind], capture_output=True, text=True,
                          check=True, timeout=900)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["landed"]:
        raise RuntimeError(f"the {kind} descent of seed {seed} did not land: the figure would not be comparable")
    return result


def run() -> list[Row]:
    runs = max(1, int(os.environ.get("ILRS_BENCH_DESCENT_RUNS", "1")))
    real = [descent_cost("real") for _ in range(runs)]
    bare = [descent_cost("bare") for _ in range(runs)]

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(result[key] for result in results)

    return [
        Row("descent real flight software wall", median(real, "wall_s"), "s", PEER, median(bare, "wall_s")),
        Row("descent real flight software CPU", median(real, "cpu_s"), "s", PEER, median(bare, "cpu_s")),
        Row("descent real flight software GNC 50 Hz cycle p99", median(real, "cycle_p99_ms"), "ms"),
        Row("descent real flight software GNC step max CPU", median(real, "gnc_step_max_ms"), "ms"),
    ]


if __name__ == "__main__":
    for row in run():
        ratio = f"  ({row.ratio:.1f} x the {row.peer})" if row.ratio is not None else ""
        print(f"{row.name}: {row.value:.2f} {row.unit}{ratio}")
