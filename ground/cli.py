"""``ilrs-ground``: the operator's command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import serial

from ground.client import GroundClient


def _port_problem(port: str) -> str | None:
    if "://" in port:
        return None
    if not os.path.exists(port):
        return f"port {port} does not exist"
    return None


async def _ping(args: argparse.Namespace) -> int:
    client = GroundClient(args.port, args.baud)
    try:
        await client.open()
    except (serial.SerialException, OSError) as error:
        print(f"ilrs-ground: cannot open {args.port}: {error}", file=sys.stderr)
        return 2
    completed = 0
    round_trips: list[float] = []
    try:
        for index in range(args.count):
            record, rtt = await client.ping(args.timeout)
            stages = ",".join(stage.subtype.name.lower() for stage in record.stages) or "no verification"
            if rtt is not None and record.completed:
                completed += 1
                round_trips.append(rtt)
                print(f"ping {index + 1}: seq={record.tc.seq_count} rtt={rtt * 1e3:.1f} ms [{stages}]")
            else:
                failure = record.failure
                reason = f" failed: {failure.reason}" if failure else " no answer"
                print(f"ping {index + 1}: seq={record.tc.seq_count}{reason} [{stages}]")
            if index + 1 < args.count:
                await asyncio.sleep(args.interval)
    finally:
        await client.close()
    summary = f"{completed}/{args.count} pings completed"
    if round_trips:
        summary += (f", rtt min/avg/max = {min(round_trips) * 1e3:.1f}/"
                    f"{sum(round_trips) / len(round_trips) * 1e3:.1f}/{max(round_trips) * 1e3:.1f} ms")
    print(summary)
    if completed == 0:
        print(f"ilrs-ground: nothing answered on {args.port}", file=sys.stderr)
    return 0 if completed == args.count else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ilrs-ground", description="Ground console for the lunar lander")
    parser.add_argument("--port", required=True, help="device path or pyserial URL")
    parser.add_argument("--baud", type=int, default=115200)
    commands = parser.add_subparsers(dest="command", required=True)
    ping = commands.add_parser("ping", help="PUS 17,1 are-you-alive round trips")
    ping.add_argument("--count", type=int, default=3)
    ping.add_argument("--interval", type=float, default=0.2, help="seconds between pings")
    ping.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")
    ping.set_defaults(handler=_ping)
    args = parser.parse_args(argv)
    problem = _port_problem(args.port)
    if problem:
        print(f"ilrs-ground: {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
