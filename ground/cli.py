"""``ilrs-ground``: the operator's command line.

Exit codes: 0 success; 1 the vehicle rejected or failed the request (or a procedure failed);
2 a local error (usage, unknown command, bad argument, missing port or dictionary); 3 nothing
answered in time; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

import serial

from fsw.protocol import VerificationReport
from fsw.protocol.security import KeyFileError

from .archive import Archive, ArchiveError, parse_time, simulate_hk
from .client import GroundClient, Signer
from .dictionary import ArgumentError, Dictionary, DictionaryError
from .sequence import PersistentSequence, default_sequence_file
from .session import CommandEntry, GroundSession, PortError, ReplaySession, scaled_timeout, stage_text
from .telemetry import Received, onboard_utc_text, utc_text

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCAL = 2
EXIT_NO_ANSWER = 3
EXIT_INTERRUPTED = 130

COLOURS = {"yellow": "\033[33m", "red": "\033[31m", "HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m"}
RESET = "\033[0m"


def _port_problem(port: str) -> str | None:
    if "://" in port:
        return None
    if not os.path.exists(port):
        return f"port {port} does not exist"
    return None


def _error(message: str) -> None:
    print(f"ilrs-ground: {message}", file=sys.stderr)


class Printer:
    """Telemetry and events as text lines; ANSI colour only on a terminal."""

    def __init__(self, dictionary: Dictionary, out: TextIO | None = None, colour: bool | None = None) -> None:
        self.dictionary = dictionary
        self.out = out or sys.stdout
        self.colour = self.out.isatty() if colour is None else colour

    def _paint(self, key: str, text: str) -> str:
        return f"{COLOURS[key]}{text}{RESET}" if self.colour and key in COLOURS else text

    def point_line(self, name: str, value: Any, onboard_time: float | None) -> str:
        spec = self.dictionary.points.get(name)
        shown = spec.format(value) if spec else str(value)
        state = spec.limit_state(value) if spec else "ok"
        tag = f" [{state.upper()}]" if state != "ok" else ""
        return self._paint(state, f"{onboard_utc_text(onboard_time)} {name} = {shown}{tag}")

    def hk(self, received: Received, points: list[str] | None) -> None:
        values = received.decoded["values"]
        for name in sorted(values):
            if points and name not in points:
                continue
            print(self.point_line(name, values[name], received.onboard_time), file=self.out, flush=True)

    def event(self, received: Received) -> None:
        d = received.decoded
        line = f"{onboard_utc_text(received.onboard_time)} {d['severity']:<6} {d['name']}: {d['text']}"
        print(self._paint(d["severity"], line), file=self.out, flush=True)

    def event_log(self, received: Received) -> None:
        for entry in received.decoded["entries"]:
            print(f"{onboard_utc_text(entry['time'])} log    {entry['name']}: {entry['text']}", file=self.out,
                  flush=True)


# --- ping --------------------------------------------------------------------------------------

async def _ping(args: argparse.Namespace) -> int:
    client = GroundClient(args.port, args.baud)
    client.sequence = PersistentSequence(args.sequence_file)  # type: ignore[assignment]
    try:
        await client.open()
    except (serial.SerialException, OSError) as error:
        _error(f"cannot open {args.port}: {error}")
        return EXIT_LOCAL
    timeout = args.timeout if args.timeout is not None else scaled_timeout(5.0, args.link_delay)
    completed = 0
    round_trips: list[float] = []
    try:
        for index in range(args.count):
            record, rtt = await client.ping(timeout)
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
        _error(f"nothing answered on {args.port}")
        return EXIT_NO_ANSWER
    return EXIT_OK if completed == args.count else EXIT_FAILED


# --- live sessions -----------------------------------------------------------------------------

def _session(args: argparse.Namespace, dictionary: Dictionary) -> GroundSession:
    archive = Archive(args.archive) if args.archive else None
    try:
        signer = Signer(args.keys, args.spi) if args.keys else None
    except KeyFileError as error:
        print(f"ilrs-ground: {error}", file=sys.stderr)
        sys.exit(2)
    return GroundSession(args.port, dictionary, baud=args.baud, link_delay=args.link_delay, archive=archive,
                         sequence_file=args.sequence_file, signer=signer)


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        _error(f"{question} needs confirmation: run interactively or pass --yes")
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


async def _send(args: argparse.Namespace, dictionary: Dictionary) -> int:
    spec = dictionary.command(args.name)
    values = spec.parse(args.args)
    label = " ".join([spec.name, *(f"{a.name}={v}" for a, v in zip(spec.args, values, strict=True))])
    if spec.critical and not _confirm(f"{label} is CRITICAL (arm then fire). Send it?", args.yes):
        print(f"{label}: not sent")
        return EXIT_LOCAL
    async with _session(args, dictionary) as session:
        timeout = args.timeout if args.timeout is not None else session.timeout()

        def on_stage(entry: CommandEntry, phase: str, report: VerificationReport) -> None:
            prefix = f"{phase}: " if phase else ""
            print(f"{label}: {prefix}{stage_text(report)}", flush=True)

        print(f"{label}: sent{' (critical: arm, then fire)' if spec.critical else ''}; "
              f"in flight, waiting up to {timeout:.1f} s", flush=True)
        entry = await session.command(spec.name, values, timeout=timeout, on_stage=on_stage)
        status = entry.status
        print(f"{label}: => {status}")
        if entry.ok:
            return EXIT_OK
        if status in ("timed out", "arm timed out"):
            _error(f"no verification from {args.port} within {timeout:.1f} s")
            return EXIT_NO_ANSWER
        return EXIT_FAILED


async def _watch(args: argparse.Namespace, dictionary: Dictionary,
                 on_packet: Callable[[Received], None], done: Callable[[], bool],
                 on_open: Callable[[GroundSession], Awaitable[int | None]] | None = None) -> int:
    """Run a session, feeding each packet to ``on_packet``, until ``done()`` or the time is up."""
    async with _session(args, dictionary) as session:
        session.add_listener(on_packet)
        if on_open is not None:
            code = await on_open(session)
            if code is not None:
                return code
        loop = asyncio.get_running_loop()
        first_wait = args.timeout if args.timeout is not None else session.timeout(3.0)
        limit = args.duration if args.follow else first_wait
        start = loop.time()
        while not done():
            elapsed = loop.time() - start
            if limit is not None and elapsed >= limit:
                break
            if session.packets == 0 and elapsed >= first_wait:
                break
            step = 0.1 if limit is None else max(0.0, min(0.1, limit - elapsed))
            await session.wait_for_packet(step)
        if session.packets == 0:
            _error(f"nothing answered on {args.port} within {first_wait:.1f} s")
            return EXIT_NO_ANSWER
        return EXIT_OK


async def _tlm(args: argparse.Namespace, dictionary: Dictionary) -> int:
    for point in args.points:
        dictionary.point(point)
    printer = Printer(dictionary)
    if args.follow:
        def on_packet(received: Received) -> None:
            if received.kind == "hk":
                printer.hk(received, args.points)

        return await _watch(args, dictionary, on_packet, lambda: False)
    # A snapshot asks for one-shot reports (3,27): whatever was queued in the link before is older,
    # so the values seen when the request completes are fresh.
    wanted = sorted({dictionary.points[p].structure for p in args.points} or set(dictionary.structures))
    async with _session(args, dictionary) as session:
        timeout = args.timeout if args.timeout is not None else session.timeout()
        record = session.client.send(3, 27, wanted)
        await session.client.wait(record, timeout)
        if not record.completed:
            failure = record.failure
            if failure is not None:
                _error(f"one-shot housekeeping request {stage_text(failure)}")
                return EXIT_FAILED
            _error(f"nothing answered on {args.port} within {timeout:.1f} s")
            return EXIT_NO_ANSWER
        latest = session.state.latest
        names = args.points or sorted(name for name, point in dictionary.points.items() if point.structure in wanted)
        names += [name for name in sorted(latest) if not args.points and name not in dictionary.points]
        for name in names:
            sample = latest.get(name)
            if sample is None:
                print(f"{name}: no value received")
            else:
                print(printer.point_line(name, sample.value, sample.onboard_time))
    return EXIT_OK


async def _events(args: argparse.Namespace, dictionary: Dictionary) -> int:
    printer = Printer(dictionary)
    count = [0]

    def on_packet(received: Received) -> None:
        if received.kind == "event":
            count[0] += 1
            printer.event(received)
        elif received.kind == "event_log":
            printer.event_log(received)

    async def ask_for_log(session: GroundSession) -> int | None:
        # The on-board log (5,130) holds what happened while nobody listened.
        entry = await session.command("EVENT_LOG_DUMP", [args.log])
        if entry.ok:
            return None
        _error(f"EVENT_LOG_DUMP: {entry.status}")
        return EXIT_NO_ANSWER if entry.status == "timed out" else EXIT_FAILED

    code = await _watch(args, dictionary, on_packet, lambda: False,
                        ask_for_log if args.log is not None else None)
    if code == EXIT_OK and count[0] == 0 and args.log is None:
        print("no events received")
    return code


async def _params(args: argparse.Namespace, dictionary: Dictionary) -> int:
    """PUS 20,1 (report) or, with NAME=VALUE words, 20,3 (set, checked locally first)."""
    setting = [word for word in args.names if "=" in word]
    if setting and len(setting) != len(args.names):
        raise ArgumentError("give either names to report or NAME=VALUE pairs to set, not both")
    pairs: list[list[Any]] = []
    for word in setting:
        name, text = word.split("=", 1)
        spec = dictionary.parameter(name)
        pairs.append([spec.id, spec.as_arg().parse(text)])
    ids = [dictionary.parameter(name).id for name in args.names] if not setting else []
    reports: list[dict[str, Any]] = []

    def on_packet(received: Received) -> None:
        if received.kind == "parameters":
            reports.append(received.decoded["values"])

    async with _session(args, dictionary) as session:
        session.add_listener(on_packet)
        timeout = args.timeout if args.timeout is not None else session.timeout()
        record = session.client.send(20, 3, pairs) if setting else session.client.send(20, 1, ids)
        async for report in record.stages_until_done(timeout):
            print(f"{'set' if setting else 'report'}: {stage_text(report)}", flush=True)
        if not record.completed:
            if record.failure is None:
                _error(f"no verification from {args.port} within {timeout:.1f} s")
                return EXIT_NO_ANSWER
            return EXIT_FAILED
    units = {p.name: p.unit for p in dictionary.parameters.values()}
    for values in reports:
        for name, value in values.items():
            print(f"{name} = {value}{' ' + units[name] if units.get(name) else ''}")
    return EXIT_OK


# --- procedures and console ----------------------------------------------------------------

async def _run(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from .procedure import run_procedure_file

    async with _session(args, dictionary) as session:
        return await run_procedure_file(session, Path(args.procedure), interactive=args.interactive)


async def _console(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from .console import GroundConsole

    if args.replay:
        since, until = _time_range(args)
        replay = ReplaySession(dictionary, Archive(args.replay, readonly=True), speed=args.speed, since=since,
                               until=until)
        try:
            await GroundConsole(replay).run_async()
        finally:
            await replay.close()
        return EXIT_OK
    async with _session(args, dictionary) as session:
        app = GroundConsole(session)
        await app.run_async()
    return EXIT_OK


# --- offline: dictionary, archive, plot, replay --------------------------------------------

def _dict(args: argparse.Namespace, dictionary: Dictionary) -> int:
    if args.format == "json":
        text = json.dumps(dictionary.raw, indent=2) + "\n"
    elif args.format == "markdown":
        text = dictionary.to_markdown()
    else:
        from .xtce import to_xtce

        text = to_xtce(dictionary)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _time_range(args: argparse.Namespace) -> tuple[float | None, float | None]:
    since = parse_time(args.since) if getattr(args, "since", None) else None
    until = parse_time(args.until) if getattr(args, "until", None) else None
    return since, until


async def _archive(args: argparse.Namespace, dictionary: Dictionary) -> int:
    action = args.action
    if action == "record":
        if not args.port:
            _error("archive record needs --port")
            return EXIT_LOCAL
        args.archive = args.db
        args.follow = True
        args.timeout = None
        counted = [0]

        def on_packet(received: Received) -> None:
            counted[0] += 1

        code = await _watch(args, dictionary, on_packet, lambda: False)
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
        since, until = _time_range(args)
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
            rows = archive.export_csv(Path(args.csv), args.point or None, since, until)
            print(f"exported {rows} rows to {args.csv}")
            return EXIT_OK
        counts = archive.db.execute("SELECT kind, count(*) FROM packets GROUP BY kind ORDER BY kind").fetchall()
        span = archive.db.execute("SELECT min(rx_time), max(rx_time) FROM packets").fetchone()
        print(f"{archive.path}: {archive.count()} packets")
        for kind, count in counts:
            print(f"  {kind}: {count}")
        if span[0] is not None:
            print(f"  from {utc_text(span[0])} to {utc_text(span[1])}")
        return EXIT_OK


def _plot(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from .plot import plot_points

    for point in args.point:
        dictionary.point(point)
    since, until = _time_range(args)
    with Archive(args.db, readonly=True) as archive:
        samples = plot_points(archive, dictionary, args.point, Path(args.out), since, until)
    print(f"plotted {samples} samples of {', '.join(args.point)} to {args.out}")
    return EXIT_OK if samples else EXIT_FAILED


async def _replay(args: argparse.Namespace, dictionary: Dictionary) -> int:
    printer = Printer(dictionary)
    since, until = _time_range(args)
    kinds = {"tlm": ("hk",), "events": ("event", "event_log"), "all": ("hk", "event", "event_log")}[args.what]
    shown = 0
    previous: float | None = None
    with Archive(args.db, readonly=True) as archive:
        for received in archive.packets(since, until, kinds):
            if args.speed and previous is not None and received.rx_time > previous:
                await asyncio.sleep((received.rx_time - previous) / args.speed)
            previous = received.rx_time
            # Decode again from the raw octets with today's dictionary: the archive keeps the truth.
            from .telemetry import decode_packet

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


# --- parser ----------------------------------------------------------------------------------

LIVE = {"ping", "send", "tlm", "events", "params", "run", "console"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ilrs-ground", description="Ground console for the lunar lander (see docs/operations.md)",
        epilog="exit codes: 0 done; 1 the vehicle rejected or failed it (or a procedure failed); 2 local error "
               "(usage, unknown name, bad argument, missing port or dictionary); 3 nothing answered in time; "
               "130 interrupted")
    parser.add_argument("--port", help="device path or pyserial URL (commands that talk to the vehicle)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--dictionary", type=Path, default=None,
                        help="dictionary JSON exported by ilrs-fsw (default: docs/dictionary.json in the repository)")
    parser.add_argument("--link-delay", type=float, default=0.0, metavar="S",
                        help="one-way light time in seconds; default timeouts grow by 2*S*1.5")
    parser.add_argument("--archive", type=Path, metavar="DB",
                        help="archive every received packet into this SQLite file while connected")
    parser.add_argument("--keys", type=Path, metavar="FILE",
                        help="sign every TC with this TOML key file (the vehicle runs with --keys)")
    parser.add_argument("--spi", type=int, help="security parameter index to sign with (default: the lowest)")
    parser.add_argument("--sequence-file", type=Path, default=default_sequence_file(), metavar="FILE",
                        help="TC sequence counts reserved across runs (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    ping = commands.add_parser("ping", help="PUS 17,1 are-you-alive round trips")
    ping.add_argument("--count", type=int, default=3)
    ping.add_argument("--interval", type=float, default=0.2, help="seconds between pings")
    ping.add_argument("--timeout", type=float, default=None, help="seconds to wait for each answer")
    ping.set_defaults(handler=_ping, needs_dictionary=False)

    send = commands.add_parser("send", help="send a dictionary command and follow its verification")
    send.add_argument("name", help="command name (see: ilrs-ground dict)")
    send.add_argument("args", nargs="*", metavar="ARG=VALUE")
    send.add_argument("--timeout", type=float, default=None, help="seconds to wait for completion")
    send.add_argument("--yes", action="store_true", help="send a critical command without asking")
    send.set_defaults(handler=_send)

    for name, handler, text in (("tlm", _tlm, "housekeeping values with units and limit state"),
                                ("events", _events, "event reports with severity and text")):
        sub = commands.add_parser(name, help=text)
        if name == "tlm":
            sub.add_argument("points", nargs="*", metavar="POINT")
        sub.add_argument("--follow", "-f", action="store_true", help="keep printing as packets arrive")
        sub.add_argument("--duration", type=float, default=None, help="with --follow: stop after this many seconds")
        sub.add_argument("--timeout", type=float, default=None, help="seconds to wait for the vehicle")
        if name == "events":
            sub.add_argument("--log", type=int, metavar="N", default=None,
                             help="first download the newest N entries of the on-board event log (0: all)")
        sub.set_defaults(handler=handler)

    params = commands.add_parser("params", help="report on-board parameters (20,1), or set NAME=VALUE (20,3)")
    params.add_argument("names", nargs="*", metavar="NAME[=VALUE]")
    params.add_argument("--timeout", type=float, default=None)
    params.set_defaults(handler=_params)

    archive = commands.add_parser("archive", help="record, query and export the telemetry archive")
    archive.add_argument("--db", type=Path, required=True, help="archive SQLite file")
    actions = archive.add_subparsers(dest="action", required=True)
    record = actions.add_parser("record", help="archive everything received on --port")
    record.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
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
    simulate.add_argument("--hours", type=float, default=24.0)
    simulate.add_argument("--period", type=float, default=1.0, help="HK period per structure in seconds")
    archive.set_defaults(handler=_archive)

    plot = commands.add_parser("plot", help="plot archived points to a PNG")
    plot.add_argument("--db", type=Path, required=True)
    plot.add_argument("--point", action="append", required=True)
    plot.add_argument("--since")
    plot.add_argument("--until")
    plot.add_argument("--out", required=True, type=Path)
    plot.set_defaults(handler=_plot)

    run = commands.add_parser("run", help="run a procedure file")
    run.add_argument("procedure", type=Path)
    run.add_argument("--interactive", action=argparse.BooleanOptionalAction, default=None,
                     help="ask the operator at prompts (default: when standard input is a terminal)")
    run.set_defaults(handler=_run)

    dictionary = commands.add_parser("dict", help="show or export the dictionary")
    dictionary.add_argument("--format", choices=("json", "markdown", "xtce"), default="markdown")
    dictionary.add_argument("--output", type=Path)
    dictionary.set_defaults(handler=_dict)

    replay = commands.add_parser("replay", help="print archived telemetry and events")
    replay.add_argument("--db", type=Path, required=True)
    replay.add_argument("--what", choices=("tlm", "events", "all"), default="all")
    replay.add_argument("--point", dest="points", action="append", default=[])
    replay.add_argument("--since")
    replay.add_argument("--until")
    replay.add_argument("--speed", type=float, default=0.0, help="pace at this multiple of real time (0: no pacing)")
    replay.set_defaults(handler=_replay)

    console = commands.add_parser("console", help="full-screen console (live, or --replay an archive)")
    console.add_argument("--replay", type=Path, metavar="DB", help="show an archive instead of a live vehicle")
    console.add_argument("--speed", type=float, default=0.0, help="replay pace, multiple of real time (0: at once)")
    console.add_argument("--since")
    console.add_argument("--until")
    console.set_defaults(handler=_console)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in LIVE and not getattr(args, "replay", None):
        if not args.port:
            _error(f"{args.command} needs --port")
            return EXIT_LOCAL
        problem = _port_problem(args.port)
        if problem:
            _error(problem)
            return EXIT_LOCAL
    try:
        if getattr(args, "needs_dictionary", True):
            dictionary = Dictionary.load(args.dictionary)
            result: Any = args.handler(args, dictionary)
        else:
            result = args.handler(args)
        if isinstance(result, Awaitable):
            result = asyncio.run(_awaited(result))
        return int(result)
    except (ArgumentError, DictionaryError, ArchiveError, PortError) as error:
        _error(str(error))
        return EXIT_LOCAL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (``| head``) went away: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


async def _awaited(result: Awaitable[int]) -> int:
    return await result


if __name__ == "__main__":
    sys.exit(main())
