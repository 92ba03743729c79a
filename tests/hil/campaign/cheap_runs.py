"""Run functions for the engine's mechanics: cheap, seeded, importable by worker processes."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any


def cheap(seed: int) -> dict[str, Any]:
    """A stand-in for a flight: a few figures drawn from the seed, and a pause so that runs overlap."""
    draw = random.Random(seed)
    time.sleep(0.2)
    speed = draw.uniform(1.5, 4.0)
    return {"seed": seed, "success": speed <= 3.6, "cause": None if speed <= 3.6 else "vertical speed over the limit",
            "vertical_speed_m_s": speed, "landing_error_m": draw.gauss(0.0, 100.0)}


def dies_once(markers: Path, seed: int) -> dict[str, Any]:
    """The worker process dies (no exception, no clean-up) the first time it flies an odd ``seed``."""
    marker = markers / f"flown-{seed}"
    if seed % 2 and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(0.3)  # the other runs are in flight on the other workers by now
        os._exit(1)
    return cheap(seed)


def stops_the_campaign(markers: Path, seed: int) -> dict[str, Any]:
    """Flies quickly until ``markers/stop-after`` runs are in, then every run hangs (the campaign is
    interrupted while they do)."""
    limit = int((markers / "stop-after").read_text())
    flown = len(list(markers.glob("done-*")))
    if flown >= limit:
        time.sleep(3600.0)
    (markers / f"done-{seed}").write_text("")
    return cheap(seed)


def records(markers: Path, seed: int) -> dict[str, Any]:
    """The cheap run, leaving a mark that it flew ``seed`` (a resumed campaign's runs)."""
    (markers / f"resumed-{seed}").write_text("")
    return cheap(seed)
