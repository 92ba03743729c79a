"""The ground's view of the flight dictionary, read from the exported JSON (``ilrs-fsw dictionary``).

Everything the console shows or sends is driven by this file: command names, argument types and
ranges, telemetry units and limits, event text templates. Arguments are checked with the flight's
own code (``fsw.protocol.arguments``) so that an operator's typo is caught before it costs uplink time.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.protocol import UNIX_TO_TAI_1958
from fsw.protocol.arguments import FLOAT_TYPES, INT_RANGES, ArgumentSpec, format_number
from fsw.protocol.errors import BadArgumentError

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DICTIONARY = REPOSITORY_ROOT / "docs" / "dictionary.json"

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH")  # index + 1 is the PUS 5 subtype
ARM_COMMAND = "ARM"


TAI_UNIT = "TAI"  # a point holding on-board time: TAI seconds since 1958, shown as UTC


def tai_as_utc(tai_seconds: float) -> str:
    """On-board TAI seconds since 1958 as UTC text (the offset includes TAI-UTC = 37 s)."""
    unix = tai_seconds - UNIX_TO_TAI_1958
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def suggestion(name: str, known: Iterable[str]) -> str:
    """' (did you mean A, B?)' for the names that contain ``name`` or are a typo away from it."""
    names = list(known)
    close = sorted(known_name for known_name in names if name and name in known_name)
    close += [match for match in difflib.get_close_matches(name, names, n=3, cutoff=0.75) if match not in close]
    return f" (did you mean {', '.join(close[:5])}?)" if close else ""


class DictionaryError(ValueError):
    """The dictionary file is missing or malformed."""


class ArgumentError(ValueError):
    """An operator's command line does not fit the dictionary; the message names the problem."""


@dataclass(frozen=True)
class ArgSpec(ArgumentSpec):
    """An argument as the exported dictionary declares it; the checks are the flight's own
    (``fsw.protocol.arguments``), only the operator's text is parsed here."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArgSpec:
        return cls.from_dict(data)

    def describe(self) -> str:
        text = f"{self.name}:{'|'.join(self.enum) if self.enum else self.type}"
        if self.min is not None or self.max is not None:
            low = "" if self.min is None else format_number(self.min)
            high = "" if self.max is None else format_number(self.max)
            text += f" [{low}..{high}]"
        return text + (f" {self.unit}" if self.unit else "")

    def parse(self, text: str) -> Any:
        """Turn the operator's text into a checked value."""
        if self.type in INT_RANGES:
            try:
                value: Any = int(text, 0)
            except ValueError:
                raise ArgumentError(f"{self.name}: expected an integer ({self.type}), got {text!r}") from None
        elif self.type in FLOAT_TYPES:
            try:
                value = float(text)
            except ValueError:
                raise ArgumentError(f"{self.name}: expected a number, got {text!r}") from None
        elif self.type == "bool":
            word = text.lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ArgumentError(f"{self.name}: expected true or false, got {text!r}")
            value = word in TRUE_WORDS
        elif self.type == "enum":
            choices = self.enum or ()
            value = next((choice for choice in choices if choice.lower() == text.lower()), text)
        elif self.type == "bytes":
            try:
                value = bytes.fromhex(text.removeprefix("0x"))
            except ValueError:
                raise ArgumentError(f"{self.name}: expected hexadecimal octets, got {text!r}") from None
        else:
            value = text
        return self.check(value)

    def check(self, value: Any, *, enum_index: bool = False) -> Any:
        """Check a Python value as the flight will. An enum is sent by name, so an index is refused
        here unless ``enum_index``."""
        try:
            return super().check(value, enum_index=enum_index)
        except BadArgumentError as error:
            raise ArgumentError(error.message) from None


