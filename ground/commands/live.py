"""Subcommands that talk to the vehicle: ping, send, tlm, events, params, run (a procedure) and console."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import serial

from fsw.protocol import VerificationReport

from ..archive import Archive
from ..client import GroundClient
from ..dictionary import ArgumentError, Dictionary
from ..portlock import PortError
from ..remote import LiveSession
from ..sequence import PersistentSequence
from ..session import CommandEntry, ReplaySession, scaled_timeout, stage_text
from ..telemetry import Received
from ..vehicles import Vehicle, VehicleRegistry, split_vehicle_name
from .common import (
    EXIT_FAILED,
    EXIT_LOCAL,
    EXIT_NO_ANSWER,
    EXIT_OK,
    Printer,
    confirm,
    open_session,
    report_error,
    time_range,
    vehicle_registry,
)


def ping_target(args: argparse.Namespace) -> tuple[str | None, int | None]:
    """The vehicle ``ilrs-ground ping [VEHICLE]`` pings: (its name, its APID), or (None, None) for
    the vehicle on the link (the lander, the default). A relayed vehicle is named or given by APID
    (``UnknownVehicleError`` for one the ground does not know)."""
    if args.target is None:
        return None, None
    registry = VehicleRegistry.default(Dictionary.load(args.dictionary), args.rover_dictionary)
    target = registry.get(args.target)
    if target.apid == registry.own.apid:
        return None, None
    return target.name, target.apid


async def ping_command(args: argparse.Namespace) -> int:
    vehicle, apid = ping_target(args)
    if args.attach:
        session = open_session(args, None, subscribe=False)
        await session.open()
        where = session.port
    else:
        client = GroundClient(args.port, args.baud, lock_role="ilrs-ground ping")
        client.sequence = PersistentSequence(args.sequence_file)  # type: ignore[assignment]
        try:
            await client.open()
        except PortError:
            raise
        except (serial.SerialException, OSError) as error:
            report_error(f"cannot open {args.port}: {error}")
            return EXIT_LOCAL
        where = args.port
    if vehicle is not None:
        where = f"{vehicle} (APID {apid}) through {where}"
    if args.timeout is not None:
        timeout = args.timeout
    else:  # attached, the server's light time counts
        timeout = session.timeout() if args.attach else scaled_timeout(5.0, args.link_delay)
    completed = 0
    round_trips: list[float] = []
    try:
        for index in range(args.count):
            if args.attach:
                entry, rtt = await session.ping(timeout, vehicle=vehicle)
                record = entry.fire
                assert record is not None
            else:
                record, rtt = await client.ping(timeout, apid)
            stages = ",".join(stage.subtype.name.lower() for stage in record.stages) or "no verification"
            if rtt is not None and record.completed:
                completed += 1
                round_trips.append(rtt)
                print(f"ping {index + 1}: {vehicle + ' ' if vehicle else ''}seq={record.tc.seq_count} "
                      f"rtt={rtt * 1e3:.1f} ms [{stages}]")
            else:
                failure = record.failure
                reason = f" failed: {failure.reason}" if failure else " no answer"
                print(f"ping {index + 1}: seq={record.tc.seq_count}{reason} [{stages}]")
            if index + 1 < args.count:
                await asyncio.sleep(args.interval)
    finally:
        await (session.close() if args.attach else client.close())
    summary = f"{completed}/{args.count} pings completed"
    if round_trips:
        summary += (f", rtt min/avg/max = {min(round_trips) * 1e3:.1f}/"
                    f"{sum(round_trips) / len(round_trips) * 1e3:.1f}/{max(round_trips) * 1e3:.1f} ms")
    print(summary)
    if completed == 0:
        report_error(f"nothing answered on {where}")
        return EXIT_NO_ANSWER
    return EXIT_OK if completed == args.count else EXIT_FAILED


async def send_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    registry = vehicle_registry(args, dictionary)
    target, name = registry.split(args.name)
    spec = target.dictionary.command(name)
    values = spec.parse(args.args)
    label = " ".join([spec.name, *(f"{a.name}={v}" for a, v in zip(spec.args, values, strict=True))])
    relayed = target.apid != dictionary.apid
    if relayed:
        label = f"{target.name}:{label}"
    if spec.critical and not confirm(f"{label} is CRITICAL (arm then fire). Send it?", args.yes):
        print(f"{label}: not sent")
        return EXIT_LOCAL
    async with open_session(args, dictionary, subscribe=False) as session:
        timeout = args.timeout if args.timeout is not None else session.timeout()

        def on_stage(entry: CommandEntry, phase: str, report: VerificationReport) -> None:
            prefix = f"{phase}: " if phase else ""
            print(f"{label}: {prefix}{stage_text(report)}", flush=True)

        runs_for = spec.expected_duration(values)
        running = f" + {runs_for:g} s running on board" if runs_for else ""
        print(f"{label}: sent{' (critical: arm, then fire)' if spec.critical else ''}; "
              f"in flight, waiting up to {timeout:.1f} s{running}", flush=True)
        # Read by the interrupt handler: what an operator's Ctrl-C leaves on its way.
        args.in_flight = label
        entry = await session.command(f"{target.name}:{spec.name}" if relayed else spec.name, values,
                                      timeout=timeout, on_stage=on_stage)
        args.in_flight = None
        status = entry.status
        print(f"{label}: => {status}")
        if entry.ok:
            return EXIT_OK
        if status in ("timed out", "arm timed out"):
            report_error(f"no verification from {session.port} within {timeout:.1f} s")
            return EXIT_NO_ANSWER
        if status.startswith("completion not seen"):
            report_error(f"{label} started but its completion was not seen; it may still be running on board "
                         "(watch `ilrs-ground events`)")
            return EXIT_NO_ANSWER
        return EXIT_FAILED


async def watch(args: argparse.Namespace, dictionary: Dictionary,
                 on_packet: Callable[[Received], None], done: Callable[[], bool],
                 on_open: Callable[[LiveSession], Awaitable[int | None]] | None = None,
                 kinds: list[str] | None = None, relayed: bool = False) -> int:
    """Run a session, feeding each packet to ``on_packet``, until ``done()`` or the time is up;
    with ``relayed``, the relayed vehicles' packets (the rover's) too."""
    async with open_session(args, dictionary, kinds=kinds) as session:
        session.add_listener(on_packet)
        for vehicle in getattr(session, "relayed", {}).values() if relayed else ():
            vehicle.state.listeners.append(on_packet)
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
        if getattr(session, "lost", ""):
            report_error(f"lost the server: {session.lost}")  # type: ignore[union-attr]
            return EXIT_NO_ANSWER
        if session.packets == 0:
            report_error(f"nothing answered on {session.port} within {first_wait:.1f} s")
            return EXIT_NO_ANSWER
        return EXIT_OK


async def tlm_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    for point in args.points:
        dictionary.point(point)
    printer = Printer(dictionary)
    if args.follow:
        def on_packet(received: Received) -> None:
            if received.kind == "hk":
                printer.hk(received, args.points)

        return await watch(args, dictionary, on_packet, lambda: False, kinds=["hk"])
    # A snapshot asks for one-shot reports (3,27): whatever was queued in the link before is older,
    # so the values seen when the request completes are fresh.
    wanted = sorted({dictionary.points[p].structure for p in args.points} or set(dictionary.structures))
    async with open_session(args, dictionary, kinds=["hk"]) as session:
        timeout = args.timeout if args.timeout is not None else session.timeout()
        entry = await session.request(3, 27, wanted, timeout=timeout)
        if not entry.ok:
            failure = entry.fire.failure if entry.fire is not None else None
            if failure is not None:
                report_error(f"one-shot housekeeping request {stage_text(failure)}")
                return EXIT_FAILED
            report_error(f"nothing answered on {session.port} within {timeout:.1f} s")
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


async def events_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    printer = Printer(dictionary)
    count = [0]

    def on_packet(received: Received) -> None:
        if received.kind == "event":
            count[0] += 1
            printer.event(received)
        elif received.kind == "event_log":
            printer.event_log(received)

    async def ask_for_log(session: LiveSession) -> int | None:
        # The on-board log (5,130) holds what happened while nobody listened.
        entry = await session.command("EVENT_LOG_DUMP", [args.log])
        if entry.ok:
            return None
        report_error(f"EVENT_LOG_DUMP: {entry.status}")
        return EXIT_NO_ANSWER if entry.status == "timed out" else EXIT_FAILED

    code = await watch(args, dictionary, on_packet, lambda: False,
                        ask_for_log if args.log is not None else None, kinds=["event", "event_log"], relayed=True)
    if code == EXIT_OK and count[0] == 0 and args.log is None:
        print("no events received")
    return code


async def params_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    """PUS 20,1 (report) or, with NAME=VALUE words, 20,3 (set, checked locally first)."""
    registry = vehicle_registry(args, dictionary)
    target, words = params_vehicle(registry, args.names)
    relayed = target.apid != registry.own.apid
    setting = [word for word in words if "=" in word]
    if setting and len(setting) != len(words):
        raise ArgumentError("give either names to report or NAME=VALUE pairs to set, not both")
    pairs: list[list[Any]] = []
    for word in setting:
        name, text = word.split("=", 1)
        spec = target.dictionary.parameter(name)
        pairs.append([spec.id, spec.as_arg().parse(text)])
    ids = [target.dictionary.parameter(name).id for name in words] if not setting else []
    reports: list[dict[str, Any]] = []

    def on_packet(received: Received) -> None:
        if received.kind == "parameters":
            reports.append(received.decoded["values"])

    async with open_session(args, dictionary, kinds=["parameters"]) as session:
        if relayed:
            relayed_vehicle = getattr(session, "relayed", {}).get(target.apid)
            if relayed_vehicle is None:
                report_error(f"{session.port} does not relay the {target.name}")
                return EXIT_LOCAL
            relayed_vehicle.state.listeners.append(on_packet)
        else:
            session.add_listener(on_packet)
        timeout = args.timeout if args.timeout is not None else session.timeout()

        def on_stage(entry: CommandEntry, phase: str, report: VerificationReport) -> None:
            print(f"{target.name + ' ' if relayed else ''}{'set' if setting else 'report'}: {stage_text(report)}",
                  flush=True)

        entry = await session.request(20, *((3, pairs) if setting else (1, ids)), timeout=timeout, on_stage=on_stage,
                                      vehicle=target.name if relayed else None)
        if not entry.ok:
            if entry.fire is None or entry.fire.failure is None:
                report_error(f"no verification from {session.port} within {timeout:.1f} s")
                return EXIT_NO_ANSWER
            return EXIT_FAILED
    units = {p.name: p.unit for p in target.dictionary.parameters.values()}
    for values in reports:
        for name, value in values.items():
            print(f"{name} = {value}{' ' + units[name] if units.get(name) else ''}")
    return EXIT_OK


def params_vehicle(registry: VehicleRegistry, words: list[str]) -> tuple[Vehicle, list[str]]:
    """The vehicle ``params`` addresses and its bare words: ``rover:NAME[=VALUE]`` names the rover's
    parameters (a lone ``rover:`` reports them all); every word addresses the same vehicle."""
    targets = set()
    bare: list[str] = []
    for word in words:
        vehicle, name = split_vehicle_name(word)
        targets.add(registry.get(vehicle).name if vehicle is not None else registry.own.name)
        if name:
            bare.append(name)
    if len(targets) > 1:
        raise ArgumentError(f"params addresses one vehicle at a time, not {', '.join(sorted(targets))}")
    return (registry.get(targets.pop()) if targets else registry.own), bare


# --- procedures and console ----------------------------------------------------------------

async def run_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from ..procedure import run_procedure_file

    async with open_session(args, dictionary, snapshot=True) as session:
        return await run_procedure_file(session, Path(args.procedure), interactive=args.interactive)


async def console_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from ..console import GroundConsole

    if args.replay:
        since, until = time_range(args)
        replay = ReplaySession(dictionary, Archive(args.replay, readonly=True), speed=args.speed, since=since,
                               until=until)
        try:
            await GroundConsole(replay).run_async()
        finally:
            await replay.close()
        return EXIT_OK
    async with open_session(args, dictionary, snapshot=True) as session:
        app = GroundConsole(session)
        await app.run_async()
    return EXIT_OK


