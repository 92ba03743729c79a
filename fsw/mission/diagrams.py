"""Mermaid state diagrams generated from the machines' specs (``python -m fsw.mission.diagrams``).

``--output docs/state-machines.md`` writes the document; ``--check`` fails when it has drifted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fsw.mission.ascent import SPEC as ASCENT
from fsw.mission.machine import MachineSpec
from fsw.mission.mission import SPEC as MISSION
from fsw.mission.rendezvous import SPEC as RENDEZVOUS
from fsw.mission.returns import SPEC as RETURN
from fsw.mission.rover import SPEC as ROVER
from fsw.mission.sampling import SPEC as SAMPLING

SPECS: tuple[MachineSpec, ...] = (MISSION, SAMPLING, ASCENT, RENDEZVOUS, RETURN, ROVER)
DEFAULT_OUTPUT = Path("docs/state-machines.md")

HEADER = """# Mission state machines

Generated from the machine specifications in `fsw/mission/` by
`python -m fsw.mission.diagrams --output docs/state-machines.md`; do not edit by hand (a test fails
when this file drifts from the machines). Guards (conditions on measured values) are in brackets.
Every state but the final and dormant ones has a timeout; a `go` transition waits for the ground
command named in the state table, or passes at once with the parameter `auto_go`.
"""


def mermaid(spec: MachineSpec) -> str:
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {spec.initial}"]
    for transition in spec.expanded_transitions():
        label = transition.trigger
        if transition.conditions:
            label += " [" + ", ".join(transition.conditions) + "]"
        lines.append(f"    {transition.source} --> {transition.dest}: {label}")
    for state in spec.states:
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    lines.append("```")
    return "\n".join(lines)


def state_table(spec: MachineSpec) -> str:
    rows = ["| state | timeout (s) | on timeout | dwell | go command | description |", "|---|---|---|---|---|---|"]
    for state in spec.states:
        timeout = "final" if state.final else "dormant" if state.dormant else f"{state.timeout_s:g}"
        on_timeout = state.timeout_trigger if state.timeout_s is not None else ""
        dwell = "" if state.dwell_s is None else f"{state.dwell_s} -> {state.dwell_trigger}"
        rows.append(f"| {state.name} | {timeout} | {on_timeout} | {dwell} | {state.go_command or ''} | "
                    f"{state.description} |")
    return "\n".join(rows)


def document() -> str:
    parts = [HEADER]
    for spec in SPECS:
        parts.append(f"## {spec.name}\n\n{mermaid(spec)}\n\n{state_table(spec)}\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the mission state diagrams (Mermaid) to a Markdown file.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the machines")
    args = parser.parse_args(argv)
    text = document()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m fsw.mission.diagrams --output {args.output}")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
