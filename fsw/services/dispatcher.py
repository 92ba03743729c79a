"""Command dispatch with PUS 1 verification.

Every TC gets an acceptance verdict: 1,1 (when its acknowledgement flags ask) or 1,2 with a
failure code. Accepted TCs then run as their own task: 1,3 start, optional 1,5 progress steps,
and 1,7 completion, or 1,4 / 1,8 with a failure code. Failure reports are always sent, whatever
the flags say, so that the ground never mistakes silence for success.

PUS 8,1 (perform function) carries CBOR ``[opcode, arg, ...]``: compact, because the real relay
uplink is as slow as 125 bit/s. Arguments are checked against the dictionary (type, range, enum),
then the mode, then, for critical commands, a live arm.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from fsw.core.component import Component
from fsw.core.context import GROUND, Context
from fsw.core.declarations import (
    ALL_MODES,
    Arg,
    CommandDef,
    EventDef,
    ParameterDef,
    Severity,
    TelemetryDef,
    ValidationError,
    command,
)
from fsw.core.errors import CommandFailed, CommandRejected, CommandStartFailed
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import ACK_ACCEPTANCE, ACK_COMPLETION, ACK_START, PusTc
from fsw.protocol.verification import Subtype, VerificationReport
from fsw.services.tc_window import DuplicateWindow, WindowEntry

Execution = Callable[[], Any]
Route = Callable[[PusTc], Execution]
MAX_RUNNING = 32
# How many recent TCs are remembered to recognise a retransmission (bounded memory and store).
DUPLICATE_WINDOW = 1024
History = WindowEntry


class Dispatcher(Component):
    name = "dispatcher"
    reported_in = 1
    telemetry = (
        TelemetryDef("cmds_received", "u32", "", "TCs handed to the dispatcher"),
        TelemetryDef("cmds_accepted", "u32", "", "TCs accepted (1,1)"),
        TelemetryDef("cmds_rejected", "u32", "", "TCs rejected at acceptance (1,2)"),
        TelemetryDef("cmds_completed", "u32", "", "TCs completed (1,7)"),
        TelemetryDef("cmds_failed", "u32", "", "TCs failed at start or completion (1,4 / 1,8)"),
        TelemetryDef("cmds_running", "u16", "", "TCs executing now"),
        TelemetryDef("armed_opcode", "u16", "", "opcode of the critical command armed now (0: none)"),
        TelemetryDef("cmds_duplicate", "u32", "", "retransmitted TCs recognised and not executed again"),
    )
    events = (
        EventDef(0x0101, "CMD_REJECTED", Severity.LOW, "TC {service},{subtype} seq {seq} rejected: {reason} {detail}"),
        EventDef(0x0102, "CMD_FAILED", Severity.MEDIUM, "TC {service},{subtype} seq {seq} failed: {reason} {detail}"),
        EventDef(0x0103, "CMD_ARMED", Severity.MEDIUM, "critical command {name} armed for {window} s"),
        EventDef(0x0104, "CMD_DUPLICATE", Severity.INFO,
                 "TC {service},{subtype} seq {seq} is a retransmission: verification re-sent, not executed"),
        EventDef(0x0105, "CMD_INTERRUPTED", Severity.MEDIUM,
                 "TC {service},{subtype} seq {seq} was executing at a reset: failed INTERRUPTED_BY_RESET, "
                 "its effect unknown"),
    )
    parameters = (
        ParameterDef(0x0101, "arm_window_s", "f64", 10.0, "how long an arm stays live before its fire", 0.5, 600.0,
                     unit="s"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.route_table: dict[tuple[int, int], Route] = {}
        self.commands: dict[int, CommandDef] = {}
        self.commands_by_name: dict[str, CommandDef] = {}
        self.received = self.accepted = self.rejected = self.completed = self.failed = 0
        self.running: set[asyncio.Task[None]] = set()
        self.armed: tuple[int, float] | None = None
        self.duplicates = 0
        self.window = DuplicateWindow(ctx.store, DUPLICATE_WINDOW)
        self._origin = GROUND
        self.route_table[(8, 1)] = self._perform_function

    def add_routes(self, routes: dict[tuple[int, int], Route]) -> None:
        for key, route in routes.items():
            if key in self.route_table:
                raise ValueError(f"service {key[0]},{key[1]} routed twice")
            self.route_table[key] = route

    def register_component(self, component: Component) -> None:
        self.register(component.bound_command_defs())
        routes = getattr(component, "routes", None)
        if routes is not None:
            self.add_routes(routes())

    def register(self, definitions: list[CommandDef]) -> None:
        for definition in definitions:
            if definition.opcode in self.commands or definition.name in self.commands_by_name:
                raise ValueError(f"command {definition.name} (0x{definition.opcode:04X}) declared twice")
            self.commands[definition.opcode] = definition
            self.commands_by_name[definition.name] = definition

    def housekeeping(self) -> dict[str, Any]:
        return {
            "cmds_received": self.received, "cmds_accepted": self.accepted, "cmds_rejected": self.rejected,
            "cmds_completed": self.completed, "cmds_failed": self.failed, "cmds_running": len(self.running),
            "armed_opcode": self._live_arm() or 0, "cmds_duplicate": self.duplicates,
        }

    # --- verification reports ----------------------------------------------------------------
    def _report(self, tc: PusTc, subtype: Subtype, code: int | None = None, data: Any = None,
                step: int | None = None, history: History | None = None, store: bool = False) -> None:
        """Send a PUS 1 report, first adding it to the TC's history (written to the store before the
        report leaves when ``store``: the ground never hears a verdict a reset could take back)."""
        payload = VerificationReport(subtype, tc.request_id, step, code, data).pack()
        if history is not None:
            history.reports.append((int(subtype), payload))
            if store:
                self.window.save(history)
        self.ctx.telemetry.send_raw(1, int(subtype), payload)

    def _store(self, history: History | None, running: bool) -> None:
        if history is not None:
            history.open = running
            self.window.save(history)

    # --- retransmissions -----------------------------------------------------------------------
    async def start(self) -> None:
        interrupted = self.window.load()
        for entry in interrupted:
            # Cut short by the reset: what it did is not known, so it did not complete.
            entry.reports.append((int(Subtype.COMPLETION_FAILED), VerificationReport(
                Subtype.COMPLETION_FAILED, entry.request_id, None, int(FailureCode.INTERRUPTED_BY_RESET),
                "interrupted by a reset").pack()))
            entry.open = False
        if interrupted:
            self.window.save(*interrupted)
            asyncio.get_running_loop().create_task(self._report_interrupted(interrupted), name="dispatcher_boot")

    async def _report_interrupted(self, interrupted: list[WindowEntry]) -> None:
        # In a task rather than in start(): every component (the ground link too) is up to hear it.
        await asyncio.sleep(0)
        for entry in interrupted:
            self.failed += 1
            subtype, payload = entry.reports[-1]
            self.ctx.telemetry.send_raw(1, subtype, payload)
            self.emit("CMD_INTERRUPTED", service=entry.service, subtype=entry.subtype, seq=entry.seq)

    def resend_if_duplicate(self, tc: PusTc, raw: bytes) -> bool:
        """If ``raw`` was already taken, re-send its verification so far and report True."""
        entry = self.window.find(raw)
        if entry is None:
            return False
        self.duplicates += 1
        for subtype, payload in list(entry.reports):
            self.ctx.telemetry.send_raw(1, subtype, payload)
        self.emit("CMD_DUPLICATE", service=tc.service, subtype=tc.subtype, seq=tc.seq_count)
        return True

    def remember(self, tc: PusTc, raw: bytes | None) -> History | None:
        if raw is None:
            return None
        return self.window.remember(raw, tc.request_id, tc.service, tc.subtype, tc.seq_count)

    def refuse(self, tc: PusTc, raw: bytes, code: FailureCode, detail: str = "") -> None:
        """Refuse a TC before it reaches a route (a link-layer check failed): counted as received,
        rejected, and remembered, so that its retransmission gets the same verdict again (until a
        reset: then the same octets meet the same checks again, so the refusal is not stored)."""
        self.received += 1
        self.reject(tc, code, detail, history=self.remember(tc, raw), store=False)

    def reject(self, tc: PusTc, code: FailureCode, detail: str = "", data: Any = None,
               history: History | None = None, store: bool = True) -> None:
        self.rejected += 1
        self._report(tc, Subtype.ACCEPTANCE_FAILED, int(code), data if data is not None else detail or None,
                     history=history, store=store)
        self.emit("CMD_REJECTED", service=tc.service, subtype=tc.subtype, seq=tc.seq_count, reason=code.name,
                  detail=detail)

    # --- intake ------------------------------------------------------------------------------
    def submit(self, tc: PusTc, raw: bytes | None = None, origin: str = GROUND) -> bool:
        """Take one TC: give the acceptance verdict now and start its execution. True if accepted.

        ``raw`` (the octets as received) lets a later retransmission of the same packet be
        recognised: its verification is re-sent and it is not executed again. ``origin`` says who
        sent it: the ground (``GROUND``, also for the link's TCs) or an on-board submitter (its name);
        a handler that declares an ``origin`` parameter is given it.
        """
        self.received += 1
        history = self.remember(tc, raw)
        self._origin = origin  # read by the 8,1 route, which runs right now
        refusal = self._route(tc)
        if isinstance(refusal, tuple):
            code, detail, data = refusal
            self.reject(tc, code, detail, data, history=history)
            return False
        execution = refusal
        self.accepted += 1
        if tc.ack_flags & ACK_ACCEPTANCE:
            self._report(tc, Subtype.ACCEPTANCE_OK, history=history)
        task = asyncio.get_running_loop().create_task(self._execute(tc, execution, history))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return True

    def _route(self, tc: PusTc) -> Execution | tuple[FailureCode, str, Any]:
        """The TC's execution, or why it is refused at acceptance (code, detail, failure data)."""
        if tc.apid != self.ctx.telemetry.apid:
            return FailureCode.UNKNOWN_APID, f"APID {tc.apid}", None
        route = self.route_table.get((tc.service, tc.subtype))
        if route is None:
            known_service = any(service == tc.service for service, _ in self.route_table)
            code = FailureCode.UNKNOWN_SUBTYPE if known_service else FailureCode.UNKNOWN_SERVICE
            return code, f"service {tc.service},{tc.subtype}", None
        if len(self.running) >= MAX_RUNNING:
            return FailureCode.BUSY, f"{MAX_RUNNING} commands already running", None
        try:
            return route(tc)
        except CommandRejected as rejection:
            return rejection.code, rejection.message, rejection.data
        except (ValidationError, PacketError) as error:
            return error.code, error.message, None

    async def _execute(self, tc: PusTc, execution: Execution, history: History | None) -> None:
        started = False
        try:
            # Stored as running before the handler runs: a reset from now on is answered INTERRUPTED_BY_RESET.
            if history is not None:
                history.open = True
            if tc.ack_flags & ACK_START:
                self._report(tc, Subtype.START_OK, history=history, store=True)
            else:
                self._store(history, running=True)
            started = True
            result = execution()
            if inspect.isawaitable(result):
                await result
        except CommandRejected as failure:
            # The start is reported before the handler runs, so a refusal from inside it is a completion
            # failure: a command never gets both a start success and a start failure. (State checks
            # belong in ``command_refusal``, asked at acceptance.)
            refused_start = isinstance(failure, CommandStartFailed) and not started
            subtype = Subtype.START_FAILED if refused_start else Subtype.COMPLETION_FAILED
            self._fail(tc, subtype, failure.code, failure.message, failure.data, history)
            return
        except asyncio.CancelledError:
            self._fail(tc, Subtype.COMPLETION_FAILED, FailureCode.EXECUTION_FAILED, "cancelled at shutdown",
                       history=history)
            raise
        except Exception as error:  # a handler bug must not take the executive down
            subtype = Subtype.COMPLETION_FAILED if started else Subtype.START_FAILED
            self._fail(tc, subtype, FailureCode.EXECUTION_FAILED, f"{type(error).__name__}: {error}",
                       history=history)
            return
        self.completed += 1
        if history is not None:
            history.open = False
        if tc.ack_flags & ACK_COMPLETION:
            self._report(tc, Subtype.COMPLETION_OK, history=history, store=True)
        else:
            self._store(history, running=False)

    def _fail(self, tc: PusTc, subtype: Subtype, code: FailureCode, detail: str, data: Any = None,
              history: History | None = None) -> None:
        self.failed += 1
        if history is not None:
            history.open = False
        self._report(tc, subtype, int(code), data if data is not None else detail or None, history=history,
                     store=True)
        self.emit("CMD_FAILED", service=tc.service, subtype=tc.subtype, seq=tc.seq_count, reason=code.name,
                  detail=detail)

    def progress(self, tc: PusTc, step: int) -> None:
        self._report(tc, Subtype.PROGRESS_OK, step=step)

    # --- PUS 8,1 -----------------------------------------------------------------------------
    def _perform_function(self, tc: PusTc) -> Execution:
        request = appdata.decode(tc.app_data)
        if not isinstance(request, list) or not request or not isinstance(request[0], int) or isinstance(
            request[0], bool
        ):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "8,1 data must be a CBOR list [opcode, args...]")
        opcode, *values = request
        definition = self.commands.get(opcode)
        if definition is None:
            raise CommandRejected(FailureCode.UNKNOWN_COMMAND, f"no command with opcode 0x{opcode:04X}")
        arguments = definition.validate_args(values)
        mode = self.ctx.modes.mode
        if mode not in definition.modes:
            raise CommandRejected(FailureCode.WRONG_MODE, f"{definition.name} not allowed in {mode}")
        refusal = definition.refusal() if definition.refusal is not None else None
        if refusal is not None:
            raise CommandRejected(FailureCode.WRONG_STATE, refusal)
        if definition.critical:
            if self._live_arm() != opcode:
                raise CommandRejected(FailureCode.NOT_ARMED, f"{definition.name} is critical and not armed")
            self.armed = None  # an arm is good for one fire
        handler = definition.handler
        assert handler is not None
        extra: dict[str, Any] = {}
        parameters = inspect.signature(handler).parameters
        if "progress" in parameters:
            extra["progress"] = lambda step: self.progress(tc, step)
        if "origin" in parameters:
            extra["origin"] = self._origin
        return lambda: handler(*arguments, **extra)

    def _live_arm(self) -> int | None:
        if self.armed is None:
            return None
        opcode, armed_at = self.armed
        if self.clock.monotonic() - armed_at > self.param("arm_window_s"):
            self.armed = None
            return None
        return opcode

    @command(0x0001, Arg("opcode", "u16", "opcode of the critical command to arm"), modes=ALL_MODES)
    def cmd_arm(self, opcode: int) -> None:
        """Arm one critical command; its fire must follow within arm_window_s."""
        definition = self.commands.get(opcode)
        if definition is None or not definition.critical:
            raise CommandFailed(FailureCode.BAD_ARGUMENT, f"0x{opcode:04X} is not a critical command")
        self.armed = (opcode, self.clock.monotonic())
        self.emit("CMD_ARMED", name=definition.name, window=self.param("arm_window_s"))

    @command(0x0002, modes=ALL_MODES)
    def cmd_noop(self) -> None:
        """Do nothing; proves the command path end to end."""

