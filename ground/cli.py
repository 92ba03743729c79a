"""``ilrs-ground``: the operator's command line.

Exit codes: 0 success; 1 the vehicle rejected or failed the request (or a procedure failed);
2 a local error (usage, unknown command, bad argument, missing port or dictionary); 3 nothing
answered in time; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from .archive import ArchiveError
from .commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCAL,
    EXIT_NO_ANSWER,
    EXIT_OK,
    Printer,
    attach_address,
    report_error,
    server_archive,
)
from .commands.live import (
    console_command,
    events_command,
    params_command,
    ping_command,
    run_command,
    send_command,
    tlm_command,
)
from .commands.offline import archive_command, dict_command, plot_command, replay_command
from .commands.serve import serve_command
from .dictionary import ArgumentError, Dictionary, DictionaryError
from .sequence import default_sequence_file
from .session import PortError
from .vehicles import VehicleRegistry, qualified_command

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_LOCAL", "EXIT_NO_ANSWER", "EXIT_OK", "Printer", "build_parser",
           "main"]


def port_problem(port: str) -> str | None:
    if "://" in port:
        return None
    if not os.path.exists(port):
        return f"port {port} does not exist"
    return None


LIVE = {"ping", "send", "tlm", "events", "params", "run", "console"}


def _number(kind: type[int] | type[float], low: float, inclusive: bool, what: str) -> Any:
    """An argparse type refusing numbers outside their sense (a negative delay, a zero count)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value != value or value < low or (value == low and not inclusive):  # NaN too
            raise argparse.ArgumentTypeError(f"{text} must be {what}")
        return value

    return parse


