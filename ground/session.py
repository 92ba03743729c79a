"""A live session with the vehicle: the client, the dictionary, the latest telemetry, the archive
and the command history, shared by the command line, procedures, the full-screen console and the
ground server (which holds one per vehicle and lets every tool share it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial

from fsw.protocol import PusTm

from .archive import Archive
from .client import CommandRecord, GroundClient, Signer
from .dictionary import ARM_COMMAND, ArgumentError, CommandSpec, Dictionary
from .history import (
    DEFAULT_COMMAND_TIMEOUT_S,
    LINK_DELAY_MARGIN,
    RUNNING_MARGIN,
    STAGE_WORDS,
    CommandEntry,
    EntryListener,
    StageCallback,
    scaled_timeout,
    stage_text,
)
from .portlock import PortError
from .sequence import PersistentSequence
from .telemetry import Received, TelemetryState, decode_packet
from .vehicles import LANDER, SEPARATOR, Vehicle, VehicleRegistry

__all__ = ["DEFAULT_COMMAND_TIMEOUT_S", "LINK_DELAY_MARGIN", "RUNNING_MARGIN", "STAGE_WORDS", "CommandEntry",
           "CommandError", "GroundSession", "LinkStatus", "PortError", "ReplaySession", "StageCallback",
           "scaled_timeout", "stage_text"]

log = logging.getLogger("ground.session")

DEFAULT_VEHICLE = "vehicle"
RECENT_EVENTS = 200  # kept for a display that opens later (a console attaching to a server)
# The archive commits the packets taken in since the session last caught up with the link in one
# transaction (a transaction a packet cost 70 us against 20 for 16 together; at a thousand packets a
# second that is the ground's busiest work), and never more than this many in one.
ARCHIVE_BATCH_MAX = 64


class CommandError(RuntimeError):
    """A command was rejected, failed, or not verified in time."""

    def __init__(self, entry: CommandEntry) -> None:
        super().__init__(f"{entry.label}: {entry.status}")
        self.entry = entry


@dataclass
class RelayedVehicle:
    """A vehicle reached through the one on the link: its telemetry, decoded with its own dictionary."""

    vehicle: Vehicle
    state: TelemetryState
    last_rx: float | None = None
    packets: int = 0

    @property
    def name(self) -> str:
        return self.vehicle.name


@dataclass
class LinkStatus:
    """What the status bar shows of one vehicle's link."""

    vehicle: str
    port: str
    state: str  # connected | reconnected | disconnected | waiting | closed | replay
    detail: str = ""
    last_rx: float | None = None  # Unix seconds of the newest packet
    packets: int = 0
    link_delay: float = 0.0

    @property
    def connected(self) -> bool:
        return self.state in ("connected", "reconnected")

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the newest packet (None before the first)."""
        if self.last_rx is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.last_rx)


class GroundSession:
    def __init__(self, port: str, dictionary: Dictionary, *, baud: int = 115200, link_delay: float = 0.0,
                 archive: Archive | None = None, sequence_file: Path | None = None,
                 signer: Signer | None = None, vehicle: str = DEFAULT_VEHICLE, lock_role: str = "ilrs-ground",
                 lock_server: str | None = None, vehicles: VehicleRegistry | None = None) -> None:
        self.port = port
        self.vehicle = vehicle
        self.dictionary = dictionary
        self.link_delay = link_delay
        # The vehicle on the link and those it relays (the rover), addressed as ``rover:COMMAND``.
        self.vehicles = vehicles if vehicles is not None else VehicleRegistry([Vehicle(LANDER, dictionary)])
        self.client = GroundClient(port, baud, apid=dictionary.apid, signer=signer, lock_role=lock_role,
                                   lock_server=lock_server, vehicles=self.vehicles.apids())
        self.relayed = {v.apid: RelayedVehicle(v, TelemetryState(v.dictionary)) for v in self.vehicles.relayed
                        if v.apid != dictionary.apid}
        if sequence_file is not None:
            self.client.sequence = PersistentSequence(sequence_file)  # type: ignore[assignment]
        self.state = TelemetryState(dictionary)
        self.archive = archive
        self.history: list[CommandEntry] = []
        self.recent_events: deque[Received] = deque(maxlen=RECENT_EVENTS)
        self.packets = 0
        self.last_rx: float | None = None
        self.archive_errors = 0
        # On-board time of the newest verification report: telemetry older than it predates the
        # last command's effect (for instance a backlog still queued in the link).
        self.last_verification_onboard: float | None = None
        self.received = asyncio.Event()  # set on every packet; waiters clear it
        self.client.packet_listeners.append(self._on_packet)
        self.client.caught_up_listeners.append(self._commit_archive)
        # Called when an entry is created, gets a stage, or finishes (the server mirrors them).
        self.entry_listeners: list[EntryListener] = []
        # The uplink queue: commands go out in the order they were asked for, and nothing goes out
        # between a critical command's arm and its fire (another arm would replace it on board).
        self._uplink = asyncio.Lock()

    async def open(self) -> None:
        if "://" not in self.port and not Path(self.port).exists():
            raise PortError(f"port {self.port} does not exist")
        try:
            await self.client.open()
        except PortError:
            raise
        except (serial.SerialException, OSError) as error:
            raise PortError(f"cannot open {self.port}: {error}") from error

    async def close(self) -> None:
        await self.client.close()
        if self.archive is not None:
            self._commit_archive()
            self.archive.close()

    async def __aenter__(self) -> GroundSession:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def timeout(self, base: float = DEFAULT_COMMAND_TIMEOUT_S) -> float:
        return scaled_timeout(base, self.link_delay)

    def links(self) -> list[LinkStatus]:
        return [LinkStatus(self.vehicle, self.port, self.client.link_state, self.client.link_state_detail,
                           self.last_rx, self.packets, self.link_delay)]

    def relayed_links(self) -> list[LinkStatus]:
        """Each relayed vehicle as the status bar shows it: the link's state, its own packets' age."""
        own = self.links()[0]
        return [LinkStatus(relayed.name, f"via {self.vehicle}", own.state, own.detail, relayed.last_rx,
                           relayed.packets, self.link_delay) for relayed in self.relayed.values()]

    def _commit_archive(self) -> None:
        if self.archive is not None:
            try:
                self.archive.commit()
            except sqlite3.Error as error:
                self._archive_failed(self.archive, error)

    def _archive_failed(self, archive: Archive, error: sqlite3.Error) -> None:
        # Keep receiving and showing telemetry; say loudly that the archive is failing.
        self.archive_errors += 1
        if self.archive_errors == 1:
            log.error("archive %s: %s (further errors counted, not logged)", archive.path, error)

    def _on_packet(self, raw: bytes, tm: PusTm | None, rx_time: float) -> None:
        relayed = self.relayed.get(tm.apid) if tm is not None else None
        received = decode_packet(raw, relayed.vehicle.dictionary if relayed else self.dictionary, rx_time, tm)
        self.packets += 1
        self.last_rx = rx_time
        if self.archive is not None:
            try:
                # Committed with the packets that came with it, once the session has caught up.
                self.archive.add(received)
                if self.archive.pending >= ARCHIVE_BATCH_MAX:
                    self.archive.commit()
            except sqlite3.Error as error:
                self._archive_failed(self.archive, error)
        if relayed is not None:
            # Its own table of values: the rover's names (mode, uptime_s...) repeat the lander's.
            if received.kind == "event":
                received.decoded["vehicle"] = relayed.name
            relayed.packets += 1
            relayed.last_rx = rx_time
            relayed.state.take(received)
        elif received.kind == "verification" and received.onboard_time is not None:
            self.last_verification_onboard = received.onboard_time
        elif received.kind == "event":
            self.recent_events.append(received)
        if relayed is None:
            self.state.take(received)
        self.received.set()

    def add_listener(self, listener: Callable[[Received], None]) -> None:
        self.state.listeners.append(listener)

    # --- commanding --------------------------------------------------------------------------
    def send_opcode(self, opcode: int, args: list[Any], apid: int | None = None) -> CommandRecord:
        """PUS 8,1 with CBOR ``[opcode, args...]``; no dictionary check (the flight side checks)."""
        return self.client.send(8, 1, [opcode, *args], apid=apid)

    def check_arguments(self, name: str, args: list[Any] | dict[str, Any]) -> tuple[CommandSpec, list[Any]]:
        """The command (``rover:NAME`` for a relayed vehicle's) and its checked argument list
        (``ArgumentError`` when they do not fit, or the vehicle is unknown)."""
        vehicle, bare = self.vehicles.split(name)
        spec = vehicle.dictionary.command(bare)
        if isinstance(args, dict):
            return spec, spec.build(args)
        if len(args) != len(spec.args):
            raise ArgumentError(f"{spec.name} takes {len(spec.args)} arguments, got {len(args)}"
                                f" (usage: {spec.usage()})")
        return spec, [arg.check(value) for arg, value in zip(spec.args, args, strict=True)]

    def _new_entry(self, spec: CommandSpec, values: list[Any], timeout: float | None, origin: str,
                   text: str = "") -> CommandEntry:
        entry = CommandEntry(spec, values, timeout if timeout is not None else self.timeout(),
                             asyncio.get_running_loop().time(), runs_for=spec.expected_duration(values),
                             number=len(self.history) + 1, origin=origin, text=text)
        self.history.append(entry)
        return entry

    def _changed(self, entry: CommandEntry) -> None:
        for listener in list(self.entry_listeners):
            try:
                listener(entry)
            except Exception:  # a listener's bug must not stop commanding
                log.exception("entry listener failed")

    def _finish(self, entry: CommandEntry) -> None:
        if not entry.ok and not entry.local_failure and entry.fire is not None and entry.fire.failure is None:
            # Stopped waiting without a verdict: said once, in the words of that moment (a mirror
            # of this history shows the same words; a late verdict still replaces them).
            now = asyncio.get_running_loop().time()
            if now >= entry.started_at + entry.deadline - 0.05:
                entry.verdict = entry.status_at(max(now, entry.started_at + entry.deadline + 1e-3))
            else:
                entry.verdict = "no longer followed (interrupted)"
        entry.finished.set()
        self._changed(entry)

    async def command(self, name: str, args: list[Any] | dict[str, Any], *, timeout: float | None = None,
                      on_stage: StageCallback | None = None,
                      on_entry: Callable[[CommandEntry], None] | None = None, origin: str = "") -> CommandEntry:
        """Send a dictionary command (arming it first if it is critical) and follow its verification
        until completion, failure or timeout. Arguments are checked locally first
        (``ArgumentError``). Confirmation of critical commands is the caller's business."""
        spec, values = self.check_arguments(name, args)
        vehicle, _ = self.vehicles.split(name)
        relayed = vehicle.apid != self.dictionary.apid
        apid = vehicle.apid if relayed else None
        entry = self._new_entry(spec, values, timeout, origin)
        if relayed:
            entry.text = f"{vehicle.name}{SEPARATOR}{entry.label}"
        if on_entry is not None:
            on_entry(entry)
        self._changed(entry)
        try:
            if spec.critical:
                arm_spec = vehicle.dictionary.commands.get(ARM_COMMAND)
                if arm_spec is None:
                    entry.local_failure = "not armed: the dictionary has no ARM command"
                    return entry
                async with self._uplink:
                    entry.arm = self.send_opcode(arm_spec.opcode, [spec.opcode], apid)
                    self._changed(entry)
                    await self._follow(entry, entry.arm, "arm", on_stage)
                    if not entry.arm.completed:
                        if entry.arm.failure is None:
                            entry.local_failure = "arm timed out"
                        return entry
                    entry.fire = self.send_opcode(spec.opcode, values, apid)
            else:
                async with self._uplink:
                    entry.fire = self.send_opcode(spec.opcode, values, apid)
            self._changed(entry)
            await self._follow(entry, entry.fire, "fire" if spec.critical else "", on_stage)
            return entry
        finally:
            self._finish(entry)

    async def request(self, service: int, subtype: int, data: Any = None, *, timeout: float | None = None,
                      on_stage: StageCallback | None = None,
                      on_entry: Callable[[CommandEntry], None] | None = None, origin: str = "",
                      vehicle: str | int | None = None) -> CommandEntry:
        """Send a TC of any service (a one-shot HK request, a parameter report) and follow it like a
        command, in the same history and the same uplink queue. ``vehicle``: a relayed vehicle's
        name or APID (``UnknownVehicleError`` for one this session does not know)."""
        target = self.vehicles.get(vehicle) if vehicle is not None else self.vehicles.own
        relayed = target.apid != self.dictionary.apid
        apid = target.apid if relayed else None
        spec = CommandSpec(f"PUS {service},{subtype}", -1)
        text = (f"{target.name}{SEPARATOR}" if relayed else "") + f"PUS {service},{subtype}" + (
            f" {data}" if data not in (None, [], b"") else "")
        entry = self._new_entry(spec, [], timeout, origin, text)
        if on_entry is not None:
            on_entry(entry)
        self._changed(entry)
        try:
            async with self._uplink:
                entry.fire = self.client.send(service, subtype, data, apid=apid)
            self._changed(entry)
            await self._follow(entry, entry.fire, "", on_stage)
            return entry
        finally:
            self._finish(entry)

    async def ping(self, timeout: float | None = None, on_entry: Callable[[CommandEntry], None] | None = None,
                   origin: str = "", vehicle: str | int | None = None) -> tuple[CommandEntry, float | None]:
        """PUS 17,1 (to a relayed ``vehicle``'s APID when one is named): the entry and the round-trip
        time to its 17,2 (None when none came)."""
        loop = asyncio.get_running_loop()
        arrival: list[float] = []
        apid = (self.vehicles.get(vehicle) if vehicle is not None else self.vehicles.own).apid

        def on_tm(tm: PusTm) -> None:
            if tm.service == 17 and tm.subtype == 2 and tm.apid == apid and not arrival:
                arrival.append(loop.time())

        self.client.listeners.append(on_tm)
        try:
            entry = await self.request(17, 1, timeout=timeout, on_entry=on_entry, origin=origin, vehicle=vehicle)
        finally:
            self.client.listeners.remove(on_tm)
        sent_at = entry.fire.sent_at if entry.fire is not None else entry.started_at
        return entry, (arrival[0] - sent_at) if arrival else None

    async def reserve_sequence(self) -> int:
        """A TC sequence count nobody else will use (for a TC carried inside another, e.g. 11,4)."""
        return self.client.sequence.next(self.client.apid)

    async def _follow(self, entry: CommandEntry, record: CommandRecord, phase: str,
                      on_stage: StageCallback | None) -> None:
        # One deadline for the whole entry: an arm that took long leaves less time for the fire.
        async for report in record.stages_until_done(entry.started_at + entry.deadline - record.sent_at):
            self._changed(entry)
            if on_stage is not None:
                on_stage(entry, phase, report)

    # --- telemetry ---------------------------------------------------------------------------
    async def wait_for_packet(self, timeout: float) -> bool:
        self.received.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.received.wait(), timeout)
            return True
        return False


