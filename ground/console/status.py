"""What the console's status bar says and when a value is stale: pure functions of the session's
state, so that they are tested without a terminal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.text import Text

from ..history import CommandEntry
from ..session import LinkStatus
from ..telemetry import TelemetryState

# A structure's value is stale once it is older than this many of its report periods ...
STALE_PERIODS = 3.0
# ... and never before this many seconds (a first report, a structure reported at 1 Hz on a busy link).
STALE_MINIMUM_S = 5.0
AWAITING_SUFFIX = "_awaiting_go"


def age_text(seconds: float | None) -> str:
    """``0.4s``, ``12s``, ``3m20s``, ``2h05m``; ``-`` for never."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


@dataclass
class Freshness:
    """The report period of each housekeeping structure as observed, and what is stale by it."""

    link_delay: float = 0.0
    last: dict[int, float] = field(default_factory=dict)
    period: dict[int, float] = field(default_factory=dict)

    def saw(self, sid: int, rx_time: float) -> None:
        previous = self.last.get(sid)
        if previous is not None and rx_time > previous:
            interval = rx_time - previous
            # One-shot reports (3,27) come between periodic ones: keep the longer, recent interval.
            self.period[sid] = max(interval, 0.8 * self.period.get(sid, interval))
        self.last[sid] = max(rx_time, previous or rx_time)

    def stale_after(self, sid: int) -> float:
        return max(STALE_MINIMUM_S, STALE_PERIODS * self.period.get(sid, 0.0)) + 2.0 * self.link_delay

    def stale(self, sid: int, age: float) -> bool:
        return age > self.stale_after(sid)


def link_silent_after(link: LinkStatus) -> float:
    """No packet for this long on a connected link is worth saying (housekeeping comes every second)."""
    return STALE_MINIMUM_S + 2.0 * link.link_delay


def link_segment(link: LinkStatus, now: float) -> Text:
    age = link.age(now)
    if link.state == "replay":
        return Text(f"REPLAY {link.vehicle} {age_text(age)}", style="bold cyan")
    if not link.connected:
        return Text(f"✖ {link.vehicle} LINK {link.state.upper()}", style="bold white on red")
    if age is None:
        return Text(f"● {link.vehicle} no telemetry yet", style="bold yellow")
    if age > link_silent_after(link):
        return Text(f"● {link.vehicle} SILENT {age_text(age)}", style="bold black on yellow")
    return Text(f"● {link.vehicle} {age_text(age)}", style="bold green")


def awaiting_go(state: TelemetryState) -> list[str]:
    """``machine (state)`` of every on-board machine that waits for a ground go."""
    waiting = []
    for name, sample in sorted(state.latest.items()):
        if name.endswith(AWAITING_SUFFIX) and sample.value is True:
            machine = name[: -len(AWAITING_SUFFIX)]
            machine_state = state.latest.get(f"{machine}_state")
            waiting.append(f"{machine} ({machine_state.value})" if machine_state else machine)
    return waiting


def pending_critical(history: Iterable[CommandEntry]) -> list[CommandEntry]:
    return [entry for entry in history if entry.spec.critical and not entry.finished.is_set()]


def status_text(links: list[LinkStatus], state: TelemetryState, history: list[CommandEntry], now: float,
                alarms: int | None = None) -> Text:
    """The status bar: links, mode, mission phase, awaiting go, pending critical commands, alarms
    (``alarms``: unacknowledged ones of every vehicle shown; default: this state's)."""
    text = Text()

    def add(part: Text | str, style: str = "") -> None:
        if text:
            text.append(" │ ", style="dim")
        text.append(part if isinstance(part, Text) else Text(part, style=style))

    for link in links:
        add(link_segment(link, now))
    mode = state.latest.get("mode")
    add(f"mode {mode.value if mode else '?'}", "bold" if mode and mode.value == "NOMINAL" else "bold yellow")
    phase = state.latest.get("mission_state")
    if phase is not None:
        add(f"phase {phase.value}", "bold")
    waiting = awaiting_go(state)
    if waiting:
        add(f"AWAITING GO: {', '.join(waiting)}", "bold black on bright_yellow")
    critical = pending_critical(history)
    if critical:
        add(f"CRITICAL IN FLIGHT: {', '.join(entry.label for entry in critical)}", "bold white on dark_orange3")
    unacknowledged = len(state.unacknowledged()) if alarms is None else alarms
    if unacknowledged:
        add(f"{unacknowledged} ALARM{'S' if unacknowledged > 1 else ''} (F8)", "bold white on red")
    return text


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def entry_details(entry: CommandEntry) -> str:
    """Everything about one command of the history (Enter on its row)."""
    loop_now = asyncio.get_running_loop().time()
    lines = [f"sent by {entry.origin or 'this console'}, {loop_now - entry.started_at:.1f} s ago",
             f"status: {entry.status_at(loop_now)}",
             f"failure code: {entry.failure_code or 'none'}",
             f"waits {entry.timeout:g} s for the verification" + (
                 f" + {entry.runs_for:g} s running on board" if entry.runs_for else ""), "stages:"]
    lines += [f"  {stage}" for stage in entry.stages] or ["  none yet"]
    for phase, record in (("arm", entry.arm), ("fire", entry.fire)):
        if record is not None:
            lines.append(f"{phase}: TC sequence count {record.tc.seq_count}, sent {record.transmissions} time(s)")
    return "\n".join(lines)
