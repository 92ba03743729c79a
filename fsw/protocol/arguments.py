"""Command argument and parameter values: the one check shared by flight and ground.

An :class:`ArgumentSpec` is what the dictionary says about one argument (type, range, enumeration,
length). The flight declares it in code (``fsw.core.declarations.Arg``), the ground reads it back from
the exported dictionary (``ArgumentSpec.from_dict``); both check values with :meth:`ArgumentSpec.check`,
so an operator's mistake is refused on the ground with the same words the flight would use.

A refusal raises :class:`~fsw.protocol.errors.BadArgumentError` (wrong type: ``BAD_ARGUMENT``) or its
subclass :class:`~fsw.protocol.errors.ArgumentRangeError` (right type, outside the declaration:
``ARGUMENT_RANGE``); the code goes into the PUS 1,2 / 1,4 failure report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

from .errors import ArgumentRangeError, BadArgumentError

INT_RANGES: dict[str, tuple[int, int]] = {
    "u8": (0, 0xFF), "u16": (0, 0xFFFF), "u32": (0, 0xFFFFFFFF),
    "i8": (-0x80, 0x7F), "i16": (-0x8000, 0x7FFF), "i32": (-0x80000000, 0x7FFFFFFF),
}
FLOAT_TYPES = frozenset({"f32", "f64"})
VALUE_TYPES = frozenset(INT_RANGES) | FLOAT_TYPES | {"bool", "str", "enum", "bytes"}
SHOWN_VALUE_CHARACTERS = 64  # a refused value is echoed in the failure report; keep the report small


@dataclass(frozen=True)
class ArgumentSpec:
    """One argument (or parameter) as the dictionary declares it."""

    name: str
    type: str
    description: str = ""
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    unit: str = ""
    max_length: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """From a dictionary entry (the inverse of :meth:`to_dict`)."""
        return cls(data["name"], data["type"], data.get("description", ""), data.get("min"), data.get("max"),
                   tuple(data["enum"]) if data.get("enum") else None, data.get("unit", ""), data.get("max_length"))

    def to_dict(self) -> dict[str, Any]:
        """The dictionary entry: fields left at their default are omitted."""
        entry = {
            "name": self.name, "type": self.type, "description": self.description, "min": self.min,
            "max": self.max, "enum": list(self.enum) if self.enum else None, "unit": self.unit,
            "max_length": self.max_length,
        }
        return {key: value for key, value in entry.items() if value not in (None, "")}

    def check(self, value: Any, *, enum_index: bool = True) -> Any:
        """Return ``value`` in canonical form (floats as float, enums by name) or raise.

        With ``enum_index`` an enum also takes the index of its name (the compact uplink form).
        Booleans are never integers or numbers here, and integers never booleans.
        """
        name, kind = self.name, self.type
        if kind in INT_RANGES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadArgumentError(f"{name}: expected an integer ({kind}), got {_shown(value)}")
            low, high = INT_RANGES[kind]
            if not low <= value <= high:
                raise ArgumentRangeError(f"{name}: {value} does not fit in {kind} ({low}..{high})")
        elif kind in FLOAT_TYPES:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadArgumentError(f"{name}: expected a number, got {_shown(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise ArgumentRangeError(f"{name}: {value} is not finite")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise BadArgumentError(f"{name}: expected true or false, got {_shown(value)}")
        elif kind == "enum":
            choices = self.enum or ()
            if enum_index and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
                value = choices[value]
            if value not in choices:
                raise ArgumentRangeError(f"{name}: {_shown(value)} is not one of {', '.join(choices)}")
        elif kind in ("str", "bytes"):
            if not isinstance(value, str if kind == "str" else bytes):
                raise BadArgumentError(f"{name}: expected {kind}, got {_shown(value)}")
            if self.max_length is not None and len(value) > self.max_length:
                raise ArgumentRangeError(f"{name}: longer than {self.max_length}")
        if self.min is not None and value < self.min:
            raise ArgumentRangeError(f"{name}: {value} is below the minimum {format_number(self.min)}")
        if self.max is not None and value > self.max:
            raise ArgumentRangeError(f"{name}: {value} is above the maximum {format_number(self.max)}")
        return value


def format_number(value: float) -> str:
    """A bound as the operator would write it: ``512``, ``0.5``, ``1e+06``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) <= SHOWN_VALUE_CHARACTERS:
        return text
    return f"{text[:SHOWN_VALUE_CHARACTERS - 3]}... ({type(value).__name__})"
