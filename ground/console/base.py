"""What the console's parts share: the session, the vehicles shown and their pages, and the
methods one part calls on another (each part is a mixin of :class:`GroundConsole`, in a module of
its own: telemetry pages, alarms, command history, navigation and plots, the command line)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from textual.app import App

from ..dictionary import Dictionary
from ..remote import RemoteSession
from ..session import CommandEntry, GroundSession, ReplaySession
from .views import VehicleView

ConsoleSession = GroundSession | RemoteSession | ReplaySession
STATE_STYLE = {"ok": "", "yellow": "bold yellow", "red": "bold white on red"}
SEVERITY_STYLE = {"INFO": "", "LOW": "cyan", "MEDIUM": "bold yellow", "HIGH": "bold red"}


class ConsoleBase(App[None]):
    session: ConsoleSession
    dictionary: Dictionary
    views: list[VehicleView]  # the vehicle on the link first, then those it relays
    view: VehicleView  # whose pages are shown
    event_lines: deque[str]
    _tasks: set[asyncio.Task[Any]]
    _alarm_signature: tuple[Any, ...] | None
    _history_shown: dict[int, tuple[str, ...]]
    _ages_shown: dict[tuple[str, str], tuple[str, bool]]

    @property
    def sids(self) -> list[int]:
        """The pages of the vehicle shown."""
        return self.view.sids

    @property
    def entries(self) -> list[CommandEntry]:
        return self.session.history

    @property
    def value_width(self) -> int:
        """Values are shortened on a narrow terminal so that their age stays in view."""
        return 40 if self.size.width >= 150 else (26 if self.size.width >= 110 else 12)

    def now(self) -> float:
        """Wall time; in a replay, the time of the newest replayed packet (ages are as they were)."""
        if isinstance(self.session, ReplaySession):
            return self.session.last_rx or time.time()
        return time.time()

    # --- provided by the parts ---------------------------------------------------------------
    def show_page(self, sid: int) -> None:
        raise NotImplementedError

    def _refresh_ages_of(self, sid: int, view: VehicleView | None = None) -> None:
        raise NotImplementedError

    def _refresh_status(self) -> None:
        raise NotImplementedError

    def _refresh_alarms(self) -> None:
        raise NotImplementedError

    def _refresh_history(self) -> None:
        raise NotImplementedError

    def unacknowledged_alarms(self) -> int:
        raise NotImplementedError

    def acknowledge(self, point: str | None) -> None:
        raise NotImplementedError

    def page_by_name(self, word: str) -> int:
        raise NotImplementedError

    def show_vehicle(self, name: str) -> None:
        raise NotImplementedError

    def action_next_vehicle(self) -> None:
        raise NotImplementedError

    def plot(self, points: list[str], remove: bool = False) -> str:
        raise NotImplementedError
