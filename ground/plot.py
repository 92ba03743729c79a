"""Archived points as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from .archive import Archive
from .dictionary import Dictionary


def plot_points(archive: Archive, dictionary: Dictionary, points: list[str], out: Path,
                since: float | None = None, until: float | None = None) -> int:
    """One panel per point, shared UTC time axis; limit lines where the dictionary has them.
    Returns the number of samples plotted (0: nothing written)."""
    series = {point: archive.query(point, since, until) for point in points}
    total = sum(len(rows) for rows in series.values())
    if total == 0:
        return 0
    figure, axes = plt.subplots(len(points), 1, sharex=True, squeeze=False, figsize=(10, 2.6 * len(points)))
    for axis, point in zip(axes[:, 0], points, strict=True):
        spec = dictionary.points[point]
        rows = series[point]
        times = [dt.datetime.fromtimestamp(rx_time, dt.UTC) for rx_time, _, _ in rows]
        values = [_numeric(value, spec.enum) for _, _, value in rows]
        axis.plot(times, values, marker=".", linewidth=1)
        axis.set_ylabel(f"{point}\n[{spec.unit}]" if spec.unit else point)
        if spec.enum:
            axis.set_yticks(range(len(spec.enum)), spec.enum)
        for bounds, colour in ((spec.yellow, "orange"), (spec.red, "red")):
            for bound in bounds or ():
                if bound is not None:
                    axis.axhline(bound, color=colour, linestyle="--", linewidth=0.8)
        axis.grid(True, alpha=0.3)
    axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=dt.UTC))
    axes[-1, 0].set_xlabel("reception time (UTC)")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return total


def _numeric(value: object, enum: tuple[str, ...] | None) -> float:
    if enum and isinstance(value, str):
        return float(enum.index(value)) if value in enum else float("nan")
    if isinstance(value, bool | int | float):
        return float(value)
    return float("nan")
