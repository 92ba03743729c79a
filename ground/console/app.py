"""The full-screen console (Textual).

A status bar (links and the age of their newest packet, mode, mission phase, machines awaiting a
go, critical commands in flight, alarms), a page bar and one telemetry page per housekeeping
structure (stale values dimmed with their age), limit alarms to acknowledge, live plots, the
command history with every stage and the failure code, the event log, and a command line with
completion, inline checks, help and search. It runs on a port of its own, attached to a server
(where other consoles see the same), or on an archive (replay, read-only).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Footer, RichLog, Static

from ..session import ReplaySession
from ..telemetry import Received
from .alarms import AlarmsPanel
from .base import ConsoleSession
from .commandline import CommandLine
from .history_panel import HistoryPanel
from .navigation import Navigation
from .telemetry_panel import TelemetryPanels
from .views import VehicleView, snapshot, vehicle_views
from .widgets import CommandInput, PageBar, PlotPane

__all__ = ["ConsoleSession", "GroundConsole"]


class GroundConsole(TelemetryPanels, AlarmsPanel, HistoryPanel, Navigation, CommandLine):
    TITLE = "ILRS ground console"
    CSS = """
    #status { height: auto; padding: 0 1; background: $boost; }
    #main { height: 3fr; min-height: 6; }
    #pages { width: 3fr; }
    #right { width: 2fr; min-width: 30; }
    .narrow #right { width: 26; min-width: 26; }
    #alarms { height: 1fr; border-top: solid $error; }
    #lower { height: 2fr; max-height: 24; min-height: 6; }
    #history { height: 1fr; border-top: solid $primary; }
    #events { height: 1fr; min-height: 3; border-top: solid $accent; }
    #hint { height: 1; padding: 0 1; }
    #command { border: none; height: 1; padding: 0 1; }
    #confirm { width: 72; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    #confirm-title { text-style: bold; color: $error; }
    ConfirmCritical, HelpScreen { align: center middle; }
    #help { width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1; }
    #help-title { text-style: bold; }
    .hidden { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "help"),
        Binding("f2", "page(-1)", "page◀"),
        Binding("f3", "page(1)", "page▶"),
        Binding("f4", "toggle_plots", "plots"),
        Binding("f6", "next_vehicle", "vehicle"),
        Binding("f8", "acknowledge", "ack alarms"),
        Binding("ctrl+q", "quit", "quit"),
    ]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session
        self.dictionary = session.dictionary
        self.event_lines: deque[str] = deque(maxlen=2000)
        # The vehicle on the link, then the ones it relays (the rover): F6 switches the pages.
        self.views = vehicle_views(session)
        self.view = self.views[0]
        self.freshness = self.view.freshness
        self._tasks: set[asyncio.Task[Any]] = set()
        self._alarm_signature: tuple[Any, ...] | None = None
        self._history_shown: dict[int, tuple[str, ...]] = {}
        self._ages_shown: dict[tuple[str, str], tuple[str, bool]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield PageBar(self.view.pages(), self.view.name if len(self.views) > 1 else "", id="pagebar")
        with Horizontal(id="main"):
            with ContentSwitcher(id="pages", initial=self.view.table_id(self.sids[0]) if self.sids else None):
                for view in self.views:
                    for sid in view.sids:
                        yield DataTable(id=view.table_id(sid), cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield DataTable(id="alarms", cursor_type="row")
                yield PlotPane(self.dictionary, {view.name: view.dictionary for view in self.views[1:]}, id="plots",
                               classes="hidden")
        with Vertical(id="lower"):
            yield DataTable(id="history", cursor_type="row")
            yield RichLog(id="events", markup=False, wrap=True, max_lines=2000)
        yield Static("type a command (Tab completes, F1 help), a page number, or plot/ack/find/help", id="hint")
        yield CommandInput(self.dictionary, {view.name: view.dictionary for view in self.views[1:]},
                           placeholder="COMMAND arg=value ...   (F1: help)", id="command")
        yield Footer()

    def on_mount(self) -> None:
        for view in self.views:
            for sid in view.sids:
                table = self.query_one(f"#{view.table_id(sid)}", DataTable)
                _columns(table, "point", "value", "age", "limit", "on-board time", "description")
                for point in sorted(view.dictionary.points_in(sid), key=lambda p: p.name):
                    table.add_row(point.name, "-", "", "", "", point.description, key=point.name)
        alarms = self.query_one("#alarms", DataTable)
        alarms.border_title = "limit alarms (F8: acknowledge)"
        _columns(alarms, "point", "state", "worst", "value", "since", "ack")
        history = self.query_one("#history", DataTable)
        history.border_title = "commands"
        _columns(history, "#", "command", "status", "code", "stages", "sent", "by")
        self.query_one("#events", RichLog).border_title = "events"
        self.sub_title = f"{self.session.port}  light time {self.session.link_delay:g} s"
        self.title = f"ILRS ground console: {self.session.port}"
        # Values already known (a snapshot from the server) are shown at once, with their age.
        for received in snapshot(self.session):
            self.on_received(received)
        self.session.add_listener(self.on_received)
        for view in self.views[1:]:
            view.state.listeners.append(self._relayed_listener(view))
        self.set_interval(0.25, self.refresh_panels)
        self.set_interval(1.0, self.refresh_ages)
        self.refresh_panels()
        self.query_one("#command", CommandInput).focus()
        if isinstance(self.session, ReplaySession):
            self.query_one("#hint", Static).update("replay: read-only, commanding is disabled")
            self.run_worker(self.session.play(), exclusive=True)

    def on_unmount(self) -> None:
        with contextlib.suppress(ValueError):
            self.session.state.listeners.remove(self.on_received)
        for view in self.views[1:]:
            view.state.listeners[:] = [listener for listener in view.state.listeners
                                       if getattr(listener, "console", None) is not self]

    def _relayed_listener(self, view: VehicleView) -> Any:
        def on_relayed(received: Received) -> None:
            if received.kind == "hk":
                self._show_hk(received, view)
            elif received.kind == "event":
                self._show_event(received, view)

        on_relayed.console = self  # type: ignore[attr-defined]
        return on_relayed

    def on_resize(self) -> None:
        self._history_shown.clear()  # re-cut the history's columns for the new width
        self.set_class(self.size.width < 110, "narrow")  # telemetry's value and age first, alarms narrower


def _columns(table: DataTable[Any], *names: str) -> None:
    for name in names:
        table.add_column(name, key=name)
