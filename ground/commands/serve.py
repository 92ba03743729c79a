"""``ilrs-ground serve``: the ground server (see :mod:`ground.server` and docs/ground-server.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from fsw.protocol.security import KeyFileError

from ..archive import Archive
from ..client import Signer
from ..dictionary import Dictionary
from ..server import GroundServer, ServerError
from ..session import DEFAULT_VEHICLE, GroundSession
from ..wire import PROTOCOL_VERSION, Address, WireError, default_socket
from .common import EXIT_LOCAL, EXIT_OK, report_error, vehicle_registry


def vehicle_ports(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(name, port) of every vehicle to serve; ``ValueError`` says what is wrong."""
    pairs: list[tuple[str, str]] = []
    for text in args.links:
        name, separator, port = text.partition("=")
        if not separator or not name or not port:
            raise ValueError(f"--link {text!r}: write NAME=PORT")
        pairs.append((name, port))
    if args.port:
        pairs.insert(0, (DEFAULT_VEHICLE, args.port))
    if not pairs:
        raise ValueError("serve needs --port PORT (one vehicle) or --link NAME=PORT (repeatable)")
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"vehicle name {repeated[0]!r} given twice")
    return pairs


def archive_paths(archive: Path | None, names: list[str]) -> dict[str, Path]:
    """One SQLite archive per vehicle: ``--archive ops.sqlite`` is used as is for one vehicle, and
    becomes ``ops-NAME.sqlite`` for each of several."""
    if archive is None:
        return {}
    if len(names) == 1:
        return {names[0]: archive}
    return {name: archive.with_name(f"{archive.stem}-{name}{archive.suffix}") for name in names}


async def serve_command(args: argparse.Namespace, dictionary: Dictionary) -> int:
    from ..cli import port_problem

    try:
        pairs = vehicle_ports(args)
        listen = [Address.parse(text) for text in args.listen] or [Address(path=str(default_socket()))]
    except (ValueError, WireError) as error:
        report_error(str(error))
        return EXIT_LOCAL
    for _, port in pairs:
        problem = port_problem(port)
        if problem:
            report_error(problem)
            return EXIT_LOCAL
    try:
        signer = Signer(args.keys, args.spi) if args.keys else None
    except KeyFileError as error:
        report_error(str(error))
        return EXIT_LOCAL
    archives = archive_paths(args.archive, [name for name, _ in pairs])
    sessions = [GroundSession(port, dictionary, baud=args.baud, link_delay=args.link_delay,
                              archive=Archive(archives[name]) if name in archives else None,
                              sequence_file=args.sequence_file, signer=signer, vehicle=name,
                              lock_role="ilrs-ground serve", lock_server=str(listen[0]),
                              vehicles=vehicle_registry(args, dictionary))
                for name, port in pairs]
    server = GroundServer(dictionary, sessions, listen, archives={name: str(path) for name, path in archives.items()})
    try:
        await server.start()
    except ServerError as error:
        report_error(str(error))
        return EXIT_LOCAL
    web = None
    page = ""
    if args.web:
        from ..web import start_web

        try:
            web = await start_web(server, args.web)
        except (OSError, ValueError) as error:
            await server.close()
            report_error(f"--web {args.web}: {error}")
            return EXIT_LOCAL
        host, port = web.sockets[0].getsockname()[:2]
        page = f"; read-only web page at http://{host}:{port}/"
    vehicles = ", ".join(f"{name} on {port}" for name, port in pairs)
    print(f"ilrs-ground serve: ready, serving {vehicles}; listening on {', '.join(map(str, listen))} "
          f"(protocol {PROTOCOL_VERSION}){page}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.duration)
    if web is not None:
        web.close()
    await server.close()
    print("ilrs-ground serve: stopped", file=sys.stderr, flush=True)
    return EXIT_OK
