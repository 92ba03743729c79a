"""``make run``'s plots: the descent and ascent profiles from the ground's archive, drawn on a thread
of the rig as soon as the powered flights are over, while the rest of the mission flies on a core the
flight software leaves free (the rendezvous, the orbit wait and the coast are the flight software's
work alone); what the run prints and writes is the same as drawing them at the end."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from pathlib import Path

from hil.rigs.mission_timing import mission_transitions

# The mission phase from which the powered flights' telemetry is complete in the archive: the ascent
# is over (the ground archives in the order the flight sent).
AFTER_POWERED_FLIGHTS = "rendezvous_docking"


class PlotsInBackground:
    """Watches the archive for the end of the powered flights and then draws the plots on a thread."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._seen_id = 0
        self._thread: threading.Thread | None = None
        self._made: list[Path] = []
        self._error: BaseException | None = None

    def poll(self) -> None:
        """Look at what the archive gained since the last look; start drawing once the flights are over."""
        if self._thread is not None or not self._flights_over():
            return
        self._thread = threading.Thread(target=self._draw, name="mission plots", daemon=True)
        self._thread.start()

    def result(self) -> list[Path]:
        """The plots: those drawn in the background, or drawn now (a mission that never got that far)."""
        if self._thread is None:
            return plot(self.run_dir) if (self.run_dir / "archive.sqlite").exists() else []
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._made

    def _draw(self) -> None:
        try:
            self._made = plot(self.run_dir)
        except BaseException as error:  # handed to result(), in the rig's main thread
            self._error = error

    def _flights_over(self) -> bool:
        try:
            transitions = mission_transitions(self.run_dir / "archive.sqlite", self._seen_id)
        except sqlite3.Error:  # the ground is creating it: look again later
            return False
        if transitions:
            self._seen_id = max(row_id for row_id, *_ in transitions)
        return any(dest == AFTER_POWERED_FLIGHTS for *_, dest in transitions)


def plot(run_dir: Path) -> list[Path]:
    """Descent (altitude, velocity, thrust) and ascent profiles against flight time, from the archive.
    Drawn on bare ``Figure`` objects with fixed margins: no pyplot and no tight layout, which cost more
    than the drawing itself (half of the plots' CPU time)."""
    from matplotlib.figure import Figure

    from ground.archive import Archive

    archive = Archive(run_dir / "archive.sqlite", readonly=True)
    rows = [json.loads(decoded) for (decoded,) in archive.db.execute(
        "SELECT decoded FROM packets WHERE kind = 'hk' AND json_extract(decoded, '$.values.gnc_vehicle') IN "
        "('lander', 'ascender') ORDER BY onboard_time, id")]
    archive.close()
    made = []
    for vehicle, panels, name in (
        ("lander", (("gnc_altitude_m", "height above terrain [m]"),
                    ("gnc_vertical_speed_m_s", "vertical speed [m/s]"),
                    ("gnc_horizontal_speed_m_s", "horizontal speed [m/s]"),
                    ("gnc_thrust_n", "commanded thrust [N]")), "descent.png"),
        ("ascender", (("gnc_altitude_m", "altitude [m]"), ("gnc_vertical_speed_m_s", "vertical speed [m/s]"),
                      ("gnc_horizontal_speed_m_s", "horizontal speed [m/s]")), "ascent.png"),
    ):
        samples = [row["values"] for row in rows if row["values"].get("gnc_vehicle") == vehicle]
        if not samples:
            continue
        height = 2.3 * len(panels)
        figure = Figure(figsize=(9, height))
        axes = figure.subplots(len(panels), 1, sharex=True)
        figure.subplots_adjust(left=0.1, right=0.98, top=1 - 0.35 / height, bottom=0.5 / height, hspace=0.12)
        for axis, (point, label) in zip(axes, panels, strict=True):
            pairs = [(s["gnc_time_s"], s[point]) for s in samples
                     if isinstance(s.get(point), int | float) and isinstance(s.get("gnc_time_s"), int | float)
                     and math.isfinite(s[point])]
            axis.plot([p[0] for p in pairs], [p[1] for p in pairs], linewidth=1.2)
            axis.set_ylabel(label, fontsize=8)
            axis.grid(True, alpha=0.3)
        axes[0].set_title(f"{vehicle}: powered flight from telemetry")
        axes[-1].set_xlabel("time since the powered phase began [s]")
        figure.savefig(run_dir / name, dpi=90)
        made.append(run_dir / name)
    return made