@dataclass(frozen=True)
class CommandSpec:
    name: str
    opcode: int
    args: tuple[ArgSpec, ...] = ()
    description: str = ""
    modes: tuple[str, ...] = ()
    critical: bool = False
    component: str = ""
    duration_s: float = 0.0  # on board, from start to completion ...
    duration_per: tuple[str, ...] = ()  # ... plus the product of these arguments' values

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommandSpec:
        return cls(data["name"], int(data["opcode"]), tuple(ArgSpec.from_json(a) for a in data.get("args", [])),
                   data.get("description", ""), tuple(data.get("modes", [])), bool(data.get("critical", False)),
                   data.get("component", ""), float(data.get("duration_s", 0.0)),
                   tuple(data.get("duration_per", ())))

    def expected_duration(self, values: list[Any]) -> float:
        """Seconds the command runs on board after its start, for these (checked) argument values."""
        extra = 1.0 if self.duration_per else 0.0
        for name in self.duration_per:
            index = next((i for i, arg in enumerate(self.args) if arg.name == name), None)
            extra *= float(values[index]) if index is not None and index < len(values) else 0.0
        return self.duration_s + extra

    def arg(self, name: str) -> ArgSpec | None:
        return next((arg for arg in self.args if arg.name == name), None)

    def usage(self) -> str:
        return " ".join([self.name, *(f"{arg.name}=<{arg.describe().split(':', 1)[1]}>" for arg in self.args)])

    def build(self, values: dict[str, Any]) -> list[Any]:
        """Check keyword values (Python objects) and return the ordered argument list."""
        unknown = [name for name in values if self.arg(name) is None]
        if unknown:
            known = ", ".join(arg.name for arg in self.args) or "none"
            raise ArgumentError(f"{self.name} has no argument {unknown[0]!r} (arguments: {known})")
        missing = [arg.name for arg in self.args if arg.name not in values]
        if missing:
            raise ArgumentError(f"{self.name} needs {', '.join(missing)} (usage: {self.usage()})")
        return [arg.check(values[arg.name]) for arg in self.args]

    def parse(self, words: list[str]) -> list[Any]:
        """Parse ``NAME=VALUE`` words (or bare values, in order) into the ordered argument list."""
        values: dict[str, Any] = {}
        for position, word in enumerate(words):
            if "=" in word:
                name, text = word.split("=", 1)
            elif position < len(self.args):
                name, text = self.args[position].name, word
            else:
                raise ArgumentError(f"{self.name} takes {len(self.args)} arguments; {word!r} is one too many")
            spec = self.arg(name)
            if spec is None:
                known = ", ".join(arg.name for arg in self.args) or "none"
                raise ArgumentError(f"{self.name} has no argument {name!r} (arguments: {known})")
            if name in values:
                raise ArgumentError(f"{self.name}: {name} given twice")
            values[name] = spec.parse(text)
        return self.build(values)


