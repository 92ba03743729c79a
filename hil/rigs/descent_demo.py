"""Fly one seeded powered descent closed-loop and print the phases and touchdown figures.

.venv/bin/python -m hil.rigs.descent_demo --seed 1 [--fault vikram] [--hazard-at-target]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from hil.emulator.plant import PlantConfig, with_faults
from hil.rigs.closed_loop import fly_descent

FAULTS: dict[str, dict[str, object]] = {
    "beresheet": {"imu_glitch_altitude_m": 14_000.0},
    "luna25": {"accelerometer_stuck_off": True},
    "im1": {"altimeter_never_enabled": True},
    "slim": {"thrust_loss_altitude_m": 50.0, "thrust_loss_fraction": 0.3},
    "vikram": {"thrust_scale": 1.1},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault", choices=sorted(FAULTS), help="inject a real-mission anomaly")
    parser.add_argument("--hazard-at-target", action="store_true", help="boulder field on the planned target")
    parser.add_argument("--no-crater", action="store_true", help="remove the crater under the ground track")
    parser.add_argument("--quiet-nav", action="store_true", help="hide navigation sub-events")
    args = parser.parse_args(argv)

    cfg = PlantConfig()
    terrain = cfg.terrain_config()
    if args.hazard_at_target or args.no_crater:
        terrain = replace(terrain, hazard_at_target=args.hazard_at_target, crater=not args.no_crater)
        cfg = replace(cfg, terrain=terrain)
    if args.fault:
        cfg = with_faults(cfg, **FAULTS[args.fault])

    run = fly_descent(args.seed, cfg)
    for t, name, detail in sorted(run.events, key=lambda e: e[0]):
        if args.quiet_nav and name == "altimeter_readmitted":
            continue
        print(f"T+{t:7.1f} s  {name:30s} {detail}")
    print()
    td = run.touchdown
    if td is None:
        print(f"no touchdown: final phase {run.final_phase}")
    else:
        verdict = "SAFE" if td.safe else "UNSAFE"
        print(f"touchdown  T+{td.t:.1f} s, {run.duration_s:.1f} s ({run.duration_s / 60:.1f} min) after ignition  "
              f"{verdict}")
        print(f"  vertical speed    {td.vertical_speed_m_s:6.2f} m/s   (CE-5: 1.99)")
        print(f"  horizontal speed  {td.horizontal_speed_m_s:6.3f} m/s  (CE-5: 0.0085)")
        print(f"  tilt              {td.tilt_deg:6.2f} deg   ground slope {td.ground_slope_deg:.1f} deg")
        print(f"  hazards           {', '.join(td.hazards) or 'none'}")
        print(f"  landing error     {td.landing_error_m:6.0f} m from the planned target")
        print(f"  propellant used   {td.propellant_used_kg:6.0f} kg  (CE-5: 1898)")
        print(f"  cutoff height     {run.true_height_at_cutoff_m or float('nan'):6.2f} m (truth)")
    print(f"wall time {run.wall_s:.2f} s, trajectory digest {run.digest[:16]}")
    return 0 if td is not None and td.safe else 1


if __name__ == "__main__":
    sys.exit(main())