positive = _number(float, 0.0, False, "greater than 0")
non_negative = _number(float, 0.0, True, "0 or more")
positive_count = _number(int, 1, True, "at least 1")
non_negative_count = _number(int, 0, True, "0 or more")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ilrs-ground", description="Ground console for the lunar lander (see docs/operations.md)",
        epilog="exit codes: 0 done; 1 the vehicle rejected or failed it (or a procedure failed); 2 local error "
               "(usage, unknown name, bad argument, missing port or dictionary); 3 nothing answered in time; "
               "130 interrupted")
    parser.add_argument("--port", help="device path or pyserial URL: talk to the vehicle directly (the port is "
                                       "locked while in use)")
    parser.add_argument("--server", metavar="ADDR",
                        help="attach to `ilrs-ground serve` at this socket path or tcp://HOST:PORT (default: "
                             "$ILRS_GROUND_SERVER, else the default socket when no --port is given)")
    parser.add_argument("--vehicle", metavar="NAME", help="with a server of several vehicles: which one")
    parser.add_argument("--baud", type=positive_count, default=115200)
    parser.add_argument("--dictionary", type=Path, default=None,
                        help="dictionary JSON exported by ilrs-fsw (default: docs/dictionary.json in the repository)")
    parser.add_argument("--rover-dictionary", type=Path, default=None, metavar="FILE",
                        help="the rover's dictionary (ilrs-fsw dictionary --vehicle rover; default: "
                             "docs/dictionary-rover.json); its commands are sent as rover:COMMAND")
    parser.add_argument("--link-delay", type=non_negative, default=0.0, metavar="S",
                        help="one-way light time in seconds; default timeouts grow by 2*S*1.5")
    parser.add_argument("--archive", type=Path, metavar="DB",
                        help="archive every received packet into this SQLite file while connected")
    parser.add_argument("--keys", type=Path, metavar="FILE",
                        help="sign every TC with this TOML key file (the vehicle runs with --keys)")
    parser.add_argument("--spi", type=int, help="security parameter index to sign with (default: the lowest)")
    parser.add_argument("--sequence-file", type=Path, default=default_sequence_file(), metavar="FILE",
                        help="TC sequence counts reserved across runs (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="own the ports, archive and command queue; every tool attaches here",
                                description="One process per ground station: owns each vehicle's port (locked), "
                                            "archives, follows verification, queues commands and checks limits; "
                                            "the tools attach with --server (see docs/ground-server.md)")
    serve.add_argument("--link", dest="links", action="append", default=[], metavar="NAME=PORT",
                       help="a vehicle and its port (repeat for several); --port P alone serves one vehicle "
                            "named 'vehicle'")
    serve.add_argument("--listen", action="append", default=[], metavar="ADDR",
                       help="socket path or tcp://HOST:PORT to listen on (repeatable; default: the default socket)")
    serve.add_argument("--web", metavar="HOST:PORT", help="also serve a read-only web page here")
    serve.add_argument("--duration", type=positive, default=None, help="stop after this many seconds")
    serve.set_defaults(handler=serve_command)

    ping = commands.add_parser("ping", help="PUS 17,1 are-you-alive round trips")
    ping.add_argument("target", nargs="?", default=None, metavar="VEHICLE",
                      help="the vehicle to ping: lander (default), rover (relayed by the lander), or an APID")
    ping.add_argument("--count", type=positive_count, default=3)
    ping.add_argument("--interval", type=non_negative, default=0.2, help="seconds between pings")
    ping.add_argument("--timeout", type=positive, default=None, help="seconds to wait for each answer")
    ping.set_defaults(handler=ping_command, needs_dictionary=False)

    send = commands.add_parser("send", help="send a dictionary command and follow its verification")
    send.add_argument("name", type=qualified_command, metavar="[VEHICLE:]NAME",
                      help="command name (see: ilrs-ground dict); rover:NAME for the rover's, relayed by the "
                           "lander (a vehicle is named, or given by its APID: 120:NAME)")
    send.add_argument("args", nargs="*", metavar="ARG=VALUE")
    send.add_argument("--timeout", type=positive, default=None, help="seconds to wait for completion")
    send.add_argument("--yes", action="store_true", help="send a critical command without asking")
    send.set_defaults(handler=send_command)

    for name, handler, text in (("tlm", tlm_command, "housekeeping values with units and limit state"),
                                ("events", events_command, "event reports with severity and text")):
        sub = commands.add_parser(name, help=text)
        if name == "tlm":
            sub.add_argument("points", nargs="*", metavar="POINT")
        sub.add_argument("--follow", "-f", action="store_true", help="keep printing as packets arrive")
        sub.add_argument("--duration", type=positive, default=None, help="with --follow: stop after this many seconds")
        sub.add_argument("--timeout", type=positive, default=None, help="seconds to wait for the vehicle")
        if name == "events":
            sub.add_argument("--log", type=non_negative_count, metavar="N", default=None,
                             help="first download the newest N entries of the on-board event log (0: all)")
        sub.set_defaults(handler=handler)

    params = commands.add_parser("params", help="report on-board parameters (20,1), or set NAME=VALUE (20,3)")
    params.add_argument("names", nargs="*", metavar="[VEHICLE:]NAME[=VALUE]",
                        help="rover:NAME for the rover's parameters (rover: alone reports them all)")
    params.add_argument("--timeout", type=positive, default=None)
    params.set_defaults(handler=params_command)

    archive = commands.add_parser("archive", help="record, query and export the telemetry archive")
    archive.add_argument("--db", type=Path, help="archive SQLite file (default: the attached server's)")
    actions = archive.add_subparsers(dest="action", required=True)
    record = actions.add_parser("record", help="archive everything received on --port")
    record.add_argument("--duration", type=positive, default=None, help="stop after this many seconds")
    record.set_defaults(follow=True)
    query = actions.add_parser("query", help="one point's samples")
    query.add_argument("--point", required=True)
    export = actions.add_parser("export", help="write CSV: packets, or samples of --point")
    export.add_argument("--csv", required=True, type=Path)
    export.add_argument("--point", action="append", default=[])
    for sub in (query, export):
        sub.add_argument("--since", help="ISO 8601 (UTC), Unix seconds, now, or -10m/-2h/-1d")
        sub.add_argument("--until")
    actions.add_parser("info", help="packets by kind and time span")
    simulate = actions.add_parser("simulate", help="fill the archive with synthetic HK (size measurement)")
    simulate.add_argument("--hours", type=positive, default=24.0)
    simulate.add_argument("--period", type=positive, default=1.0, help="HK period per structure in seconds")
    archive.set_defaults(handler=archive_command)

    plot = commands.add_parser("plot", help="plot archived points to a PNG")
    plot.add_argument("--db", type=Path, help="archive SQLite file (default: the attached server's)")
    plot.add_argument("--point", action="append", required=True)
    plot.add_argument("--since")
    plot.add_argument("--until")
    plot.add_argument("--out", required=True, type=Path)
    plot.set_defaults(handler=plot_command)

    run = commands.add_parser("run", help="run a procedure file")
    run.add_argument("procedure", type=Path)
    run.add_argument("--interactive", action=argparse.BooleanOptionalAction, default=None,
                     help="ask the operator at prompts (default: when standard input is a terminal)")
    run.set_defaults(handler=run_command)

    dictionary = commands.add_parser("dict", help="show or export the dictionary")
    dictionary.add_argument("--format", choices=("json", "markdown", "xtce"), default="markdown")
    dictionary.add_argument("--output", type=Path)
    dictionary.set_defaults(handler=dict_command)

    replay = commands.add_parser("replay", help="print archived telemetry and events")
    replay.add_argument("--db", type=Path, help="archive SQLite file (default: the attached server's)")
    replay.add_argument("--what", choices=("tlm", "events", "all"), default="all")
    replay.add_argument("--point", dest="points", action="append", default=[])
    replay.add_argument("--since")
    replay.add_argument("--until")
    replay.add_argument("--speed", type=non_negative, default=0.0,
                        help="pace at this multiple of real time (0: no pacing)")
    replay.set_defaults(handler=replay_command)

    console = commands.add_parser("console", help="full-screen console (live, or --replay an archive)")
    console.add_argument("--replay", type=Path, metavar="DB", help="show an archive instead of a live vehicle")
    console.add_argument("--speed", type=non_negative, default=0.0,
                         help="replay pace, multiple of real time (0: at once)")
    console.add_argument("--since")
    console.add_argument("--until")
    console.set_defaults(handler=console_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        dictionary = Dictionary.load(args.dictionary) if getattr(args, "needs_dictionary", True) else None
        if args.command == "send" and dictionary is not None:
            # A mistyped vehicle, name or argument is reported before anything is opened.
            args.vehicles = VehicleRegistry.default(dictionary, args.rover_dictionary)
            target, name = args.vehicles.split(args.name)
            target.dictionary.command(name).parse(args.args)
        problem = _port_problem(args) or _archive_problem(args)
        if problem:
            report_error(problem)
            return EXIT_LOCAL
        result: Any = args.handler(args) if dictionary is None else args.handler(args, dictionary)
        if isinstance(result, Awaitable):
            result = asyncio.run(_awaited(result))
        return int(result)
    except (ArgumentError, DictionaryError, ArchiveError, PortError) as error:
        report_error(str(error))
        return EXIT_LOCAL
    except KeyboardInterrupt:
        in_flight = getattr(args, "in_flight", None)
        if in_flight:
            report_error(f"interrupted: {in_flight} was sent and may still be executing on board; its "
                         "verification goes on in the archive and in `ilrs-ground events`")
        else:
            report_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (``| head``) went away: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _port_problem(args: argparse.Namespace) -> str | None:
    args.attach = None
    if args.port and args.server:
        return "give --port (a port of this tool's own) or --server (attach to a server), not both"
    recording = args.command == "archive" and args.action == "record"
    if (args.command not in LIVE and not recording) or getattr(args, "replay", None):
        return None
    args.attach = attach_address(args)
    if args.attach:
        if args.keys:
            return "--keys belongs to the server when attached (ilrs-ground --keys FILE ... serve)"
        return None
    if not args.port:
        return (f"{args.command} needs --port, or a server to attach to (ilrs-ground --port P serve; "
                "then --server ADDR or $ILRS_GROUND_SERVER)")
    return port_problem(args.port)


def _archive_problem(args: argparse.Namespace) -> str | None:
    """``--db`` may be left out of plot, replay and archive queries: the server's archive is read."""
    if args.command not in ("plot", "replay", "archive") or args.db is not None:
        return None
    if getattr(args, "action", None) in ("record", "simulate"):
        return f"archive {args.action} needs --db"
    address = attach_address(args)
    if address is None:
        return f"{args.command} needs --db DB (or a running server, whose archive it reads)"
    try:
        path = asyncio.run(server_archive(address, args.vehicle))
    except PortError as error:
        return str(error)
    if path is None:
        return "the server keeps no archive (ilrs-ground --archive DB ... serve): give --db"
    args.db = Path(path)
    return None


async def _awaited(result: Awaitable[int]) -> int:
    return await result


if __name__ == "__main__":
    sys.exit(main())
