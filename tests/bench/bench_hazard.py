"""The hover's hazard judgement spread over control cycles, beside the whole image judged at once.

A 128 x 128 elevation image (the hover imager's, 0.39 m cells, boulders, range noise and dropouts) is
judged by :class:`fsw.gnc.hazard.HazardJudgement` one step per cycle, as the descent guidance does;
the figure is the CPU of its worst step, the peer the CPU of :func:`fsw.gnc.hazard.assess` doing the
whole image at once (what one 50 Hz cycle carried before). The CPU per cell of each step of the
judgement is reported too: it is what :data:`fsw.gnc.hazard.STEP_COST` is estimated from.

``python -m tests.bench.bench_hazard`` prints the rows.
"""

from __future__ import annotations

import math
import random
import time

from fsw.devices.descent import ElevationImageReading
from fsw.gnc.hazard import STEP_COST, HazardJudgement, assess
from tests.bench.rows import Row
from tests.fsw.gnc.test_hazard import image

CELLS = 128
CELL_M = 0.39
MASS_KG = 1_900.0
REPEATS = 3


def hover_image(seed: int = 7) -> ElevationImageReading:
    """Level ground 100 m below with a scatter of 40 boulders, 5 cm range noise and 2 % dropouts."""
    rng = random.Random(seed)
    half = (CELLS - 1) / 2 * CELL_M
    rocks = tuple((rng.uniform(-half, half), rng.uniform(-half, half), rng.uniform(0.3, 1.5), rng.uniform(0.1, 0.8))
                  for _ in range(40))
    return image(rocks=rocks, seed=seed, cells=CELLS, cell_m=CELL_M)


def worst_step_ms(reading: ElevationImageReading) -> tuple[float, int]:
    """The CPU of the worst step of one judgement (least-bad site included), and its step count."""
    judgement = HazardJudgement(reading, (0.0, 0.0), MASS_KG, least_bad=True)
    worst = 0.0
    done = False
    while not done:
        start = time.process_time()
        done = judgement.step()
        worst = max(worst, time.process_time() - start)
    return worst * 1e3, judgement.steps


def at_once_ms(reading: ElevationImageReading) -> float:
    start = time.process_time()
    assess(reading, (0.0, 0.0), MASS_KG)
    return (time.process_time() - start) * 1e3


def stage_us_per_cell(reading: ElevationImageReading) -> dict[str, float]:
    """CPU per cell of each step, each over the whole image (the least-bad search over its rows)."""
    judgement = HazardJudgement(reading, (0.0, 0.0), MASS_KG, least_bad=True)
    keep = judgement._keep  # the bench times the steps' own row functions, one whole stage each
    costs: dict[str, float] = {}
    for name in STEP_COST:
        first, end = (0, CELLS) if name in ("sums", "planes", "ground") else (keep, CELLS - keep)
        start = time.process_time()
        getattr(judgement, "_" + name)(first, end)
        costs[name] = (time.process_time() - start) * 1e6 / ((end - first) * CELLS)
    return costs


def run() -> list[Row]:
    reading = hover_image()
    worst, steps = min(worst_step_ms(reading) for _ in range(REPEATS))
    once = min(at_once_ms(reading) for _ in range(REPEATS))
    rows = [Row("hazard judgement 128x128 worst step CPU", worst, "ms", "whole image in one cycle", once),
            Row("hazard judgement 128x128 steps (50 Hz cycles)", float(steps), "steps")]
    costs = stage_us_per_cell(reading)
    rows += [Row(f"hazard judgement step '{name}' CPU per cell (weight {STEP_COST[name]})", cost, "us")
             for name, cost in costs.items()]
    assert all(math.isfinite(row.value) for row in rows)
    return rows


if __name__ == "__main__":
    for row in run():
        ratio = f"  (peer {row.peer_value:.2f})" if row.peer_value is not None else ""
        print(f"{row.name}: {row.value:.3f} {row.unit}{ratio}")
