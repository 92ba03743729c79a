"""The hardware watchdog port: a timer the flight software must stroke, or it resets the computer."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Watchdog(Protocol):
    def start(self, timeout_s: float) -> None:
        """Arm with a timeout in wall-time seconds."""

    def stroke(self) -> None:
        """Push the deadline back by the timeout."""

    def stop(self) -> None:
        """Disarm (the orderly shutdown path)."""

    def resets_recorded(self) -> int:
        """How many resets this watchdog has caused, as the hardware remembers them (all time)."""
