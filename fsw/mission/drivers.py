"""How the powered phases flown by guidance (descent, ascent) report to the mission machines.

The machines do not fly: they hand over to a driver (the GNC) and wait for its reports, so that they
can be tested with a stub driver and wired to the real guidance without change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Report = Callable[[str], None]

#: Reports a descent driver may give: the final outcome.
DESCENT_OUTCOMES = ("landed", "aborted")
#: Reports an ascent driver gives in order, then "in_orbit" (or "failed" at any time).
ASCENT_STAGES = ("pitch_over", "orbit_insertion", "cutoff", "in_orbit", "failed")


class PhaseDriver(Protocol):
    """A driver may also offer ``go_refusal() -> (FailureCode, reason) | None``: asked before the
    ground's go is taken (the descent's uplinked state and initiation window)."""

    def begin(self, report: Report, resumed: bool) -> None:
        """Take over the phase; call ``report`` with each stage or outcome. ``resumed``: after a restart
        in the middle of the phase (the ignition already fired: continue, never re-ignite)."""
        ...
