"""A campaign's report: ``campaign.md`` and its PNGs, computed from the results file alone.

Success is counted with a 95 % Wilson score interval (sound at 0 or N successes, unlike the normal
approximation). Failures are tallied by cause with their seeds, each replayable. The touchdown
figures are drawn against the plant's safety limits and CE-5's flight values; the landing points get
their mean offset and the 99 % dispersion ellipse of the sample covariance (chi-square, 2 degrees of
freedom: 9.21); the propellant margin is what remained in the tanks, by percentile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Z95 = 1.959964  # two-sided 95 % normal quantile
CHI2_2DOF_99 = 9.21  # 99 % quantile of chi-square with 2 degrees of freedom
# The plant's touchdown limits (hil.emulator.plant.TouchdownReport.safe).
LIMITS = {"vertical_speed_m_s": 3.6, "horizontal_speed_m_s": 1.0, "tilt_deg": 8.0}
# CE-5's touchdown as flown, 1 Dec 2020: "Guidance Navigation and Control for Chang'E-5 Powered
# Descent", Space: Science & Technology 2021, article 9823609, Table 2 (flight results).
CE5 = {"vertical_speed_m_s": 1.99, "horizontal_speed_m_s": 0.0085, "tilt_deg": 0.2, "propellant_used_kg": 1898.0}
CE5_SOURCE = ("CE-5 flight results: *Guidance Navigation and Control for Chang'E-5 Powered Descent*, "
              "Space: Science & Technology 2021, 9823609, Table 2")
TOUCHDOWN = (("vertical_speed_m_s", "vertical speed", "m/s"), ("horizontal_speed_m_s", "horizontal speed", "m/s"),
             ("tilt_deg", "tilt", "deg"))
MARGIN_PERCENTILES = (1, 5, 50)


def workers_text(workers: object) -> str:
    """``1 worker``, ``2 workers``."""
    return f"{workers} worker" + ("" if workers == 1 else "s")


def wilson(successes: int, runs: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a success proportion."""
    if runs == 0:
        return 0.0, 1.0
    p = successes / runs
    denominator = 1.0 + z * z / runs
    centre = (p + z * z / (2 * runs)) / denominator
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Ellipse:
    mean: tuple[float, float]  # (crossrange, downrange) mean offset, m
    semi_axes: tuple[float, float]  # major, minor, m
    angle_deg: float  # of the major axis from +crossrange towards +downrange
    points: int


def dispersion_ellipse(cross: Sequence[float], down: Sequence[float], chi2: float = CHI2_2DOF_99) -> Ellipse | None:
    """The ellipse holding ``chi2``'s share of a 2-D normal fitted to the points (None under 3 points)."""
    if len(cross) < 3:
        return None
    points = np.array([cross, down], dtype=float)
    covariance = np.cov(points)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    major = vectors[:, 1]
    return Ellipse((float(points[0].mean()), float(points[1].mean())),
                   (math.sqrt(chi2 * max(values[1], 0.0)), math.sqrt(chi2 * max(values[0], 0.0))),
                   math.degrees(math.atan2(major[1], major[0])), len(cross))


def failures_by_cause(rows: Sequence[dict[str, Any]]) -> dict[str, list[int]]:
    tally: dict[str, list[int]] = {}
    for row in rows:
        if not row["success"]:
            tally.setdefault(str(row.get("cause")), []).append(int(row["seed"]))
    return dict(sorted(tally.items(), key=lambda item: (-len(item[1]), item[0])))