class ReplaySession:
    """Archived packets played back through the same decoding, for the console (read-only)."""

    read_only = True

    def __init__(self, dictionary: Dictionary, archive: Archive, *, speed: float = 0.0,
                 since: float | None = None, until: float | None = None) -> None:
        self.dictionary = dictionary
        self.archive = archive
        self.speed = speed
        self.since, self.until = since, until
        self.state = TelemetryState(dictionary)
        self.port = f"replay of {archive.path}"
        self.vehicle = "replay"
        self.link_delay = 0.0
        self.history: list[CommandEntry] = []
        self.packets = 0
        self.last_rx: float | None = None
        self.finished = asyncio.Event()

    def links(self) -> list[LinkStatus]:
        return [LinkStatus(self.vehicle, self.port, "replay", "", self.last_rx, self.packets)]

    def add_listener(self, listener: Callable[[Received], None]) -> None:
        self.state.listeners.append(listener)

    async def command(self, name: str, args: Any, **_: Any) -> CommandEntry:
        raise ArgumentError("replay: commanding is disabled")

    async def play(self) -> int:
        """Feed every archived packet in reception order (paced by ``speed``, 0: at once)."""
        previous: float | None = None
        for stored in self.archive.packets(self.since, self.until):
            if self.speed and previous is not None and stored.rx_time > previous:
                await asyncio.sleep((stored.rx_time - previous) / self.speed)
            elif self.packets % 200 == 0:
                await asyncio.sleep(0)  # let the display breathe
            previous = stored.rx_time
            # Decode again from the raw octets: the archive's raw packet is the truth.
            self.state.take(decode_packet(stored.raw, self.dictionary, stored.rx_time))
            self.packets += 1
            self.last_rx = stored.rx_time
        self.finished.set()
        return self.packets

    async def close(self) -> None:
        self.archive.close()
