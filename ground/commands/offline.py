"""Subcommands that work without the vehicle: dict, archive (record needs the port), plot and replay."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from ..archive import Archive, simulate_hk
from ..dictionary import Dictionary
from ..telemetry import Received, onboard_utc_text, utc_text
from .common import EXIT_FAILED, EXIT_OK, Printer, report_error, time_range
from .live import watch


def dict_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    if args.format == "json":
        text = json.dumps(dictionary.raw, indent=2) + "\n"
    elif args.format == "markdown":
        text = dictionary.to_markdown()
    else:
        from ..xtce import to_xtce

        text = to_xtce(dictionary)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


async def archive_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    action = args.action
    if action == "record":
        args.archive = args.db
        args.follow = True
        args.timeout = None
        counted = [0]

        def on_packet(received: Received) -> None:
            counted[0] += 1

        code = await watch(args, dictionary, on_packet, lambda: False)
        print(f"archived {counted[0]} packets into {args.db}")
        return code
    if action == "simulate":
        with Archive(args.db) as archive:
            started = time.perf_counter()
            packets = simulate_hk(archive, dictionary, int(args.hours * 3600), args.period)
            elapsed = time.perf_counter() - started
        size = sum(Path(str(args.db) + suffix).stat().st_size for suffix in ("", "-wal", "-shm")
                   if Path(str(args.db) + suffix).exists())
        per_day = size * 24.0 / args.hours
        print(f"{packets} HK packets ({len(dictionary.structures)} structures, {len(dictionary.points)} points, "
              f"every {args.period:g} s) over {args.hours:g} h: {size} octets; {per_day / 1e6:.1f} MB per day; "
              f"{size / max(packets, 1):.0f} octets per packet; written in {elapsed:.1f} s")
        return EXIT_OK
    with Archive(args.db, readonly=True) as archive:
        since, until = time_range(args)
        if action == "query":
            dictionary.point(args.point)
            spec = dictionary.points[args.point]
            rows = archive.query(args.point, since, until)
            for rx_time, onboard, value in rows:
                state = spec.limit_state(value)
                tag = f" [{state.upper()}]" if state != "ok" else ""
                print(f"{utc_text(rx_time)} {onboard_utc_text(onboard)} {args.point} = {spec.format(value)}{tag}")
            print(f"{len(rows)} samples", file=sys.stderr)
            return EXIT_OK
        if action == "export":
            exported = archive.export_csv(Path(args.csv), args.point or None, since, until)
            print(f"exported {exported} rows to {args.csv}")
            return EXIT_OK
        counts = archive.db.execute("SELECT kind, count(*) FROM packets GROUP BY kind ORDER BY kind").fetchall()
        span = archive.db.execute("SELECT min(rx_time), max(rx_time) FROM packets").fetchone()
        print(f"{archive.path}: {archive.count()} packets")
        for kind, count in counts:
            print(f"  {kind}: {count}")
        if span[0] is not None:
            print(f"  from {utc_text(span[0])} to {utc_text(span[1])}")
        return EXIT_OK


def plot_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from ..plot import plot_points

    for point in args.point:
        dictionary.point(point)
    since, until = time_range(args)
    with Archive(args.db, readonly=True) as archive:
        samples = plot_points(archive, dictionary, args.point, Path(args.out), since, until)
    if not samples:
        report_error(f"no samples of {', '.join(args.point)} in {args.db} for that time range: nothing written")
        return EXIT_FAILED
    print(f"plotted {samples} samples of {', '.join(args.point)} to {args.out}")
    return EXIT_OK


async def replay_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    printer = Printer(dictionary)
    since, until = time_range(args)
    kinds = {"tlm": ("hk",), "events": ("event", "event_log"), "all": ("hk", "event", "event_log")}[args.what]
    shown = 0
    previous: float | None = None
    with Archive(args.db, readonly=True) as archive:
        for received in archive.packets(since, until, kinds):
            if args.speed and previous is not None and received.rx_time > previous:
                await asyncio.sleep((received.rx_time - previous) / args.speed)
            previous = received.rx_time
            # Decode again from the raw octets with today's dictionary: the archive keeps the truth.
            from ..telemetry import decode_packet

            fresh = decode_packet(received.raw, dictionary, received.rx_time)
            if fresh.kind == "hk":
                printer.hk(fresh, args.points or None)
            elif fresh.kind == "event":
                printer.event(fresh)
            elif fresh.kind == "event_log":
                printer.event_log(fresh)
            shown += 1
    print(f"replayed {shown} packets", file=sys.stderr)
    return EXIT_OK if shown else EXIT_FAILED


