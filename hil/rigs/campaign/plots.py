"""The campaign report's PNGs (matplotlib, Agg): touchdown histograms, landing points, propellant margin."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hil.rigs.campaign.report import CE5, LIMITS, TOUCHDOWN, Ellipse


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_touchdown(path: Path, landed: Sequence[Mapping[str, Any]]) -> Path:
    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    for axis, (key, name, unit) in zip(axes, TOUCHDOWN, strict=True):
        data = [float(row[key]) for row in landed if isinstance(row.get(key), int | float)]
        axis.hist(data, bins=min(40, max(5, len(data) // 3)), color="steelblue", alpha=0.8, label="campaign")
        axis.axvline(LIMITS[key], color="red", linestyle="--", label=f"limit {LIMITS[key]} {unit}")
        axis.axvline(CE5[key], color="green", linestyle=":", linewidth=2, label=f"CE-5 flight {CE5[key]} {unit}")
        axis.set_xlabel(f"touchdown {name} [{unit}]")
        axis.set_ylabel("runs")
        axis.set_xlim(left=0.0)
        axis.legend(fontsize=8)
        axis.grid(True, alpha=0.3)
    figure.suptitle(f"touchdown figures, {len(landed)} touchdowns")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_landing(path: Path, cross: Sequence[float], down: Sequence[float], ellipse: Ellipse | None) -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 6))
    axis.scatter(cross, down, s=12, color="steelblue", label="touchdowns")
    axis.plot([0], [0], "k+", markersize=14, label="target")
    if ellipse is not None:
        mc, md = ellipse.mean
        axis.plot([mc], [md], "rx", markersize=10, label=f"mean offset ({mc:+.0f}, {md:+.0f}) m")
        a, b = ellipse.semi_axes
        angle = math.radians(ellipse.angle_deg)
        ts = [2 * math.pi * i / 200 for i in range(201)]
        xs = [mc + a * math.cos(t) * math.cos(angle) - b * math.sin(t) * math.sin(angle) for t in ts]
        ys = [md + a * math.cos(t) * math.sin(angle) + b * math.sin(t) * math.cos(angle) for t in ts]
        axis.plot(xs, ys, "r-", label=f"99 % ellipse {a:.0f} x {b:.0f} m")
    axis.set_xlabel("crossrange error [m]")
    axis.set_ylabel("downrange error [m]")
    axis.set_title("landing points")
    axis.axis("equal")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_propellant(path: Path, margin: Sequence[float], marks: Mapping[float, float]) -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.hist(margin, bins=min(40, max(5, len(margin) // 3)), color="darkorange", alpha=0.8)
    for q, value in marks.items():
        axis.axvline(value, color="black", linestyle="--", linewidth=1)
        axis.text(value, axis.get_ylim()[1] * 0.95, f" p{int(q)}", fontsize=8)
    axis.set_xlabel("propellant remaining [kg]")
    axis.set_ylabel("runs")
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_replay(path: Path, samples: Sequence[tuple[float, Mapping[str, Any]]],
                events: Sequence[tuple[float, str]]) -> Path:
    """GNC housekeeping of one replayed run against plant time, the flight's events marked."""
    plt = _pyplot()
    panels = (("gnc_altitude_m", "height above map [m]"), ("gnc_vertical_speed_m_s", "vertical speed [m/s]"),
              ("gnc_horizontal_speed_m_s", "horizontal speed [m/s]"), ("gnc_thrust_n", "commanded thrust [N]"),
              ("gnc_propellant_kg", "propellant [kg]"))
    figure, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(10, 2.2 * len(panels)))
    for axis, (point, label) in zip(axes, panels, strict=True):
        pairs = [(t, v[point]) for t, v in samples if isinstance(v.get(point), int | float)]
        if pairs:
            axis.plot([t for t, _ in pairs], [y for _, y in pairs], linewidth=1)
        for t, _ in events:
            axis.axvline(t, color="grey", alpha=0.3, linewidth=0.8)
        axis.set_ylabel(label, fontsize=8)
        axis.grid(True, alpha=0.3)
    axes[-1].set_xlabel("plant time [s] (grey: flight software events)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
