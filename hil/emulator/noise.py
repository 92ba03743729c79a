"""Gaussian noise for the emulated devices, three draws at a time: a device's 3-axis noise.

The draws are ``random.Random.gauss``'s own, so a seeded device gives what it gave before; an
own Box-Muller on the generator's cached draw would be cheaper but would lean on the standard
library's private state.
"""

from __future__ import annotations

import random


def gauss_triple(rng: random.Random, sigma: float) -> tuple[float, float, float]:
    """``(rng.gauss(0.0, sigma), rng.gauss(0.0, sigma), rng.gauss(0.0, sigma))``."""
    gauss = rng.gauss
    return (gauss(0.0, sigma), gauss(0.0, sigma), gauss(0.0, sigma))
