"""Supervised tasks: the long-lived asyncio tasks of the executive and its services.

A bare ``create_task`` whose coroutine raises dies silently: asyncio logs "exception was never
retrieved" at best, and the service it carried (housekeeping, TC intake, monitoring...) is gone with
no event. Here every long-lived task runs under the supervisor: a task that dies with an exception
is reported (``TASK_DIED``: the task's name, the exception's type and text, and what happens next),
counted, and started again after a backoff of flight time (1 s, doubling to 60 s; back to 1 s once
it has run a minute without failing), ``TASK_RESTARTED`` then. A task that must not simply start
again (``restart=False``), or one that died ``MAX_RESTARTS`` times, is given up and its owner told
(``on_give_up``) so that it can mark itself failed and report to fault protection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fsw.clock import Clock

log = logging.getLogger("fsw.tasks")

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
STABLE_AFTER_S = 60.0  # a run this long without failing resets the backoff
MAX_RESTARTS = 20  # in all, per task: a task that keeps dying is given up, not restarted for ever
DETAIL_CHARS = 120

TaskFactory = Callable[[], Coroutine[Any, Any, Any]]


@dataclass
class SupervisedTask:
    name: str
    factory: TaskFactory
    restart: bool
    on_give_up: Callable[[str], None] | None
    deaths: int = 0
    restarts: int = 0
    given_up: bool = False


class TaskSupervisor:
    def __init__(self, clock: Clock, emit: Callable[..., None]) -> None:
        self.clock = clock
        self.emit = emit  # reports a death or a restart as an event
        self.tasks: dict[str, SupervisedTask] = {}
        self.deaths = 0
        self.restarts = 0

    def spawn(self, name: str, factory: TaskFactory, *, restart: bool = True,
              on_give_up: Callable[[str], None] | None = None) -> asyncio.Task[None]:
        """Run ``factory()`` as the task ``name``, supervised. ``factory`` makes a fresh coroutine
        each time the task is (re)started. Cancelling the returned task stops it for good."""
        entry = SupervisedTask(name, factory, restart, on_give_up)
        self.tasks[name] = entry
        return asyncio.get_running_loop().create_task(self._keep(entry), name=name)

    async def _keep(self, entry: SupervisedTask) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            started = self.clock.monotonic()
            try:
                await entry.factory()
                return  # the task's work is done
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the task died: report, and start it again or give it up
                log.exception("task %s died", entry.name)
                entry.deaths += 1
                self.deaths += 1
                if self.clock.monotonic() - started >= STABLE_AFTER_S:
                    backoff = BACKOFF_FIRST_S
                give_up = not entry.restart or entry.restarts >= MAX_RESTARTS
                action = ("given up" + (f" after {entry.restarts} restarts" if entry.restarts else "")
                          if give_up else f"restart in {backoff:g} s")
                self.emit("TASK_DIED", task=entry.name, error=type(error).__name__,
                          detail=str(error)[:DETAIL_CHARS], action=action)
                if give_up:
                    entry.given_up = True
                    if entry.on_give_up is not None:
                        entry.on_give_up(f"{type(error).__name__}: {error}")
                    return
            await self.clock.sleep(backoff)
            backoff = min(BACKOFF_MAX_S, 2 * backoff)
            entry.restarts += 1
            self.restarts += 1
            self.emit("TASK_RESTARTED", task=entry.name, restarts=entry.restarts)
