"""A live session with the vehicle: the client, the dictionary, the latest telemetry, the archive
and the command history, shared by the command line, procedures and the full-screen console."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import serial

from fsw.protocol import PusTm, VerificationReport
from fsw.protocol.verification import Subtype

from .archive import Archive
from .client import CommandRecord, GroundClient, Signer
from .dictionary import ARM_COMMAND, ArgumentError, CommandSpec, Dictionary
from .sequence import PersistentSequence
from .telemetry import Received, TelemetryState, decode_packet

log = logging.getLogger("ground.session")

DEFAULT_COMMAND_TIMEOUT_S = 5.0
# Round trips are budgeted at this multiple of the two-way light time (queueing, relay hand-over).
LINK_DELAY_MARGIN = 1.5
# A command's declared running time is an estimate (a loaded vehicle, a slow device): wait this
# multiple of it before saying completion was not seen.
RUNNING_MARGIN = 1.5

STAGE_WORDS = {
    Subtype.ACCEPTANCE_OK: "accepted",
    Subtype.START_OK: "started",
    Subtype.PROGRESS_OK: "progress",
    Subtype.COMPLETION_OK: "completed",
    Subtype.ACCEPTANCE_FAILED: "rejected at acceptance",
    Subtype.START_FAILED: "failed at start",
    Subtype.PROGRESS_FAILED: "failed in progress",
    Subtype.COMPLETION_FAILED: "failed at completion",
}


def scaled_timeout(base: float, link_delay: float, margin: float = LINK_DELAY_MARGIN) -> float:
    """A timeout for a round trip over a link with ``link_delay`` seconds one way."""
    return base + 2.0 * link_delay * margin


def stage_text(report: VerificationReport) -> str:
    text = STAGE_WORDS[report.subtype]
    if report.step is not None:
        text += f" step {report.step}"
    if not report.ok:
        text += f": {report.reason}"
        if report.data not in (None, ""):
            text += f" ({report.data})"
    return text


class PortError(ConnectionError):
    """The port does not exist or cannot be opened."""


class CommandError(RuntimeError):
    """A command was rejected, failed, or not verified in time."""

    def __init__(self, entry: CommandEntry) -> None:
        super().__init__(f"{entry.label}: {entry.status}")
        self.entry = entry


@dataclass
class CommandEntry:
    """One operator command in the history: its arm (critical commands) and its fire."""

    spec: CommandSpec
    args: list[Any]
    timeout: float
    started_at: float
    arm: CommandRecord | None = None
    fire: CommandRecord | None = None
    local_failure: str = ""
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    runs_for: float = 0.0  # on board, after its start (the dictionary's expected duration)

    @property
    def deadline(self) -> float:
        """Seconds after sending by which completion should have been seen: the verification
        window plus the command's own running time, with a margin."""
        return self.timeout + RUNNING_MARGIN * self.runs_for

    @property
    def started(self) -> bool:
        return self.fire is not None and any(stage.subtype == Subtype.START_OK for stage in self.fire.stages)

    @property
    def label(self) -> str:
        return " ".join([self.spec.name, *(f"{a.name}={v}" for a, v in zip(self.spec.args, self.args, strict=False))])

    @property
    def stages(self) -> list[str]:
        out = [f"arm {stage_text(report)}" for report in (self.arm.stages if self.arm else [])]
        out += [stage_text(report) for report in (self.fire.stages if self.fire else [])]
        return out

    def status_at(self, now: float) -> str:
        """completed | failed: ... | in flight | timed out | arming | not armed: ..."""
        if self.local_failure:
            return self.local_failure
        for phase, record in (("arm", self.arm), ("", self.fire)):
            if record is None:
                continue
            failure = record.failure
            if failure is not None:
                return f"{'arm ' if phase else ''}{stage_text(failure)}"
        if self.fire is not None and self.fire.completed:
            return "completed"
        if now - self.started_at > self.deadline:
            if self.started:
                return f"completion not seen in {now - self.started_at:.0f} s, may still be running"
            return "timed out"
        if self.arm is not None and self.fire is None:
            return "arming"
        return "in flight"

    @property
    def status(self) -> str:
        return self.status_at(asyncio.get_running_loop().time())

    @property
    def ok(self) -> bool:
        return self.fire is not None and self.fire.completed


StageCallback = Callable[[CommandEntry, str, VerificationReport], None]


