"""A session attached to ``ilrs-ground serve``: the same face as :class:`GroundSession` (telemetry
state, history, ``command``, ``request``, ``ping``), so every tool, procedure and the console work
either on a port of their own or through the server, where others see the same packets and the
same verification. A vehicle the attached one relays (the rover) comes with it, as on a port: its
packets in its own table (``relayed``), its alarms, and ``rover:NAME`` commands checked with its
dictionary (the server's welcome carries it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import Any

from .archive import Archive
from .dictionary import ArgumentError, Dictionary, DictionaryError
from .history import DEFAULT_COMMAND_TIMEOUT_S, CommandEntry, StageCallback, scaled_timeout
from .portlock import PortError
from .session import RECENT_EVENTS, GroundSession, LinkStatus, RelayedVehicle
from .telemetry import Received, TelemetryState
from .vehicles import SEPARATOR, Vehicle, VehicleRegistry
from .wire import (
    PROTOCOL_VERSION,
    Address,
    WireError,
    alarms_from,
    decode,
    dictionary_digest,
    encode,
    link_from,
    mirror_entry,
    received_from,
)

log = logging.getLogger("ground.remote")

WELCOME_TIMEOUT_S = 10.0


class ServerError(PortError):
    """The server cannot be reached, refused us, or went away."""


class MirroredState(TelemetryState):
    """Latest values as the server's packets bring them; limit alarms are the server's (so that an
    acknowledgement by one operator is seen by all)."""

    def __init__(self, dictionary: Dictionary, acknowledge: Callable[[str | None], None]) -> None:
        super().__init__(dictionary)
        self._send_acknowledge = acknowledge

    def _judge(self, name: str, value: Any, state: str, now: float) -> None:
        return  # the server judges

    def acknowledge(self, point: str | None = None) -> list[str]:
        self._send_acknowledge(point)
        names = [point] if point is not None else list(self.alarms)
        done = [name for name in names if name in self.alarms]
        for name in done:
            self.alarms[name].acknowledged = True  # shown at once; the server's word follows
        return done


class _Request:
    def __init__(self, on_stage: StageCallback | None, on_entry: Callable[[CommandEntry], None] | None) -> None:
        self.on_stage = on_stage
        self.on_entry = on_entry
        self.reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pong: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.entry: CommandEntry | None = None


class RemoteSession:
    read_only = False

    def __init__(self, address: Address | str, dictionary: Dictionary | None = None, *, vehicle: str | None = None,
                 client_name: str = "client", archive: Archive | None = None,
                 kinds: list[str] | None = None, subscribe: bool = True, snapshot: bool = True) -> None:
        self.address = Address.parse(address) if isinstance(address, str) else address
        self.dictionary = dictionary or Dictionary(apid=0)  # the server sends its own
        self._local_dictionary = dictionary
        self.vehicle = vehicle or ""
        self.client_name = client_name
        self.archive = archive
        self.kinds, self.subscribe, self.snapshot = kinds, subscribe, snapshot
        self.state = MirroredState(self.dictionary, self._acknowledge)
        self.vehicles = VehicleRegistry([Vehicle(self.vehicle or "vehicle", self.dictionary)])
        self.relayed: dict[int, RelayedVehicle] = {}
        self.history: list[CommandEntry] = []
        self.recent_events: deque[Received] = deque(maxlen=RECENT_EVENTS)
        self._entries: dict[int, CommandEntry] = {}
        self.link_status: dict[str, LinkStatus] = {}
        self.archives: dict[str, str] = {}
        self.packets = 0  # live packets (not the snapshot replayed on subscribing)
        self.last_verification_onboard: float | None = None
        self.received = asyncio.Event()
        self.server_pid: int | None = None
        self.dictionary_note = ""
        self.lost = ""  # why the server connection ended, once it has
        self._tags = itertools.count(1)
        self._requests: dict[Any, _Request] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._welcome: asyncio.Future[dict[str, Any]] | None = None

    # --- connection ------------------------------------------------------------------------------
    @property
    def port(self) -> str:
        return f"{self.vehicle} via {self.address}"

    @property
    def link_delay(self) -> float:
        link = self.link_status.get(self.vehicle)
        return link.link_delay if link is not None else 0.0

    async def open(self) -> None:
        try:
            self._reader, self._writer = await self.address.connect()
        except OSError as error:
            raise ServerError(f"cannot attach to the server at {self.address}: {error.strerror or error}") from None
        self._welcome = asyncio.get_running_loop().create_future()
        self._reading = asyncio.get_running_loop().create_task(self._read())
        hello: dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSION, "client": self.client_name,
                                 "pid": os.getpid()}
        if self._local_dictionary is not None:
            hello["digest"] = dictionary_digest(self._local_dictionary)
        self._send(hello)
        try:
            welcome = await asyncio.wait_for(self._welcome, WELCOME_TIMEOUT_S)
        except TimeoutError:
            await self.close()
            raise ServerError(f"the server at {self.address} did not answer within {WELCOME_TIMEOUT_S:g} s") from None
        except ServerError:
            await self.close()
            raise
        self._take_welcome(welcome)
        if self.subscribe:
            await self._ask({"type": "subscribe", "vehicle": self.vehicle, "kinds": self.kinds,
                             "snapshot": self.snapshot})

    def _take_welcome(self, welcome: dict[str, Any]) -> None:
        self.server_pid = welcome.get("pid")
        self.archives = dict(welcome.get("archives") or {})
        for item in welcome.get("vehicles", []):
            link = link_from(item)
            self.link_status[link.vehicle] = link
        if "dictionary" in welcome:
            try:
                served = Dictionary.from_json(welcome["dictionary"])
            except (DictionaryError, KeyError, TypeError, ValueError) as error:
                raise ServerError(f"the server's dictionary is unreadable: {error}") from None
            if self._local_dictionary is not None:
                self.dictionary_note = "the server's dictionary differs from the local one: using the server's"
            self.dictionary = served
            self.state.dictionary = served
        names = sorted(self.link_status)
        if not self.vehicle:
            if len(names) != 1:
                raise ServerError(f"the server has vehicles {', '.join(names)}: choose one with --vehicle")
            self.vehicle = names[0]
        elif self.vehicle not in self.link_status:
            raise ServerError(f"the server has no vehicle {self.vehicle!r} (it has {', '.join(names)})")
        self._take_relayed(welcome.get("relayed") or [])

    def _take_relayed(self, items: list[dict[str, Any]]) -> None:
        """The vehicles the attached one relays, each with its dictionary and a mirrored table."""
        vehicles = [Vehicle(self.vehicle, self.dictionary)]
        for item in items:
            if item.get("via") != self.vehicle:
                continue
            try:
                dictionary = Dictionary.from_json(item["dictionary"])
            except (DictionaryError, KeyError, TypeError, ValueError) as error:
                log.warning("the server's dictionary of %s is unreadable: %s", item.get("vehicle"), error)
                continue
            name = str(item["vehicle"])
            vehicles.append(Vehicle(name, dictionary))
            state = MirroredState(dictionary, self._relayed_acknowledge(name))
            self.relayed[dictionary.apid] = RelayedVehicle(vehicles[-1], state)
        self.vehicles = VehicleRegistry(vehicles)

    async def close(self) -> None:
        if self._writer is not None and not self.lost:
            with contextlib.suppress(OSError, RuntimeError):
                self._send({"type": "bye"})
                await self._writer.drain()
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reading
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, RuntimeError):
                await self._writer.wait_closed()
        if self.archive is not None:
            self.archive.close()

    async def __aenter__(self) -> RemoteSession:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _send(self, message: dict[str, Any]) -> None:
        if self.lost:
            raise ServerError(f"lost the server at {self.address}: {self.lost}")
        assert self._writer is not None
        self._writer.write(encode(message))

    async def _ask(self, message: dict[str, Any], request: _Request | None = None, *, keep: bool = False) -> Any:
        """Send a request and wait for its first answer (an error raises ``ArgumentError``).
        With ``keep`` the request stays registered (its entry's stages keep coming): the caller
        forgets it with ``_requests.pop(tag)``; ``message`` gets its ``tag``."""
        tag = message["tag"] = next(self._tags)
        request = request or _Request(None, None)
        self._requests[tag] = request
        try:
            self._send({**message, "vehicle": self.vehicle})
            return await request.reply
        finally:
            if not keep:
                self._requests.pop(tag, None)

    # --- what the server says ------------------------------------------------------------------
    async def _read(self) -> None:
        assert self._reader is not None
        reason = "the server closed the connection"
        try:
            while line := await self._reader.readline():
                try:
                    self._take(decode(line))
                except WireError as error:
                    log.warning("from the server: %s", error)
        except (OSError, ValueError) as error:
            reason = str(error)
        finally:
            self._lose(reason)

    def _lose(self, reason: str) -> None:
        self.lost = self.lost or reason
        error = ServerError(f"lost the server at {self.address}: {self.lost}")
        if self._welcome is not None and not self._welcome.done():
            self._welcome.set_exception(error)
        for request in self._requests.values():
            for answer in (request.reply, request.pong):
                if not answer.done():
                    answer.set_exception(error)
                    answer.exception()  # whoever awaits it still gets it; nobody else needs warning
        for entry in self.history:
            if not entry.finished.is_set():
                entry.verdict = "unknown: the server went away"
                entry.finished.set()
        for link in self.link_status.values():
            link.state, link.detail = "server lost", reason
        self.received.set()

    def _take(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "packet":
            self._take_packet(message)
        elif kind == "entry":
            self._take_entry(message)
        elif kind == "welcome":
            if self._welcome is not None and not self._welcome.done():
                self._welcome.set_result(message)
        elif kind == "link":
            link = link_from(message)
            self.link_status[link.vehicle] = link
        elif kind == "alarms" and message.get("via") == self.vehicle:
            relayed = self._relayed_named(message.get("vehicle"))
            if relayed is not None:
                relayed.state.alarms = alarms_from(message)
        elif kind == "alarms" and message.get("vehicle") == self.vehicle:
            self.state.alarms = alarms_from(message)
        elif kind == "error":
            self._take_error(message)
        elif kind == "bye":
            self.lost = str(message.get("reason", "the server said goodbye"))
        else:
            request = self._requests.get(message.get("tag"))
            if request is None:
                return
            answer = request.pong if kind == "pong" else request.reply
            if not answer.done():
                answer.set_result(message)

    def _take_error(self, message: dict[str, Any]) -> None:
        request = self._requests.get(message.get("tag"))
        text = str(message.get("error", "error"))
        if request is not None and not request.reply.done():
            request.reply.set_exception(ArgumentError(text))
        elif self._welcome is not None and not self._welcome.done():
            self._welcome.set_exception(ServerError(f"the server at {self.address} refused: {text}"))
        else:
            log.warning("the server says: %s", text)

    def _relayed_acknowledge(self, name: str) -> Callable[[str | None], None]:
        """Acknowledgements of a relayed vehicle's alarms: ``rover:POINT`` (``rover:``: all of them)."""
        return lambda point: self._acknowledge(f"{name}{SEPARATOR}{point or ''}")

    def _relayed_named(self, name: Any) -> RelayedVehicle | None:
        return next((relayed for relayed in self.relayed.values() if relayed.name == name), None)

    def _take_packet(self, message: dict[str, Any]) -> None:
        if message.get("via") == self.vehicle:
            relayed = self._relayed_named(message.get("vehicle"))
            if relayed is not None:
                self._take_relayed_packet(relayed, message)
            return
        if message.get("vehicle") != self.vehicle:
            return
        received = received_from(message)
        link = self.link_status.get(self.vehicle)
        if link is not None and (link.last_rx is None or received.rx_time > link.last_rx):
            link.last_rx = received.rx_time
        if not message.get("replayed"):
            self.packets += 1
            if self.archive is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.archive.write(received)
            if received.kind == "verification" and received.onboard_time is not None:
                self.last_verification_onboard = received.onboard_time
        if received.kind == "event":
            self.recent_events.append(received)
        self.state.take(received)
        self.received.set()

    def _take_relayed_packet(self, relayed: RelayedVehicle, message: dict[str, Any]) -> None:
        received = received_from(message)
        if not message.get("replayed"):
            self.packets += 1
            relayed.packets += 1
            if self.archive is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.archive.write(received)
        if relayed.last_rx is None or received.rx_time > relayed.last_rx:
            relayed.last_rx = received.rx_time
        relayed.state.take(received)
        self.received.set()

    def _take_entry(self, message: dict[str, Any]) -> None:
        if message.get("vehicle") != self.vehicle:
            return
        data = message["entry"]
        now = asyncio.get_running_loop().time()
        existing = self._entries.get(int(data["number"]))
        before = [len(record.stages) if record is not None else 0
                  for record in ((existing.arm, existing.fire) if existing else (None, None))]
        entry = mirror_entry(existing, data, self.dictionary, now)
        if existing is None:
            self._entries[entry.number] = entry
            self.history.append(entry)
        request = self._requests.get(message.get("tag"))
        if request is None:
            return
        if request.entry is None:
            request.entry = entry
            if request.on_entry is not None:
                request.on_entry(entry)
            if not request.reply.done():
                request.reply.set_result(entry)
        if request.on_stage is not None:
            for index, (phase, record) in enumerate((("arm", entry.arm), ("fire", entry.fire))):
                for report in (record.stages[before[index]:] if record is not None else []):
                    request.on_stage(entry, phase if entry.spec.critical else "", report)

    # --- the session's face ----------------------------------------------------------------------
    def timeout(self, base: float = DEFAULT_COMMAND_TIMEOUT_S) -> float:
        return scaled_timeout(base, self.link_delay)

    def links(self) -> list[LinkStatus]:
        return [self.link_status[name] for name in sorted(self.link_status)]

    def relayed_links(self) -> list[LinkStatus]:
        """Each relayed vehicle as the status bar shows it: the carrier's link, its own packets' age."""
        own = self.link_status.get(self.vehicle)
        state, detail = (own.state, own.detail) if own is not None else ("?", "")
        return [LinkStatus(relayed.name, f"via {self.vehicle}", state, detail, relayed.last_rx, relayed.packets,
                           self.link_delay) for relayed in self.relayed.values()]

    def add_listener(self, listener: Callable[[Received], None]) -> None:
        self.state.listeners.append(listener)

    def _acknowledge(self, point: str | None) -> None:
        with contextlib.suppress(ServerError):
            self._send({"type": "acknowledge", "vehicle": self.vehicle, "point": point})

    async def _entry(self, message: dict[str, Any], on_stage: StageCallback | None,
                     on_entry: Callable[[CommandEntry], None] | None) -> CommandEntry:
        try:
            entry: CommandEntry = await self._ask(message, _Request(on_stage, on_entry), keep=True)
            await entry.finished.wait()
        finally:
            self._requests.pop(message.get("tag"), None)
        return entry

    async def command(self, name: str, args: list[Any] | dict[str, Any], *, timeout: float | None = None,
                      on_stage: StageCallback | None = None,
                      on_entry: Callable[[CommandEntry], None] | None = None, origin: str = "") -> CommandEntry:
        """As :meth:`GroundSession.command`, sent through the server's uplink queue (``rover:NAME``:
        the relayed vehicle's command, checked with its dictionary)."""
        vehicle, bare = self.vehicles.split(name)
        spec = vehicle.dictionary.command(bare)
        relayed = vehicle.apid != self.dictionary.apid
        if isinstance(args, list) and len(args) != len(spec.args):
            raise ArgumentError(f"{spec.name} takes {len(spec.args)} arguments, got {len(args)}"
                                f" (usage: {spec.usage()})")
        values = spec.build(args) if isinstance(args, dict) else [a.check(v) for a, v in zip(spec.args, args,
                                                                                               strict=True)]
        wire_name = f"{vehicle.name}{SEPARATOR}{spec.name}" if relayed else spec.name
        return await self._entry({"type": "command", "name": wire_name, "args": values, "timeout": timeout},
                                 on_stage, on_entry)

    async def request(self, service: int, subtype: int, data: Any = None, *, timeout: float | None = None,
                      on_stage: StageCallback | None = None,
                      on_entry: Callable[[CommandEntry], None] | None = None, origin: str = "",
                      vehicle: str | int | None = None) -> CommandEntry:
        message: dict[str, Any] = {"type": "request", "service": service, "subtype": subtype, "data": data,
                                   "timeout": timeout}
        if vehicle is not None:
            message["to"] = self.vehicles.get(vehicle).name  # an unknown one is refused here
        return await self._entry(message, on_stage, on_entry)

    async def ping(self, timeout: float | None = None, on_entry: Callable[[CommandEntry], None] | None = None,
                   origin: str = "", vehicle: str | int | None = None) -> tuple[CommandEntry, float | None]:
        request = _Request(None, on_entry)
        message: dict[str, Any] = {"type": "ping", "timeout": timeout}
        if vehicle is not None:
            message["to"] = self.vehicles.get(vehicle).name
        try:
            entry: CommandEntry = await self._ask(message, request, keep=True)
            answer = await request.pong
            await entry.finished.wait()
        finally:
            self._requests.pop(message.get("tag"), None)
        rtt = answer.get("rtt")
        return entry, float(rtt) if isinstance(rtt, int | float) else None

    async def reserve_sequence(self) -> int:
        answer = await self._ask({"type": "sequence"})
        return int(answer["count"])

    async def wait_for_packet(self, timeout: float) -> bool:
        self.received.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.received.wait(), timeout)
            return not self.lost
        return False

    def server_archive(self) -> str | None:
        """The archive the server writes for this vehicle (None when it keeps none)."""
        return self.archives.get(self.vehicle)



LiveSession = GroundSession | RemoteSession