@dataclass(frozen=True)
class PointSpec:
    name: str
    type: str
    unit: str = ""
    description: str = ""
    component: str = ""
    structure: int = 0
    yellow: tuple[float | None, float | None] | None = None
    red: tuple[float | None, float | None] | None = None
    enum: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PointSpec:
        return cls(data["name"], data["type"], data.get("unit", ""), data.get("description", ""),
                   data.get("component", ""), int(data.get("structure", 0)),
                   tuple(data["yellow"]) if data.get("yellow") else None,
                   tuple(data["red"]) if data.get("red") else None,
                   tuple(data["enum"]) if data.get("enum") else None)

    def limit_state(self, value: Any) -> str:
        """``red``, ``yellow`` or ``ok``. Non-numeric values are never in alarm."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "ok"
        if self.red and _outside(value, self.red):
            return "red"
        if self.yellow and _outside(value, self.yellow):
            return "yellow"
        return "ok"

    def format(self, value: Any) -> str:
        if value is None:
            return "-"
        if self.unit == TAI_UNIT and isinstance(value, int | float) and not isinstance(value, bool):
            return tai_as_utc(value)
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        return f"{text} {self.unit}".rstrip()


@dataclass(frozen=True)
class EventSpec:
    id: int
    name: str
    severity: str
    text: str
    component: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventSpec:
        return cls(int(data["id"]), data["name"], data["severity"], data["text"], data.get("component", ""))

    def format(self, args: dict[str, Any]) -> str:
        try:
            return self.text.format(**args)
        except (KeyError, IndexError, ValueError, AttributeError):
            return f"{self.text} {args}"


@dataclass(frozen=True)
class ParameterSpec:
    id: int
    name: str
    type: str
    default: Any = None
    description: str = ""
    min: float | None = None
    max: float | None = None
    unit: str = ""
    enum: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParameterSpec:
        return cls(int(data["id"]), data["name"], data["type"], data.get("default"), data.get("description", ""),
                   data.get("min"), data.get("max"), data.get("unit", ""),
                   tuple(data["enum"]) if data.get("enum") else None)

    def as_arg(self) -> ArgSpec:
        """The same checks as a command argument of that type and range."""
        return ArgSpec(self.name, self.type, self.description, self.min, self.max, self.enum, self.unit)


@dataclass
class Dictionary:
    apid: int
    version: int = 1
    structures: dict[int, str] = field(default_factory=dict)
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    points: dict[str, PointSpec] = field(default_factory=dict)
    events: dict[int, EventSpec] = field(default_factory=dict)
    parameters: dict[int, ParameterSpec] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dictionary:
        try:
            return cls(
                apid=int(data["apid"]),
                version=int(data.get("version", 1)),
                structures={int(sid): name for sid, name in data.get("structures", {}).items()},
                commands={c["name"]: CommandSpec.from_json(c) for c in data.get("commands", [])},
                points={t["name"]: PointSpec.from_json(t) for t in data.get("telemetry", [])},
                events={int(e["id"]): EventSpec.from_json(e) for e in data.get("events", [])},
                parameters={int(p["id"]): ParameterSpec.from_json(p) for p in data.get("parameters", [])},
                raw=data,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DictionaryError(f"malformed dictionary: {error!r}") from error

    @classmethod
    def load(cls, path: str | Path | None = None) -> Dictionary:
        path = Path(path) if path is not None else DEFAULT_DICTIONARY
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise DictionaryError(
                f"dictionary {path} not found (export one with: ilrs-fsw dictionary --format json --output {path})"
            ) from None
        except (OSError, json.JSONDecodeError) as error:
            raise DictionaryError(f"cannot read dictionary {path}: {error}") from error
        return cls.from_json(data)

    def command(self, name: str) -> CommandSpec:
        spec = self.commands.get(name) or self.commands.get(name.upper())
        if spec is None:
            raise ArgumentError(f"unknown command {name!r}{suggestion(name.upper(), self.commands)}")
        return spec

    def parameter(self, name: str) -> ParameterSpec:
        spec = next((p for p in self.parameters.values() if p.name == name), None)
        if spec is None:
            hint = suggestion(name, [p.name for p in self.parameters.values()])
            known = ", ".join(sorted(p.name for p in self.parameters.values()))
            raise ArgumentError(f"unknown parameter {name!r}{hint or f' (parameters: {known})'}")
        return spec

    def point(self, name: str) -> PointSpec:
        spec = self.points.get(name)
        if spec is None:
            raise ArgumentError(f"unknown telemetry point {name!r}{suggestion(name.lower(), self.points)}")
        return spec

    def structure_name(self, sid: int) -> str:
        return self.structures.get(sid, f"structure {sid}")

    def points_in(self, sid: int) -> list[PointSpec]:
        return [point for point in self.points.values() if point.structure == sid]

    def event_text(self, event_id: int, args: dict[str, Any]) -> tuple[str, str]:
        """(name, formatted text) of an event; unknown ids still print."""
        spec = self.events.get(event_id)
        if spec is None:
            return f"EVENT_0x{event_id:04X}", str(args)
        return spec.name, spec.format(args)

    def to_markdown(self) -> str:
        lines = [f"# Dictionary (version {self.version}, APID {self.apid})", "", "## Commands", "",
                 "| opcode | name | arguments | modes | critical | description |", "|---|---|---|---|---|---|"]
        for c in sorted(self.commands.values(), key=lambda c: c.opcode):
            args = "; ".join(arg.describe() for arg in c.args) or "none"
            lines.append(f"| 0x{c.opcode:04X} | `{c.name}` | {args} | {', '.join(c.modes)} | "
                         f"{'yes' if c.critical else ''} | {c.description} |")
        lines += ["", "## Telemetry", "", "| structure | name | type | unit | yellow | red | description |",
                  "|---|---|---|---|---|---|---|"]
        for p in sorted(self.points.values(), key=lambda p: (p.structure, p.name)):
            kind = "enum(" + "\\|".join(p.enum) + ")" if p.enum else p.type
            lines.append(f"| {p.structure} {self.structure_name(p.structure)} | `{p.name}` | {kind} | {p.unit} | "
                         f"{_limits(p.yellow)} | {_limits(p.red)} | {p.description} |")
        lines += ["", "## Events", "", "| id | name | severity | text |", "|---|---|---|---|"]
        for e in sorted(self.events.values(), key=lambda e: e.id):
            lines.append(f"| 0x{e.id:04X} | `{e.name}` | {e.severity} | {e.text} |")
        lines += ["", "## Parameters", "", "| id | name | type | default | range | unit |", "|---|---|---|---|---|---|"]
        for q in sorted(self.parameters.values(), key=lambda q: q.id):
            span = "" if q.min is None and q.max is None else f"{q.min}..{q.max}"
            lines.append(f"| 0x{q.id:04X} | `{q.name}` | {q.type} | {q.default} | {span} | {q.unit} |")
        return "\n".join(lines) + "\n"


def _outside(value: float, bounds: tuple[float | None, float | None]) -> bool:
    low, high = bounds
    return (low is not None and value < low) or (high is not None and value > high)


def _limits(bounds: tuple[float | None, float | None] | None) -> str:
    if not bounds:
        return ""
    low, high = bounds
    return " ".join(part for part in (f"< {low}" if low is not None else "", f"> {high}" if high is not None else "")
                    if part)
