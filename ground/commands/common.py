"""What the subcommands share: exit codes, the text printer, the live session, confirmation."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from fsw.protocol.security import KeyFileError

from ..archive import Archive, parse_time
from ..client import Signer
from ..dictionary import Dictionary
from ..remote import LiveSession, RemoteSession
from ..session import GroundSession
from ..telemetry import Received, onboard_utc_text
from ..vehicles import VehicleRegistry
from ..wire import default_socket, server_from_environment

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCAL = 2
EXIT_NO_ANSWER = 3
EXIT_INTERRUPTED = 130

COLOURS = {"yellow": "\033[33m", "red": "\033[31m", "HIGH": "\033[31m", "MEDIUM": "\033[33m", "LOW": "\033[36m"}
RESET = "\033[0m"


def report_error(message: str) -> None:
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
        source = f"{d['vehicle']}:" if d.get("vehicle") else ""  # a relayed vehicle's (rover:ROVER_LEG)
        line = f"{onboard_utc_text(received.onboard_time)} {d['severity']:<6} {source}{d['name']}: {d['text']}"
        print(self._paint(d["severity"], line), file=self.out, flush=True)

    def event_log(self, received: Received) -> None:
        for entry in received.decoded["entries"]:
            severity = entry.get("severity", "?")
            line = f"{onboard_utc_text(entry['time'])} {severity:<6} {entry['name']}: {entry['text']} (from the log)"
            print(self._paint(severity, line), file=self.out, flush=True)


# --- sessions: a port of our own, or attached to the server ----------------------------------------

def attach_address(args: argparse.Namespace) -> str | None:
    """The server to attach to: ``--server``, else none when ``--port`` is given, else
    ``$ILRS_GROUND_SERVER``, else the default socket when a server listens there."""
    if getattr(args, "server", None):
        return str(args.server)
    if getattr(args, "port", None):
        return None
    from_environment = server_from_environment()
    if from_environment:
        return from_environment
    default = default_socket()
    return str(default) if default.exists() else None


async def server_archive(address: str, vehicle: str | None) -> str | None:
    """The archive file the server at ``address`` writes for the vehicle (None: it keeps none)."""
    session = RemoteSession(address, None, vehicle=vehicle, client_name="archive", subscribe=False)
    await session.open()
    try:
        return session.server_archive()
    finally:
        await session.close()


def open_session(args: argparse.Namespace, dictionary: Dictionary | None, *, kinds: list[str] | None = None,
                 subscribe: bool = True, snapshot: bool = False) -> LiveSession:
    """A session for a live subcommand. Attached to a server it subscribes to ``kinds`` (None: all;
    with ``--archive`` always all), replaying the newest values first when ``snapshot``."""
    archive = Archive(args.archive) if getattr(args, "archive", None) else None
    if getattr(args, "attach", None):
        if archive is not None:
            kinds, subscribe = None, True
        return RemoteSession(args.attach, dictionary, vehicle=args.vehicle, client_name=args.command,
                             archive=archive, kinds=kinds, subscribe=subscribe, snapshot=snapshot)
    assert dictionary is not None
    try:
        signer = Signer(args.keys, args.spi) if args.keys else None
    except KeyFileError as error:
        print(f"ilrs-ground: {error}", file=sys.stderr)
        sys.exit(2)
    return GroundSession(args.port, dictionary, baud=args.baud, link_delay=args.link_delay, archive=archive,
                         sequence_file=args.sequence_file, signer=signer, lock_role=f"ilrs-ground {args.command}",
                         vehicles=vehicle_registry(args, dictionary))


def vehicle_registry(args: argparse.Namespace, dictionary: Dictionary) -> VehicleRegistry:
    """The lander (this dictionary) and the rover it relays (``--rover-dictionary``, else the
    repository's rover dictionary when there is one)."""
    known = getattr(args, "vehicles", None)
    if isinstance(known, VehicleRegistry):
        return known
    return VehicleRegistry.default(dictionary, getattr(args, "rover_dictionary", None))


def confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        report_error(f"{question} needs confirmation: run interactively or pass --yes")
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")



def time_range(args: argparse.Namespace) -> tuple[float | None, float | None]:
    since = parse_time(args.since) if getattr(args, "since", None) else None
    until = parse_time(args.until) if getattr(args, "until", None) else None
    return since, until

