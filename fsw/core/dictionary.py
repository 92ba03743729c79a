"""The dictionary: every command, telemetry point, event and parameter, collected from the
components' declarations. Exported as JSON (for the ground) and Markdown (for the ICD)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .declarations import CommandDef, EventDef, ParameterDef, TelemetryDef

if TYPE_CHECKING:
    from .component import Component

DICTIONARY_VERSION = 1


class Dictionary:
    def __init__(self) -> None:
        self.commands: list[CommandDef] = []
        self.telemetry: list[TelemetryDef] = []
        self.events: list[EventDef] = []
        self.parameters: list[ParameterDef] = []
        self.structures: dict[int, str] = {}

    def add(self, component: Component, commands: list[CommandDef]) -> None:
        self.commands += commands
        self.telemetry += component.telemetry_defs()
        self.events += component.event_defs()
        self.parameters += component.parameter_defs()
        if component.hk_structure:
            self.structures[component.hk_structure] = component.name

    def to_dict(self, apid: int) -> dict[str, Any]:
        return {
            "version": DICTIONARY_VERSION,
            "apid": apid,
            "structures": {str(sid): name for sid, name in sorted(self.structures.items())},
            "commands": [c.to_dict() for c in sorted(self.commands, key=lambda c: c.opcode)],
            "telemetry": [t.to_dict() for t in sorted(self.telemetry, key=lambda t: (t.structure, t.name))],
            "events": [e.to_dict() for e in sorted(self.events, key=lambda e: e.id)],
            "parameters": [p.to_dict() for p in sorted(self.parameters, key=lambda p: p.id)],
        }

    def to_json(self, apid: int) -> str:
        return json.dumps(self.to_dict(apid), indent=2, sort_keys=False) + "\n"

    def to_markdown(self, apid: int) -> str:
        data = self.to_dict(apid)
        lines = ["### Commands (PUS 8,1: CBOR `[opcode, arg, ...]`)", "",
                 "| opcode | name | arguments | modes | critical | description |",
                 "|---|---|---|---|---|---|"]
        for c in data["commands"]:
            args = "; ".join(_describe_arg(a) for a in c["args"]) or "none"
            lines.append(f"| 0x{c['opcode']:04X} | `{c['name']}` | {args} | {', '.join(c['modes'])} | "
                         f"{'yes' if c['critical'] else ''} | {c['description']} |")
        lines += ["", "### Telemetry points (PUS 3,25: CBOR `[structure id, {name: value}]`)", "",
                  "| structure | name | type | unit | yellow | red | description |", "|---|---|---|---|---|---|---|"]
        for t in data["telemetry"]:
            structure = f"{t['structure']} ({data['structures'].get(str(t['structure']), '')})" if t.get(
                "structure") else "-"
            lines.append(f"| {structure} | `{t['name']}` | {_type(t)} | {t.get('unit', '')} | "
                         f"{_limits(t.get('yellow'))} | {_limits(t.get('red'))} | {t.get('description', '')} |")
        lines += ["", "### Events (PUS 5,1-5,4 by severity: CBOR `[event id, {arg: value}]`)", "",
                  "| id | name | severity | text |", "|---|---|---|---|"]
        for e in data["events"]:
            lines.append(f"| 0x{e['id']:04X} | `{e['name']}` | {e['severity']} | {e['text']} |")
        lines += ["", "### Parameters (PUS 20: CBOR `[[id, value], ...]`)", "",
                  "| id | name | type | default | range | unit | description |", "|---|---|---|---|---|---|---|"]
        for p in data["parameters"]:
            lines.append(f"| 0x{p['id']:04X} | `{p['name']}` | {_type(p)} | {p['default']} | "
                         f"{_range(p)} | {p.get('unit', '')} | {p.get('description', '')} |")
        return "\n".join(lines) + "\n"


def _type(entry: dict[str, Any]) -> str:
    if entry.get("enum"):
        return "enum(" + "\\|".join(entry["enum"]) + ")"
    return str(entry["type"])


def _range(entry: dict[str, Any]) -> str:
    low, high = entry.get("min"), entry.get("max")
    if low is None and high is None:
        return ""
    return f"{'' if low is None else low}..{'' if high is None else high}"


def _limits(bounds: list[float | None] | None) -> str:
    if not bounds:
        return ""
    low, high = bounds
    return f"{'' if low is None else f'< {low}'} {'' if high is None else f'> {high}'}".strip()


def _describe_arg(arg: dict[str, Any]) -> str:
    text = f"`{arg['name']}`: {_type(arg)}"
    if "min" in arg or "max" in arg:
        text += f" [{_range(arg)}]"
    if arg.get("unit"):
        text += f" {arg['unit']}"
    return text
