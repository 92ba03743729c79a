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
import time
from collections import deque
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, RichLog, Static

from ..dictionary import ArgumentError, CommandSpec, Dictionary
from ..remote import RemoteSession
from ..session import CommandEntry, GroundSession, ReplaySession
from ..telemetry import Received, onboard_utc_text, utc_text
from ..vehicles import UnknownVehicleError, unknown_vehicle
from .completion import KEYS_HELP, LOCAL_COMMANDS, describe, label, search
from .status import age_text, cut, entry_details, status_text
from .views import VehicleView, addressed_dictionary, parse_addressed, snapshot, vehicle_views
from .widgets import CommandInput, ConfirmCritical, HelpScreen, PageBar, PlotPane

STATE_STYLE = {"ok": "", "yellow": "bold yellow", "red": "bold white on red"}
SEVERITY_STYLE = {"INFO": "", "LOW": "cyan", "MEDIUM": "bold yellow", "HIGH": "bold red"}
ConsoleSession = GroundSession | RemoteSession | ReplaySession


class GroundConsole(App[None]):
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

    @property
    def sids(self) -> list[int]:
        """The pages of the vehicle shown."""
        return self.view.sids

    @property
    def entries(self) -> list[CommandEntry]:
        return self.session.history

    # --- layout ------------------------------------------------------------------------------
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
                yield PlotPane(self.dictionary, id="plots", classes="hidden")
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

    @property
    def value_width(self) -> int:
        """Values are shortened on a narrow terminal so that their age stays in view."""
        return 40 if self.size.width >= 150 else (26 if self.size.width >= 110 else 12)

    def now(self) -> float:
        """Wall time; in a replay, the time of the newest replayed packet (ages are as they were)."""
        if isinstance(self.session, ReplaySession):
            return self.session.last_rx or time.time()
        return time.time()

    # --- telemetry ---------------------------------------------------------------------------
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
            if not view.relayed:  # plots are of the lander's points
                plots.sample(name, received.rx_time, value, state)
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
        text = status_text(links, self.session.state, self.session.history, self.now())
        self.query_one("#status", Static).update(text)

    def _refresh_alarms(self) -> None:
        signature = tuple((a.point, a.state, a.worst, a.value, a.acknowledged)
                          for a in self.session.state.alarms.values())
        if signature == self._alarm_signature:
            return  # rebuilding an unchanged table would only cost redraws
        self._alarm_signature = signature
        table = self.query_one("#alarms", DataTable)
        table.clear()
        for alarm in sorted(self.session.state.alarms.values(), key=lambda a: (a.acknowledged, a.point)):
            style = STATE_STYLE[alarm.worst] if not alarm.acknowledged else "dim"
            spec = self.dictionary.points.get(alarm.point)
            table.add_row(Text(alarm.point, style=style), Text(alarm.state.upper(), style=STATE_STYLE[alarm.state]),
                          alarm.worst.upper(), spec.format(alarm.value) if spec else str(alarm.value),
                          utc_text(alarm.since)[11:19], "yes" if alarm.acknowledged else "NO", key=alarm.point)
        unacknowledged = len(self.session.state.unacknowledged())
        table.border_title = (f"limit alarms: {unacknowledged} unacknowledged (F8)" if unacknowledged
                              else "limit alarms")

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

    def on_resize(self) -> None:
        self._history_shown.clear()  # re-cut the history's columns for the new width
        self.set_class(self.size.width < 110, "narrow")  # telemetry's value and age first, alarms narrower

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "history":
            return
        number = int(str(event.row_key.value))
        entry = next((e for e in self.session.history if e.number == number), None)
        if entry is not None:
            self.push_screen(HelpScreen(f"command {entry.number}: {entry.label}", entry_details(entry)))

    # --- pages and plots -------------------------------------------------------------------------
    def show_page(self, sid: int) -> None:
        if sid not in self.sids:
            raise ArgumentError(f"no page {sid} (pages of the {self.view.name}: {', '.join(map(str, self.sids))})")
        self.query_one("#pages", ContentSwitcher).current = self.view.table_id(sid)
        self.query_one(PageBar).choose(sid)
        self._refresh_ages_of(sid)

    def action_page(self, step: int) -> None:
        current = self.query_one(PageBar).current
        index = self.sids.index(current) if current in self.sids else 0
        self.show_page(self.sids[(index + step) % len(self.sids)])

    def on_page_bar_chosen(self, message: PageBar.Chosen) -> None:
        self.show_page(message.sid)

    def show_vehicle(self, name: str) -> None:
        """Show the pages of another vehicle (``vehicle rover``, F6)."""
        view = next((view for view in self.views if view.name == name.lower()), None)
        if view is None:
            raise UnknownVehicleError(unknown_vehicle(name, [view.name for view in self.views]))
        self.view = view
        self.query_one(PageBar).show_vehicle(view.name, view.pages())
        if view.sids:
            self.show_page(view.sids[0])

    def action_next_vehicle(self) -> None:
        index = self.views.index(self.view)
        self.show_vehicle(self.views[(index + 1) % len(self.views)].name)

    def page_by_name(self, word: str) -> int:
        if word.isdigit():
            return int(word)
        by_name = {name: sid for sid, name in self.view.dictionary.structures.items()}
        if word in by_name:
            return by_name[word]
        from .completion import fuzzy

        close = fuzzy(word, list(by_name), 1)
        if close:
            return by_name[close[0]]
        raise ArgumentError(f"no page {word!r}")

    def action_toggle_plots(self) -> None:
        plots = self.query_one("#plots", PlotPane)
        plots.set_class(not plots.has_class("hidden"), "hidden")
        plots.redraw()

    def plot(self, points: list[str], remove: bool = False) -> str:
        plots = self.query_one("#plots", PlotPane)
        if remove:
            for point in points or [None]:  # type: ignore[list-item]
                plots.remove_point(point)
            return f"plots: {', '.join(plots.points) or 'none'}"
        for point in points:
            self.dictionary.point(point)  # an unknown name is refused with close matches
        for point in points:
            plots.add_point(point)
            sample = self.session.state.latest.get(point)
            if sample is not None:
                plots.sample(point, sample.rx_time, sample.value, sample.state)
        plots.remove_class("hidden")
        plots.redraw()
        return f"plotting {', '.join(plots.points)}"

    # --- command line --------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        hint = self.query_one("#hint", Static)
        line = event.value.strip()
        if not line or line.split()[0] in LOCAL_COMMANDS or line.isdigit():
            hint.update("")
            return
        try:
            target, spec, values = self.parse_command(line)
        except ArgumentError as error:
            hint.update(Text(str(error), style="red"))
            return
        critical = "  CRITICAL: will ask to arm and fire" if spec.critical else ""
        hint.update(Text(f"ok: {target}{label(spec, values)}{critical}", style="green"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        if not line:
            return
        hint = self.query_one("#hint", Static)
        words = line.split()
        try:
            if self._local(words):
                event.input.value = ""
                return
        except ArgumentError as error:
            hint.update(Text(str(error), style="bold red"))
            return
        if getattr(self.session, "read_only", False):
            hint.update(Text("replay: commanding is disabled", style="bold red"))
            return
        try:
            target, spec, values = self.parse_command(line)
        except ArgumentError as error:
            hint.update(Text(str(error), style="bold red"))
            return
        event.input.value = ""
        if spec.critical:
            arm = self.command_dictionary(target).commands.get("ARM")
            screen = ConfirmCritical(target + label(spec, values), arm.opcode if arm else 0, spec.opcode)

            def answered(confirmed: bool | None) -> None:
                if confirmed:
                    self.execute(spec, values, target)
                else:
                    hint.update(Text(f"{spec.name} not sent", style="yellow"))

            self.push_screen(screen, answered)
        else:
            self.execute(spec, values, target)

    def parse_command(self, line: str) -> tuple[str, CommandSpec, list[Any]]:
        return parse_addressed(self.session, line)

    def command_dictionary(self, target: str) -> Dictionary:
        return addressed_dictionary(self.session, target)

    def _local(self, words: list[str]) -> bool:
        """Handle a console command; False when the line is a dictionary command."""
        hint = self.query_one("#hint", Static)
        verb, rest = words[0], words[1:]
        if verb.isdigit():
            self.show_page(int(verb))
        elif verb == "page":
            self.show_page(self.page_by_name(rest[0] if rest else ""))
        elif verb == "quit":
            self.exit()
        elif verb == "vehicle":
            if rest:
                self.show_vehicle(rest[0])
            else:
                self.action_next_vehicle()
        elif verb == "ack":
            self.acknowledge(rest[0] if rest else None)
        elif verb in ("plot", "unplot"):
            hint.update(self.plot(rest, remove=verb == "unplot"))
        elif verb == "help":
            title = f"help: {rest[0]}" if rest else "help"
            self.push_screen(HelpScreen(title, describe(self.dictionary, rest[0]) if rest else KEYS_HELP))
        elif verb == "find":
            found = search(self.dictionary, " ".join(rest))
            self.push_screen(HelpScreen(f"find {' '.join(rest)}: {len(found)} found", "\n".join(found) or "nothing"))
        else:
            return False
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen("help", KEYS_HELP))

    def execute(self, spec: CommandSpec, values: list[Any], target: str = "") -> None:
        task = asyncio.get_running_loop().create_task(self._execute(spec, values, target))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, spec: CommandSpec, values: list[Any], target: str = "") -> None:
        try:
            await self.session.command(target + spec.name, values, on_entry=lambda entry: self._refresh_history(),
                                       on_stage=lambda entry, phase, report: self._refresh_history())
        except (ArgumentError, ConnectionError) as error:
            self.query_one("#hint", Static).update(Text(str(error), style="bold red"))
        self._refresh_history()

    # --- alarms ---------------------------------------------------------------------------------
    def action_acknowledge(self) -> None:
        self.acknowledge(None)

    def acknowledge(self, point: str | None) -> None:
        if point is not None:
            self.dictionary.point(point)
        done = self.session.state.acknowledge(point)
        self.query_one("#hint", Static).update(f"acknowledged: {', '.join(done) or 'nothing'}")
        self._refresh_alarms()


def _columns(table: DataTable[Any], *names: str) -> None:
    for name in names:
        table.add_column(name, key=name)
