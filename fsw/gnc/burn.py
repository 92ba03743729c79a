"""A burn's delta-v measured on board: the accelerometers' specific force integrated over time.

Every cut-off (trans-Earth injection, the rendezvous burns) is decided on this integral, never on
an engine's own count, which assumes the rated thrust: an engine that delivers 5 % less burns 5 %
longer and the spacecraft still gets the velocity it was meant to (Apollo's PIPA-counted cut-offs
worked the same way).

Integration is trapezoidal between readings, on the readings' own time tags. A reading that is
invalid, or whose time tag does not move on, adds nothing; the meter counts them, and a burn whose
accelerometers go silent is stopped by its time limit and by the caller's check on ``gaps``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Vector3 = tuple[float, float, float]

# Readings further apart than this are not bridged by the trapezoid: the interval is a gap.
MAX_SAMPLE_GAP_S = 5.0


@dataclass
class DeltaVMeter:
    """Integrates specific force readings (body frame) into delta-v along and across the thrust axis."""

    max_gap_s: float = MAX_SAMPLE_GAP_S
    velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # body frame, m/s
    gaps: int = 0  # readings refused (invalid, stale or after a gap)
    samples: int = 0
    _last: tuple[float, Vector3] | None = None

    def add(self, t: float, specific_force: Vector3, valid: bool) -> None:
        if not valid or not all(math.isfinite(v) for v in (t, *specific_force)):
            self.gaps += 1
            return
        last, self._last = self._last, (t, specific_force)
        if last is None:
            self.samples += 1
            return
        dt = t - last[0]
        if dt <= 0.0:
            self.gaps += 1
            self._last = last
            return
        if dt > self.max_gap_s:
            self.gaps += 1  # not bridged: an unknown stretch of thrust
            return
        self.samples += 1
        for axis in range(3):
            self.velocity[axis] += 0.5 * (last[1][axis] + specific_force[axis]) * dt

    @property
    def along_axis_m_s(self) -> float:
        """Delta-v along the body x axis (the thrust axis)."""
        return self.velocity[0]

    @property
    def magnitude_m_s(self) -> float:
        return math.sqrt(sum(v * v for v in self.velocity))
