"""``ilrs-hil campaign --replay SEED``: one campaign run flown again, with its whole telemetry.

The same draw and the same flight as in the campaign (a run is a function of its seed), with every
packet the flight software sends kept: its events and the GNC housekeeping, each stamped with the
plant's time. Writes ``replay-SEED/`` in the campaign folder: ``telemetry.json``, ``gnc.png`` and
``replay.md`` (the row, the outcome by the plant, the event log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsw.gnc.component import STRUCTURE as GNC_STRUCTURE
from fsw.protocol import appdata
from fsw.protocol.packet import PusTm
from hil.plant_process import LanderWorld
from hil.rigs.campaign.plots import plot_replay
from hil.rigs.campaign.segments import Row, fly_descent
from hil.rigs.flight_descent import DescentRecord


@dataclass
class Telemetry:
    """Packets as they leave the flight software, stamped with the plant's time."""

    world: LanderWorld | None = None
    events: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)  # (t, id, args)
    gnc: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (t, GNC housekeeping)

    def look(self, world: LanderWorld) -> None:
        self.world = world

    def packet(self, raw: bytes) -> None:
        t = self.world.plant.t if self.world is not None else 0.0
        if len(raw) < 9 or raw[7] not in (3, 5):  # service byte of the PUS-C TM secondary header
            return
        tm = PusTm.unpack(raw, len(raw))
        if tm.service == 5 and 1 <= tm.subtype <= 4:
            event_id, args = appdata.decode(tm.source_data)
            self.events.append((t, event_id, args))
        elif tm.service == 3 and tm.subtype == 25:
            sid, values = appdata.decode(tm.source_data)
            if sid == GNC_STRUCTURE:
                self.gnc.append((t, values))


@dataclass
class Replay:
    record: DescentRecord
    row: Row
    telemetry: Telemetry
    folder: Path

    def timed_events(self) -> list[tuple[float, str, dict[str, Any]]]:
        """The flight software's events by name with their plant time (both lists are in send order)."""
        names = self.record.events
        if len(names) != len(self.telemetry.events):  # should not happen; keep the names untimed
            return [(float("nan"), name, args) for name, args in names]
        return [(t, name, args) for (t, _, _), (name, args) in zip(self.telemetry.events, names, strict=True)]


def replay(seed: int, folder: Path) -> Replay:
    telemetry = Telemetry()
    record, row = fly_descent(seed, on_telemetry=telemetry.packet, on_world=telemetry.look)
    out = folder / f"replay-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    result = Replay(record, row, telemetry, out)
    events = result.timed_events()
    (out / "telemetry.json").write_text(json.dumps(
        {"row": row, "events": [{"t": t, "name": name, "args": args} for t, name, args in events],
         "gnc_housekeeping": [{"t": t, **values} for t, values in telemetry.gnc]}, indent=1, default=str) + "\n")
    plot_replay(out / "gnc.png", telemetry.gnc, [(t, name) for t, name, _ in events])
    lines = [f"# Replay of seed {seed}", "", f"Outcome (plant): {record.outcome()}.", "",
             f"Campaign verdict: {'success' if row['success'] else 'FAILED: ' + str(row['cause'])}.", "",
             "![GNC housekeeping](gnc.png)", "", "## Row", "", "| value | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in row.items()]
    lines += ["", "## Events (plant time)", "", "| t [s] | event | arguments |", "|---|---|---|"]
    lines += [f"| {t:.2f} | {name} | {json.dumps(args, default=str)} |" for t, name, args in events]
    (out / "replay.md").write_text("\n".join(lines) + "\n")
    return result
