"""The console's telemetry: one page per housekeeping structure of each vehicle (values, limit
state, age, stale values dimmed), the event log, and the status bar."""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import DataTable, RichLog, Static

from ..telemetry import Received, onboard_utc_text
from .base import SEVERITY_STYLE, STATE_STYLE, ConsoleBase
from .status import age_text, cut, status_text
from .views import VehicleView
from .widgets import PageBar, PlotPane


class TelemetryPanels(ConsoleBase):
    def on_received(self, received: Received) -> None:
        if received.kind == "hk":
            self._show_hk(received)
        elif received.kind == "event":
            self._show_event(received)
        elif received.kind == "event_log":
            for entry in received.decoded["entries"]:
                self.query_one("#events", RichLog).write(
                    Text(f"{onboard_utc_text(entry['time'])} log    {entry['name']}: {entry['text']}", style="dim"))

    def _show_hk(self, received: Received, view: VehicleView | None = None) -> None:
        view = view or self.views[0]
        sid = received.decoded["sid"]
        view.freshness.saw(sid, received.rx_time)
        plots = self.query_one("#plots", PlotPane)
        try:
            table = self.query_one(f"#{view.table_id(sid)}", DataTable)
        except NoMatches:  # a structure the dictionary does not know: nothing to show it in
            return
        when = onboard_utc_text(received.onboard_time)[11:]
        for name, value in received.decoded["values"].items():
            spec = view.dictionary.points.get(name)
            shown = spec.format(value) if spec else str(value)
            state = spec.limit_state(value) if spec else "ok"
            plots.sample(f"{view.name}:{name}" if view.relayed else name, received.rx_time, value, state)
            if name not in table.rows:
                table.add_row(name, "", "", "", "", spec.description if spec else "(not in dictionary)", key=name)
            style = STATE_STYLE[state]
            table.update_cell(name, "value", Text(cut(shown, self.value_width), style=style), update_width=True)
            table.update_cell(name, "limit", Text(state.upper() if state != "ok" else "", style=style),
                              update_width=True)
            table.update_cell(name, "on-board time", when)
            self._ages_shown.pop((view.name, name), None)
        self._refresh_ages_of(sid, view)

    def _show_event(self, received: Received, view: VehicleView | None = None) -> None:
        d = received.decoded
        source = f"{view.name}:" if view is not None and view.relayed else ""
        line = f"{onboard_utc_text(received.onboard_time)} {d['severity']:<6} {source}{d['name']}: {d['text']}"
        self.query_one("#events", RichLog).write(Text(line, style=SEVERITY_STYLE.get(d["severity"], "")))
        self.event_lines.append(line)

    def refresh_ages(self) -> None:
        """Age of every value on the visible page; stale ones dimmed (the whole row's value)."""
        with contextlib.suppress(NoMatches):
            self._refresh_ages_of(self.query_one(PageBar).current, self.view)
            self._refresh_status()

    def _refresh_ages_of(self, sid: int, view: VehicleView | None = None) -> None:
        view = view or self.view
        table = self.query_one(f"#{view.table_id(sid)}", DataTable)
        now = self.now()
        for name in [str(key.value) for key in table.rows]:
            sample = view.state.latest.get(name)
            if sample is None:
                continue
            age = max(0.0, now - sample.rx_time)
            stale = view.freshness.stale(sid, age)
            shown = (age_text(age), stale)
            if self._ages_shown.get((view.name, name)) == shown:
                continue
            self._ages_shown[(view.name, name)] = shown
            spec = view.dictionary.points.get(name)
            text = spec.format(sample.value) if spec else str(sample.value)
            style = "dim" if stale else STATE_STYLE[sample.state]
            table.update_cell(name, "value", Text(cut(text, self.value_width), style=style), update_width=True)
            table.update_cell(name, "age", Text(shown[0] + (" STALE" if stale else ""),
                                                style="dim italic" if stale else "dim"), update_width=True)

    def refresh_panels(self) -> None:
        # The timer can fire while the screen is still being built or already torn down: a panel
        # that is not (or no longer) mounted is skipped, not an error.
        try:
            self._refresh_status()
            self._refresh_alarms()
            self._refresh_history()
            plots = self.query_one("#plots", PlotPane)
            if plots.display:
                plots.redraw()
        except NoMatches:
            return

    def _refresh_status(self) -> None:
        links = [*self.session.links(), *getattr(self.session, "relayed_links", list)()]
        text = status_text(links, self.session.state, self.session.history, self.now(),
                           alarms=self.unacknowledged_alarms())
        self.query_one("#status", Static).update(text)
