"""``ilrs-fsw``: run the flight software, or export its dictionary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from fsw.clock import Clock, ClockError, ClockMode
from fsw.clock import run as run_on_clock


def _run(args: argparse.Namespace) -> int:
    from fsw.app import FlightConfig, run_flight, run_rover

    try:
        mode = ClockMode.parse(args.clock)
    except ClockError as error:
        print(f"ilrs-fsw: {error}", file=sys.stderr)
        return 2
    if not args.watchdog_timeout > 0:
        print(f"ilrs-fsw: watchdog timeout must be positive, got {args.watchdog_timeout}", file=sys.stderr)
        return 2
    from fsw.devices.platform import PlatformError, load_platform, load_watchdog

    try:
        load_platform(args.hal)
        if args.watchdog != "none":
            load_watchdog(args.watchdog)
    except PlatformError as error:
        print(f"ilrs-fsw: --hal/--watchdog: {error}", file=sys.stderr)
        return 2
    try:
        parameters = tuple(_parameter(item) for item in args.param)
    except ValueError as error:
        print(f"ilrs-fsw: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="fsw %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    config = FlightConfig(port=args.port, baud=args.baud, clock=args.clock, store=Path(args.store), hal=args.hal,
                          seed=args.seed, watchdog=args.watchdog, watchdog_timeout_s=args.watchdog_timeout,
                          keys=Path(args.keys) if args.keys else None, plant_port=args.plant_port,
                          mission=not args.no_mission, rover_port=args.rover_port,
                          hal_config=Path(args.hal_config) if args.hal_config else None, parameters=parameters)
    if config.keys is not None:
        from fsw.protocol.security import KeyFileError, KeyRing

        try:
            KeyRing.load(config.keys)
        except KeyFileError as error:
            print(f"ilrs-fsw: {error}", file=sys.stderr)
            return 2
    clock = Clock(mode)
    if args.vehicle == "rover":
        if not config.plant_port:
            print("ilrs-fsw: --vehicle rover needs --plant-port (the rover plant's device bus)", file=sys.stderr)
            return 2
        return run_on_clock(run_rover(config, clock), clock)
    return run_on_clock(run_flight(config, clock), clock)


ROVER_SECTION = "## Rover dictionary"


def icd_tables(lander: Any, rover: Any) -> str:
    """The ICD's generated region: the lander's tables, then the rover's under their own heading."""
    return (lander.dictionary.to_markdown(lander.apid).rstrip() + f"\n\n{ROVER_SECTION} (APID {rover.apid}, "
            "its own process, relayed by the lander)\n\n" + rover.dictionary.to_markdown(rover.apid))


def _dictionary(args: argparse.Namespace) -> int:
    from fsw.core.dictionary import splice_into_icd
    from fsw.rover.topology import rover_dictionary_vehicle
    from fsw.topology import dictionary_vehicle

    executive = rover_dictionary_vehicle() if args.vehicle == "rover" else dictionary_vehicle()
    if args.update_docs:
        docs = Path(args.update_docs)
        lander, rover = dictionary_vehicle(), rover_dictionary_vehicle()
        (docs / "dictionary.json").write_text(lander.dictionary.to_json(lander.apid))
        (docs / "dictionary-rover.json").write_text(rover.dictionary.to_json(rover.apid))
        icd = docs / "icd.md"
        icd.write_text(splice_into_icd(icd.read_text(), icd_tables(lander, rover)))
        print(f"updated {docs / 'dictionary.json'}, {docs / 'dictionary-rover.json'} and {icd}")
        return 0
    if args.format == "json":
        text = executive.dictionary.to_json(executive.apid)
    else:
        text = executive.dictionary.to_markdown(executive.apid)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ilrs-fsw", description="Lunar lander flight software")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the flight software on a serial port")
    run.add_argument("--vehicle", choices=("lander", "rover"), default="lander",
                     help="which vehicle's flight software: the lander (ground link on --port) or the rover "
                          "(proximity link to the lander on --port, its devices on --plant-port)")
    run.add_argument("--port", required=True, help="device path (/dev/ttyUSB0, a pty) or pyserial URL")
    run.add_argument("--rover-port", help="lander: the proximity radio to the rover (relay for its APID)")
    run.add_argument("--baud", type=int, default=115200)
    run.add_argument("--clock", default="realtime", help="realtime | scaled:K | afap")
    run.add_argument("--store", default="build/fsw-store.sqlite", help="persistent store (SQLite)")
    run.add_argument("--hal", default="emulator", metavar="PLATFORM",
                     help="device platform, by its registered name (this package: emulator, pi)")
    run.add_argument("--hal-config", metavar="TOML",
                     help="bench device selection for --hal pi (default: hil/pi/bench.toml)")
    run.add_argument("--seed", type=int, default=1, help="emulator seed")
    run.add_argument("--watchdog", default="emulator", metavar="KIND",
                     help="hardware watchdog: in-process emulator (restarts the process), none, or /dev/watchdog")
    run.add_argument("--watchdog-timeout", type=float, default=3.0,
                     help="watchdog timeout in wall-time seconds (x10 on the afap clock)")
    run.add_argument("--plant-port", help="the emulator plant's device bus (ilrs-hil plant); default: in-process")
    run.add_argument("--no-mission", action="store_true", help="executive and services only, no mission machines")
    run.add_argument("--keys", help="TOML key file ([[key]] spi, hex): every TC must then be signed")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter at start-up (VALUE in JSON: true, 2.5, \"text\"), repeatable")
    run.add_argument("-v", "--verbose", action="store_true", help="log events to stderr")
    run.set_defaults(handler=_run)
    dictionary = commands.add_parser("dictionary", help="export the command/telemetry/event/parameter dictionary")
    dictionary.add_argument("--format", choices=("json", "markdown"), default="json")
    dictionary.add_argument("--vehicle", choices=("lander", "rover"), default="lander",
                            help="whose dictionary (--update-docs writes both: dictionary.json, dictionary-rover.json)")
    dictionary.add_argument("--output", help="write to this file instead of standard output")
    dictionary.add_argument("--update-docs", nargs="?", const="docs", metavar="DOCS",
                            help="regenerate DOCS/dictionary.json and the tables in DOCS/icd.md (default docs/)")
    dictionary.set_defaults(handler=_dictionary)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


def _parameter(item: str) -> tuple[str, Any]:
    name, sep, text = item.partition("=")
    if not name or not sep:
        raise ValueError(f"--param {item!r}: expected NAME=VALUE")
    try:
        return name, json.loads(text)
    except json.JSONDecodeError:
        return name, text


if __name__ == "__main__":
    sys.exit(main())

