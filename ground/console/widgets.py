"""The console's own widgets: the page bar (every page visible at any width), live plots with
limits, the command line with completion, the critical-command confirmation and the help screen."""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from ..dictionary import Dictionary, PointSpec
from .completion import complete

SPARK = "▁▂▃▄▅▆▇█"
PLOT_SAMPLES = 600
LIMIT_STYLE = {"ok": "green", "yellow": "bold yellow", "red": "bold red"}


class PageBar(Widget):
    """Every telemetry page as ``sid name`` (all pages stay visible from 80 to 200 columns), the
    current one highlighted. Click to choose, or F2/F3, or type the page's number."""

    DEFAULT_CSS = "PageBar { height: auto; padding: 0 1; background: $panel; }"

    class Chosen(Message):
        def __init__(self, sid: int) -> None:
            super().__init__()
            self.sid = sid

    def __init__(self, pages: list[tuple[int, str]], vehicle: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pages = pages
        self.vehicle = vehicle  # named when the console shows several vehicles
        self.current = pages[0][0] if pages else 0
        self._spans: list[tuple[int, int, int, int]] = []  # (line, start, end, sid)

    def show_vehicle(self, vehicle: str, pages: list[tuple[int, str]]) -> None:
        """Another vehicle's pages (its first one current)."""
        self.vehicle, self.pages = vehicle, pages
        self.choose(pages[0][0] if pages else 0)

    def choose(self, sid: int) -> None:
        self.current = sid
        self.refresh(layout=True)

    def lines(self, width: int) -> list[Text]:
        """Full labels when they fit on two lines; otherwise the structure numbers, with the name
        of the current page (so that at 80 columns every page is still one key press away)."""
        width = max(width, 10)
        full = self._layout(width, compact=False)
        return full if len(full) <= 2 else self._layout(width, compact=True)

    def _layout(self, width: int, compact: bool) -> list[Text]:
        lines: list[Text] = [Text("F2◀ ▶F3 ", style="dim")]
        if self.vehicle:
            lines[0].append(f"{self.vehicle} (F6) ", style="bold")
        self._spans = []
        for sid, name in self.pages:
            label = f"{sid} " if compact and sid != self.current else f" {sid} {name} "
            if lines[-1].cell_len + len(label) > width:
                lines.append(Text())
            start = lines[-1].cell_len
            lines[-1].append(label, style="bold reverse" if sid == self.current else "")
            self._spans.append((len(lines) - 1, start, start + len(label), sid))
        return lines

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width))

    def on_click(self, event: Click) -> None:
        for line, start, end, sid in self._spans:
            if event.y == line and start <= event.x < end:
                self.post_message(self.Chosen(sid))
                return


def sparkline(values: list[float], states: list[str], width: int) -> Text:
    """One cell per sample (the newest ``width``), height by value, colour by limit state."""
    values, states = values[-width:], states[-width:]
    if not values:
        return Text("no samples yet", style="dim")
    low, high = min(values), max(values)
    span = high - low
    text = Text()
    for value, state in zip(values, states, strict=True):
        level = 0 if span == 0 else int((value - low) / span * (len(SPARK) - 1) + 0.5)
        text.append(SPARK[level], style=LIMIT_STYLE.get(state, ""))
    return text


class PlotPane(VerticalScroll):
    """Live plots of chosen points: a sparkline of the recent samples coloured by limit state, with
    the value, the window's range and the point's limits."""

    DEFAULT_CSS = "PlotPane { height: 1fr; border-top: solid $accent; } PlotPane > Static { height: auto; }"

    def __init__(self, dictionary: Dictionary, relayed: dict[str, Dictionary] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dictionary = dictionary
        self.relayed = relayed or {}  # a relayed vehicle's points are plotted as ``rover:POINT``
        self.series: dict[str, deque[tuple[float, float, str]]] = {}  # point -> (rx time, value, state)

    def spec(self, point: str) -> PointSpec | None:
        vehicle, _, bare = point.rpartition(":")
        dictionary = self.relayed.get(vehicle) if vehicle else self.dictionary
        return dictionary.points.get(bare) if dictionary is not None else None

    def compose(self) -> ComposeResult:
        yield Static(id="plots-body")

    @property
    def points(self) -> list[str]:
        return list(self.series)

    def add_point(self, point: str) -> None:
        self.series.setdefault(point, deque(maxlen=PLOT_SAMPLES))

    def remove_point(self, point: str | None) -> None:
        if point is None:
            self.series.clear()
        else:
            self.series.pop(point, None)

    def sample(self, point: str, rx_time: float, value: Any, state: str) -> None:
        series = self.series.get(point)
        if series is None:
            return
        spec = self.spec(point)
        number = _numeric(value, spec)
        if number is not None:
            series.append((rx_time, number, state))

    def redraw(self) -> None:
        self.border_title = f"plots: {len(self.series)} (plot POINT, unplot, F4)"
        width = max(self.content_size.width - 1, 10)
        if not self.series:
            self.query_one("#plots-body", Static).update(Text("no plots: type plot POINT", style="dim"))
            return
        body = Text()
        for point, series in self.series.items():
            spec = self.spec(point)
            values = [value for _, value, _ in series]
            states = [state for _, _, state in series]
            head = Text(point, style="bold")
            if values:
                latest = series[-1]
                shown = spec.format(_shown(latest[1], spec)) if spec else f"{latest[1]:g}"
                head.append(f" {shown}", style=LIMIT_STYLE.get(latest[2], ""))
                head.append(f"  [{min(values):.4g} .. {max(values):.4g}] over {len(values)}", style="dim")
            head.append(f"  {_limits(spec)}", style="dim")
            body.append_text(head)
            body.append("\n")
            body.append_text(sparkline(values, states, width))
            body.append("\n")
        self.query_one("#plots-body", Static).update(body)


def _numeric(value: Any, spec: PointSpec | None) -> float | None:
    if spec is not None and spec.enum and isinstance(value, str) and value in spec.enum:
        return float(spec.enum.index(value))
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def _shown(number: float, spec: PointSpec | None) -> Any:
    if spec is not None and spec.enum:
        return spec.enum[int(number)]
    if spec is not None and spec.type == "bool":
        return bool(number)
    return number


def _limits(spec: PointSpec | None) -> str:
    if spec is None:
        return ""
    parts = []
    for colour, bounds in (("yellow", spec.yellow), ("red", spec.red)):
        if bounds:
            low, high = bounds
            parts.append(f"{colour} {'<' + format(low, 'g') if low is not None else ''}"
                         f"{' ' if low is not None and high is not None else ''}"
                         f"{'>' + format(high, 'g') if high is not None else ''}")
    return "limits: " + ", ".join(parts) if parts else "no limits"


class CommandInput(Input):
    """The command line; Tab completes from the dictionary instead of moving the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("tab", "complete", "complete", show=False, priority=True)]

    def __init__(self, dictionary: Dictionary, relayed: dict[str, Dictionary] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dictionary = dictionary
        self.relayed = relayed or {}  # vehicle name -> dictionary, for ``rover:NAME``
        self.candidates: list[str] = []

    def action_complete(self) -> None:
        text, self.candidates = complete(self.dictionary, self.value, self.relayed)
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


class HelpScreen(ModalScreen[None]):
    """Help, a description or search results; any of Escape, q, F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape,q,f1", "close", "close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Label(self.title_text, id="help-title")
            yield Static(Text(self.body))
            yield Label("Escape closes", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
