"""The console's command line: what it understands, Tab completion (prefix first, then fuzzy), the
check shown as one types, and the help and search texts."""

from __future__ import annotations

import difflib
from typing import Any

from ..dictionary import ArgumentError, CommandSpec, Dictionary

# Words the console handles itself (lower case: dictionary commands are upper case).
LOCAL_COMMANDS = ("ack", "find", "help", "page", "plot", "quit", "unplot", "vehicle")
POINT_WORDS = ("ack", "plot", "unplot")  # local commands whose arguments are telemetry points

KEYS_HELP = """\
keys
  F1         this help            F2 / F3    previous / next telemetry page
  F4         show or hide plots   F8         acknowledge every limit alarm
  F6         the next vehicle's pages (the lander's, the rover's relayed by it)
  Tab        complete (commands, arguments, enum values, points; fuzzy when no name starts so)
  Ctrl+Q     quit

console commands (anything else is a dictionary command, checked as you type)
  NUMBER                 go to the telemetry page of that structure (e.g. 40)
  page NAME|NUMBER       go to a page by structure name or number
  vehicle [NAME]         show a vehicle's telemetry pages (lander, rover); none: the next one
  rover:COMMAND ...      a rover command (checked with the rover's dictionary, relayed by the lander)
  plot POINT ...         add live plots of points (with their limits; rover:POINT a rover point); unplot [POINT]
  ack [POINT]            acknowledge one limit alarm (or all; rover:POINT the rover's)
  find TEXT              search commands, points, events and parameters
  help [NAME]            this help, or what a command, point, event or parameter is
  quit

status bar: link state and age of the newest packet per vehicle (the rover's through the lander),
mode, mission phase, machines awaiting a ground go, critical commands still in flight, unacknowledged alarms.
A value older than its structure's report period allows is dimmed and its age shown.
"""


def fuzzy(text: str, names: list[str], limit: int = 8) -> list[str]:
    """Names starting with ``text``, then containing it, then containing its letters in order,
    then a typo away; case-insensitive."""
    wanted = text.lower()
    if not wanted:
        return sorted(names)[:limit]
    lowered = {name: name.lower() for name in names}
    prefix = sorted(name for name, low in lowered.items() if low.startswith(wanted))
    inside = sorted(name for name, low in lowered.items() if wanted in low and name not in prefix)
    ordered = sorted(name for name, low in lowered.items() if _in_order(wanted, low) and name not in prefix + inside)
    close = [name for name in difflib.get_close_matches(text, names, n=limit, cutoff=0.6)
             if name not in prefix + inside + ordered]
    return (prefix + inside + ordered + close)[:limit]


def _in_order(letters: str, word: str) -> bool:
    position = 0
    for letter in letters:
        position = word.find(letter, position) + 1
        if position == 0:
            return False
    return True


def complete(dictionary: Dictionary, text: str, relayed: dict[str, Dictionary] | None = None
             ) -> tuple[str, list[str]]:
    """Tab completion of a command line: command names, then argument names, then enum values (and
    point names after ``plot``/``ack``); ``rover:NAME ...`` from the rover's dictionary (``relayed``).
    Returns the completed text and the candidates considered; when no name starts with what was
    typed, the candidates are fuzzy matches."""
    vehicle, separator, rest = text.partition(":")
    if separator and " " not in vehicle and relayed and vehicle.lower() in relayed:
        completed, candidates = complete(relayed[vehicle.lower()], rest)
        return f"{vehicle}:{completed}", candidates
    words = text.split(" ")
    current = words[-1]
    if len(words) == 1:
        return _choose(current, sorted([*dictionary.commands, *LOCAL_COMMANDS]), "")
    head = " ".join(words[:-1]) + " "
    first = words[0].lower()
    if first in POINT_WORDS:
        # A relayed vehicle's points as ``rover:POINT`` (its alarms, its plots).
        relayed_points = [f"{name}:{point}" for name, d in (relayed or {}).items() for point in d.points]
        return _choose(current, sorted([*dictionary.points, *relayed_points]), head)
    if first in ("help", "find"):
        return _choose(current, sorted([*dictionary.commands, *dictionary.points]), head)
    if first == "page":
        return _choose(current, sorted(dictionary.structures.values()), head)
    spec = dictionary.commands.get(words[0].upper())
    if spec is None:
        return text, []
    if "=" in current:
        name, value = current.split("=", 1)
        arg = spec.arg(name)
        if arg is None or not arg.enum:
            return text, []
        return _choose(value, list(arg.enum), f"{head}{name}=")
    given = {word.split("=", 1)[0] for word in words[1:-1] if "=" in word}
    matches = [f"{arg.name}=" for arg in spec.args if arg.name not in given and arg.name.startswith(current)]
    if len(matches) == 1:
        return head + matches[0], matches
    return head + (_common_prefix(matches) or current), matches


