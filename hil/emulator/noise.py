"""Gaussian noise for the emulated devices, three draws at a time.

A device's 3-axis noise is three ``random.Random.gauss`` draws; :func:`gauss_triple` gives the very
same three values (the same generator state after, its cached second draw included) for half the
cost, which matters at 50 Hz on a dozen devices. ``tests/hil/emulator/test_noise.py`` holds it to
``gauss``.
"""

from __future__ import annotations

import random
from math import cos, log, sin, sqrt, tau


def gauss_triple(rng: random.Random, sigma: float) -> tuple[float, float, float]:
    """``(rng.gauss(0.0, sigma), rng.gauss(0.0, sigma), rng.gauss(0.0, sigma))``, drawn the way
    ``gauss`` draws them: a pair from two uniforms (Box-Muller), the pair's second kept for the next."""
    uniform = rng.random
    first = rng.gauss_next  # type: ignore[attr-defined]  # (the generator's cached second draw)
    x2pi = uniform() * tau
    g2rad = sqrt(-2.0 * log(1.0 - uniform()))
    if first is None:
        first, second = cos(x2pi) * g2rad, sin(x2pi) * g2rad
        x2pi = uniform() * tau
        g2rad = sqrt(-2.0 * log(1.0 - uniform()))
        third = cos(x2pi) * g2rad
        rng.gauss_next = sin(x2pi) * g2rad  # type: ignore[attr-defined]
    else:
        second, third = cos(x2pi) * g2rad, sin(x2pi) * g2rad
        rng.gauss_next = None  # type: ignore[attr-defined]
    return (0.0 + first * sigma, 0.0 + second * sigma, 0.0 + third * sigma)
