"""Campaign throughput: real flight-software descents per hour through the Dask engine, on one and on
two worker processes (a LocalCluster each); the ratio is the scaling. A few runs each (the same
seeds), so the figure includes the cluster's start-up; a long campaign amortises it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hil.rigs.campaign.command import campaign_seeds
from hil.rigs.campaign.engine import run_campaign
from hil.rigs.campaign.segments import descent

from .rows import Budget, Row

RUNS = 4
SEED = 1


def throughput(workers: int) -> float:
    """Descents per hour over the whole call: cluster start, the runs, the results written."""
    with tempfile.TemporaryDirectory(prefix="ilrs-bench-campaign-") as folder:
        engine = run_campaign(Path(folder) / "results.sqlite", campaign_seeds(SEED, RUNS), descent,
                              workers=workers, progress=None, label="bench")
    return engine.flown / engine.wall_s * 3600.0


def run(budget: Budget) -> list[Row]:
    one = throughput(1)
    two = throughput(2)
    return [Row(f"campaign throughput, {RUNS} descents, 1 worker", one, "descents/h"),
            Row(f"campaign throughput, {RUNS} descents, 2 workers", two, "descents/h", "1 worker", one)]
