"""Stored command sequences: named lists of whole TCs run one after another, on relative time and
telemetry conditions, each step verified (like cFS SC's relative-time sequences).

Loading and listing are a private PUS service (CBOR application data, like 11,4), because a step
list is not a command argument; starting, stopping and deleting are ordinary commands, so a ground
TC, a time-tagged TC (PUS 11) or an event-action's TC (PUS 19) all start a sequence the same way.

- 150,1 load ``[name, steps]``, ``[name, steps, resumable]`` or ``[name, steps, resumable,
  continue_on_failure]``; a step is ``[delay_s, tc_bytes]`` or
  ``[delay_s, tc_bytes, [point, op, value, timeout_s]]``. ``tc_bytes`` is a whole packed PusTc to
  this APID that asks for completion acknowledgement (the sequence follows its 1,7). ``op`` is one
  of ``== != < <= > >=``. Every step is checked before the sequence is stored (all or nothing); a
  load replaces a sequence of the same name unless it is running (BUSY).
- 150,2 summary -> TM 150,3 ``[[name, steps, resumable, running_step], ...]`` (running_step 0: idle).
- 150,4 detail, CBOR ``name`` -> TM 150,5 ``[name, steps, resumable]``, with ``continue_on_failure``
  fourth when it is set (the 150,1 form).
- SEQ_START / SEQ_STOP / SEQ_DELETE ``name`` (8,1 commands 0x0F01-0x0F03).

A step waits ``delay_s`` from the end of the previous step (the start, for the first), then, if it
has a condition, until the latest housekeeping value of ``point`` satisfies it (failing with TIMEOUT
after ``timeout_s``), then submits its TC through the dispatcher and waits for the TC's 1,7 or a
failure report (1,2 / 1,4 / 1,8), at most ``seq_verify_timeout_s``. A failure stops the sequence
(SEQ_STEP_FAILED with the failure code); the remaining steps never run. A sequence loaded with
``continue_on_failure`` (a safing sequence: each step must be tried) reports the failure
(SEQ_STEP_FAILED_CONTINUING) and goes on with the next step. Values come from PUS 3,25
reports heard on the software bus, never from another component. Steps are numbered from 1 in
events and telemetry.

Up to ``MAX_RUNNING`` different sequences run at once; a sequence runs once at a time.

The topology may give *built-in* sequences (the safing response, SAFING): each is stored at boot
when the store has no sequence of its name, so the ground can replace it (150,1) or delete it
(until the next boot).

Sequences and the progress of running ones are kept in the store (durably). A sequence running at a
reset is stopped and reported (SEQ_INTERRUPTED): the ground decides. A sequence loaded as
``resumable`` goes on instead (SEQ_RESUMED) at the first step whose TC was not yet sent, its delay
counted from the boot; a step whose TC was sent before the reset is neither repeated nor verified.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from fsw.core.bus import Subscription
from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import ALL_MODES, Arg, EventDef, ParameterDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed, CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import PusTc, PusTm
from fsw.protocol.verification import FAILURE_SUBTYPES, Subtype, VerificationReport
from fsw.services.housekeeping import HK_TOPIC
from fsw.services.sequence_format import ABSENT, NAME_LENGTH, Sequence, Wait, parse_name, parse_sequence

SERVICE = 150
STORE_KEY = "sequences"
MAX_SEQUENCES = 32
MAX_RUNNING = 4
LISTING_OVERHEAD = 32  # octets of a 150,5 packet that are not the listing (headers, CRC)
HK_DEPTH = 256  # housekeeping reports waiting to be read
TM_DEPTH = 1024  # the "tm" pipe: a burst of reports must not drop a verification
@dataclass
class Run:
    sequence: Sequence
    index: int = 0  # the step in progress (0-based)
    sent: bool = False  # its TC has been submitted
    stopped: bool = False  # by command: checked after every wait, as a cancellation can be lost to a result
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class SequenceService(Component):
    name = "sequences"
    hk_structure = 15
    hk_quiet_in_flight = True
    telemetry = (
        TelemetryDef("seq_loaded", "u8", "", "sequences stored on board"),
        TelemetryDef("seq_running", "u8", "", "sequences running now"),
        TelemetryDef("seq_active", "str", "", "NAME:STEP of each running sequence (steps from 1), comma-separated"),
        TelemetryDef("seq_started", "u32", "", "sequences started (or resumed) since boot"),
        TelemetryDef("seq_completed", "u32", "", "sequences completed since boot"),
        TelemetryDef("seq_failed", "u32", "", "sequences stopped by a failed step since boot"),
        TelemetryDef("seq_stopped", "u32", "", "sequences stopped by command or by a reset since boot"),
    )
    events = (
        EventDef(0x0F01, "SEQ_LOADED", Severity.INFO, "sequence {name} loaded: {steps} steps, resumable {resumable}"),
        EventDef(0x0F02, "SEQ_DELETED", Severity.INFO, "sequence {name} deleted"),
        EventDef(0x0F03, "SEQ_STARTED", Severity.INFO, "sequence {name} started ({steps} steps)"),
        EventDef(0x0F04, "SEQ_COMPLETED", Severity.INFO, "sequence {name} completed ({steps} steps)"),
        EventDef(0x0F05, "SEQ_STEP_FAILED", Severity.MEDIUM,
                 "sequence {name} step {step} failed: {reason} (code {code}) {detail}; sequence stopped"),
        EventDef(0x0F06, "SEQ_STOPPED", Severity.LOW, "sequence {name} stopped at step {step}: {reason}"),
        EventDef(0x0F07, "SEQ_INTERRUPTED", Severity.MEDIUM,
                 "sequence {name} was at step {step} ({where}) at a reset: stopped, not resumed"),
        EventDef(0x0F08, "SEQ_RESUMED", Severity.MEDIUM, "sequence {name} resumed after a reset at step {step}"),
        EventDef(0x0F09, "SEQ_STEP_FAILED_CONTINUING", Severity.MEDIUM,
                 "sequence {name} step {step} failed: {reason} (code {code}) {detail}; the sequence goes on"),
    )
    parameters = (
        ParameterDef(0x0F01, "seq_verify_timeout_s", "f64", 60.0,
                     "how long a sequence step's TC may take to report completion", 1.0, 86_400.0, unit="s"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.sequences: dict[str, Sequence] = {}
        self.runs: dict[str, Run] = {}
        self.latest: dict[str, Any] = {}  # housekeeping point -> latest value heard
        self.started = self.completed = self.failed = self.stopped = 0
        self._verifications: dict[int, asyncio.Future[VerificationReport]] = {}
        self._tm_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._interrupted: dict[str, tuple[int, bool]] = {}
        self._builtin: list[Sequence] = []

    def add_builtin(self, sequence: Sequence) -> None:
        """A sequence stored at boot when the store has none of its name (wiring, before start)."""
        self._builtin.append(sequence)

    # --- persistence -------------------------------------------------------------------------
    def _load(self) -> None:
        stored = self.ctx.store.get(STORE_KEY) or {}
        if not isinstance(stored, dict):
            return
        apid = self.ctx.telemetry.apid
        for item in stored.get("sequences", []):
            try:
                sequence = parse_sequence(item, apid)
            except CommandRejected:  # the row CRC makes this unlikely
                continue
            self.sequences[sequence.name] = sequence
        running = stored.get("running", {})
        for name, progress in (running.items() if isinstance(running, dict) else ()):
            with contextlib.suppress(TypeError, ValueError):
                index, sent = progress
                if name in self.sequences and 0 <= int(index) < len(self.sequences[name].steps):
                    self._interrupted[name] = (int(index), bool(sent))

    def _persist(self) -> None:
        self.ctx.store.put(STORE_KEY, {
            "sequences": [sequence.to_cbor() for sequence in self.sequences.values()],
            "running": {name: [run.index, run.sent] for name, run in self.runs.items()},
        })

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._load()
        missing = [sequence for sequence in self._builtin if sequence.name not in self.sequences]
        for sequence in missing:
            self.sequences[sequence.name] = sequence
        if missing:
            self._persist()
        subscription = self.ctx.bus.subscribe("tm", depth=TM_DEPTH)
        housekeeping = self.ctx.bus.subscribe(HK_TOPIC, depth=HK_DEPTH)
        tasks = self.ctx.tasks
        self._tasks = [tasks.spawn("sequences_tm", lambda: self._listen(subscription)),
                       tasks.spawn("sequences_hk", lambda: self._listen_housekeeping(housekeeping)),
                       # Once: resuming what a reset interrupted must not run twice.
                       tasks.spawn("sequences_boot", self._after_boot, restart=False)]

    async def stop(self) -> None:
        # Runs are cancelled but stay in the store: the next boot reports (or resumes) them.
        for task in [*self._tasks, *(run.task for run in self.runs.values() if run.task is not None)]:
            task.cancel()

    async def _after_boot(self) -> None:
        # In a task rather than in start(): every component (the ground link too) is up to hear the events.
        await asyncio.sleep(0)
        for name, (index, sent) in self._interrupted.items():
            sequence = self.sequences[name]
            if sequence.resumable:
                run = Run(sequence, index + 1 if sent else index)
                self.emit("SEQ_RESUMED", name=name, step=run.index + 1)
                self._launch(run)
            else:
                self.stopped += 1
                self.emit("SEQ_INTERRUPTED", name=name, step=index + 1,
                          where="its TC sent, outcome unknown" if sent else "its TC not sent")
        if self._interrupted:
            self._interrupted.clear()
            self._persist()

    def housekeeping(self) -> dict[str, Any]:
        return {
            "seq_loaded": len(self.sequences), "seq_running": len(self.runs),
            "seq_active": ",".join(f"{name}:{run.index + 1}" for name, run in self.runs.items()),
            "seq_started": self.started, "seq_completed": self.completed, "seq_failed": self.failed,
            "seq_stopped": self.stopped,
        }

    # --- what the sequences hear: verification and housekeeping ------------------------------
    async def _listen(self, subscription: Subscription) -> None:
        max_size = self.ctx.telemetry.max_packet_size
        while True:
            packet = await subscription.get()
            # Only verification reports, and only while a step waits for one (service: octet 7).
            if not self._verifications or len(packet) < 9 or packet[7] != 1:
                continue
            try:
                tm = PusTm.unpack(packet, max_size)
                self._heard_verification(VerificationReport.unpack(tm.subtype, tm.source_data))
            except PacketError:
                continue

    async def _listen_housekeeping(self, subscription: Subscription) -> None:
        while True:
            _, values = await subscription.get()
            self.latest.update(values)
            changed, self._tm_changed = self._tm_changed, asyncio.Event()
            changed.set()

    def _heard_verification(self, report: VerificationReport) -> None:
        future = self._verifications.get(report.request_id)
        if future is None or future.done():
            return
        if report.subtype in FAILURE_SUBTYPES or report.subtype == Subtype.COMPLETION_OK:
            future.set_result(report)

    # --- running -----------------------------------------------------------------------------
    def _launch(self, run: Run) -> None:
        self.runs[run.sequence.name] = run
        self.started += 1
        self._persist()
        run.task = asyncio.get_running_loop().create_task(self._run(run), name=f"sequence_{run.sequence.name}")

    def _finish(self, run: Run) -> None:
        if self.runs.get(run.sequence.name) is run:
            del self.runs[run.sequence.name]
        self._persist()

    async def _run(self, run: Run) -> None:
        try:
            await self._steps(run)
        except Exception as error:  # a bug here must stop this sequence, visibly, and nothing else
            run.stopped = True
            self._step_failed(run, FailureCode.EXECUTION_FAILED, f"{type(error).__name__}: {error}")

    async def _steps(self, run: Run) -> None:
        sequence = run.sequence
        while run.index < len(sequence.steps):
            step = sequence.steps[run.index]
            if step.delay_s > 0:
                await asyncio.sleep(step.delay_s)
            met = step.wait is None or await self._condition(step.wait)
            if run.stopped:
                return
            if step.wait is not None and not met:
                wait = step.wait
                if self._step_failed(run, FailureCode.TIMEOUT,
                                     f"{wait.point} {wait.op} {wait.value!r} not met within {wait.timeout_s:g} s"):
                    return
            else:
                run.sent = True
                self._persist()  # before the TC leaves: a reset never sends it twice
                report = await self._execute(step.tc)
                if run.stopped:  # by this very step's TC, say
                    return
                if report is None:
                    if self._step_failed(run, FailureCode.TIMEOUT,
                                         f"no completion report within {self.param('seq_verify_timeout_s'):g} s"):
                        return
                elif not report.ok and self._step_failed(run, report.code or 0,
                                                         f"{report.subtype.name} {report.data or ''}", report.reason):
                    return
            run.index, run.sent = run.index + 1, False
            if run.index < len(sequence.steps):
                self._persist()
        self.completed += 1
        self._finish(run)
        self.emit("SEQ_COMPLETED", name=sequence.name, steps=len(sequence.steps))

    def _step_failed(self, run: Run, code: int, detail: str, reason: str = "") -> bool:
        """Report a failed step; True when it stops the sequence (unless loaded ``continue_on_failure``)."""
        arguments = {"name": run.sequence.name, "step": run.index + 1, "code": int(code),
                     "reason": reason or FailureCode(code).name, "detail": detail.strip()}
        if run.sequence.continue_on_failure and not run.stopped:
            self.emit("SEQ_STEP_FAILED_CONTINUING", **arguments)
            return False
        self.failed += 1
        self._finish(run)
        self.emit("SEQ_STEP_FAILED", **arguments)
        return True

    async def _condition(self, wait: Wait) -> bool:
        # One timer for the whole wait: a deadline recomputed per report could spin on a virtual clock.
        try:
            async with asyncio.timeout(wait.timeout_s):
                while True:
                    changed = self._tm_changed
                    if wait.holds(self.latest.get(wait.point, ABSENT)):
                        return True
                    await changed.wait()
        except TimeoutError:
            return False

    async def _execute(self, tc: PusTc) -> VerificationReport | None:
        """Submit one step's TC and wait for its completion or failure report (None: none in time)."""
        future: asyncio.Future[VerificationReport] = asyncio.get_running_loop().create_future()
        self._verifications[tc.request_id] = future
        try:
            # A refusal's 1,2 is already in the pipe when submit returns: the listener picks it up.
            self.ctx.commands.submit(tc, origin="sequence")
            async with asyncio.timeout(self.param("seq_verify_timeout_s")):
                return await future
        except TimeoutError:
            return None
        finally:
            if self._verifications.get(tc.request_id) is future:
                del self._verifications[tc.request_id]

    # --- commands ----------------------------------------------------------------------------
    def _known(self, name: str) -> Sequence:
        sequence = self.sequences.get(name)
        if sequence is None:
            raise CommandFailed(FailureCode.BAD_ARGUMENT, f"no sequence named {name!r}")
        return sequence

    @command(0x0F01, Arg("name", "str", "sequence name", max_length=NAME_LENGTH))
    def cmd_seq_start(self, name: str) -> None:
        """Start a stored command sequence from its first step."""
        sequence = self._known(name)
        if name in self.runs:
            raise CommandFailed(FailureCode.BUSY, f"sequence {name} is already running")
        if len(self.runs) >= MAX_RUNNING:
            raise CommandFailed(FailureCode.BUSY, f"{MAX_RUNNING} sequences already running")
        self._launch(Run(sequence))
        self.emit("SEQ_STARTED", name=name, steps=len(sequence.steps))

    @command(0x0F02, Arg("name", "str", "sequence name", max_length=NAME_LENGTH), modes=ALL_MODES)
    def cmd_seq_stop(self, name: str) -> None:
        """Stop a running sequence; a step TC already sent runs to its end."""
        self._known(name)
        run = self.runs.get(name)
        if run is None:
            raise CommandFailed(FailureCode.BAD_ARGUMENT, f"sequence {name} is not running")
        run.stopped = True
        if run.task is not None:
            run.task.cancel()
        self.stopped += 1
        self._finish(run)
        self.emit("SEQ_STOPPED", name=name, step=run.index + 1, reason="commanded")

    @command(0x0F03, Arg("name", "str", "sequence name", max_length=NAME_LENGTH))
    def cmd_seq_delete(self, name: str) -> None:
        """Delete a stored sequence that is not running."""
        self._known(name)
        if name in self.runs:
            raise CommandFailed(FailureCode.BUSY, f"sequence {name} is running: stop it first")
        del self.sequences[name]
        self._persist()
        self.emit("SEQ_DELETED", name=name)

    # --- private service 150 ---------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {(SERVICE, 1): self._load_request, (SERVICE, 2): self._summary_request,
                (SERVICE, 4): self._detail_request}

    def _load_request(self, tc: PusTc) -> Any:
        sequence = parse_sequence(appdata.decode(tc.app_data), self.ctx.telemetry.apid)
        if sequence.name in self.runs:
            raise CommandRejected(FailureCode.BUSY, f"sequence {sequence.name} is running: stop it first")
        if sequence.name not in self.sequences and len(self.sequences) >= MAX_SEQUENCES:
            raise CommandRejected(FailureCode.SCHEDULE_FULL, f"{MAX_SEQUENCES} sequences already stored")
        if len(appdata.encode(sequence.to_cbor())) > self.ctx.telemetry.max_packet_size - LISTING_OVERHEAD:
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, "the sequence would not fit one 150,5 listing")

        def apply() -> None:
            if sequence.name in self.runs:  # started between acceptance and execution
                raise CommandFailed(FailureCode.BUSY, f"sequence {sequence.name} is running: stop it first")
            self.sequences[sequence.name] = sequence
            self._persist()
            self.emit("SEQ_LOADED", name=sequence.name, steps=len(sequence.steps), resumable=sequence.resumable)

        return apply

    def _summary_request(self, tc: PusTc) -> Any:
        if tc.app_data:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "150,2 takes no application data")

        def send() -> None:
            # 32 sequences of at most ~45 octets each always fit one packet.
            self.ctx.telemetry.send(SERVICE, 3, [
                [s.name, len(s.steps), s.resumable, self.runs[s.name].index + 1 if s.name in self.runs else 0]
                for s in self.sequences.values()
            ])

        return send

    def _detail_request(self, tc: PusTc) -> Any:
        name = parse_name(appdata.decode(tc.app_data))
        if name not in self.sequences:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, f"no sequence named {name!r}")
        return lambda: self.ctx.telemetry.send(SERVICE, 5, self.sequences[name].to_cbor())