def values(rows: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [float(row[key]) for row in rows if isinstance(row.get(key), int | float)]


def percentiles(data: Sequence[float], which: Sequence[float]) -> dict[float, float]:
    return {p: float(np.percentile(np.array(data), p)) for p in which} if data else {}


def dispersion_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One table line per dispersion the rows recorded: its distribution and the values drawn."""
    from hil.rigs.campaign.dispersions import TABLE

    lines = []
    for dispersion in TABLE:
        data = values(rows, dispersion.name)
        if data:
            lines.append(f"| {dispersion.name} | {dispersion.distribution} | {min(data):.4g} | "
                         f"{float(np.mean(data)):.4g} | {max(data):.4g} |")
    return lines


def write_report(folder: Path, rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """Write ``campaign.md`` and its PNGs into ``folder``; returns the Markdown's path."""
    from hil.rigs.campaign.plots import plot_landing, plot_propellant, plot_touchdown

    runs, successes = len(rows), sum(bool(row["success"]) for row in rows)
    low, high = wilson(successes, runs)
    lines = [f"# Campaign: {meta.get('segment', '?')}, seed {meta.get('seed', '?')}, {runs} runs", ""]
    lines += [f"Flown by: {meta.get('flown_by', 'the flight software')}.",
              "Results file: `results.sqlite` (one row per seed); dispersions: docs/campaigns.md.", ""]
    walls = values(rows, "wall_s")
    if walls:
        lines += [f"Wall time per run: median {np.median(walls):.1f} s, max {max(walls):.1f} s; "
                  f"run wall times summed {sum(walls):.0f} s (one worker's time; CPU on an idle host, more "
                  "than CPU on a loaded one).", ""]
    if meta.get("throughput_per_hour"):
        lines += [f"Throughput of the last session: {meta['throughput_per_hour']:.0f} runs/hour on "
                  f"{workers_text(meta.get('workers'))} ({meta.get('session_wall_s', 0):.0f} s wall).", ""]
    lines += ["## Success", "",
              f"**{successes}/{runs} succeeded** ({successes / runs:.1%}); 95 % Wilson interval "
              f"[{low:.1%}, {high:.1%}].", "" if runs else "No runs yet.", ""]
    tally = failures_by_cause(rows)
    lines += ["## Failures by cause", ""]
    if tally:
        lines += ["| cause | runs | seeds (replay: `ilrs-hil campaign --replay SEED`) |", "|---|---|---|"]
        lines += [f"| {cause} | {len(seeds)} | {', '.join(map(str, seeds))} |" for cause, seeds in tally.items()]
    else:
        lines.append("None.")
    lines.append("")
    pictures = []
    landed = [row for row in rows if isinstance(row.get("vertical_speed_m_s"), int | float)]
    if landed:
        lines += ["## Touchdown", "", "| figure | min | p50 | p99 | max | limit | CE-5 flight |",
                  "|---|---|---|---|---|---|---|"]
        for key, name, unit in TOUCHDOWN:
            data = values(landed, key)
            if not data:
                continue
            p = percentiles(data, (50, 99))
            lines.append(f"| {name} ({unit}) | {min(data):.4f} | {p[50]:.4f} | {p[99]:.4f} | {max(data):.4f} | "
                         f"{LIMITS[key]} | {CE5[key]} |")
        lines += ["", f"Safety limits: the plant's touchdown limits; {CE5_SOURCE}.", ""]
        pictures.append(plot_touchdown(folder / "touchdown.png", landed))
        lines += ["![touchdown histograms](touchdown.png)", ""]
    cross, down = values(landed, "crossrange_error_m"), values(landed, "downrange_error_m")
    if len(cross) == len(down) and cross:
        ellipse = dispersion_ellipse(cross, down)
        errors = values(landed, "landing_error_m")
        lines += ["## Landing error", "",
                  f"Mean offset from the target: {np.mean(down):+.1f} m downrange, {np.mean(cross):+.1f} m crossrange "
                  f"({len(cross)} touchdowns); landing error median {np.median(errors):.0f} m, "
                  f"max {max(errors):.0f} m."]
        if ellipse is not None:
            lines.append(f"99 % dispersion ellipse (sample covariance, chi-square 2 dof {CHI2_2DOF_99}): semi-axes "
                         f"{ellipse.semi_axes[0]:.0f} m x {ellipse.semi_axes[1]:.0f} m, major axis "
                         f"{ellipse.angle_deg:.0f} deg from crossrange towards downrange, centred on the mean.")
        pictures.append(plot_landing(folder / "landing.png", cross, down, ellipse))
        lines += ["", "![landing points](landing.png)", ""]
    margin = values(rows, "propellant_remaining_kg")
    if margin:
        p = percentiles(margin, MARGIN_PERCENTILES)
        used = values(rows, "propellant_used_kg")
        lines += ["## Propellant margin", "",
                  "Propellant left in the tanks at the end of the run (all runs): "
                  + ", ".join(f"p{int(q)} {p[q]:.0f} kg" for q in MARGIN_PERCENTILES)
                  + f", min {min(margin):.0f} kg; used median {np.median(used):.0f} kg (CE-5 used "
                  f"{CE5['propellant_used_kg']:.0f} kg).", "", "![propellant margin](propellant.png)", ""]
        pictures.append(plot_propellant(folder / "propellant.png", margin, p))
    drawn = dispersion_lines(rows)
    if drawn:
        lines += ["## Dispersions drawn", "", "| dispersion | distribution | min | mean | max |",
                  "|---|---|---|---|---|", *drawn, "", "Sources of each: docs/campaigns.md.", ""]
    path = folder / "campaign.md"
    path.write_text("\n".join(lines))
    return path
