"""The ``ilrs-hil campaign`` command line: a campaign folder, its seeds, the engine, the report."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from hil.rigs.campaign.segments import SEGMENTS

RESULTS = "results.sqlite"
MANIFEST = "campaign.json"
FLOWN_BY = {
    "descent": "the flight software's powered descent (executive, topology, GNC component, device bus; afap clock) "
               "against the dispersed plant, `hil.rigs.flight_descent.fly`",
    "mission": "the whole `make run` rig (flight, plant and ground processes over ptys)",
    "ascent": "the whole `make run` rig, judged on its ascent, rendezvous and docking",
    "surface": "the whole `make run` rig, judged on its surface operations (sample aboard)",
}


def campaign_seeds(seed: int, runs: int) -> list[int]:
    """The runs' seeds, drawn from the campaign's: a longer campaign of the same seed extends a shorter one."""
    draw = random.Random(seed)
    return [draw.randrange(1, 2**31) for _ in range(runs)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="seed of the campaign (draws each run's seed)")
    parser.add_argument("--segment", choices=list(SEGMENTS), default="descent")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per CPU; with --scheduler: "
                        "wait for this many)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT (default: a "
                        "LocalCluster on this machine)")
    parser.add_argument("--out", type=Path, help="campaign folder (default build/campaign/SEGMENT-seedS); an "
                        "existing one is resumed")
    parser.add_argument("--replay", type=int, metavar="SEED", help="fly one run of the campaign again with its "
                        "telemetry and plots (descent)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _manifest(folder: Path, args: argparse.Namespace) -> str | None:
    """Write the campaign's identity, or say why this folder holds another campaign."""
    path = folder / MANIFEST
    mine = {"segment": args.segment, "seed": args.seed}
    if path.exists():
        theirs = json.loads(path.read_text())
        if {key: theirs.get(key) for key in mine} != mine:
            return f"{folder} holds the campaign {theirs}, not {mine}: choose another --out"
        mine["runs"] = max(int(theirs.get("runs", 0)), args.runs)
    else:
        mine["runs"] = args.runs
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(mine, indent=2) + "\n")
    return None


def run(args: argparse.Namespace) -> int:
    from hil.rigs.campaign.engine import run_campaign
    from hil.rigs.campaign.report import wilson, workers_text, write_report
    from hil.rigs.campaign.store import ResultsFile

    folder: Path = args.out or Path("build/campaign") / f"{args.segment}-seed{args.seed}"
    if args.replay is not None:
        return replay(args.replay, folder, args.segment)
    if args.runs < 1 or (args.workers is not None and args.workers < 1):
        print("ilrs-hil campaign: --runs and --workers must be at least 1", file=sys.stderr)
        return 2
    problem = _manifest(folder, args)
    if problem:
        print(f"ilrs-hil campaign: {problem}", file=sys.stderr)
        return 2
    seeds = campaign_seeds(args.seed, args.runs)
    try:
        engine = run_campaign(folder / RESULTS, seeds, SEGMENTS[args.segment], scheduler=args.scheduler,
                              workers=args.workers, progress=None if args.quiet else sys.stderr, label=args.segment)
    except KeyboardInterrupt:
        with ResultsFile(folder / RESULTS) as results:
            kept = len(results.done() & set(seeds))
        print(f"\ninterrupted: {kept}/{len(seeds)} runs are in {folder / RESULTS}; the same command resumes")
        return 130
    with ResultsFile(folder / RESULTS) as results:
        wanted = set(seeds)
        rows = [row for row in results.rows() if row["seed"] in wanted]
    meta: dict[str, Any] = {"segment": args.segment, "seed": args.seed, "flown_by": FLOWN_BY[args.segment],
                            "workers": engine.workers, "session_wall_s": engine.wall_s}
    if engine.flown:
        meta["throughput_per_hour"] = engine.flown / engine.wall_s * 3600.0
    report = write_report(folder, rows, meta)
    succeeded = sum(bool(row["success"]) for row in rows)
    low, high = wilson(succeeded, len(rows))
    print(f"{succeeded}/{len(rows)} succeeded (95 % Wilson interval {low:.1%}..{high:.1%}); flown now {engine.flown}, "
          f"already in the file {engine.skipped}, resubmitted {engine.resubmitted}, on {workers_text(engine.workers)} "
          f"in {engine.wall_s:.0f} s")
    for row in rows:
        if not row["success"]:
            print(f"  seed {row['seed']}: {row['cause']}  (replay: ilrs-hil campaign --replay {row['seed']} "
                  f"--out {folder})")
    if engine.lost:
        print(f"lost (their workers kept dying; run again to fly them): {engine.lost}")
    print(f"written: {folder / RESULTS}, {report}")
    return 0 if succeeded == len(rows) == len(seeds) else 1


def replay(seed: int, folder: Path, segment: str) -> int:
    from hil.rigs.campaign.replay import replay as fly_again

    if segment != "descent":
        print("ilrs-hil campaign: --replay flies descents (the mission rig keeps its own run folder)", file=sys.stderr)
        return 2
    result = fly_again(seed, folder)
    print(f"seed {seed}: {result.record.outcome()}")
    print(f"verdict: {'success' if result.row['success'] else 'FAILED: ' + str(result.row['cause'])}")
    print(f"written: {result.folder / 'replay.md'}, {result.folder / 'telemetry.json'}, {result.folder / 'gnc.png'}")
    return 0 if result.row["success"] else 1
