"""The full-screen console (Textual): telemetry pages per housekeeping structure with units and
limit colours, an event log coloured by severity, limit alarms to acknowledge, a command line with
tab completion and inline validation from the dictionary, and a command history showing each
command's verification stages (arm and fire for critical commands, confirmed first).
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
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, RichLog, Static, TabbedContent, TabPane

from .dictionary import ArgumentError, CommandSpec, Dictionary
from .session import CommandEntry, GroundSession, ReplaySession
from .telemetry import Received, onboard_utc_text, utc_text

STATE_STYLE = {"ok": "", "yellow": "bold yellow", "red": "bold white on red"}
SEVERITY_STYLE = {"INFO": "", "LOW": "cyan", "MEDIUM": "bold yellow", "HIGH": "bold red"}
LOCAL_COMMANDS = ("ack", "quit")


def complete(dictionary: Dictionary, text: str) -> tuple[str, list[str]]:
    """Tab completion of a command line: command names, then argument names, then enum values.
    Returns the completed text and the candidates that were considered."""
    words = text.split(" ")
    current = words[-1]
    if len(words) == 1:
        candidates = sorted([*dictionary.commands, *LOCAL_COMMANDS])
        matches = [name for name in candidates if name.lower().startswith(current.lower())]
        if len(matches) == 1:
            return matches[0] + " ", matches
        return (_common_prefix(matches) or current), matches
    spec = dictionary.commands.get(words[0].upper())
    if spec is None:
        return text, []
    head = " ".join(words[:-1]) + " "
    if "=" in current:
        name, value = current.split("=", 1)
        arg = spec.arg(name)
        if arg is None or not arg.enum:
            return text, []
        matches = [choice for choice in arg.enum if choice.lower().startswith(value.lower())]
        if len(matches) == 1:
            return f"{head}{name}={matches[0]} ", matches
        return f"{head}{name}={_common_prefix(matches) or value}", matches
    given = {word.split("=", 1)[0] for word in words[1:-1] if "=" in word}
    matches = [f"{arg.name}=" for arg in spec.args if arg.name not in given and arg.name.startswith(current)]
    if len(matches) == 1:
        return head + matches[0], matches
    return head + (_common_prefix(matches) or current), matches


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


class CommandInput(Input):
    """The command line; Tab completes from the dictionary instead of moving the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("tab", "complete", "complete", show=False, priority=True)]

    def __init__(self, dictionary: Dictionary, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dictionary = dictionary
        self.candidates: list[str] = []

    def action_complete(self) -> None:
        text, self.candidates = complete(self.dictionary, self.value)
        self.value = text
        self.cursor_position = len(text)
        if len(self.candidates) > 1:
            self.app.query_one("#hint", Static).update("completions: " + "  ".join(self.candidates))


class ConfirmCritical(ModalScreen[bool]):
    """Confirmation of a critical command: what will be armed, then fired."""

    BINDINGS: ClassVar[list[BindingType]] = [("y", "answer(True)", "yes"), ("n,escape", "answer(False)", "no")]

    def __init__(self, label: str, arm_opcode: int, opcode: int) -> None:
        super().__init__()
        self.label = label
        self.arm_opcode = arm_opcode
        self.opcode = opcode

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Label(f"CRITICAL COMMAND: {self.label}", id="confirm-title")
            yield Label(f"step 1: ARM (0x{self.arm_opcode:04X}) opcode 0x{self.opcode:04X}")
            yield Label("step 2: FIRE once the arm completes (within the on-board arm window)")
            with Horizontal():
                yield Button("Arm and fire (y)", variant="error", id="yes")
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class GroundConsole(App[None]):
    TITLE = "ILRS ground console"
    CSS = """
    #main { height: 3fr; }
    #left { width: 3fr; }
    #right { width: 2fr; }
    TabbedContent { height: 1fr; }
    #events { height: 1fr; min-height: 5; border: round $accent; }
    #alarms { height: 1fr; border: round $error; }
    #history { height: 1fr; border: round $primary; }
    #hint { height: 1; padding: 0 1; }
    #confirm { width: 72; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    #confirm-title { text-style: bold; color: $error; }
    ConfirmCritical { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f8", "acknowledge", "ack alarms"),
        Binding("ctrl+q", "quit", "quit"),
    ]

    def __init__(self, session: GroundSession | ReplaySession) -> None:
        super().__init__()
        self.session = session
        self.dictionary = session.dictionary
        self.entries: list[CommandEntry] = []
        self.event_lines: deque[str] = deque(maxlen=2000)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._alarm_signature: tuple[Any, ...] | None = None
        self._history_shown: dict[str, tuple[str, str]] = {}

    # --- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"), TabbedContent(id="pages"):
                for sid in sorted(self.dictionary.structures):
                    with TabPane(f"{sid} {self.dictionary.structure_name(sid)}", id=f"page-{sid}"):
                        yield DataTable(id=f"tlm-{sid}", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield DataTable(id="alarms", cursor_type="row")
                yield DataTable(id="history", cursor_type="row")
        yield RichLog(id="events", markup=False, wrap=True, max_lines=2000)
        yield Static("type a command (Tab completes), 'ack [POINT]' acknowledges alarms", id="hint")
        yield CommandInput(self.dictionary, placeholder="COMMAND arg=value ...", id="command")
        yield Footer()

    def on_mount(self) -> None:
        for sid in self.dictionary.structures:
            table = self.query_one(f"#tlm-{sid}", DataTable)
            _columns(table, "point", "value", "limit", "on-board time", "description")
            for point in sorted(self.dictionary.points_in(sid), key=lambda p: p.name):
                table.add_row(point.name, "-", "", "", point.description, key=point.name)
        alarms = self.query_one("#alarms", DataTable)
        alarms.border_title = "limit alarms (F8: acknowledge)"
        _columns(alarms, "point", "state", "worst", "value", "since", "ack")
        history = self.query_one("#history", DataTable)
        history.border_title = "commands"
        _columns(history, "sent", "command", "status", "stages")
        self.query_one("#events", RichLog).border_title = "events"
        self.sub_title = f"{self.session.port}  light time {self.session.link_delay:g} s"
        self.session.add_listener(self.on_received)
        self.set_interval(0.25, self.refresh_panels)
        self.query_one("#command", CommandInput).focus()
        if isinstance(self.session, ReplaySession):
            self.query_one("#hint", Static).update("replay: read-only, commanding is disabled")
            self.run_worker(self.session.play(), exclusive=True)

    def on_unmount(self) -> None:
        with contextlib.suppress(ValueError):
            self.session.state.listeners.remove(self.on_received)

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

    def _show_hk(self, received: Received) -> None:
        sid = received.decoded["sid"]
        try:
            table = self.query_one(f"#tlm-{sid}", DataTable)
        except Exception:  # a structure the dictionary does not know: nothing to show it in
            return
        when = onboard_utc_text(received.onboard_time)[11:]
        for name, value in received.decoded["values"].items():
            spec = self.dictionary.points.get(name)
            shown = spec.format(value) if spec else str(value)
            state = spec.limit_state(value) if spec else "ok"
            if name not in table.rows:
                table.add_row(name, "", "", "", spec.description if spec else "(not in dictionary)", key=name)
            style = STATE_STYLE[state]
            table.update_cell(name, "value", Text(shown, style=style), update_width=True)
            table.update_cell(name, "limit", Text(state.upper() if state != "ok" else "", style=style))
            table.update_cell(name, "on-board time", when)

    def _show_event(self, received: Received) -> None:
        d = received.decoded
        line = f"{onboard_utc_text(received.onboard_time)} {d['severity']:<6} {d['name']}: {d['text']}"
        self.query_one("#events", RichLog).write(Text(line, style=SEVERITY_STYLE.get(d["severity"], "")))
        self.event_lines.append(line)

    def refresh_panels(self) -> None:
        # The timer can fire while the screen is still being built or already torn down: a panel
        # that is not (or no longer) mounted is skipped, not an error.
        try:
            self._refresh_alarms()
            self._refresh_history()
        except NoMatches:
            return

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
                          utc_text(alarm.since)[11:], "yes" if alarm.acknowledged else "NO", key=alarm.point)
        unacknowledged = len(self.session.state.unacknowledged())
        table.border_title = (f"limit alarms: {unacknowledged} unacknowledged (F8)" if unacknowledged
                              else "limit alarms")

    def _refresh_history(self) -> None:
        table = self.query_one("#history", DataTable)
        now = asyncio.get_running_loop().time()
        for index, entry in enumerate(self.entries):
            key = str(index)
            status = entry.status_at(now)
            style = "green" if status == "completed" else ("yellow" if status in ("in flight", "arming") else "red")
            cells = (Text(status, style=style), ", ".join(entry.stages))
            if self._history_shown.get(key) == (status, cells[1]):
                continue
            self._history_shown[key] = (status, cells[1])
            if key not in table.rows:
                table.add_row(utc_text(entry_sent_wall(entry))[11:19], entry.label, *cells, key=key)
            else:
                table.update_cell(key, "status", cells[0], update_width=True)
                table.update_cell(key, "stages", cells[1], update_width=True)

    # --- command line --------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        hint = self.query_one("#hint", Static)
        line = event.value.strip()
        if not line or line.split()[0] in LOCAL_COMMANDS:
            hint.update("")
            return
        try:
            spec, values = parse_line(self.dictionary, line)
        except ArgumentError as error:
            hint.update(Text(str(error), style="red"))
            return
        critical = "  CRITICAL: will ask to arm and fire" if spec.critical else ""
        hint.update(Text(f"ok: {_label(spec, values)}{critical}", style="green"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        if not line:
            return
        words = line.split()
        if words[0] == "quit":
            self.exit()
            return
        if words[0] == "ack":
            self.acknowledge(words[1] if len(words) > 1 else None)
            event.input.value = ""
            return
        if isinstance(self.session, ReplaySession):
            self.query_one("#hint", Static).update(Text("replay: commanding is disabled", style="bold red"))
            return
        try:
            spec, values = parse_line(self.dictionary, line)
        except ArgumentError as error:
            self.query_one("#hint", Static).update(Text(str(error), style="bold red"))
            return
        event.input.value = ""
        if spec.critical:
            arm = self.dictionary.commands.get("ARM")
            screen = ConfirmCritical(_label(spec, values), arm.opcode if arm else 0, spec.opcode)

            def answered(confirmed: bool | None) -> None:
                if confirmed:
                    self.execute(spec, values)
                else:
                    self.query_one("#hint", Static).update(Text(f"{spec.name} not sent", style="yellow"))

            self.push_screen(screen, answered)
        else:
            self.execute(spec, values)

    def execute(self, spec: CommandSpec, values: list[Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._execute(spec, values))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, spec: CommandSpec, values: list[Any]) -> None:
        def on_entry(entry: CommandEntry) -> None:
            # Shown "in flight" as soon as it is sent, updated as each stage arrives.
            self.entries.append(entry)
            self._refresh_history()

        await self.session.command(spec.name, values, on_entry=on_entry,
                                   on_stage=lambda entry, phase, report: self._refresh_history())
        self._refresh_history()

    # --- alarms ---------------------------------------------------------------------------------
    def action_acknowledge(self) -> None:
        self.acknowledge(None)

    def acknowledge(self, point: str | None) -> None:
        done = self.session.state.acknowledge(point)
        self.query_one("#hint", Static).update(f"acknowledged: {', '.join(done) or 'nothing'}")
        self._refresh_alarms()


def _columns(table: DataTable[Any], *names: str) -> None:
    for name in names:
        table.add_column(name, key=name)


def _label(spec: CommandSpec, values: list[Any]) -> str:
    return " ".join([spec.name, *(f"{a.name}={v}" for a, v in zip(spec.args, values, strict=True))])


def entry_sent_wall(entry: CommandEntry) -> float:
    """Wall-clock time an entry was sent (entries keep loop time)."""
    return time.time() - (asyncio.get_running_loop().time() - entry.started_at)
