"""``ilrs-hil``: hardware-in-the-loop bench tools, one argparse subcommand per tool.

To add a subcommand, write ``add_<name>_command(subparsers)`` that creates its parser and sets
``handler`` (a function ``(argparse.Namespace) -> int``), and add it to ``COMMANDS`` under its name.
Import the tool's module inside the function: a run of one tool builds only its own parser, so that
one tool's imports do not slow down the others (``make run`` starts several of these processes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

Subparsers = Any  # argparse's _SubParsersAction is private


def add_link_command(subparsers: Subparsers) -> None:
    from hil.link import command

    parser = subparsers.add_parser(
        "link",
        help="pty null-modem bridge with delay, UART pacing, frame loss, bit errors and outages",
        description="Create two ptys, publish them as symlinks A and B, and bridge them like a null-modem "
        "cable with seeded impairment. Prints a ready line once the symlinks exist and counters on exit.",
    )
    command.add_arguments(parser)
    parser.set_defaults(handler=command.run)


def add_bench_check_command(subparsers: Subparsers) -> None:
    from hil import bench_check

    parser = subparsers.add_parser(
        "bench-check",
        help="toggle and read back every bench line, probe the I2C chips, loop back a UART",
        description="Check the Raspberry Pi bench wiring against its TOML configuration; prints a pass/fail "
        "table and exits 1 on any failure. Off the Pi, GPIOZERO_PIN_FACTORY=mock gives mock pins.",
    )
    bench_check.add_arguments(parser)
    parser.set_defaults(handler=bench_check.run)


def add_plant_command(subparsers: Subparsers) -> None:
    from hil import plant_process

    parser = subparsers.add_parser(
        "plant",
        help="the emulator plant (lander truth model and devices) on a serial device bus",
        description="Answer the flight software's device bus step requests on PORT; the plant advances only "
        "when stepped, so a seeded run is deterministic.",
    )
    plant_process.add_arguments(parser)
    parser.set_defaults(handler=plant_process.run)


def add_rover_plant_command(subparsers: Subparsers) -> None:
    from hil import rover_process

    parser = subparsers.add_parser(
        "rover-plant", help="the rover plant (terrain, rover truth and devices) and its proximity radio link",
        description=rover_process.__doc__)
    rover_process.add_arguments(parser)
    parser.set_defaults(handler=rover_process.run)


def add_scenario_command(subparsers: Subparsers) -> None:
    from hil.rigs import scenarios

    parser = subparsers.add_parser("scenario", help="replay a real landing or rover anomaly and check the response",
                                   description=scenarios.__doc__)
    scenarios.add_arguments(parser)
    parser.set_defaults(handler=scenarios.run)


def add_campaign_command(subparsers: Subparsers) -> None:
    from hil.rigs import campaign

    parser = subparsers.add_parser("campaign", help="Monte Carlo over dispersed powered descents",
                                   description=campaign.__doc__)
    campaign.add_arguments(parser)
    parser.set_defaults(handler=campaign.run)


COMMANDS: dict[str, Callable[[Subparsers], None]] = {
    "plant": add_plant_command, "rover-plant": add_rover_plant_command, "scenario": add_scenario_command,
    "campaign": add_campaign_command, "link": add_link_command, "bench-check": add_bench_check_command,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or only of ``command`` (a name in ``COMMANDS``)."""
    parser = argparse.ArgumentParser(prog="ilrs-hil", description="Hardware-in-the-loop bench tools.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add_command in COMMANDS.items():
        if command is None or name == command:
            add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(chosen).parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
