"""``ilrs-hil link``: publish two pty ends as symlinks and bridge them with impairment until signalled."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from typing import TextIO, TypeVar

from .bridge import NullModemBridge, PtyPair
from .impairment import ImpairmentConfig

T = TypeVar("T")

READY_PREFIX = "link ready:"
STATS_PREFIX = "link stats"


def _per_direction(convert: Callable[[str], T]) -> Callable[[str], tuple[T, T]]:
    """Argument type for ``X`` (both directions) or ``X,Y`` (A->B, then B->A)."""

    def parse(text: str) -> tuple[T, T]:
        parts = text.split(",")
        if len(parts) == 1:
            value = convert(parts[0])
            return value, value
        if len(parts) == 2:
            return convert(parts[0]), convert(parts[1])
        raise argparse.ArgumentTypeError(f"expected VALUE or A2B,B2A, got {text!r}")

    parse.__name__ = convert.__name__
    return parse


def _baud(text: str) -> int | None:
    return None if text.lower() in ("", "none", "0") else int(text)


def _optional_seconds(text: str) -> float | None:
    return None if text.lower() in ("", "none", "0") else float(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--a", required=True, metavar="PATH", help="symlink to create for end A")
    parser.add_argument("--b", required=True, metavar="PATH", help="symlink to create for end B")
    impair = parser.add_argument_group(
        "impairment", "each takes VALUE for both directions or A2B,B2A for each direction"
    )
    impair.add_argument(
        "--delay", type=_per_direction(float), default=(0.0, 0.0), metavar="S",
        help="one-way delay in seconds (Earth-Moon light time ~1.28 s)",
    )
    impair.add_argument(
        "--baud", type=_per_direction(_baud), default=(None, None), metavar="N",
        help="pace delivery like an 8N1 UART at N bit/s (10 bit times per octet)",
    )
    impair.add_argument(
        "--loss", type=_per_direction(float), default=(0.0, 0.0), metavar="P",
        help="probability of dropping each COBS frame (0x00-delimited) whole",
    )
    impair.add_argument(
        "--ber", type=_per_direction(float), default=(0.0, 0.0), metavar="R",
        help="bit error rate: probability each data bit is flipped",
    )
    impair.add_argument(
        "--outage-every", type=_per_direction(_optional_seconds), default=(None, None), metavar="S",
        help="start an outage every S seconds, counted from start-up",
    )
    impair.add_argument(
        "--outage-length", type=_per_direction(float), default=(0.0, 0.0), metavar="S",
        help="length of each outage in seconds; everything on the wire then is lost",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for loss, bit errors (default: random)")


def configs_from_args(args: argparse.Namespace) -> tuple[ImpairmentConfig, ImpairmentConfig]:
    def one(index: int) -> ImpairmentConfig:
        return ImpairmentConfig(
            delay=args.delay[index],
            baud=args.baud[index],
            loss=args.loss[index],
            ber=args.ber[index],
            outage_every=args.outage_every[index],
            outage_length=args.outage_length[index] if args.outage_every[index] is not None else 0.0,
        )

    return one(0), one(1)


def format_counters(counters: dict[str, dict[str, int]]) -> list[str]:
    return [
        f"{STATS_PREFIX} {direction}: " + " ".join(f"{name}={value}" for name, value in values.items())
        for direction, values in counters.items()
    ]


async def serve(
    a_path: str,
    b_path: str,
    a_to_b: ImpairmentConfig,
    b_to_a: ImpairmentConfig,
    seed: int | None,
    out: TextIO,
) -> dict[str, dict[str, int]]:
    """Bridge until SIGINT, SIGTERM or SIGHUP; symlinks exist only while this runs.

    Meant as the main of a process: it leaves those signals ignored when it returns, so that the
    caller can print the counters. In-process users want ``NullModemBridge`` instead.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    with PtyPair() as a, PtyPair() as b:
        bridge = NullModemBridge(a, b, a_to_b, b_to_a, seed=seed)
        bridge.start()
        try:
            a.publish(a_path)
            b.publish(b_path)
            print(f"{READY_PREFIX} A={a_path} B={b_path} ({a.slave_name} <-> {b.slave_name})", file=out, flush=True)
            await stop.wait()
        finally:
            bridge.stop()
            for signum in signals:
                loop.remove_signal_handler(signum)
                # A second signal must not kill the process before the symlinks are gone and the
                # counters printed.
                signal.signal(signum, signal.SIG_IGN)
        return bridge.counters()


def run(args: argparse.Namespace) -> int:
    try:
        a_to_b, b_to_a = configs_from_args(args)
    except ValueError as error:
        print(f"ilrs-hil link: {error}", file=sys.stderr)
        return 2
    try:
        counters = asyncio.run(serve(args.a, args.b, a_to_b, b_to_a, args.seed, sys.stdout))
    except OSError as error:
        print(f"ilrs-hil link: {error}", file=sys.stderr)
        return 1
    for line in format_counters(counters):
        print(line, flush=True)
    return 0