class GroundSession:
    def __init__(self, port: str, dictionary: Dictionary, *, baud: int = 115200, link_delay: float = 0.0,
                 archive: Archive | None = None, sequence_file: Path | None = None,
                 signer: Signer | None = None) -> None:
        self.port = port
        self.dictionary = dictionary
        self.link_delay = link_delay
        self.client = GroundClient(port, baud, apid=dictionary.apid, signer=signer)
        if sequence_file is not None:
            self.client.sequence = PersistentSequence(sequence_file)  # type: ignore[assignment]
        self.state = TelemetryState(dictionary)
        self.archive = archive
        self.history: list[CommandEntry] = []
        self.packets = 0
        self.archive_errors = 0
        # On-board time of the newest verification report: telemetry older than it predates the
        # last command's effect (for instance a backlog still queued in the link).
        self.last_verification_onboard: float | None = None
        self.received = asyncio.Event()  # set on every packet; waiters clear it
        self.client.packet_listeners.append(self._on_packet)

    async def open(self) -> None:
        if "://" not in self.port and not Path(self.port).exists():
            raise PortError(f"port {self.port} does not exist")
        try:
            await self.client.open()
        except (serial.SerialException, OSError) as error:
            raise PortError(f"cannot open {self.port}: {error}") from error

    async def close(self) -> None:
        await self.client.close()
        if self.archive is not None:
            self.archive.close()

    async def __aenter__(self) -> GroundSession:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def timeout(self, base: float = DEFAULT_COMMAND_TIMEOUT_S) -> float:
        return scaled_timeout(base, self.link_delay)

    def _on_packet(self, raw: bytes, tm: PusTm | None, rx_time: float) -> None:
        received = decode_packet(raw, self.dictionary, rx_time, tm)
        self.packets += 1
        if self.archive is not None:
            try:
                self.archive.write(received)
            except sqlite3.Error as error:
                # Keep receiving and showing telemetry; say loudly that the archive is failing.
                self.archive_errors += 1
                if self.archive_errors == 1:
                    log.error("archive %s: %s (further errors counted, not logged)", self.archive.path, error)
        if received.kind == "verification" and received.onboard_time is not None:
            self.last_verification_onboard = received.onboard_time
        self.state.take(received)
        self.received.set()

    def add_listener(self, listener: Callable[[Received], None]) -> None:
        self.state.listeners.append(listener)

    # --- commanding --------------------------------------------------------------------------
    def send_opcode(self, opcode: int, args: list[Any]) -> CommandRecord:
        """PUS 8,1 with CBOR ``[opcode, args...]``; no dictionary check (the flight side checks)."""
        return self.client.send(8, 1, [opcode, *args])

    async def command(self, name: str, args: list[Any] | dict[str, Any], *, timeout: float | None = None,
                      on_stage: StageCallback | None = None,
                      on_entry: Callable[[CommandEntry], None] | None = None) -> CommandEntry:
        """Send a dictionary command (arming it first if it is critical) and follow its verification
        until completion, failure or timeout. Arguments are checked locally first
        (``ArgumentError``). Confirmation of critical commands is the caller's business."""
        spec = self.dictionary.command(name)
        if isinstance(args, dict):
            values = spec.build(args)
        elif len(args) != len(spec.args):
            raise ArgumentError(f"{spec.name} takes {len(spec.args)} arguments, got {len(args)}"
                                f" (usage: {spec.usage()})")
        else:
            values = [arg.check(value) for arg, value in zip(spec.args, args, strict=True)]
        loop = asyncio.get_running_loop()
        entry = CommandEntry(spec, values, timeout if timeout is not None else self.timeout(), loop.time(),
                             runs_for=spec.expected_duration(values))
        self.history.append(entry)
        if on_entry is not None:
            on_entry(entry)
        try:
            if spec.critical:
                arm_spec = self.dictionary.commands.get(ARM_COMMAND)
                if arm_spec is None:
                    entry.local_failure = "not armed: the dictionary has no ARM command"
                    return entry
                entry.arm = self.send_opcode(arm_spec.opcode, [spec.opcode])
                await self._follow(entry, entry.arm, "arm", on_stage)
                if not entry.arm.completed:
                    if entry.arm.failure is None:
                        entry.local_failure = "arm timed out"
                    return entry
            entry.fire = self.send_opcode(spec.opcode, values)
            await self._follow(entry, entry.fire, "fire" if spec.critical else "", on_stage)
            return entry
        finally:
            entry.finished.set()

    async def _follow(self, entry: CommandEntry, record: CommandRecord, phase: str,
                      on_stage: StageCallback | None) -> None:
        # One deadline for the whole entry: an arm that took long leaves less time for the fire.
        async for report in record.stages_until_done(entry.started_at + entry.deadline - record.sent_at):
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
        self.link_delay = 0.0
        self.history: list[CommandEntry] = []
        self.packets = 0
        self.finished = asyncio.Event()

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
        self.finished.set()
        return self.packets

    async def close(self) -> None:
        self.archive.close()
