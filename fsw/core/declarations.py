"""What a component declares in one place: commands, telemetry, events, parameters.

The dictionary (JSON for the ground, Markdown for the ICD, XTCE for Yamcs) is generated from these
declarations and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from fsw.protocol.arguments import VALUE_TYPES, ArgumentSpec
from fsw.protocol.errors import BadArgumentError

MODES = ("BOOT", "SAFE", "NOMINAL")
ALL_MODES = frozenset(MODES)
OPERATIONAL_MODES = frozenset({"SAFE", "NOMINAL"})
# Commands that advance the mission (go commands, rover drives, payload acquisitions): SAFE refuses
# them (WRONG_MODE); only an explicit MODE_SET NOMINAL from the ground leaves SAFE.
MISSION_MODES = frozenset({"NOMINAL"})


class Severity(IntEnum):
    """Event severities; the value is the PUS 5 report subtype."""

    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4


# The flight's name for an argument or parameter value refused by its declaration (BAD_ARGUMENT, or
# ARGUMENT_RANGE through its subclass): ``code`` and ``message`` go into the failure report.
ValidationError = BadArgumentError


@dataclass(frozen=True)
class Arg(ArgumentSpec):
    """A command argument, declared in code: the checks and the dictionary entry are ``ArgumentSpec``'s."""

    def __post_init__(self) -> None:
        if self.type not in VALUE_TYPES:
            raise TypeError(f"argument {self.name}: unknown type {self.type}")
        if (self.type == "enum") != (self.enum is not None):
            raise TypeError(f"argument {self.name}: enum values go with type enum")

    def validate(self, value: Any) -> Any:
        return self.check(value)


@dataclass(frozen=True)
class CommandDef:
    name: str
    opcode: int
    args: tuple[Arg, ...] = ()
    description: str = ""
    modes: frozenset[str] = OPERATIONAL_MODES
    critical: bool = False
    component: str = ""
    # How long execution takes on board, from start to completion (flight seconds): ``duration_s``
    # plus the product of the ``duration_per`` arguments' values (samples x interval). The ground
    # waits that long for completion after the start report.
    duration_s: float = 0.0
    duration_per: tuple[str, ...] = ()
    handler: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # Why the owner cannot take this command in its present state (None: it can); asked at acceptance.
    refusal: Callable[[], str | None] | None = field(default=None, compare=False, repr=False)

    def validate_args(self, values: list[Any]) -> list[Any]:
        if len(values) != len(self.args):
            raise BadArgumentError(f"{self.name} takes {len(self.args)} arguments, got {len(values)}")
        return [arg.validate(value) for arg, value in zip(self.args, values, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "opcode": self.opcode, "component": self.component,
            "description": self.description, "modes": sorted(self.modes), "critical": self.critical,
            "args": [arg.to_dict() for arg in self.args],
            "duration_s": self.duration_s, "duration_per": list(self.duration_per),
        }


@dataclass(frozen=True)
class Limits:
    """Alarm limits: a value outside [low, high] is in alarm (either bound may be None)."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class TelemetryDef:
    name: str
    type: str
    unit: str = ""
    description: str = ""
    yellow: Limits | None = None
    red: Limits | None = None
    enum: tuple[str, ...] | None = None
    component: str = ""
    structure: int = 0

    def to_dict(self) -> dict[str, Any]:
        return _compact({
            "name": self.name, "type": self.type, "unit": self.unit, "description": self.description,
            "component": self.component, "structure": self.structure,
            "yellow": [self.yellow.low, self.yellow.high] if self.yellow else None,
            "red": [self.red.low, self.red.high] if self.red else None,
            "enum": list(self.enum) if self.enum else None,
        })


@dataclass(frozen=True)
class EventDef:
    id: int
    name: str
    severity: Severity
    text: str  # str.format template over the event's arguments
    component: str = ""

    def format(self, args: dict[str, Any]) -> str:
        try:
            return self.text.format(**args)
        except (KeyError, IndexError, ValueError):
            return f"{self.text} {args}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "severity": self.severity.name, "text": self.text,
                "component": self.component}


@dataclass(frozen=True)
class ParameterDef:
    id: int
    name: str
    type: str
    default: Any
    description: str = ""
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    unit: str = ""
    component: str = ""

    def validate(self, value: Any) -> Any:
        return ArgumentSpec(self.name, self.type, min=self.min, max=self.max, enum=self.enum).check(value)

    def to_dict(self) -> dict[str, Any]:
        return _compact({
            "id": self.id, "name": self.name, "type": self.type, "default": self.default,
            "description": self.description, "min": self.min, "max": self.max,
            "enum": list(self.enum) if self.enum else None, "unit": self.unit, "component": self.component,
        })


# Order of the safing response's steps: what moves is stopped first, then power is cut, then what keeps
# the vehicle alive is made sure of.
SAFING_STOP_MOTION = 0
SAFING_POWER_OFF = 1
SAFING_KEEP_ALIVE = 2


@dataclass(frozen=True)
class SafingStep:
    """A command the safing response (the built-in sequence SAFING) sends to a component. It must
    succeed whatever the component is doing (idempotent), so that the response works in every phase."""

    command: str
    args: tuple[Any, ...] = ()
    rank: int = SAFING_POWER_OFF


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def command(
    opcode: int,
    *args: Arg,
    description: str = "",
    modes: frozenset[str] | set[str] = OPERATIONAL_MODES,
    critical: bool = False,
    name: str | None = None,
    duration_s: float = 0.0,
    duration_per: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a component method as a command handler. The command's name defaults to the method's
    name in upper case without its ``cmd_`` prefix. ``duration_s`` (+ the product of the
    ``duration_per`` arguments) is how long it runs on board after its start."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        command_name = name or method.__name__.removeprefix("cmd_").upper()
        names = {arg.name for arg in args}
        unknown = [per for per in duration_per if per not in names]
        if unknown or duration_s < 0:
            raise ValueError(f"{command_name}: duration_per names no argument {unknown} or duration_s < 0")
        method.__dict__["__command__"] = CommandDef(
            command_name, opcode, tuple(args), description or (method.__doc__ or "").strip().split("\n")[0],
            frozenset(modes), critical, duration_s=duration_s, duration_per=tuple(duration_per),
        )
        return method

    return mark