def _choose(current: str, names: list[str], head: str) -> tuple[str, list[str]]:
    matches = [name for name in names if name.lower().startswith(current.lower())]
    if not matches:
        matches = fuzzy(current, names)
        if len(matches) == 1:
            return f"{head}{matches[0]} ", matches
        return f"{head}{current}", matches
    if len(matches) == 1:
        return f"{head}{matches[0]} ", matches
    return f"{head}{_common_prefix(matches) or current}", matches


def _common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    first, last = min(words), max(words)
    size = 0
    while size < len(first) and size < len(last) and first[size] == last[size]:
        size += 1
    return first[:size]


def parse_line(dictionary: Dictionary, line: str) -> tuple[CommandSpec, list[Any]]:
    words = line.split()
    if not words:
        raise ArgumentError("empty command")
    spec = dictionary.command(words[0])
    return spec, spec.parse(words[1:])


def label(spec: CommandSpec, values: list[Any]) -> str:
    return " ".join([spec.name, *(f"{a.name}={v}" for a, v in zip(spec.args, values, strict=True))])


def describe(dictionary: Dictionary, name: str) -> str:
    """What a command, point, event or parameter is (for ``help NAME``)."""
    spec = dictionary.commands.get(name.upper())
    if spec is not None:
        critical = ", CRITICAL: armed first" if spec.critical else ""
        lines = [f"command {spec.name} (opcode 0x{spec.opcode:04X}{critical})",
                 f"  {spec.description}", f"  usage: {spec.usage()}"]
        lines += [f"  {arg.describe()}" for arg in spec.args]
        if spec.modes:
            lines.append(f"  allowed in: {', '.join(spec.modes)}")
        if spec.duration_s or spec.duration_per:
            per = f" + {' x '.join(spec.duration_per)}" if spec.duration_per else ""
            lines.append(f"  runs for: {spec.duration_s:g} s{per}")
        return "\n".join(lines)
    point = dictionary.points.get(name)
    if point is not None:
        limits = [f"{colour} {_bounds(bounds)}" for colour, bounds in (("yellow", point.yellow), ("red", point.red))
                  if bounds]
        return "\n".join([f"point {point.name} ({point.type}{', ' + point.unit if point.unit else ''}) in "
                          f"structure {point.structure} {dictionary.structure_name(point.structure)}",
                          f"  {point.description}",
                          f"  limits: {'; '.join(limits) if limits else 'none'}",
                          *([f"  values: {', '.join(point.enum)}"] if point.enum else [])])
    event = next((e for e in dictionary.events.values() if e.name == name.upper()), None)
    if event is not None:
        return f"event {event.name} (0x{event.id:04X}, {event.severity})\n  {event.text}"
    parameter = next((p for p in dictionary.parameters.values() if p.name == name), None)
    if parameter is not None:
        return f"parameter {parameter.name} (0x{parameter.id:04X})\n  {parameter.as_arg().describe()}"
    known = [*dictionary.commands, *dictionary.points]
    close = fuzzy(name, known, 5)
    return f"nothing is called {name!r}" + (f" (did you mean {', '.join(close)}?)" if close else "")


def _bounds(bounds: tuple[float | None, float | None]) -> str:
    low, high = bounds
    return " and ".join(part for part in (f"below {low:g}" if low is not None else "",
                                          f"above {high:g}" if high is not None else "") if part)


def search(dictionary: Dictionary, text: str, limit: int = 40) -> list[str]:
    """Commands, points, events and parameters whose name or description mentions ``text`` (then
    close names); one line each."""
    wanted = text.lower()
    rows: list[tuple[str, str, str]] = []
    rows += [("command", c.name, c.description) for c in dictionary.commands.values()]
    rows += [("point", p.name, p.description) for p in dictionary.points.values()]
    rows += [("event", e.name, e.text) for e in dictionary.events.values()]
    rows += [("parameter", p.name, p.description) for p in dictionary.parameters.values()]
    hits = [row for row in rows if wanted in row[1].lower() or wanted in row[2].lower()]
    if len(hits) < limit:
        names = fuzzy(text, [row[1] for row in rows], limit - len(hits))
        hits += [row for row in rows if row[1] in names and row not in hits]
    return [f"{kind:<9} {name:<28} {description}" for kind, name, description in hits[:limit]]
