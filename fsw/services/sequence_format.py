"""What a stored command sequence is, and how a 150,1 load request is checked (all or nothing).

The steps' layout is the ICD's (``docs/icd.md``, "Service 150"); the service that stores and runs
sequences is :mod:`fsw.services.sequences`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fsw.core.errors import CommandRejected
from fsw.protocol.errors import FailureCode, PacketError
from fsw.protocol.packet import ACK_COMPLETION, PusTc

MAX_STEPS = 64
NAME_LENGTH = 32
MAX_DELAY_S = 864_000.0  # ten days
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
ABSENT = object()


@dataclass(frozen=True)
class Wait:
    """A telemetry condition: ``point op value``, given ``timeout_s`` to become true."""

    point: str
    op: str
    value: Any
    timeout_s: float

    def holds(self, latest: Any) -> bool:
        if latest is ABSENT:
            return False
        try:
            return bool(OPERATORS[self.op](latest, self.value))
        except TypeError:  # a number compared with a string: not met
            return False

    def to_cbor(self) -> list[Any]:
        return [self.point, self.op, self.value, self.timeout_s]


@dataclass(frozen=True)
class Step:
    delay_s: float
    tc_bytes: bytes
    wait: Wait | None = None

    @property
    def tc(self) -> PusTc:
        return PusTc.unpack(self.tc_bytes)

    def to_cbor(self) -> list[Any]:
        item: list[Any] = [self.delay_s, self.tc_bytes]
        return [*item, self.wait.to_cbor()] if self.wait is not None else item


@dataclass(frozen=True)
class Sequence:
    name: str
    steps: tuple[Step, ...]
    resumable: bool = False
    continue_on_failure: bool = False  # a failed step is reported and the next one runs

    def to_cbor(self) -> list[Any]:
        listing = [self.name, [step.to_cbor() for step in self.steps], self.resumable]
        return [*listing, True] if self.continue_on_failure else listing


def _rejected(message: str, code: FailureCode = FailureCode.BAD_ARGUMENT) -> CommandRejected:
    return CommandRejected(code, message)


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _rejected(f"{what} must be a number")
    if not low <= value <= high:
        raise _rejected(f"{what} {value} is outside {low:g}..{high:g}", FailureCode.ARGUMENT_RANGE)
    return value  # as sent (an integer stays one), so that the 150,5 listing is the 150,1 request


def parse_name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= NAME_LENGTH:
        raise _rejected(f"a sequence name is a string of 1 to {NAME_LENGTH} characters")
    return value


def parse_sequence(request: Any, apid: int) -> Sequence:
    """Check a 150,1 request completely; raise CommandRejected naming the first bad step."""
    if not isinstance(request, list) or len(request) not in (2, 3, 4):
        raise _rejected("150,1 takes CBOR [name, steps], [name, steps, resumable] or "
                        "[name, steps, resumable, continue_on_failure]")
    name, steps = parse_name(request[0]), request[1]
    resumable = request[2] if len(request) >= 3 else False
    keep_going = request[3] if len(request) == 4 else False
    if not isinstance(resumable, bool) or not isinstance(keep_going, bool):
        raise _rejected("resumable and continue_on_failure must be true or false")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise _rejected(f"a sequence has 1 to {MAX_STEPS} steps")
    return Sequence(name, tuple(_parse_step(item, number, apid) for number, item in enumerate(steps, 1)), resumable,
                    keep_going)


def _parse_step(item: Any, number: int, apid: int) -> Step:
    where = f"step {number}"
    if not isinstance(item, list) or len(item) not in (2, 3):
        raise _rejected(f"{where}: expected [delay_s, tc_bytes] or [delay_s, tc_bytes, condition]")
    delay = _number(item[0], f"{where}: delay", 0.0, MAX_DELAY_S)
    if not isinstance(item[1], bytes):
        raise _rejected(f"{where}: the TC must be a CBOR byte string")
    try:
        tc = PusTc.unpack(item[1])
    except PacketError as error:
        raise _rejected(f"{where}: {error.message}", error.code) from error
    if tc.apid != apid:
        raise _rejected(f"{where}: TC to APID {tc.apid}, not {apid}", FailureCode.UNKNOWN_APID)
    if not tc.ack_flags & ACK_COMPLETION:
        raise _rejected(f"{where}: the TC must ask for completion acknowledgement (the sequence follows its 1,7)")
    wait = None
    if len(item) == 3:
        condition = item[2]
        if not isinstance(condition, list) or len(condition) != 4:
            raise _rejected(f"{where}: a condition is [point, op, value, timeout_s]")
        point, op, value, timeout = condition
        if not isinstance(point, str) or not point:
            raise _rejected(f"{where}: the condition's point must be a telemetry point name")
        if op not in OPERATORS:
            raise _rejected(f"{where}: operator {op!r} is not one of {' '.join(OPERATORS)}")
        if not isinstance(value, bool | int | float | str):
            raise _rejected(f"{where}: the condition's value must be a number, a boolean or a string")
        wait = Wait(point, op, value, _number(timeout, f"{where}: timeout", 0.0, MAX_DELAY_S))
    return Step(delay, bytes(item[1]), wait)


