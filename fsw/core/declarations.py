"""What a component declares in one place: commands, telemetry, events, parameters.

The dictionary (JSON for the ground, Markdown for the ICD, XTCE for Yamcs) is generated from these
declarations and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from fsw.protocol.errors import FailureCode

INT_RANGES: dict[str, tuple[int, int]] = {
    "u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF),
    "i8": (-0x80, 0x7F), "i16": (-0x8000, 0x7FFF), "i32": (-0x80000000, 0x7FFFFFFF),
}
FLOAT_TYPES = frozenset({"f32", "f64"})
VALUE_TYPES = frozenset(INT_RANGES) | FLOAT_TYPES | {"bool", "str", "enum", "bytes"}

MODES = ("BOOT", "SAFE", "NOMINAL")
ALL_MODES = frozenset(MODES)
OPERATIONAL_MODES = frozenset({"SAFE", "NOMINAL"})


class Severity(IntEnum):
    """Event severities; the value is the PUS 5 report subtype."""

    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4


class ValidationError(ValueError):
    """A value that does not fit its declaration. ``code`` goes into the failure report."""

    def __init__(self, code: FailureCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_value(name: str, kind: str, value: Any, low: float | None, high: float | None,
                enum: tuple[str, ...] | None, max_length: int | None = None) -> Any:
    """Check one value against its declared type and range; return it in canonical form."""
    if kind in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(FailureCode.BAD_ARGUMENT, f"{name}: expected integer {kind}, got {value!r}")
        type_low, type_high = INT_RANGES[kind]
        if not type_low <= value <= type_high:
            raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: {value} outside {kind}")
    elif kind in FLOAT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(FailureCode.BAD_ARGUMENT, f"{name}: expected number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: {value} is not finite")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError(FailureCode.BAD_ARGUMENT, f"{name}: expected true/false, got {value!r}")
    elif kind == "str":
        if not isinstance(value, str):
            raise ValidationError(FailureCode.BAD_ARGUMENT, f"{name}: expected text, got {value!r}")
        if max_length is not None and len(value) > max_length:
            raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: longer than {max_length} characters")
    elif kind == "bytes":
        if not isinstance(value, bytes):
            raise ValidationError(FailureCode.BAD_ARGUMENT, f"{name}: expected bytes, got {type(value).__name__}")
        if max_length is not None and len(value) > max_length:
            raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: longer than {max_length} octets")
    elif kind == "enum":
        assert enum is not None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(enum):
            value = enum[value]  # compact uplink form: the enum's index
        if value not in enum:
            raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: {value!r} is not one of {', '.join(enum)}")
    if low is not None and value < low:
        raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: {value} below minimum {low}")
    if high is not None and value > high:
        raise ValidationError(FailureCode.ARGUMENT_RANGE, f"{name}: {value} above maximum {high}")
    return value


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    description: str = ""
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    unit: str = ""
    max_length: int | None = None

    def __post_init__(self) -> None:
        if self.type not in VALUE_TYPES:
            raise TypeError(f"argument {self.name}: unknown type {self.type}")
        if (self.type == "enum") != (self.enum is not None):
            raise TypeError(f"argument {self.name}: enum values go with type enum")

    def validate(self, value: Any) -> Any:
        return check_value(self.name, self.type, value, self.min, self.max, self.enum, self.max_length)

    def to_dict(self) -> dict[str, Any]:
        return _compact({
            "name": self.name, "type": self.type, "description": self.description, "min": self.min,
            "max": self.max, "enum": list(self.enum) if self.enum else None, "unit": self.unit,
            "max_length": self.max_length,
        })


@dataclass(frozen=True)
class CommandDef:
    name: str
    opcode: int
    args: tuple[Arg, ...] = ()
    description: str = ""
    modes: frozenset[str] = OPERATIONAL_MODES
    critical: bool = False
    component: str = ""
    handler: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def validate_args(self, values: list[Any]) -> list[Any]:
        if len(values) != len(self.args):
            raise ValidationError(
                FailureCode.BAD_ARGUMENT, f"{self.name} takes {len(self.args)} arguments, got {len(values)}"
            )
        return [arg.validate(value) for arg, value in zip(self.args, values, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "opcode": self.opcode, "component": self.component,
            "description": self.description, "modes": sorted(self.modes), "critical": self.critical,
            "args": [arg.to_dict() for arg in self.args],
        }


@dataclass(frozen=True)
class Limits:
    """Alarm limits: a value outside [low, high] is in alarm (either bound may be None)."""

    low: float | None = None
    high: float | None = None

    def violated(self, value: float) -> bool:
        return (self.low is not None and value < self.low) or (self.high is not None and value > self.high)


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
        return check_value(self.name, self.type, value, self.min, self.max, self.enum)

    def to_dict(self) -> dict[str, Any]:
        return _compact({
            "id": self.id, "name": self.name, "type": self.type, "default": self.default,
            "description": self.description, "min": self.min, "max": self.max,
            "enum": list(self.enum) if self.enum else None, "unit": self.unit, "component": self.component,
        })


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def command(
    opcode: int,
    *args: Arg,
    description: str = "",
    modes: frozenset[str] | set[str] = OPERATIONAL_MODES,
    critical: bool = False,
    name: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a component method as a command handler. The command's name defaults to the method's
    name in upper case without its ``cmd_`` prefix."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        command_name = name or method.__name__.removeprefix("cmd_").upper()
        method.__command__ = CommandDef(  # type: ignore[attr-defined]
            command_name, opcode, tuple(args), description or (method.__doc__ or "").strip().split("\n")[0],
            frozenset(modes), critical,
        )
        return method

    return mark
