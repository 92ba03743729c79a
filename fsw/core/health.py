"""Health: every periodic task heartbeats; a stalled task is detected and reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fsw.clock import Clock


@dataclass
class Heartbeat:
    name: str
    limit_s: float
    last: float
    stalled: bool = False
    stalls: int = 0


class HealthMonitor:
    def __init__(self, clock: Clock, emit: Callable[..., None]) -> None:
        self.clock = clock
        self.emit = emit  # reports a stall or a recovery as an event
        self.tasks: dict[str, Heartbeat] = {}

    def watch(self, name: str, limit_s: float) -> None:
        self.tasks[name] = Heartbeat(name, limit_s, self.clock.monotonic())

    def unwatch(self, name: str) -> None:
        self.tasks.pop(name, None)

    def beat(self, name: str) -> None:
        heartbeat = self.tasks.get(name)
        if heartbeat is not None:
            heartbeat.last = self.clock.monotonic()

    def check(self) -> list[str]:
        """Names of tasks that have not beaten within their limit; reports each new stall once."""
        now = self.clock.monotonic()
        stalled = []
        for heartbeat in self.tasks.values():
            late = now - heartbeat.last > heartbeat.limit_s
            if late:
                stalled.append(heartbeat.name)
                if not heartbeat.stalled:
                    heartbeat.stalls += 1
                    self.emit("TASK_STALLED", task=heartbeat.name, age=round(now - heartbeat.last, 3))
            elif heartbeat.stalled:
                self.emit("TASK_RECOVERED", task=heartbeat.name)
            heartbeat.stalled = late
        return stalled

    @property
    def healthy(self) -> bool:
        return not any(h.stalled for h in self.tasks.values())
