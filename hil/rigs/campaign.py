"""``ilrs-hil campaign --runs N --seed S [--workers W]``: Monte Carlo over powered descents.

Each run draws its own seed: dispersed initial state (orbit-determination errors), sensor noise,
engine performance (delivered thrust and exhaust velocity, 2.5 % 1-sigma: about +-5 % at 2 sigma)
and the hazard field of the terrain. Prints "K/N succeeded" and touchdown statistics, and writes
``campaign.json`` and a touchdown scatter PNG.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from hil.emulator.plant import PlantConfig
from hil.rigs.closed_loop import fly_descent

ENGINE_DISPERSION = 0.025  # 1 sigma


def one_run(seed: int) -> dict[str, Any]:
    config = replace(PlantConfig(), thrust_dispersion=ENGINE_DISPERSION, exhaust_velocity_dispersion=ENGINE_DISPERSION)
    run = fly_descent(seed, config)
    touchdown = run.touchdown
    result: dict[str, Any] = {"seed": seed, "final_phase": run.final_phase, "duration_s": run.duration_s,
                              "wall_s": run.wall_s, "success": bool(touchdown and touchdown.safe)}
    if touchdown is not None:
        result.update({
            "vertical_speed_m_s": touchdown.vertical_speed_m_s, "horizontal_speed_m_s": touchdown.horizontal_speed_m_s,
            "tilt_deg": touchdown.tilt_deg, "landing_error_m": touchdown.landing_error_m,
            "downrange_error_m": touchdown.downrange_m - run.plant.config.target_downrange_m,
            "crossrange_error_m": touchdown.crossrange_m - run.plant.config.target_crossrange_m,
            "propellant_used_kg": touchdown.propellant_used_kg, "hazards": list(touchdown.hazards),
        })
    return result


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    landed = [r for r in results if "vertical_speed_m_s" in r]
    stats: dict[str, Any] = {}
    for key in ("vertical_speed_m_s", "horizontal_speed_m_s", "tilt_deg", "landing_error_m", "propellant_used_kg",
                "duration_s"):
        values = [r[key] for r in landed]
        if values:
            stats[key] = {"min": min(values), "mean": statistics.fmean(values), "max": max(values)}
    return {"runs": len(results), "succeeded": sum(r["success"] for r in results), "statistics": stats}


def scatter(results: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    landed = [r for r in results if "downrange_error_m" in r]
    figure, axis = plt.subplots(figsize=(7, 6))
    points = axis.scatter([r["crossrange_error_m"] for r in landed], [r["downrange_error_m"] for r in landed],
                          c=[r["vertical_speed_m_s"] for r in landed], cmap="viridis",
                          marker="o", edgecolors=["red" if not r["success"] else "none" for r in landed])
    figure.colorbar(points, label="touchdown vertical speed [m/s]")
    axis.plot([0], [0], "k+", markersize=14, label="target")
    axis.set_xlabel("crossrange error [m]")
    axis.set_ylabel("downrange error [m]")
    axis.set_title(f"touchdown points, {sum(r['success'] for r in results)}/{len(results)} safe (red edge: unsafe)")
    axis.axis("equal")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    plt.close(figure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="seed of the campaign (draws each run's seed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("build/campaign"), help="folder for the JSON and PNG")


def run(args: argparse.Namespace) -> int:
    if args.runs < 1 or args.workers < 1:
        print("ilrs-hil campaign: --runs and --workers must be at least 1")
        return 2
    rng = random.Random(args.seed)
    seeds = [rng.randrange(1, 2**31) for _ in range(args.runs)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(one_run, seeds))
    summary = summarise(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "campaign.json").write_text(json.dumps({**summary, "seed": args.seed, "results": results},
                                                       indent=2) + "\n")
    scatter(results, args.out / "touchdowns.png")
    print(f"{summary['succeeded']}/{summary['runs']} succeeded")
    for key, value in summary["statistics"].items():
        print(f"  {key:22} min {value['min']:9.3f}  mean {value['mean']:9.3f}  max {value['max']:9.3f}")
    print(f"written: {args.out / 'campaign.json'}, {args.out / 'touchdowns.png'}")
    return 0 if summary["succeeded"] == summary["runs"] else 1
