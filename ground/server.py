"""``ilrs-ground serve``: one process owns each vehicle's link, the archive, verification tracking,
the uplink queue and limit checking; every tool attaches to it over a local socket.

Each vehicle is a :class:`GroundSession` (which locks its port, archives, decodes, judges limits and
follows commands). The server adds the clients: it pushes every packet to those subscribed, every
change of a command's history entry and of the alarms to all, and runs their commands through the
vehicle's one uplink queue, so sequence counts are reserved once and commands go out in order.
The protocol is in :mod:`ground.wire` and ``docs/ground-server.md``.

A vehicle relayed by a served one (the rover, through the lander) is served with it: its packets,
decoded with its own dictionary, go to the clients subscribed to the vehicle that carries it (marked
``"via"``), its limit alarms are judged by its own dictionary's limits, its dictionary is in the
welcome, and commands, pings and requests reach it through the carrier's uplink queue
(``rover:NAME``, or ``"to": "rover"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dictionary import ArgumentError, Dictionary
from .history import CommandEntry
from .session import RECENT_EVENTS, GroundSession, RelayedVehicle
from .telemetry import Received
from .vehicles import SEPARATOR
from .wire import (
    MAX_LINE,
    PROTOCOL_VERSION,
    Address,
    WireError,
    alarms_message,
    decode,
    dictionary_digest,
    encode,
    entry_message,
    link_message,
    packet_message,
)

log = logging.getLogger("ground.server")

# Messages queued for one client before it is judged too slow and disconnected (a stuck console
# must not make the server hold every packet in memory).
OUTBOX_DEPTH = 50_000
HISTORY_REPLAYED = 200
LINK_REPORT_PERIOD_S = 1.0


class ServerError(RuntimeError):
    """The server cannot start (its socket is taken by another server)."""


@dataclass(eq=False)
class Client:
    number: int
    writer: asyncio.StreamWriter
    name: str = "?"
    pid: int | None = None
    greeted: bool = False
    subscriptions: dict[str, frozenset[str] | None] = field(default_factory=dict)  # vehicle -> kinds
    outbox: asyncio.Queue[bytes | None] = field(default_factory=lambda: asyncio.Queue(OUTBOX_DEPTH))
    closing: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} pid {self.pid}" if self.pid is not None else f"{self.name} #{self.number}"

    def push(self, message: dict[str, Any]) -> None:
        if self.closing:
            return
        try:
            self.outbox.put_nowait(encode(message))
        except asyncio.QueueFull:
            self.closing = f"more than {OUTBOX_DEPTH} messages behind"
            self.writer.close()

    def wants(self, vehicle: str, kind: str) -> bool:
        if vehicle not in self.subscriptions:
            return False
        kinds = self.subscriptions[vehicle]
        return kinds is None or kind in kinds


@dataclass(eq=False)
class ServedRelay:
    """What the server keeps of a relayed vehicle for clients that attach later."""

    relayed: RelayedVehicle
    latest_hk: dict[int, Received] = field(default_factory=dict)
    recent_events: deque[Received] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    alarm_signature: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return self.relayed.name


@dataclass(eq=False)
class ServedVehicle:
    session: GroundSession
    latest_hk: dict[int, Received] = field(default_factory=dict)
    alarm_signature: tuple[Any, ...] = ()
    relays: dict[str, ServedRelay] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.session.vehicle


class GroundServer:
    def __init__(self, dictionary: Dictionary, sessions: list[GroundSession], listen: list[Address], *,
                 archives: dict[str, str] | None = None) -> None:
        if not sessions:
            raise ServerError("nothing to serve: give at least one port")
        self.dictionary = dictionary
        self.digest = dictionary_digest(dictionary)
        self.vehicles = {session.vehicle: ServedVehicle(session) for session in sessions}
        self.listen = listen
        self.archives = archives or {}
        self.clients: set[Client] = set()
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._requesters: dict[int, tuple[Client, Any]] = {}  # id(entry) -> who asked, with its tag
        self._next_client = 1
        self.stopped = asyncio.Event()

    # --- life --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open every port (each locked: ``PortInUseError`` if taken), then listen."""
        opened: list[GroundSession] = []
        try:
            for vehicle in self.vehicles.values():
                await vehicle.session.open()
                opened.append(vehicle.session)
                self._watch(vehicle)
            for address in self.listen:
                self._servers.append(await self._listen(address))
        except BaseException:
            for session in opened:
                await session.close()
            for server in self._servers:
                server.close()
            raise
        self._spawn(self._report_links())

    async def _listen(self, address: Address) -> asyncio.Server:
        if address.path is None:
            return await asyncio.start_server(self._serve, address.host, address.port, limit=MAX_LINE)
        path = Path(address.path)
        if path.exists():
            try:
                _, writer = await address.connect()
            except OSError:
                path.unlink()  # left by a server that died: nobody answers on it
            else:
                writer.close()
                raise ServerError(f"another server already listens at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return await asyncio.start_unix_server(self._serve, str(path), limit=MAX_LINE)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for client in list(self.clients):
            client.push({"type": "bye", "reason": "server stopping"})
            with contextlib.suppress(asyncio.QueueFull):
                client.outbox.put_nowait(None)
        await asyncio.sleep(0.05)  # let the goodbyes go out
        for client in list(self.clients):
            client.writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for vehicle in self.vehicles.values():
            await vehicle.session.close()
        for address in self.listen:
            if address.path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(address.path)
        self.stopped.set()

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- what the vehicles say ----------------------------------------------------------------
    def _watch(self, vehicle: ServedVehicle) -> None:
        session = vehicle.session
        session.add_listener(lambda received: self._on_packet(vehicle, received))
        session.entry_listeners.append(lambda entry: self._on_entry(vehicle, entry))
        session.client.link_state_listeners.append(lambda state, detail: self._on_link(vehicle))
        for relayed in session.relayed.values():
            relay = vehicle.relays[relayed.name] = ServedRelay(relayed)
            relayed.state.listeners.append(self._relayed_listener(vehicle, relay))

    def _on_packet(self, vehicle: ServedVehicle, received: Received) -> None:
        if received.kind == "hk":
            vehicle.latest_hk[received.decoded["sid"]] = received
        message: dict[str, Any] | None = None
        for client in list(self.clients):
            if client.wants(vehicle.name, received.kind):
                message = message or packet_message(vehicle.name, received)
                client.push(message)
        if received.kind == "hk":
            self._publish_alarms(vehicle)

    def _relayed_listener(self, vehicle: ServedVehicle, relay: ServedRelay) -> Callable[[Received], None]:
        return lambda received: self._on_relayed(vehicle, relay, received)

    def _on_relayed(self, vehicle: ServedVehicle, relay: ServedRelay, received: Received) -> None:
        if received.kind == "hk":
            relay.latest_hk[received.decoded["sid"]] = received
        elif received.kind == "event":
            relay.recent_events.append(received)
        message: dict[str, Any] | None = None
        for client in list(self.clients):
            if client.wants(vehicle.name, received.kind):
                message = message or {**packet_message(relay.name, received), "via": vehicle.name}
                client.push(message)
        if received.kind == "hk":
            self._publish_relayed_alarms(vehicle, relay)

    def _publish_relayed_alarms(self, vehicle: ServedVehicle, relay: ServedRelay, force: bool = False) -> None:
        alarms = list(relay.relayed.state.alarms.values())
        signature = tuple((a.point, a.state, a.worst, a.acknowledged) for a in alarms)
        if signature == relay.alarm_signature and not force:
            return
        relay.alarm_signature = signature
        self._broadcast({**alarms_message(relay.name, alarms), "via": vehicle.name})

    def _publish_alarms(self, vehicle: ServedVehicle, force: bool = False) -> None:
        alarms = list(vehicle.session.state.alarms.values())
        signature = tuple((a.point, a.state, a.worst, a.acknowledged) for a in alarms)
        if signature == vehicle.alarm_signature and not force:
            return
        vehicle.alarm_signature = signature
        self._broadcast(alarms_message(vehicle.name, alarms))

    def _on_entry(self, vehicle: ServedVehicle, entry: CommandEntry) -> None:
        now = asyncio.get_running_loop().time()
        requester = self._requesters.get(id(entry))
        if entry.finished.is_set():
            self._requesters.pop(id(entry), None)
        plain = entry_message(vehicle.name, entry, now)
        for client in list(self.clients):
            if requester is not None and requester[0] is client:
                client.push({**plain, "tag": requester[1]})
            elif client.greeted:
                client.push(plain)

    def _on_link(self, vehicle: ServedVehicle) -> None:
        for link in vehicle.session.links():
            self._broadcast(link_message(link))

    async def _report_links(self) -> None:
        while True:
            await asyncio.sleep(LINK_REPORT_PERIOD_S)
            for vehicle in self.vehicles.values():
                self._on_link(vehicle)

    def _broadcast(self, message: dict[str, Any]) -> None:
        for client in list(self.clients):
            if client.greeted:
                client.push(message)

    # --- clients -------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = Client(self._next_client, writer)
        self._next_client += 1
        self.clients.add(client)
        sender = self._spawn(self._send_loop(client))
        try:
            while not client.closing:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    client.push({"type": "error", "error": f"message longer than {MAX_LINE} octets", "fatal": True})
                    break
                except OSError:
                    break
                if not line:
                    break
                if line.strip():
                    self._handle(client, line)
        finally:
            self.clients.discard(client)
            client.closing = client.closing or "closed"
            with contextlib.suppress(asyncio.QueueFull):
                client.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(sender, 2.0)
            writer.close()

    async def _send_loop(self, client: Client) -> None:
        with contextlib.suppress(OSError):
            while (data := await client.outbox.get()) is not None:
                client.writer.write(data)
                await client.writer.drain()

    def _handle(self, client: Client, line: bytes) -> None:
        try:
            message = decode(line)
        except WireError as error:
            client.push({"type": "error", "error": str(error)})
            return
        kind, tag = message["type"], message.get("tag")
        if kind != "hello" and not client.greeted:
            client.push({"type": "error", "tag": tag, "error": "say hello first", "fatal": True})
            client.closing = "no hello"
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            client.push({"type": "error", "tag": tag, "error": f"unknown message type {kind!r}"})
            return
        try:
            handler(client, message)
        except (ArgumentError, WireError, KeyError, TypeError, ValueError) as error:
            text = str(error) if isinstance(error, ArgumentError | WireError) else f"bad {kind} message: {error!r}"
            client.push({"type": "error", "tag": tag, "error": text})

    def _vehicle(self, message: dict[str, Any]) -> ServedVehicle:
        name = message.get("vehicle")
        if name is None and len(self.vehicles) == 1:
            return next(iter(self.vehicles.values()))
        if name not in self.vehicles:
            known = ", ".join(sorted(self.vehicles))
            raise WireError(f"unknown vehicle {name!r} (this server has {known})" if name is not None
                            else f"this server has several vehicles ({known}): name one")
        return self.vehicles[name]

    @staticmethod
    def _timeout(message: dict[str, Any]) -> float | None:
        timeout = message.get("timeout")
        if timeout is None:
            return None
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise WireError(f"timeout must be a number greater than 0, not {timeout!r}")
        return float(timeout)

    # --- requests (one method per message type: _on_<type>) --------------------------------------
    def _on_hello(self, client: Client, message: dict[str, Any]) -> None:
        version = message.get("protocol")
        if version != PROTOCOL_VERSION:
            client.push({"type": "error", "fatal": True,
                         "error": f"protocol {version!r} not served: this server speaks protocol {PROTOCOL_VERSION}"})
            client.closing = "protocol version"
            return
        client.name = str(message.get("client") or "client")[:40]
        pid = message.get("pid")
        client.pid = pid if isinstance(pid, int) else None
        client.greeted = True
        welcome: dict[str, Any] = {
            "type": "welcome", "protocol": PROTOCOL_VERSION, "server": "ilrs-ground serve", "pid": os.getpid(),
            "client_number": client.number, "digest": self.digest, "archives": self.archives,
            "vehicles": [link_message(link)
                         for vehicle in self.vehicles.values() for link in vehicle.session.links()]}
        if message.get("digest") != self.digest:
            welcome["dictionary"] = self.dictionary.raw
        welcome["relayed"] = [{"via": vehicle.name, "vehicle": relay.name, "apid": relay.relayed.vehicle.apid,
                               "dictionary": relay.relayed.vehicle.dictionary.raw}
                              for vehicle in self.vehicles.values() for relay in vehicle.relays.values()]
        client.push(welcome)

    def _on_subscribe(self, client: Client, message: dict[str, Any]) -> None:
        vehicle = self._vehicle(message)
        kinds = message.get("kinds")
        client.subscriptions[vehicle.name] = None if kinds is None else frozenset(str(k) for k in kinds)
        if message.get("snapshot", True):
            # The newest value of everything, so that a console that attaches late starts full
            # (each packet keeps its reception time: its age shows).
            replay = sorted([*vehicle.latest_hk.values(), *vehicle.session.recent_events], key=lambda r: r.rx_time)
            for received in replay:
                if client.wants(vehicle.name, received.kind):
                    client.push(packet_message(vehicle.name, received, replayed=True))
            for relay in vehicle.relays.values():
                for received in sorted([*relay.latest_hk.values(), *relay.recent_events], key=lambda r: r.rx_time):
                    if client.wants(vehicle.name, received.kind):
                        client.push({**packet_message(relay.name, received, replayed=True), "via": vehicle.name})
            now = asyncio.get_running_loop().time()
            for entry in vehicle.session.history[-HISTORY_REPLAYED:]:
                client.push(entry_message(vehicle.name, entry, now))
        client.push(alarms_message(vehicle.name, list(vehicle.session.state.alarms.values())))
        for relay in vehicle.relays.values():
            client.push({**alarms_message(relay.name, list(relay.relayed.state.alarms.values())), "via": vehicle.name})
        client.push({"type": "subscribed", "vehicle": vehicle.name, "tag": message.get("tag")})

    def _on_unsubscribe(self, client: Client, message: dict[str, Any]) -> None:
        client.subscriptions.pop(self._vehicle(message).name, None)

    def _on_command(self, client: Client, message: dict[str, Any]) -> None:
        vehicle, tag = self._vehicle(message), message.get("tag")
        args = message.get("args") or []
        if not isinstance(args, list | dict):
            raise WireError("args is a list (in order) or an object (by name)")
        # Checked now, so that the error goes back at once; the entry follows when it is queued.
        name = str(message["name"])
        spec, values = vehicle.session.check_arguments(name, args)
        relayed, _ = vehicle.session.vehicles.split(name)
        # A relayed vehicle's command keeps its address (``rover:ROVER_GO``), checked with its dictionary.
        own = relayed.apid == vehicle.session.dictionary.apid
        qualified = spec.name if own else f"{relayed.name}{SEPARATOR}{spec.name}"
        timeout = self._timeout(message)
        self._spawn(vehicle.session.command(qualified, values, timeout=timeout, origin=client.label,
                                            on_entry=lambda entry: self._remember(entry, client, tag)))

    def _on_request(self, client: Client, message: dict[str, Any]) -> None:
        vehicle, tag = self._vehicle(message), message.get("tag")
        service, subtype = int(message["service"]), int(message["subtype"])
        if not (0 < service < 256 and 0 < subtype < 256):
            raise WireError(f"PUS {service},{subtype} is not a service type and subtype")
        to = self._addressed(vehicle, message)
        self._spawn(vehicle.session.request(service, subtype, message.get("data"), timeout=self._timeout(message),
                                            origin=client.label, vehicle=to,
                                            on_entry=lambda entry: self._remember(entry, client, tag)))

    def _on_ping(self, client: Client, message: dict[str, Any]) -> None:
        vehicle, tag = self._vehicle(message), message.get("tag")
        timeout = self._timeout(message)
        to = self._addressed(vehicle, message)

        async def ping() -> None:
            entry, rtt = await vehicle.session.ping(timeout, origin=client.label, vehicle=to,
                                                    on_entry=lambda entry: self._remember(entry, client, tag))
            client.push({"type": "pong", "tag": tag, "vehicle": vehicle.name, "to": to, "number": entry.number,
                         "rtt": rtt})

        self._spawn(ping())

    @staticmethod
    def _addressed(vehicle: ServedVehicle, message: dict[str, Any]) -> str | None:
        """The relayed vehicle a request or ping is for (``"to"``: its name or APID; checked now, so
        that an unknown one is refused at once), None for the served vehicle itself."""
        to = message.get("to")
        if to is None:
            return None
        target = vehicle.session.vehicles.get(to if isinstance(to, int) else str(to))
        return None if target.apid == vehicle.session.dictionary.apid else target.name

    def _remember(self, entry: CommandEntry, client: Client, tag: Any) -> None:
        self._requesters[id(entry)] = (client, tag)

    def _on_sequence(self, client: Client, message: dict[str, Any]) -> None:
        vehicle, tag = self._vehicle(message), message.get("tag")
        session = vehicle.session
        count = session.client.sequence.next(session.client.apid)
        client.push({"type": "sequence", "tag": tag, "vehicle": vehicle.name, "apid": session.client.apid,
                     "count": count})

    def _on_acknowledge(self, client: Client, message: dict[str, Any]) -> None:
        vehicle = self._vehicle(message)
        point = message.get("point")
        name, separator, bare = str(point).partition(SEPARATOR) if point is not None else ("", "", "")
        if separator:  # ``rover:POINT`` (``rover:``: every one of the rover's)
            relay = vehicle.relays.get(name.lower())
            if relay is None:
                raise WireError(f"no relayed vehicle {name!r} (relayed: {', '.join(vehicle.relays) or 'none'})")
            done = [f"{relay.name}{SEPARATOR}{p}" for p in relay.relayed.state.acknowledge(bare or None)]
            self._publish_relayed_alarms(vehicle, relay, force=True)
        else:
            done = vehicle.session.state.acknowledge(None if point is None else str(point))
            self._publish_alarms(vehicle, force=True)
        client.push({"type": "acknowledged", "tag": message.get("tag"), "vehicle": vehicle.name, "points": done})

    def _on_history(self, client: Client, message: dict[str, Any]) -> None:
        vehicle = self._vehicle(message)
        now = asyncio.get_running_loop().time()
        for entry in vehicle.session.history[-HISTORY_REPLAYED:]:
            client.push(entry_message(vehicle.name, entry, now))
        client.push({"type": "history_end", "tag": message.get("tag"), "vehicle": vehicle.name})

    def _on_status(self, client: Client, message: dict[str, Any]) -> None:
        client.push({"type": "status", "tag": message.get("tag"),
                     "vehicles": [link_message(link) for v in self.vehicles.values() for link in v.session.links()],
                     "clients": [{"number": c.number, "label": c.label, "subscriptions": sorted(c.subscriptions)}
                                 for c in sorted(self.clients, key=lambda c: c.number) if c.greeted]})

    def _on_bye(self, client: Client, message: dict[str, Any]) -> None:
        client.closing = "bye"
