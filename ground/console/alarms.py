"""The console's limit alarms: every vehicle's (the rover's by its own dictionary's limits, shown
as ``rover:POINT``), acknowledged one by one (``ack rover:POINT``) or all at once (F8)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable, Static

from ..telemetry import Alarm, utc_text
from .base import STATE_STYLE, ConsoleBase
from .views import VehicleView, addressed_point


class AlarmsPanel(ConsoleBase):
    def alarm_rows(self) -> list[tuple[str, VehicleView, Alarm]]:
        """(the point as shown, its vehicle, the alarm) of every vehicle."""
        rows: list[tuple[str, VehicleView, Alarm]] = []
        for view in self.views:
            prefix = f"{view.name}:" if view.relayed else ""
            rows.extend((prefix + alarm.point, view, alarm) for alarm in view.state.alarms.values())
        return rows

    def unacknowledged_alarms(self) -> int:
        return sum(not alarm.acknowledged for _, _, alarm in self.alarm_rows())

    def _refresh_alarms(self) -> None:
        rows = self.alarm_rows()
        signature = tuple((name, a.state, a.worst, a.value, a.acknowledged) for name, _, a in rows)
        if signature == self._alarm_signature:
            return  # rebuilding an unchanged table would only cost redraws
        self._alarm_signature = signature
        table = self.query_one("#alarms", DataTable)
        table.clear()
        for name, view, alarm in sorted(rows, key=lambda row: (row[2].acknowledged, row[0])):
            style = STATE_STYLE[alarm.worst] if not alarm.acknowledged else "dim"
            spec = view.dictionary.points.get(alarm.point)
            table.add_row(Text(name, style=style), Text(alarm.state.upper(), style=STATE_STYLE[alarm.state]),
                          alarm.worst.upper(), spec.format(alarm.value) if spec else str(alarm.value),
                          utc_text(alarm.since)[11:19], "yes" if alarm.acknowledged else "NO", key=name)
        unacknowledged = self.unacknowledged_alarms()
        table.border_title = (f"limit alarms: {unacknowledged} unacknowledged (F8)" if unacknowledged
                              else "limit alarms")

    def action_acknowledge(self) -> None:
        self.acknowledge(None)

    def acknowledge(self, point: str | None) -> None:
        """One point's alarm (``rover:POINT`` for the rover's), or every vehicle's."""
        done: list[str] = []
        if point is None:
            for view in self.views:
                prefix = f"{view.name}:" if view.relayed else ""
                done += [prefix + name for name in view.state.acknowledge(None)]
        else:
            view, bare = addressed_point(self.views, point)
            view.dictionary.point(bare)  # an unknown name is refused with close matches
            prefix = f"{view.name}:" if view.relayed else ""
            done = [prefix + name for name in view.state.acknowledge(bare)]
        self.query_one("#hint", Static).update(f"acknowledged: {', '.join(done) or 'nothing'}")
        self._refresh_alarms()
