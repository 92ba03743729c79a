"""The console's command history: every command with its stages, status and failure code; Enter
on a row shows the whole entry."""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual.widgets import DataTable

from ..telemetry import utc_text
from .base import ConsoleBase
from .status import cut, entry_details
from .widgets import HelpScreen


class HistoryPanel(ConsoleBase):
    def _refresh_history(self) -> None:
        table = self.query_one("#history", DataTable)
        loop_now = asyncio.get_running_loop().time()
        # Narrow terminals shorten the command and status (the code column keeps the failure code,
        # Enter on a row shows everything) so that the stages stay in view.
        command_width, status_width = (60, 90) if self.size.width >= 150 else (
            (34, 30) if self.size.width >= 110 else (18, 12))
        for entry in self.session.history:
            status = entry.status_at(loop_now)
            style = "green" if status == "completed" else ("yellow" if status in ("in flight", "arming") else "red")
            stages = ", ".join(entry.stages)
            shown = (status, entry.failure_code, stages, str(command_width))
            if self._history_shown.get(entry.number) == shown:
                continue
            self._history_shown[entry.number] = shown
            key = str(entry.number)
            cells = {"command": cut(entry.label, command_width), "status": Text(cut(status, status_width), style=style),
                     "code": Text(entry.failure_code, style="bold red"), "stages": stages}
            if key not in table.rows:
                sent = utc_text(time.time() - (loop_now - entry.started_at))[11:19]
                table.add_row(str(entry.number), *cells.values(), sent, entry.origin or "here", key=key)
                table.move_cursor(row=table.row_count - 1)
            else:
                for column, value in cells.items():
                    table.update_cell(key, column, value, update_width=True)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "history":
            return
        number = int(str(event.row_key.value))
        entry = next((e for e in self.session.history if e.number == number), None)
        if entry is not None:
            self.push_screen(HelpScreen(f"command {entry.number}: {entry.label}", entry_details(entry)))
