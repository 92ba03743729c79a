"""The command history: one entry per operator command (its arm and its fire), with the status the
operator sees (in flight until a verdict or its deadline; a late verdict still counts)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fsw.protocol import VerificationReport
from fsw.protocol.verification import Subtype

from .client import CommandRecord
from .dictionary import CommandSpec

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
    number: int = 0  # position in its session's history, from 1
    origin: str = ""  # who sent it (a server's client), shown beside it
    text: str = ""  # the label of a request that is not a dictionary command ("PUS 3,27 [1, 2]")
    # Set by whoever followed the command when it stopped waiting without a verdict: a mirror of a
    # server's history shows the server's word rather than guessing from its own clock.
    verdict: str = ""

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
        if self.text:
            return self.text
        return " ".join([self.spec.name, *(f"{a.name}={v}" for a, v in zip(self.spec.args, self.args, strict=False))])

    @property
    def stages(self) -> list[str]:
        out = [f"arm {stage_text(report)}" for report in (self.arm.stages if self.arm else [])]
        out += [stage_text(report) for report in (self.fire.stages if self.fire else [])]
        return out

    @property
    def failure_code(self) -> str:
        """The failure code's name (``WRONG_MODE``), or "" while nothing failed."""
        for record in (self.arm, self.fire):
            failure = record.failure if record is not None else None
            if failure is not None:
                return failure.reason
        return ""

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
        if self.verdict:
            return self.verdict
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

    @property
    def pending(self) -> bool:
        """Sent and not yet finished (no verdict, deadline not passed)."""
        return not self.finished.is_set()


StageCallback = Callable[[CommandEntry, str, VerificationReport], None]
EntryListener = Callable[[CommandEntry], None]
